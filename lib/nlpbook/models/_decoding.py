"""The decoding contract shared by our decoders (GPT, Llama): a prefill and cached steps.

A model that mixes in :class:`CachedDecoding` writes one method,
``_cached_forward(token_ids, positions, cache, index, key_mask) -> (logits, cache)``, which
runs ``T`` new tokens at their ``positions`` through the stack, writing their keys and values
into ``cache`` (a list with one ``(batch, 2, S, kv_heads, head_dim)`` tensor per layer) at
``index``, and returns the logits of the ``T`` positions; and ``_cache_layout() ->
(num_layers, kv_heads, head_dim)``. The mixin adds:

``prefill(token_ids, padding_mask=None, max_length=None) -> (logits, state)``
    runs the prompts (``(n, P)``, padded anywhere: each row's real tokens are moved to the
    right end, left padding, so every row's next token is written at the same index ``P``);
``decode_step(tokens, state) -> (logits, state)``
    runs one token per row; it is :mod:`nlpbook.generation`'s ``step(tokens, state)``.
``greedy_decode(logits, state, steps, eos_id=None) -> (tokens, state)``
    greedy decoding of up to ``steps`` tokens in one compiled loop (no Python between
    tokens, as keras-hub's ``generate``): the fast path where nothing is streamed or warped.

``state`` is a dict of tensors whose leading axis is the ``n`` rows (so beam search can
reorder it): ``cache`` (the list), ``key_mask`` ``(n, S)`` (True at cache slots that hold a
real token), ``index`` ``(n,)`` (the next slot; equal in every row) and ``position`` ``(n,)``
(each row's next position: its number of real tokens so far). Shapes are static: the cache
is preallocated to ``S = max_length`` slots, so one compiled step serves every position.

The compiled functions are built on first use: XLA (``tf.function(jit_compile=True)``,
``jax.jit``) when ``model.decoding_jit_compile`` is True (the default on TensorFlow and
JAX); when it is False, a TensorFlow graph without XLA, or eager on JAX; PyTorch runs eagerly.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


def compile_function(model, fn, jit_compile: bool):
    """``fn(*tensors)`` compiled for the backend, reading ``model``'s variables.

    TensorFlow: ``tf.function(jit_compile=jit_compile)`` (a graph, compiled by XLA or not);
    JAX: ``jax.jit`` of a stateless version (the variables' current values are passed in, so
    later weight changes are seen), or ``fn`` itself without XLA; PyTorch: ``fn`` itself.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=bool(jit_compile), reduce_retracing=True)
    if not jit_compile or backend != "jax":
        return fn
    import jax

    def pure(values, *args):
        with keras.StatelessScope(state_mapping=list(zip(model.variables, values, strict=True))):
            return fn(*args)

    jitted = jax.jit(pure)
    return lambda *args: jitted([v.value for v in model.variables], *args)


def left_align(token_ids, padding_mask, pad_id: int = 0):
    """Move each row's real tokens to the right end (left padding), keeping their order.

    Returns ``(ids, mask, lengths)`` as NumPy arrays.
    """
    ids = np.asarray(ops.convert_to_numpy(token_ids))
    if ids.ndim != 2 or ids.shape[1] == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            "token_ids must be a (batch, time) array of int ids with time >= 1. Received "
            f"shape {ids.shape}, dtype {ids.dtype}"
        )
    if padding_mask is None:
        mask = np.ones(ids.shape, bool)
    else:
        mask = np.asarray(ops.convert_to_numpy(padding_mask)).astype(bool)
        if mask.shape != ids.shape:
            raise ValueError(
                f"padding_mask must have the shape of token_ids {ids.shape}. Received {mask.shape}"
            )
    lengths = mask.sum(axis=1)
    if (lengths == 0).any():
        raise ValueError(
            f"every prompt needs at least one real token; rows {np.flatnonzero(lengths == 0)} "
            "have none"
        )
    width = ids.shape[1]
    out_ids = np.full(ids.shape, pad_id, dtype="int32")
    out_mask = np.zeros(ids.shape, bool)
    for row in range(len(ids)):
        real = ids[row][mask[row]]
        out_ids[row, width - len(real) :] = real
        out_mask[row, width - len(real) :] = True
    return out_ids, out_mask, lengths.astype("int32")


