"""How probable a model finds a continuation of a prompt: its own perplexity of an output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from keras import ops


def continuation_nll(
    logits_fn: Callable, prompts: Sequence[Sequence[int]], continuations: Sequence[Sequence[int]]
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

    Returns:
        float64 ``(rows,)`` nats per continuation token.
    """
    if len(prompts) != len(continuations) or not prompts:
        raise ValueError("give one prompt per continuation (and at least one of each)")
    rows = [list(p) + list(c) for p, c in zip(prompts, continuations, strict=True)]
    if any(len(p) == 0 for p in prompts) or any(len(c) == 0 for c in continuations):
        raise ValueError("every prompt and every continuation needs at least one token")
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), "int32")
    mask = np.zeros((len(rows), width), bool)
    for i, r in enumerate(rows):
        ids[i, : len(r)], mask[i, : len(r)] = r, True
    logits = np.asarray(ops.convert_to_numpy(logits_fn(ids, mask)), np.float64)
    logits -= logits.max(-1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    out = np.empty(len(rows))
    for i, (p, c) in enumerate(zip(prompts, continuations, strict=True)):
        positions = np.arange(len(p) - 1, len(p) + len(c) - 1)  # the logits that predict c
        out[i] = -logp[i, positions, np.asarray(c)].mean()
    return out
