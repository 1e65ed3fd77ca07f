"""How probable a model finds a continuation of a prompt: its own perplexity of an output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from keras import ops

from nlpbook._checks import check_int


def continuation_nll(
    logits_fn: Callable,
    prompts: Sequence[Sequence[int]],
    continuations: Sequence[Sequence[int]],
    batch_size: int = 8,
) -> np.ndarray:
    r"""Mean negative log-likelihood per token of each continuation given its prompt.

    .. math::
        \mathrm{NLL} = -\frac{1}{|c|} \sum_{t=1}^{|c|} \log P(c_t \mid p, c_{<t})

    ``exp`` of it is the model's perplexity of that output: low for text the model finds
    likely (greedy and beam outputs, loops included), high for text it would rarely write.
    Computed in one batched forward pass, right-padded, at temperature 1 and without any
    filtering, whatever decoder produced the text.

    Args:
        logits_fn: ``logits_fn(token_ids, padding_mask) -> (batch, time, vocab)`` logits of a
            causal LM (e.g. a :class:`~nlpbook.models.Llama` or :class:`~nlpbook.models.GPT`).
        prompts: one list of ids per row (at least one id each).
        continuations: one list of ids per row (at least one id each).
        batch_size: rows per forward pass (the logits of a batch are ``rows × length ×
            vocab`` floats: 8 × 200 × 49,152 is 315 MB).

    Returns:
        float64 ``(rows,)`` nats per continuation token.
    """
    if len(prompts) != len(continuations) or not prompts:
        raise ValueError("give one prompt per continuation (and at least one of each)")
    rows = [list(p) + list(c) for p, c in zip(prompts, continuations, strict=True)]
    if any(len(p) == 0 for p in prompts) or any(len(c) == 0 for c in continuations):
        raise ValueError("every prompt and every continuation needs at least one token")
    batch_size = check_int("batch_size", batch_size, 1)
    out = np.empty(len(rows))
    for first in range(0, len(rows), batch_size):
        chunk = rows[first : first + batch_size]
        width = max(len(r) for r in chunk)
        ids = np.zeros((len(chunk), width), "int32")
        mask = np.zeros((len(chunk), width), bool)
        for i, r in enumerate(chunk):
            ids[i, : len(r)], mask[i, : len(r)] = r, True
        logits = np.asarray(ops.convert_to_numpy(logits_fn(ids, mask)), np.float32)
        for i in range(len(chunk)):
            p, c = prompts[first + i], continuations[first + i]
            positions = np.arange(len(p) - 1, len(p) + len(c) - 1)  # the logits predicting c
            row = logits[i, positions].astype(np.float64)  # (|c|, vocab)
            row -= row.max(-1, keepdims=True)
            logp = row - np.log(np.exp(row).sum(-1, keepdims=True))
            out[first + i] = -logp[np.arange(len(c)), np.asarray(c)].mean()
    return out