class CachedDecoding:
    """Mixin: ``prefill`` and ``decode_step`` over a static-shape key/value cache."""

    #: compile the prefill and the step with XLA (TensorFlow, JAX); None: on where it can be
    decoding_jit_compile = None

    def _decoding_function(self, name):
        jit = self.decoding_jit_compile
        if jit is None:
            jit = keras.backend.backend() in ("tensorflow", "jax")
        # a compiled function holds the variables it was traced with: when they change (LoRA
        # adapters added or merged away), compile afresh and drop the stale functions
        structure = tuple(id(v) for v in self.variables)
        functions = self.__dict__.setdefault("_nlpbook_decoding", {})
        if functions and next(iter(functions))[2] != structure:
            functions.clear()
        key = (name, bool(jit), structure)
        if key not in functions:
            fn = {"prefill": self._prefill_tensors, "step": self._step_tensors,
                  "greedy": self._greedy_tensors}[name]  # fmt: skip
            functions[key] = compile_function(self, fn, bool(jit))
        return functions[key]

    def empty_cache(self, batch_size: int, max_length: int):
        """One zero ``(batch, 2, max_length, kv_heads, head_dim)`` tensor per layer."""
        layers, heads, dim = self._cache_layout()
        dtype = self.dtype_policy.compute_dtype
        return [ops.zeros((batch_size, 2, max_length, heads, dim), dtype) for _ in range(layers)]

    def _prefill_tensors(self, token_ids, positions, key_mask, cache):
        logits, cache = self._cached_forward(token_ids, positions, cache, 0, key_mask)
        return logits[:, -1], cache

    def _step_tensors(self, tokens, state):
        index = state["index"][0]
        n = ops.shape(tokens)[0]
        key_mask = ops.slice_update(
            state["key_mask"], [ops.zeros((), "int32"), index], ops.ones((n, 1), "bool")
        )
        logits, cache = self._cached_forward(
            ops.reshape(tokens, (-1, 1)), state["position"][:, None], state["cache"], index,
            key_mask,
        )  # fmt: skip
        state = {"cache": cache, "key_mask": key_mask, "index": state["index"] + 1,
                 "position": state["position"] + 1}  # fmt: skip
        return logits[:, 0], state

    def _greedy_tensors(self, logits, state, steps, eos_id):
        """Up to ``steps`` greedy tokens in one ``while_loop``: the first from ``logits``, each
        later one from a cached step; the loop ends early once every row has ``eos_id`` (-1:
        none). ``steps`` and ``eos_id`` are int32 tensors, so one trace serves every value;
        the token buffer has the cache's static width."""
        first = ops.cast(ops.argmax(logits, axis=-1), "int32")
        n, width = ops.shape(state["key_mask"])
        out = ops.slice_update(ops.zeros((n, width), "int32"), [0, 0], first[:, None])
        done = ops.equal(first, eos_id)

        def cond(i, out, last, done, state):
            return ops.logical_and(i < steps, ops.logical_not(ops.all(done)))

        def body(i, out, last, done, state):
            logits, state = self._step_tensors(last, state)
            token = ops.cast(ops.argmax(logits, axis=-1), "int32")
            token = ops.where(done, eos_id, token)  # a finished row repeats eos_id
            done = ops.logical_or(done, ops.equal(token, eos_id))
            out = ops.slice_update(out, [ops.zeros((), "int32"), i], token[:, None])
            state = {**state, "cache": list(state["cache"])}
            return i + 1, out, token, done, state

        start = ops.ones((), "int32")
        count, out, _, _, state = ops.while_loop(cond, body, (start, out, first, done, state))
        return out, count, state

    def greedy_decode(self, logits, state, steps: int, eos_id: int | None = None):
        """Greedy decoding in one compiled loop, from :meth:`prefill`'s ``logits`` and state.

        Every token is the argmax of the previous step's logits, computed inside the loop, so
        the host sees nothing until the end: no streaming, warpers or stop strings (use
        :func:`~nlpbook.generation.sample` for those); it gives the tokens that
        ``sample(..., temperature=0)`` over :meth:`decode_step` gives.

        Args:
            logits: ``(n, vocab)``, the scores of each row's first new token.
            state: the decoding state from :meth:`prefill` (or :meth:`decode_step`).
            steps: the most new tokens per row (the cache needs ``steps - 1`` free slots).
            eos_id: a row that emits it stops (it repeats ``eos_id`` while the others go on);
                the loop ends when every row has stopped.

        Returns:
            ``(tokens, state)``: ``(n, k)`` int32 NumPy ids, ``k <= steps`` the steps taken,
            and the state after them.
        """
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be an int >= 1. Received: {steps!r}")
        steps = int(steps)
        index = int(ops.convert_to_numpy(state["index"][0]))
        slots = int(state["key_mask"].shape[1])
        if index + steps - 1 > slots:
            raise ValueError(
                f"{steps} steps need {steps - 1} free cache slots; {slots - index} of {slots} "
                "are left (prefill with a larger max_length)"
            )
        eos_id = -1 if eos_id is None else int(eos_id)
        fn = self._decoding_function("greedy")
        out, count, state = fn(logits, state, ops.convert_to_tensor(steps, "int32"),
                               ops.convert_to_tensor(eos_id, "int32"))  # fmt: skip
        state = {**state, "cache": list(state["cache"])}
        count = int(ops.convert_to_numpy(count))
        return np.asarray(ops.convert_to_numpy(out))[:, :count], state

    def _max_positions(self):
        """The most positions the model can take (learned position tables); None: no limit."""
        return None

    def prefill(self, token_ids, padding_mask=None, max_length=None):
        """Run the prompts and fill a cache of ``max_length`` slots.

        Args:
            token_ids: ``(n, P)`` prompt ids; rows may be padded anywhere (``padding_mask``).
            padding_mask: ``(n, P)``, True at real tokens (default: all real).
            max_length: cache slots ``S``: prompt width plus the most new tokens (default:
                the model's context, ``config.max_length``).

        Returns:
            ``(logits, state)``: the ``(n, vocab)`` float32 scores of each row's next token,
            and the decoding state (see :mod:`nlpbook.models._decoding`).
        """
        if not self.built:
            self.build((None, None))
        ids, mask, lengths = left_align(token_ids, padding_mask)
        n, width = ids.shape
        max_length = self.config.max_length if max_length is None else int(max_length)
        if max_length < width + 1:
            raise ValueError(
                f"max_length ({max_length}) must leave room for at least one new token after "
                f"the {width} prompt positions"
            )
        limit = self._max_positions()
        if limit is not None and max_length > limit:
            raise ValueError(
                f"max_length ({max_length}) exceeds the model's {limit} positions "
                "(config.max_length)"
            )
        key_mask = np.zeros((n, max_length), bool)
        key_mask[:, :width] = mask
        positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0).astype("int32")
        fn = self._decoding_function("prefill")
        logits, cache = fn(
            ops.convert_to_tensor(ids), ops.convert_to_tensor(positions),
            ops.convert_to_tensor(key_mask), self.empty_cache(n, max_length),
        )  # fmt: skip
        state = {
            "cache": list(cache),
            "key_mask": ops.convert_to_tensor(key_mask),
            "index": ops.convert_to_tensor(np.full(n, width, "int32")),
            "position": ops.convert_to_tensor(lengths),
        }
        return logits, state

    def decode_step(self, tokens, state):
        """One new token per row: ``(n,)`` ids → ``(n, vocab)`` float32 logits and the state.

        Raises ``ValueError`` when the cache is full (``max_length`` of :meth:`prefill`).
        """
        index = int(ops.convert_to_numpy(state["index"][0]))
        slots = int(state["key_mask"].shape[1])
        if index >= slots:
            raise ValueError(
                f"the cache is full: all {slots} slots are used (prefill with a larger max_length)"
            )
        tokens = ops.cast(ops.convert_to_tensor(tokens), "int32")
        if len(tokens.shape) != 1:
            raise ValueError(f"tokens must be (n,) ids, one per row. Received {tokens.shape}")
        fn = self._decoding_function("step")
        logits, state = fn(tokens, state)
        state["cache"] = list(state["cache"])
        return logits, state
