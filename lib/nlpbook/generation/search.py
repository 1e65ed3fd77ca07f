"""Greedy search, sampling and beam search over a ``step(tokens, state)`` function.

The model runs in the Keras backend (``step`` may be a jitted function); choosing tokens is a
small host-side computation over one row of logits per sequence, done in NumPy in float64 so
that ties and sums of log-probabilities do not depend on the backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import keras
import numpy as np
from keras import ops

from nlpbook._checks import check_int
from nlpbook.generation.streaming import as_text, check_stop, find_stop
from nlpbook.generation.warpers import (
    _context,
    _number,
    _presence_frequency,
    _repetition,
    min_p_filter,
    token_counts,
    top_k_filter,
    top_p_filter,
)

Step = Callable[[object, object], tuple[object, object]]


def _start(start_tokens) -> np.ndarray:
    tokens = np.asarray(start_tokens)
    if tokens.ndim != 1 or tokens.size == 0 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(
            "start_tokens must be a non-empty 1-D array of int token ids, one per sequence. "
            f"Received shape {tokens.shape}, dtype {tokens.dtype}"
        )
    return tokens.astype("int32")


def _logits(logits, n: int) -> np.ndarray:
    x = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != n:
        raise ValueError(f"step must return logits of shape ({n}, vocab). Received {x.shape}")
    return x


def _normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of float64 logits."""
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def _log_softmax(logits, n: int) -> np.ndarray:
    return _normalise(_logits(logits, n))


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
    repetition_penalty: float = 1.0,
    presence_penalty: float = 0.0,
    frequency_penalty: float = 0.0,
    context=None,
    stop: str | Sequence[str] | None = None,
    decode: Callable[[list[int]], str] | None = None,
    stream: Callable[[np.ndarray], object] | None = None,
) -> np.ndarray:
    """The most probable next token at every step.

    Args:
        step: ``step(tokens, state) -> (logits, state)``; see :mod:`nlpbook.generation`.
        state: the model's initial state for these sequences (leading axis: sequences).
        start_tokens: ``(n,)`` the first input token of each sequence (e.g. BOS).
        max_length: the most tokens generated per sequence: the budget of *new* tokens
            (what other libraries call ``max_new_tokens``; the prompt does not count).
        eos_id: a sequence that produces it is finished (the EOS is kept, then ``pad_id``).
        pad_id: fills the positions after EOS.
        repetition_penalty, presence_penalty, frequency_penalty, context, stop, decode,
            stream: as for :func:`sample` (the defaults change nothing).

    Returns:
        ``(n, length)`` int32 generated tokens (``start_tokens`` not included), ``length <=
        max_length``: decoding stops early once every sequence has produced ``eos_id`` (or a
        stop string).

    Example:
        >>> table = np.log(np.array([[.1, .6, .3], [.1, .1, .8], [.7, .2, .1]]))
        >>> step = lambda tokens, state: (table[np.asarray(tokens)], state)
        >>> greedy_search(step, np.zeros(1), [0], max_length=4).tolist()
        [[1, 2, 0, 1]]
        >>> # token 1 is in the prompt; a seen token's negative logit log(p) becomes 10 log(p)
        >>> greedy_search(step, np.zeros(1), [0], max_length=4, repetition_penalty=10.0,
        ...               context=[[1]]).tolist()
        [[2, 0, 1, 2]]
    """
    return sample(
        step,
        state,
        start_tokens,
        max_length=max_length,
        eos_id=eos_id,
        pad_id=pad_id,
        temperature=0.0,
        repetition_penalty=repetition_penalty,
        presence_penalty=presence_penalty,
        frequency_penalty=frequency_penalty,
        context=context,
        stop=stop,
        decode=decode,
        stream=stream,
    )


