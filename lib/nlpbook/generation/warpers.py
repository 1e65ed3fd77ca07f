"""Logits warpers: small NumPy functions that reshape the next-token scores before a draw.

Each takes a float ``(n, vocab)`` array of scores, one row per sequence, and returns a new
float64 array of the same shape (the input is never modified). Two kinds:

* *penalties* (:func:`repetition_penalty`, :func:`presence_penalty`,
  :func:`frequency_penalty`) change the raw logits of the tokens already in a row's
  ``context``: apply them before the log-softmax, as :func:`~nlpbook.generation.sample`
  does;
* *filters* (:func:`top_k_filter`, :func:`top_p_filter`, :func:`min_p_filter`) set the
  log-probabilities of the tokens they drop to ``-inf`` and leave the others unchanged (no
  renormalisation: the draw renormalises).

A ``context`` is given in one of two forms:

* a NumPy array (or a backend tensor) of int ids, ``(n, t)``, in which entries equal to
  ``pad_id`` are padding and ignored (``pad_id=None``: every entry counts);
* a list (or tuple) of ``n`` per-row sequences of ids, of any lengths, in which every id
  counts (``pad_id`` is not used): the form to use when the pad id is also a real token.

Ids must lie in ``[0, vocab)``.
"""

from __future__ import annotations

import math

import numpy as np

from nlpbook._checks import check_int


def _scores(name: str, x) -> np.ndarray:
    x = np.array(x, dtype=np.float64)  # a copy: the warpers never modify their input
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, vocab). Received shape {x.shape}")
    return x


