"""Greedy search, sampling and beam search over a ``step(tokens, state)`` function.

The model runs in the Keras backend (``step`` may be a jitted function); choosing tokens is a
small host-side computation over one row of logits per sequence, done in NumPy in float64 so
that ties and sums of log-probabilities do not depend on the backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from nlpbook._checks import check_int

Step = Callable[[object, object], tuple[object, object]]


def _start(start_tokens) -> np.ndarray:
    tokens = np.asarray(start_tokens)
    if tokens.ndim != 1 or tokens.size == 0 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(
            "start_tokens must be a non-empty 1-D array of int token ids, one per sequence. "
            f"Received shape {tokens.shape}, dtype {tokens.dtype}"
        )
    return tokens.astype("int32")


def _log_softmax(logits, n: int) -> np.ndarray:
    x = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f"step must return logits of shape ({n}, vocab). Received {x.shape}")
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _reorder(state, rows: np.ndarray):
    index = ops.convert_to_tensor(rows.astype("int32"))
    return keras.tree.map_structure(lambda x: ops.take(x, index, axis=0), state)


def _finish(tokens: np.ndarray, eos_id: int | None, pad_id: int) -> np.ndarray:
    """Everything after a sequence's first ``eos_id`` becomes ``pad_id``."""
    if eos_id is None or tokens.shape[-1] == 0:
        return tokens
    after = np.cumsum(tokens == eos_id, axis=-1) - (tokens == eos_id) > 0
    return np.where(after, pad_id, tokens)


def greedy_search(
    step: Step,
    state,
    start_tokens,
    *,
    max_length: int,
    eos_id: int | None = None,
    pad_id: int = 0,
) -> np.ndarray:
    """The most probable next token at every step.

    Args:
        step: ``step(tokens, state) -> (logits, state)``; see :mod:`nlpbook.generation`.
        state: the model's initial state for these sequences (leading axis: sequences).
        start_tokens: ``(n,)`` the first input token of each sequence (e.g. BOS).
        max_length: the most tokens generated per sequence.
        eos_id: a sequence that produces it is finished (the EOS is kept, then ``pad_id``).
        pad_id: fills the positions after EOS.

    Returns:
        ``(n, length)`` int32 generated tokens (``start_tokens`` not included), ``length <=
        max_length``: decoding stops early once every sequence has produced ``eos_id``.

    Example:
        >>> table = np.log(np.array([[.1, .6, .3], [.1, .1, .8], [.7, .2, .1]]))
        >>> step = lambda tokens, state: (table[np.asarray(tokens)], state)
        >>> greedy_search(step, np.zeros(1), [0], max_length=4).tolist()
        [[1, 2, 0, 1]]
    """
    return sample(
        step,
        state,
        start_tokens,
        max_length=max_length,
        eos_id=eos_id,
        pad_id=pad_id,
        temperature=0.0,
    )


