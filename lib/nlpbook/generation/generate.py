"""``generate``: prompts in, continuations out, for a model with a KV cache.

A model with ``prefill(token_ids, padding_mask, max_length) -> (logits, state)`` and
``decode_step(tokens, state) -> (logits, state)`` (our GPT and Llama) runs every prompt once,
then one token per step (``method="greedy"``: all the steps in one compiled loop, the
model's ``greedy_decode``). :func:`cached_step` turns the two into the ``step`` function that
:func:`~nlpbook.generation.sample` and :func:`~nlpbook.generation.beam_search` drive: the
first call hands out the prefill's logits (they travel in the state, so beam search reorders
them with the cache), later calls run ``decode_step``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlpbook._checks import check_int
from nlpbook.generation.search import beam_search, sample


def cached_step(model):
    """The step function of a model's cache: prefill logits first, then ``decode_step``."""

    def step(tokens, state):
        if "first_logits" in state:
            state = dict(state)
            return state.pop("first_logits"), state
        return model.decode_step(tokens, state)

    return step


def _strip(row: np.ndarray, eos_id: int | None) -> list[int]:
    row = [int(t) for t in row]
    if eos_id is not None and eos_id in row:
        row = row[: row.index(eos_id)]
    return row


def generate(
    model,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int,
    method: str = "sample",
    eos_id: int | None = None,
    beam_width: int = 4,
    alpha: float = 0.0,
    **options,
) -> list[list[int]]:
    """Continue each prompt: sampling (greedy at ``temperature=0``), compiled greedy, or beam
    search.

    Args:
        model: has ``prefill`` and ``decode_step`` (:class:`~nlpbook.models.GPT`,
            :class:`~nlpbook.models.Llama`).
        prompts: one list of ids per row (different lengths are fine: rows are padded).
        max_new_tokens: the most tokens generated per row.
        method: ``"sample"`` (:func:`~nlpbook.generation.sample`: ``temperature``, ``top_k``,
            ``top_p``, ``min_p``, penalties, ``stop``/``decode``, ``stream``, ``seed`` in
            ``options``), ``"greedy"`` (the model's ``greedy_decode``: the tokens of
            ``temperature=0`` sampling, every step in one compiled loop, no ``options``) or
            ``"beam"`` (:func:`~nlpbook.generation.beam_search`, the best
            hypothesis of ``beam_width``, GNMT's length penalty ``alpha``).
        eos_id: ends a row; it and what follows are not returned.

    Returns:
        One list of new ids per row (the prompt not included).

    Example:
        >>> from nlpbook.models import GPT, GPTConfig
        >>> keras.utils.set_random_seed(0)
        >>> gpt = GPT(GPTConfig.tiny(vocab_size=20))
        >>> out = generate(gpt, [[1, 2, 3], [4]], max_new_tokens=5, temperature=0.0)
        >>> [len(row) for row in out]
        [5, 5]
    """
    max_new_tokens = check_int("max_new_tokens", max_new_tokens, 1)
    if method not in ("sample", "greedy", "beam"):
        raise ValueError(f"method must be 'sample', 'greedy' or 'beam'. Received: {method!r}")
    if method == "greedy" and options:
        raise ValueError(
            f"method='greedy' takes no sampling options (received {sorted(options)}); use "
            "method='sample' with temperature=0.0 for penalties, stop strings or streaming"
        )
    prompts = [list(p) for p in prompts]
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("give at least one prompt, each with at least one token")
    width = max(len(p) for p in prompts)
    ids = np.zeros((len(prompts), width), "int32")
    mask = np.zeros((len(prompts), width), bool)
    for i, p in enumerate(prompts):
        ids[i, : len(p)], mask[i, : len(p)] = p, True
    logits, state = model.prefill(ids, mask, max_length=width + max_new_tokens)
    if method == "greedy":
        tokens, _ = model.greedy_decode(logits, state, max_new_tokens, eos_id=eos_id)
        return [_strip(row, eos_id) for row in tokens]
    state["first_logits"] = logits
    start = np.array([p[-1] for p in prompts], "int32")  # not read: the first step is prefill's
    step = cached_step(model)
    if method == "beam":
        sequences, _ = beam_search(step, state, start, beam_width=beam_width,
                                   max_length=max_new_tokens, eos_id=eos_id, alpha=alpha,
                                   **options)  # fmt: skip
        rows = sequences[:, 0]
    else:
        options.setdefault("context", prompts)
        rows = sample(step, state, start, max_length=max_new_tokens, eos_id=eos_id, **options)
    return [_strip(row, eos_id) for row in rows]
