"""Instruction tuning data: chat-formatted (prompt, response) pairs with a loss on the response.

A chat model is tuned on conversations rendered by its own chat template (for SmolLM2,
ChatML: ``<|im_start|>user\\n…<|im_end|>\\n<|im_start|>assistant\\n…<|im_end|>``). The model
should learn to *answer*, not to write prompts, so the loss counts only the response's
tokens and the end-of-turn token that stops generation (so that it learns to stop); the
system prompt, the user's turn and the template's markup weigh 0.

``chat_example``         one pair → token ids and per-token loss weights
``instruction_dataset``  many pairs → padded next-token batches ``(inputs, targets, weights)``
                         for ``model.fit`` with a ``"mean_with_sample_weight"`` loss
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nlpbook.pipelines._checks import positive_int


def _check_text(name, text):
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str. Received {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"{name} is empty")
    return text


def chat_example(tokenizer, prompt, response, system=None, end_token="<|im_end|>"):
    """Token ids of one exchange in the tokenizer's chat template, and where the loss counts.

    Args:
        tokenizer: a tokenizer with a chat template (``apply_chat_template``, ``encode_ids``,
            ``token_to_id``), e.g. SmolLM2's from :func:`nlpbook.models.llama.load_smollm2`.
        prompt: the user's message.
        response: the assistant's answer, what the model is tuned to produce.
        system: an optional system message (otherwise the template's default, if any).
        end_token: the end-of-turn token that follows the answer.

    Returns:
        ``(ids, weights)``: int32 ``(T,)`` and float32 ``(T,)``; ``weights`` is 1 on the
        response's tokens and the end-of-turn token after it, 0 elsewhere. ``ids[:prompt_len]``
        are exactly the ids of the generation prompt (what the model sees at inference).

    Raises:
        ValueError: empty texts, a template whose prompt is not a prefix of the whole
            conversation (text or tokens), or no end-of-turn token after the response.
    """
    prompt, response = _check_text("prompt", prompt), _check_text("response", response)
    messages = [{"role": "user", "content": prompt}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": _check_text("system", system)})
    head = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    whole = tokenizer.apply_chat_template(
        [*messages, {"role": "assistant", "content": response}], add_generation_prompt=False
    )
    if not whole.startswith(head):
        raise ValueError("the chat template's generation prompt is not a prefix of the exchange")
    head_ids, ids = tokenizer.encode_ids(head), tokenizer.encode_ids(whole)
    if ids[: len(head_ids)] != head_ids:
        raise ValueError(
            "the generation prompt does not tokenize to a prefix of the exchange's tokens "
            "(a token crosses the boundary), so the response tokens cannot be told apart"
        )
    end_id = tokenizer.token_to_id(end_token)
    try:
        end = ids.index(end_id, len(head_ids))
    except ValueError:
        raise ValueError(f"no {end_token!r} after the response in the rendered exchange") from None
    weights = np.zeros(len(ids), np.float32)
    weights[len(head_ids) : end + 1] = 1.0
    return np.asarray(ids, np.int32), weights


def instruction_dataset(
    tokenizer,
    pairs: Sequence[tuple[str, str]],
    *,
    max_length: int = 256,
    batch_size: int = 8,
    shuffle: bool = True,
    seed: int = 0,
    system: str | None = None,
    pad_id: int = 0,
):
    """Next-token batches of chat-formatted pairs, weighted to train on the responses only.

    Each exchange (:func:`chat_example`) becomes ``inputs = ids[:-1]``, ``targets = ids[1:]``,
    ``weights = weights[1:]`` (the weight of predicting token ``t + 1``), padded at the end to
    the longest in its batch with ``pad_id`` and weight 0. With causal attention, padding at
    the end changes no earlier position. Train with
    ``SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")``:
    the mean over response tokens.

    Args:
        tokenizer: as :func:`chat_example`.
        pairs: ``(prompt, response)`` pairs.
        max_length: the most tokens per exchange; a longer exchange raises (cut your data, so
            that no response loses its end-of-turn token unnoticed).
        batch_size, shuffle, seed: batching and a seeded shuffle (reshuffled every epoch).
        system: an optional system message for every exchange.
        pad_id: the id padding the inputs and targets (its weight is 0).

    Returns:
        ``(dataset, stats)``: a ``tf.data.Dataset`` of ``(inputs, targets, weights)``, int32,
        int32 and float32 ``(batch, T)``, and ``{"examples", "tokens", "response_tokens"}``.
    """
    max_length = positive_int("max_length", max_length)
    batch_size = positive_int("batch_size", batch_size)
    if len(pairs) == 0:
        raise ValueError("pairs is empty")
    rows = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"pairs[{i}] must be (prompt, response). Received {pair!r}")
        ids, weights = chat_example(tokenizer, *pair, system=system)
        if len(ids) > max_length:
            raise ValueError(f"pairs[{i}] is {len(ids)} tokens, over max_length={max_length}")
        rows.append((ids, weights))
    stats = {"examples": len(rows), "tokens": int(sum(len(r[0]) for r in rows)),
             "response_tokens": int(sum(r[1].sum() for r in rows))}  # fmt: skip

    def generate():
        for ids, weights in rows:
            yield ids[:-1], ids[1:], weights[1:]

    spec = (tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None], tf.float32))  # fmt: skip
    ds = tf.data.Dataset.from_generator(generate, output_signature=spec)
    # a known length: Keras then knows where an epoch ends
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(rows))).cache()
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    ds = ds.padded_batch(batch_size, padding_values=(pad_id, pad_id, 0.0))
    return ds.prefetch(tf.data.AUTOTUNE), stats


__all__ = ["chat_example", "instruction_dataset"]