def _filter(logp: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """Keep each row's ``top_k`` best tokens and its smallest nucleus of mass ``>= top_p``."""
    keep = np.ones_like(logp, dtype=bool)
    order = np.argsort(-logp, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(logp.shape[1])[None], axis=1)
    if top_k is not None:
        keep &= rank < top_k
    if top_p is not None:
        sorted_p = np.exp(np.take_along_axis(logp, order, axis=1))
        before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass of the better tokens
        keep &= np.take_along_axis(before < top_p, rank, axis=1)
    return np.where(keep, logp, -np.inf)


def sample(
    step: Step,
    state,
    start_tokens,
    *,
    max_length: int,
    eos_id: int | None = None,
    pad_id: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """Ancestral sampling: draw each token from the model's (filtered, tempered) distribution.

    At every step the log-probabilities are restricted to the ``top_k`` most probable tokens
    and to the smallest set of most probable tokens whose probability reaches ``top_p``
    (Holtzman et al. 2019), divided by ``temperature`` and renormalised. ``temperature=0``
    takes the most probable token (greedy search).

    Args:
        step, state, start_tokens, max_length, eos_id, pad_id: as for :func:`greedy_search`.
        temperature: ``>= 0``; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep this many tokens (``None``: all).
        top_p: keep the nucleus of this probability mass, in ``(0, 1]`` (``None``: all).
        seed: seed of the NumPy generator that draws the tokens.

    Returns:
        ``(n, length)`` int32 generated tokens, as for :func:`greedy_search`.
    """
    max_length = check_int("max_length", max_length, 1)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    if not (temperature >= 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    if top_k is not None:
        top_k = check_int("top_k", top_k, 1)
    if top_p is not None and not (isinstance(top_p, (int, float)) and 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1]. Received: top_p={top_p!r}")
    tokens = _start(start_tokens)
    n, rng = len(tokens), np.random.default_rng(seed)
    finished = np.zeros(n, dtype=bool)
    out = []
    for _ in range(max_length):
        logits, state = step(tokens, state)
        logp = _filter(_log_softmax(logits, n), top_k, top_p)
        if temperature == 0:
            tokens = logp.argmax(axis=1)
        else:
            z = logp / temperature
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            tokens = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        tokens = tokens.astype("int32")
        out.append(tokens)
        if eos_id is not None:
            finished |= tokens == eos_id
            if finished.all():
                break
    return _finish(np.stack(out, axis=1), eos_id, pad_id)


def length_penalty(length, alpha: float):
    """GNMT's ``((5 + length) / 6) ** alpha`` (Wu et al. 2016); 1 for ``alpha = 0``."""
    return ((5.0 + np.asarray(length, dtype=np.float64)) / 6.0) ** alpha


def beam_search(
    step: Step,
    state,
    start_tokens,
    *,
    beam_width: int,
    max_length: int,
    eos_id: int | None = None,
    pad_id: int = 0,
    alpha: float = 0.0,
    num_return: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``beam_width`` best continuations of each sequence, batched.

    Each sequence keeps ``beam_width`` hypotheses. At every step each is extended by every
    token, and the ``beam_width`` best of the ``beam_width * vocab`` candidates survive,
    ranked by ``log P(y) / lp(|y|)`` with GNMT's length penalty ``lp`` (``alpha = 0``: plain
    log-probability, which favours short outputs; ``alpha`` around 0.6 to 1 counters that). A
    hypothesis that produced ``eos_id`` is finished: its only continuation is padding, with
    its score unchanged. The model's state is reordered with the beams (``ops.take`` on its
    leading axis). ``beam_width = 1`` is greedy search; a beam wide enough to hold every
    prefix is exhaustive search.

    Args:
        step, state, start_tokens, max_length, eos_id, pad_id: as for :func:`greedy_search`;
            ``state`` is given once per sequence and repeated for its beams here.
        beam_width: hypotheses kept per sequence.
        alpha: length-penalty exponent, ``>= 0``.
        num_return: hypotheses returned per sequence, best first (default: ``beam_width``).

    Returns:
        ``(sequences, scores)``: int32 ``(n, num_return, length)`` tokens, padded after EOS,
        and float64 ``(n, num_return)`` scores ``log P / lp(length)``, length counting the
        tokens up to and including EOS. Sorted best first.

    Example:
        >>> table = np.log(np.array([[.1, .6, .3], [.1, .1, .8], [.7, .2, .1]]))
        >>> step = lambda tokens, state: (table[np.asarray(tokens)], state)
        >>> seqs, scores = beam_search(step, np.zeros(1), [0], beam_width=2, max_length=2)
        >>> seqs[0].tolist(), np.round(np.exp(scores[0]), 2).tolist()
        ([[1, 2], [2, 0]], [0.48, 0.21])

    References:
        Wu et al. (2016), *Google's Neural Machine Translation System*, arXiv:1609.08144, §7.
    """
    beam_width = check_int("beam_width", beam_width, 1)
    max_length = check_int("max_length", max_length, 1)
    num_return = beam_width if num_return is None else check_int("num_return", num_return, 1)
    if num_return > beam_width:
        raise ValueError(f"num_return ({num_return}) cannot exceed beam_width ({beam_width})")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha >= 0:
        raise ValueError(f"alpha must be a number >= 0. Received: alpha={alpha!r}")
    start = _start(start_tokens)
    n, k = len(start), beam_width
    rows = np.repeat(np.arange(n), k)  # beam b*k + j belongs to sequence b
    state = _reorder(state, rows)
    tokens = start[rows]
    logp_sum = np.tile(np.r_[0.0, np.full(k - 1, -np.inf)], n)  # one live beam at first
    lengths = np.zeros(n * k, dtype=np.int64)
    finished = np.zeros(n * k, dtype=bool)
    history = np.zeros((n * k, 0), dtype=np.int32)
    for t in range(max_length):
        logits, state = step(tokens, state)
        logp = _log_softmax(logits, n * k)
        vocab = logp.shape[1]
        if eos_id is not None:  # a finished beam continues with EOS (later: padding) at no cost
            logp[finished] = -np.inf
            logp[finished, eos_id] = 0.0
        total = logp_sum[:, None] + logp  # (n*k, vocab)
        new_length = np.where(finished, lengths, t + 1)[:, None]
        score = (total / length_penalty(new_length, alpha)).reshape(n, k * vocab)
        best = np.argsort(-score, axis=1, kind="stable")[:, :k]  # (n, k)
        parent = (np.arange(n)[:, None] * k + best // vocab).reshape(-1)
        tokens = (best % vocab).reshape(-1).astype("int32")
        logp_sum = total.reshape(n, k * vocab)[np.arange(n)[:, None], best].reshape(-1)
        lengths = np.where(finished[parent], lengths[parent], t + 1)
        finished = finished[parent]
        if eos_id is not None:
            finished = finished | (tokens == eos_id)
        history = np.concatenate([history[parent], tokens[:, None]], axis=1)
        state = _reorder(state, parent)
        if finished.all():
            break
    final = (logp_sum / length_penalty(lengths, alpha)).reshape(n, k)
    order = np.argsort(-final, axis=1, kind="stable")[:, :num_return]
    sequences = history.reshape(n, k, -1)[np.arange(n)[:, None], order]
    scores = final[np.arange(n)[:, None], order]
    return _finish(sequences, eos_id, pad_id).astype("int32"), scores


def prefix_step(model_fn: Callable) -> Step:
    """A step function for a model that maps whole prefixes to logits (no cache).

    The state is the prefix itself, ``(n, t)``; each step appends the new token and calls
    ``model_fn(prefix) -> (n, t + 1, vocab)``, keeping the last position: simple and
    quadratic in the length, which a KV cache (chapter 11) avoids. Start with an empty
    prefix: ``np.zeros((n, 0), "int32")``.
    """

    def step(tokens, prefix):
        tokens = ops.reshape(ops.cast(ops.convert_to_tensor(tokens), "int32"), (-1, 1))
        prefix = ops.concatenate([ops.cast(ops.convert_to_tensor(prefix), "int32"), tokens], 1)
        return model_fn(prefix)[:, -1], prefix

    return step