def _cut(decode: Callable[[list[int]], str], ids: list[int], before: str) -> int:
    """How many of ``ids`` to keep: the most whose text is a prefix of ``before``.

    ``before`` is the text before the stop string that the text of all ``ids`` contains.
    """
    for keep in range(len(ids) - 1, 0, -1):
        if before.startswith(as_text(decode(ids[:keep]))):
            return keep
    return 0


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
    repetition_penalty: float = 1.0,
    presence_penalty: float = 0.0,
    frequency_penalty: float = 0.0,
    min_p: float | None = None,
    context=None,
    stop: str | Sequence[str] | None = None,
    decode: Callable[[list[int]], str] | None = None,
    stream: Callable[[np.ndarray], object] | None = None,
) -> np.ndarray:
    """Ancestral sampling: draw each token from the model's (filtered, tempered) distribution.

    At every step, for each sequence, in this order:

    1. the penalties change the raw logits of the tokens already seen (in ``context`` or
       generated so far): :func:`~nlpbook.generation.repetition_penalty`, then
       :func:`~nlpbook.generation.presence_penalty` and
       :func:`~nlpbook.generation.frequency_penalty`;
    2. a log-softmax turns them into log-probabilities;
    3. the filters keep the ``top_k`` most probable tokens (:func:`top_k_filter`), the
       smallest set of most probable tokens whose probability reaches ``top_p`` (Holtzman et
       al. 2019, :func:`top_p_filter`; the mass is measured in the full distribution of
       step 2) and the tokens at least ``min_p`` times as probable as the best
       (:func:`min_p_filter`);
    4. the log-probabilities are divided by ``temperature`` and renormalised, and a token is
       drawn; ``temperature=0`` takes the most probable token instead (greedy search).

    The filters come before the temperature, so which tokens survive does not depend on it.

    Stop strings: after each token, a sequence that is not finished decodes all its
    generated tokens, ``decode(ids)`` (a list of ints, without ``start_tokens`` or the
    prompt); once that text contains one of the ``stop`` strings, the sequence is finished.
    Its returned tokens are then cut to the longest prefix ``ids[:j]`` whose text
    ``decode(ids[:j])`` is a prefix of the text before the (earliest) stop string, and
    padded with ``pad_id`` from there: neither the stop string nor anything after it is
    returned, and neither is a token that carries the stop string's first characters
    together with text before them (that text is lost with it). No EOS is added. A token
    ``eos_id`` finishes a sequence first, without a stop check. Decoding every row's whole
    output at every step is quadratic in its length: simple, and cheap next to the model for
    the lengths of this book.

    Streaming: ``stream(tokens)`` is called once per step, after the step's tokens are
    drawn and checked and before the next model call, with an int32 ``(n,)`` array of them;
    a sequence that finished at an earlier step gets ``pad_id``. It sees every token as
    drawn, including an EOS and the tokens of a stop string (the returned tokens are cut
    later; a :class:`~nlpbook.generation.TextStreamer` given the same ``stop`` holds the
    stop string back).

    Reproducibility: the tokens are drawn by ``numpy.random.default_rng(seed)``, one uniform
    number per sequence and step, so the same ``seed`` and the same logits give the same
    tokens in every run and process (on any backend, as long as the model's logits
    themselves are deterministic).

    Args:
        step, state, start_tokens, max_length, eos_id, pad_id: as for :func:`greedy_search`;
            ``max_length`` counts new tokens only (it is ``max_new_tokens``).
        temperature: ``>= 0``; below 1 sharpens the distribution, above 1 flattens it.
        top_k: keep this many tokens (``None``: all).
        top_p: keep the nucleus of this probability mass, in ``(0, 1]`` (``None``: all).
        seed: seed of the NumPy generator that draws the tokens.
        repetition_penalty: CTRL's penalty, ``> 0`` (1: off).
        presence_penalty: subtracted once from the logit of every seen token (0: off).
        frequency_penalty: subtracted from a seen token's logit once per occurrence (0: off).
        min_p: keep the tokens with ``p >= min_p * max p``, in ``[0, 1]`` (``None``: all).
        context: the ids each sequence has seen before ``start_tokens`` (its prompt), which
            the penalties count along with the generated tokens: an int array ``(n, t)``
            padded with ``pad_id``, or a list of ``n`` per-row lists in which every id counts
            (see :mod:`nlpbook.generation.warpers`). ``start_tokens`` are not counted; put
            them in ``context`` if they are text. ``None``: only generated tokens count.
        stop: a string or a sequence of strings that end a sequence (``None``: none).
        decode: maps a list of generated ids to text (``str``, UTF-8 ``bytes`` or a scalar
            ``tf.string``, so a :mod:`nlpbook.text` tokenizer's ``decode`` will do); required
            with ``stop``.
        stream: called with each step's ``(n,)`` tokens (``None``: not called).

    Returns:
        ``(n, length)`` int32 generated tokens, as for :func:`greedy_search`; ``length`` is
        the number of steps taken, ``<= max_length``.

    Example:
        >>> table = np.log(np.array([[.1, .6, .3], [.1, .1, .8], [.7, .2, .1]]))
        >>> step = lambda tokens, state: (table[np.asarray(tokens)], state)
        >>> sample(step, None, [0, 0], max_length=3, seed=0).tolist()
        [[1, 0, 2], [1, 0, 2]]
        >>> sample(step, None, [0, 0], max_length=3, min_p=0.9, seed=0).tolist()  # greedy
        [[1, 2, 0], [1, 2, 0]]
    """
    max_length = check_int("max_length", max_length, 1)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    if not (temperature >= 0 and math.isfinite(temperature)):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    if top_k is not None:
        top_k = check_int("top_k", top_k, 1)
    if top_p is not None:
        top_p = _number("top_p", top_p, 0.0, 1.0, open_low=True)
    if min_p is not None:
        min_p = _number("min_p", min_p, 0.0, 1.0)
    repetition = _number("repetition_penalty", repetition_penalty, 0.0, open_low=True)
    presence = _number("presence_penalty", presence_penalty)
    frequency = _number("frequency_penalty", frequency_penalty)
    tokens = _start(start_tokens)
    n, rng = len(tokens), np.random.default_rng(seed)
    if context is not None:
        _context(context, n, pad_id)  # fail before the first model call
    if stop is not None:
        stop = check_stop(stop)
        if not callable(decode):
            raise ValueError(
                f"decode must be a callable (ids -> text) to find stop strings. Received: {decode!r}"
            )
    if stream is not None and not callable(stream):
        raise ValueError(f"stream must be callable or None. Received: stream={stream!r}")
    penalise = repetition != 1 or presence != 0 or frequency != 0
    counts = None  # (n, vocab) occurrences of each token in context and output, if penalising
    generated = [[] for _ in range(n)]  # each row's tokens so far, for the stop strings
    kept = np.full(n, max_length)  # tokens a stop string leaves each row
    finished = np.zeros(n, dtype=bool)
    out = []
    for _ in range(max_length):
        logits, state = step(tokens, state)
        x = _logits(logits, n)
        if penalise:
            if counts is None:
                counts = token_counts(context, n, x.shape[1], pad_id=pad_id)
            if repetition != 1:
                x = _repetition(x, counts, repetition)
            if presence != 0 or frequency != 0:
                x = _presence_frequency(x, counts, presence, frequency)
        logp = _normalise(x)
        if top_k is not None:
            logp = top_k_filter(logp, top_k)
        if top_p is not None:
            logp = top_p_filter(logp, top_p)
        if min_p is not None:
            logp = min_p_filter(logp, min_p)
        if temperature == 0:
            tokens = logp.argmax(axis=1)
        else:
            z = logp / temperature
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            tokens = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
        tokens = tokens.astype("int32")
        out.append(tokens)
        live = ~finished
        if counts is not None:
            counts[live, tokens[live]] += 1
        if eos_id is not None:
            finished |= tokens == eos_id
        if stop is not None:
            for i in np.flatnonzero(live & ~finished):
                generated[i].append(int(tokens[i]))
                text = as_text(decode(generated[i]))
                at = find_stop(text, stop)
                if at >= 0:
                    kept[i], finished[i] = _cut(decode, generated[i], text[:at]), True
        if stream is not None:
            stream(np.where(live, tokens, pad_id).astype("int32"))
        if finished.all():
            break
    out = _finish(np.stack(out, axis=1), eos_id, pad_id)
    return np.where(np.arange(out.shape[1]) < kept[:, None], out, pad_id).astype("int32")


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
