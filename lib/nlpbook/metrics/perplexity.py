r"""Perplexity of a next-token model: the exponential of the mean cross-entropy per token.

.. math::  \mathrm{PPL} = \exp\Big(-\frac{1}{N} \sum_{t} \ln p(y_t \mid y_{<t})\Big)

over the :math:`N` tokens that count (padding excluded). Over many batches the sums and the
count are accumulated and exponentiated once: the mean of per-batch perplexities is a
different, larger number (exp is convex, so by Jensen's inequality the mean of exps exceeds
the exp of the mean) and depends on how the data was batched.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="nlpbook")
class Perplexity(keras.metrics.Metric):
    """Token-level perplexity, accumulated as (sum of cross-entropies, token count).

    Args:
        from_logits: whether ``y_pred`` holds logits (True) or probabilities (False).
        mask_token_id: a label id (padding) whose positions are left out; None keeps all.
        name: the metric's name.
        dtype: the dtype of the accumulators.

    Call arguments (``update_state``):
        y_true: int label ids, ``(batch, time)`` (any shape ``S``).
        y_pred: logits or probabilities, ``(batch, time, vocab)`` (``S + (vocab,)``).
        sample_weight: optional weights of shape ``S`` (0 drops a token); a token's
            cross-entropy and its count are both multiplied by its weight.

    Returns (``result``):
        ``exp(total / count)``, a scalar; 1.0 before any token is seen.

    Example:
        >>> m = Perplexity(mask_token_id=0)
        >>> m.update_state([[1, 2, 0]], np.zeros((1, 3, 4)))  # uniform over 4 tokens
        >>> round(float(m.result()), 4)
        4.0
    """

    def __init__(self, from_logits=True, mask_token_id=None, name="perplexity", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if mask_token_id is not None and (
            isinstance(mask_token_id, bool) or not isinstance(mask_token_id, (int, np.integer))
        ):
            raise ValueError(
                f"mask_token_id must be an int or None. Received: mask_token_id={mask_token_id!r}"
            )
        self.from_logits = bool(from_logits)
        self.mask_token_id = None if mask_token_id is None else int(mask_token_id)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true, dtype="int32")
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        if len(y_pred.shape) != len(y_true.shape) + 1:
            raise ValueError(
                "y_pred must have one more axis (the vocabulary) than y_true. "
                f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        # (batch, time)
        xent = ops.sparse_categorical_crossentropy(y_true, y_pred, from_logits=self.from_logits)
        weight = ops.ones_like(xent)
        if self.mask_token_id is not None:
            weight = ops.cast(ops.not_equal(y_true, self.mask_token_id), self.dtype)
        if sample_weight is not None:
            weight = weight * ops.cast(ops.reshape(sample_weight, ops.shape(xent)), self.dtype)
        # where(), not only a product: a masked label may be out of range and give inf/nan.
        xent = ops.where(weight > 0, xent, ops.zeros_like(xent))
        self.total.assign_add(ops.sum(xent * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def get_config(self):
        return {
            **super().get_config(),
            "from_logits": self.from_logits,
            "mask_token_id": self.mask_token_id,
        }


def perplexity_from_logits(y_true, logits, mask=None) -> float:
    """Perplexity of ``logits`` against ``y_true`` in NumPy (float64, stable log-softmax).

    Args:
        y_true: int label ids, any shape ``S``.
        logits: floats of shape ``S + (vocab,)``.
        mask: optional bool/0-1 array of shape ``S``; True marks a token that counts.

    Returns:
        ``exp(mean cross-entropy over the counted tokens)``.

    Example:
        >>> round(perplexity_from_logits([[0, 1]], np.zeros((1, 2, 8))), 6)  # uniform over 8
        8.0
    """
    y_true = np.asarray(y_true)
    logits = np.asarray(logits, dtype=np.float64)
    if not np.issubdtype(y_true.dtype, np.integer):
        raise TypeError(f"y_true must hold integer ids. Received dtype {y_true.dtype}")
    if logits.shape[:-1] != y_true.shape or logits.ndim == 0:
        raise ValueError(
            "logits must have y_true's shape plus a vocabulary axis. "
            f"Received: y_true.shape={y_true.shape}, logits.shape={logits.shape}"
        )
    mask = np.ones(y_true.shape, bool) if mask is None else np.asarray(mask, bool)
    if mask.shape != y_true.shape:
        raise ValueError(f"mask must have y_true's shape {y_true.shape}. Received {mask.shape}")
    if not mask.any():
        raise ValueError("no token to score: the mask is empty")
    ids, rows = y_true[mask], logits[mask]  # (tokens,), (tokens, vocab)
    if ids.min() < 0 or ids.max() >= logits.shape[-1]:
        raise ValueError(f"label ids must be in [0, {logits.shape[-1]}) where the mask is set")
    top = rows.max(axis=-1)
    log_z = top + np.log(np.exp(rows - top[:, None]).sum(axis=-1))
    return float(np.exp(np.mean(log_z - rows[np.arange(len(ids)), ids])))