def _number(name: str, value, low=-math.inf, high=math.inf, *, open_low=False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` if ``open_low``)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        ok = math.isfinite(value) and (value > low if open_low else value >= low) and value <= high
    if not ok:
        if low == -math.inf and high == math.inf:
            what = "a finite number"
        elif high == math.inf:
            what = f"a number {'>' if open_low else '>='} {low:g}"
        else:
            what = f"a number in {'(' if open_low else '['}{low:g}, {high:g}]"
        raise ValueError(f"{name} must be {what}. Received: {name}={value!r}")
    return float(value)


def _context(context, n: int, pad_id: int | None = 0):
    """``context`` as ``n`` int64 1-D arrays of the ids that count (padding removed).

    Raises ``ValueError`` naming ``context`` unless it is one of the two forms of the module
    docstring with ``n`` rows. Ids are checked against the vocabulary by
    :func:`token_counts`, which knows its size.
    """
    if isinstance(context, (list, tuple)):
        rows = []
        for row in context:
            row = np.asarray(row)
            if row.ndim != 1 or (row.size and not np.issubdtype(row.dtype, np.integer)):
                raise ValueError(
                    "context given as a list must hold one 1-D sequence of int ids per row. "
                    f"Received a row of shape {row.shape}, dtype {row.dtype}"
                )
            rows.append(row.astype(np.int64))
        if len(rows) != n:
            raise ValueError(f"context must have {n} rows, one per sequence. Received {len(rows)}")
        return rows
    array = np.asarray(context)
    if array.ndim != 2 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(
            "context must be an int array (n, t) padded with pad_id, or a list of per-row "
            f"lists of ids. Received shape {array.shape}, dtype {array.dtype}"
        )
    if array.shape[0] != n:
        raise ValueError(f"context must have {n} rows, one per sequence. Received {array.shape}")
    array = array.astype(np.int64)
    if pad_id is None:
        return [row for row in array]
    return [row[row != pad_id] for row in array]


def token_counts(context, n: int, vocab: int, *, pad_id: int | None = 0) -> np.ndarray:
    """How often each token occurs in each row of ``context``: int64 ``(n, vocab)``.

    Args:
        context: ``(n, t)`` int ids padded with ``pad_id``, or a list of ``n`` per-row lists
            (see the module docstring); ``None``: no context, all counts 0.
        n: the number of rows.
        vocab: the vocabulary size; every id must lie in ``[0, vocab)``.
        pad_id: the padding id of an array ``context`` (``None``: no padding).

    Example:
        >>> token_counts(np.array([[2, 2, 1, 0]]), 1, 4).tolist()
        [[0, 1, 2, 0]]
        >>> token_counts([[0, 0], []], 2, 3).tolist()
        [[2, 0, 0], [0, 0, 0]]
    """
    counts = np.zeros((n, vocab), dtype=np.int64)
    if context is None:
        return counts
    for i, row in enumerate(_context(context, n, pad_id)):
        if row.size and (row.min() < 0 or row.max() >= vocab):
            bad = row[(row < 0) | (row >= vocab)][0]
            raise ValueError(
                f"context ids must lie in [0, vocab={vocab}). Received id {bad} in row {i}"
            )
        counts[i] += np.bincount(row, minlength=vocab)
    return counts


def _repetition(logits: np.ndarray, counts: np.ndarray, penalty: float) -> np.ndarray:
    seen = counts > 0
    return np.where(seen, np.where(logits > 0, logits / penalty, logits * penalty), logits)


def _presence_frequency(logits, counts, presence: float, frequency: float) -> np.ndarray:
    return logits - presence * (counts > 0) - frequency * counts


def repetition_penalty(logits, context, penalty: float, *, pad_id: int | None = 0) -> np.ndarray:
    """CTRL's repetition penalty, with the sign rule of Hugging Face Transformers.

    For every token id ``j`` that occurs (once or more) in row ``i``'s context::

        x[i, j] / penalty   if x[i, j] > 0
        x[i, j] * penalty   otherwise

    and other logits are unchanged. With ``penalty > 1`` a seen token becomes less likely
    whatever its sign (Keskar et al. divide every seen logit by ``penalty``, which makes a
    negative logit *more* likely; Hugging Face's ``RepetitionPenaltyLogitsProcessor``
    multiplies negative ones instead, as here). ``penalty = 1`` changes nothing; Keskar et al.
    found 1.2 a good balance. Apply it to raw logits, before the log-softmax.

    Args:
        logits: ``(n, vocab)`` raw next-token logits.
        context: the ids already in each row (prompt and generated tokens): ``(n, t)`` padded
            with ``pad_id``, or a list of per-row lists (see the module docstring).
        penalty: ``> 0``; above 1 discourages repetition, below 1 encourages it.
        pad_id: the padding id of an array ``context`` (``None``: no padding).

    Returns:
        float64 ``(n, vocab)`` penalised logits.

    Example:
        >>> repetition_penalty(np.array([[2.0, -1.0, 3.0]]), np.array([[0, 1]]), 2.0,
        ...                    pad_id=None).tolist()
        [[1.0, -2.0, 3.0]]

    References:
        Keskar et al. (2019), *CTRL: A Conditional Transformer Language Model for
        Controllable Generation*, arXiv:1909.05858, §4.1 (penalized sampling).
    """
    logits = _scores("logits", logits)
    penalty = _number("penalty", penalty, 0.0, open_low=True)
    counts = token_counts(context, logits.shape[0], logits.shape[1], pad_id=pad_id)
    return _repetition(logits, counts, penalty)


def presence_penalty(logits, context, penalty: float, *, pad_id: int | None = 0) -> np.ndarray:
    """The OpenAI API's presence penalty: ``x[i, j] - penalty`` for each token in the context.

    Every token ``j`` that occurs in row ``i``'s context, however often, loses ``penalty``
    once: ``x[i, j] - penalty * (c[i, j] > 0)`` with ``c`` the counts. ``penalty = 0`` changes
    nothing; positive values push the model towards new tokens (new topics), negative ones
    towards repetition. The OpenAI API accepts ``[-2, 2]``; any finite number is taken here.

    Args:
        logits, context, pad_id: as for :func:`repetition_penalty`.
        penalty: a finite number.

    Returns:
        float64 ``(n, vocab)`` penalised logits.

    Example:
        >>> presence_penalty(np.zeros((1, 3)), [[2, 2, 0]], 0.5).tolist()
        [[-0.5, 0.0, -0.5]]

    References:
        OpenAI API documentation, *Frequency and presence penalties* (Text generation, parameter
        details): ``mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence``.
    """
    logits = _scores("logits", logits)
    penalty = _number("penalty", penalty)
    counts = token_counts(context, logits.shape[0], logits.shape[1], pad_id=pad_id)
    return _presence_frequency(logits, counts, penalty, 0.0)


def frequency_penalty(logits, context, penalty: float, *, pad_id: int | None = 0) -> np.ndarray:
    """The OpenAI API's frequency penalty: ``x[i, j] - penalty * c[i, j]``.

    ``c[i, j]`` is how often token ``j`` occurs in row ``i``'s context, so a token loses
    ``penalty`` for each time it was used. ``penalty = 0`` changes nothing; the OpenAI API
    accepts ``[-2, 2]``; any finite number is taken here.

    Args:
        logits, context, pad_id: as for :func:`repetition_penalty`.
        penalty: a finite number.

    Returns:
        float64 ``(n, vocab)`` penalised logits.

    Example:
        >>> frequency_penalty(np.zeros((1, 3)), [[2, 2, 0]], 0.5).tolist()
        [[-0.5, 0.0, -1.0]]

    References:
        OpenAI API documentation, *Frequency and presence penalties* (Text generation, parameter
        details): ``mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence``.
    """
    logits = _scores("logits", logits)
    penalty = _number("penalty", penalty)
    counts = token_counts(context, logits.shape[0], logits.shape[1], pad_id=pad_id)
    return _presence_frequency(logits, counts, 0.0, penalty)


def _ranks(logp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's tokens best first (ties: lower id first), and each token's place there."""
    order = np.argsort(-logp, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(logp.shape[1])[None], axis=1)
    return order, rank


def top_k_filter(logp, top_k: int) -> np.ndarray:
    """Keep each row's ``top_k`` highest scores; the others become ``-inf``.

    Tokens are ranked by score, ties broken by the lower id, and those of rank ``< top_k``
    are kept. ``top_k >= vocab`` keeps everything.

    Args:
        logp: ``(n, vocab)`` log-probabilities (or logits: only the order matters).
        top_k: an int ``>= 1``.

    Returns:
        float64 ``(n, vocab)``: ``logp`` with the dropped tokens at ``-inf``.

    Example:
        >>> top_k_filter(np.log([[0.2, 0.5, 0.3]]), 2).round(2).tolist()
        [[-inf, -0.69, -1.2]]

    References:
        Fan, Lewis and Dauphin (2018), *Hierarchical Neural Story Generation*,
        arXiv:1805.04833, §5.
    """
    logp = _scores("logp", logp)
    top_k = check_int("top_k", top_k, 1)
    _, rank = _ranks(logp)
    return np.where(rank < top_k, logp, -np.inf)


def top_p_filter(logp, top_p: float) -> np.ndarray:
    """Nucleus filtering: keep each row's smallest set of best tokens with mass ``>= top_p``.

    With the tokens ranked best first (ties: lower id first) and ``p = exp(logp)``, a token
    is kept when the mass of the tokens ranked above it is still ``< top_p``; so the best
    token is always kept, and ``top_p = 1`` keeps every token of nonzero probability. The
    mass is ``exp(logp)`` as given, not renormalised: after :func:`top_k_filter` the nucleus
    is still measured in the model's full distribution (as :func:`~nlpbook.generation.sample`
    does).

    Args:
        logp: ``(n, vocab)`` log-probabilities (normalised rows, e.g. a log-softmax).
        top_p: the nucleus mass, in ``(0, 1]``.

    Returns:
        float64 ``(n, vocab)``: ``logp`` with the dropped tokens at ``-inf``.

    Example:
        >>> top_p_filter(np.log([[0.2, 0.5, 0.3]]), 0.6).round(2).tolist()
        [[-inf, -0.69, -1.2]]

    References:
        Holtzman et al. (2019), *The Curious Case of Neural Text Degeneration*,
        arXiv:1904.09751, §3.1.
    """
    logp = _scores("logp", logp)
    top_p = _number("top_p", top_p, 0.0, 1.0, open_low=True)
    order, rank = _ranks(logp)
    sorted_p = np.exp(np.take_along_axis(logp, order, axis=1))
    before = np.cumsum(sorted_p, axis=1) - sorted_p  # mass of the better tokens
    return np.where(np.take_along_axis(before < top_p, rank, axis=1), logp, -np.inf)


def min_p_filter(logp, min_p: float) -> np.ndarray:
    """Min-p filtering: keep the tokens at least ``min_p`` times as probable as the best.

    Token ``j`` of row ``i`` is kept when ``p[i, j] >= min_p * max_k p[i, k]``, computed as
    ``exp(logp[i, j] - max_k logp[i, k]) >= min_p``, so the rows need not be normalised (a
    ratio of probabilities is one of logits). The most probable token (all of them, if
    tied) is always kept; ``min_p = 0`` keeps everything. Unlike a fixed ``top_p`` the cut
    adapts to the model's confidence: a peaked distribution keeps few tokens, a flat one
    many. Nguyen et al. suggest ``min_p`` between 0.05 and 0.1.

    Args:
        logp: ``(n, vocab)`` log-probabilities or logits.
        min_p: in ``[0, 1]``.

    Returns:
        float64 ``(n, vocab)``: ``logp`` with the dropped tokens at ``-inf``.

    Example:
        >>> min_p_filter(np.log([[0.2, 0.5, 0.3]]), 0.5).round(2).tolist()
        [[-inf, -0.69, -1.2]]

    References:
        Nguyen et al. (2024), *Turning Up the Heat: Min-p Sampling for Creative and Coherent
        LLM Outputs*, arXiv:2407.01082.
    """
    logp = _scores("logp", logp)
    min_p = _number("min_p", min_p, 0.0, 1.0)
    if min_p == 0:
        return logp
    with np.errstate(invalid="ignore"):  # a row of -inf only: nan, dropped (stays -inf)
        ratio = np.exp(logp - logp.max(axis=1, keepdims=True))
    return np.where(ratio >= min_p, logp, -np.inf)
