r"""GloVe: word vectors fitted to the logarithm of co-occurrence counts.

Pennington, Socher and Manning (2014) minimise, over the non-zero entries of the
co-occurrence matrix :math:`X` (``nlpbook.pipelines.cooccurrence_matrix``),

.. math::  J = \sum_{i,j:\,X_{ij} > 0} f(X_{ij})
           \big(w_i^\top \tilde w_j + b_i + \tilde b_j - \log X_{ij}\big)^2,
           \qquad f(x) = \min\big(1, (x / x_{\max})^{\alpha}\big)

with :math:`x_{\max} = 100` and :math:`\alpha = 3/4`. The weighting :math:`f` keeps rare,
noisy counts from mattering as much as frequent ones and caps the very frequent. Each word has
a vector :math:`w` (as a centre) and :math:`\tilde w` (as a context); the paper uses their sum
:math:`w + \tilde w` as the word vector (:attr:`GloVe.vectors`). The paper trains with
AdaGrad, learning rate 0.05.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_int


@keras.saving.register_keras_serializable(package="nlpbook")
class GloVe(keras.Model):
    """The GloVe model: ``w_i · w̃_j + b_i + b̃_j``, a prediction of ``log X_ij``.

    Args:
        vocab_size: number of ids (row 0, padding, never occurs in ``X``).
        dim: vector size.

    Call arguments:
        inputs: ``(i, j)``, int ids of shape ``(batch,)`` each.

    Returns:
        ``(batch,)`` predictions of ``log X_ij``, float32. Train with :class:`GloVeLoss`
        against ``X_ij``.

    Example:
        >>> glove = GloVe(vocab_size=10, dim=4)
        >>> tuple(glove((np.array([1, 2]), np.array([3, 4]))).shape)
        (2,)

    References:
        Pennington, Socher, Manning (2014), *GloVe: Global Vectors for Word Representation*,
        EMNLP.
    """

    def __init__(self, vocab_size, dim=100, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.dim = check_int("dim", dim, 1)
        # the reference code draws every parameter uniformly in ±0.5 / dim
        init = keras.initializers.RandomUniform(-0.5 / self.dim, 0.5 / self.dim)

        def table(width, name):
            return layers.Embedding(
                self.vocab_size, width, embeddings_initializer=init, dtype="float32", name=name
            )

        self.centre = table(self.dim, "centre")
        self.context = table(self.dim, "context")
        self.centre_bias = table(1, "centre_bias")
        self.context_bias = table(1, "context_bias")

    def build(self, input_shape):
        for t in (self.centre, self.context, self.centre_bias, self.context_bias):
            t.build((None,))

    def call(self, inputs):
        i, j = inputs
        if len(i.shape) != 1 or len(j.shape) != 1:
            raise ValueError(
                f"GloVe takes (i, j) ids of shape (batch,). Received {i.shape}, {j.shape}"
            )
        dot = ops.sum(self.centre(i) * self.context(j), axis=-1)  # (batch,)
        return dot + self.centre_bias(i)[:, 0] + self.context_bias(j)[:, 0]

    @property
    def vectors(self) -> np.ndarray:
        """``w + w̃``, the word vectors the paper evaluates, ``(vocab_size, dim)``."""
        w = ops.convert_to_numpy(self.centre.embeddings)
        return np.asarray(w + ops.convert_to_numpy(self.context.embeddings))

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "dim": self.dim}


@keras.saving.register_keras_serializable(package="nlpbook")
class GloVeLoss(keras.losses.Loss):
    """``f(X) (prediction - log X)^2`` per entry, ``f(x) = min(1, (x / x_max) ** alpha)``.

    Keras averages it over the batch; the paper's sum over all entries differs by a constant
    factor, which rescales the learning rate.

    Args:
        x_max: the count from which every entry has weight 1.
        alpha: the exponent of the weighting below ``x_max``.

    Example:
        >>> loss = GloVeLoss(reduction=None)
        >>> values = loss(np.array([1.0, 100.0]), np.array([1.0, np.log(100.0)]))
        >>> [round(float(v), 4) for v in keras.ops.convert_to_numpy(values)]
        [0.0316, 0.0]
    """

    def __init__(self, x_max=100.0, alpha=0.75, name="glove_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        if not x_max > 0:
            raise ValueError(f"x_max must be > 0. Received: x_max={x_max!r}")
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0. Received: alpha={alpha!r}")
        self.x_max, self.alpha = float(x_max), float(alpha)

    def call(self, y_true, y_pred):
        x = ops.cast(y_true, "float32")
        weight = ops.minimum(1.0, ops.power(x / self.x_max, self.alpha))
        return weight * ops.square(ops.cast(y_pred, "float32") - ops.log(x))

    def get_config(self):
        return {**super().get_config(), "x_max": self.x_max, "alpha": self.alpha}
