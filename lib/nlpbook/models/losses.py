r"""Losses for models that predict a token at every position of a padded sequence.

``MaskedSequenceCrossentropy``  label-smoothed cross-entropy, averaged over the real tokens
"""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool, check_int, check_rate


@keras.saving.register_keras_serializable(package="nlpbook")
class MaskedSequenceCrossentropy(keras.losses.Loss):
    r"""Label-smoothed cross-entropy per token, averaged over the tokens that are not padding.

    With label smoothing :math:`\varepsilon` the target distribution puts
    :math:`1 - \varepsilon + \varepsilon / K` on the label :math:`y` and :math:`\varepsilon / K`
    on each of the other :math:`K - 1` classes (Keras' ``CategoricalCrossentropy``
    convention: the smoothing mass is spread over all :math:`K` classes, the label included),
    so the loss of one token is

    .. math::
        \ell = (1 - \varepsilon)\,(-\log p_y) + \varepsilon \cdot
               \frac{1}{K} \sum_{k=1}^{K} (-\log p_k),

    computed from the log-probabilities without building a ``(batch, time, K)`` one-hot. The
    returned value is the mean of :math:`\ell` over the tokens whose label is not ``pad_id``
    (weighted by ``sample_weight`` when one is given); a batch of padding only gives 0. The
    sums run in float32 whatever the predictions' dtype (bfloat16 and float16 logits under
    mixed precision lose too much in a sum over a vocabulary), and the result is float32.

    The padding mask travels to Keras' reduction as a sample weight and the reduction
    ``"mean_with_sample_weight"`` divides by its sum, so the value ``model.fit`` and
    ``model.evaluate`` report for a batch is exactly the mean over its real tokens.
    (``"sum_over_batch_size"`` would divide by all positions, padding included, and is
    refused.)

    Args:
        label_smoothing: :math:`\varepsilon` in ``[0, 1)``; 0 is the plain cross-entropy.
        pad_id: the label id that marks padding, an int >= 0, or ``None`` to average over
            every position.
        from_logits: whether the predictions are logits (``True``) or probabilities.
        reduction: ``"mean_with_sample_weight"`` (the token mean), ``"sum"``, or ``None``
            for the per-token losses (0 on padding).
        name: the loss's name.

    Call arguments:
        y_true: int labels ``(batch, time)`` (any leading shape).
        y_pred: ``(batch, time, K)`` logits or probabilities.
        sample_weight: optional weights ``(batch,)`` or ``(batch, time)``.

    Returns:
        A float32 scalar (or the per-token losses with ``reduction=None``).

    Example:
        >>> loss = MaskedSequenceCrossentropy(label_smoothing=0.1, pad_id=0)
        >>> labels = np.array([[5, 2, 0]])  # two tokens, one pad
        >>> logits = np.zeros((1, 3, 10), "float32")  # uniform over 10 classes
        >>> round(float(loss(labels, logits)), 4)  # log(10), whatever the smoothing
        2.3026

    References:
        Szegedy et al. (2016), *Rethinking the Inception Architecture for Computer Vision*,
        CVPR (label smoothing). Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS.
    """

    def __init__(
        self,
        label_smoothing=0.0,
        pad_id=0,
        from_logits=True,
        reduction="mean_with_sample_weight",
        name="masked_sequence_crossentropy",
    ):
        if reduction in ("sum_over_batch_size", "mean"):
            raise ValueError(
                f"reduction={reduction!r} divides by every position, padding included; use "
                "'mean_with_sample_weight' (the mean over real tokens), 'sum' or None"
            )
        # a float32 loss whatever the global policy: Keras casts the predictions to it
        super().__init__(name=name, reduction=reduction, dtype="float32")
        self.label_smoothing = check_rate("label_smoothing", label_smoothing)
        self.pad_id = None if pad_id is None else check_int("pad_id", pad_id, 0)
        self.from_logits = check_bool("from_logits", from_logits)

    def __call__(self, y_true, y_pred, sample_weight=None):
        labels = ops.convert_to_tensor(y_true)
        predictions = ops.convert_to_tensor(y_pred)
        if len(predictions.shape) != len(labels.shape) + 1:
            raise ValueError(
                "MaskedSequenceCrossentropy expects labels (batch, time) and predictions "
                f"(batch, time, classes). Received labels {tuple(labels.shape)}, predictions "
                f"{tuple(predictions.shape)}"
            )
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            while len(sample_weight.shape) < len(labels.shape):  # (batch,) weighs sentences
                sample_weight = ops.expand_dims(sample_weight, -1)
        if self.pad_id is not None:
            # the mask as a weight: the reduction then divides by the number of real tokens
            mask = ops.cast(ops.not_equal(labels, self.pad_id), "float32")
            sample_weight = mask if sample_weight is None else mask * sample_weight
        return super().__call__(labels, predictions, sample_weight)

    def call(self, y_true, y_pred):
        predictions = ops.cast(y_pred, "float32")
        if self.from_logits:
            log_probs = ops.log_softmax(predictions, axis=-1)
        else:  # as Keras does: renormalise, keep log() finite
            probs = predictions / ops.sum(predictions, axis=-1, keepdims=True)
            eps = keras.config.epsilon()
            log_probs = ops.log(ops.clip(probs, eps, 1.0 - eps))
        labels = ops.expand_dims(ops.cast(y_true, "int32"), -1)
        loss = -ops.squeeze(ops.take_along_axis(log_probs, labels, axis=-1), -1)
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            loss = (1.0 - self.label_smoothing) * loss + self.label_smoothing * smooth
        return loss

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "pad_id": self.pad_id,
            "from_logits": self.from_logits,
        }
