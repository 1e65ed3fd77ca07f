r"""Root-mean-square layer normalisation (RMSNorm).

.. math::
    \mathrm{RMSNorm}(x) = \frac{x}{\sqrt{\tfrac{1}{d}\sum_i x_i^2 + \epsilon}} \odot g

Zhang & Sennrich (2019): layer normalisation without the mean subtraction and the bias;
cheaper, and as good in practice. Llama, Mistral, Qwen and SmolLM normalise with it.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="nlpbook")
class RMSNorm(keras.layers.Layer):
    """RMS normalisation over the last axis, with a learned gain ``g`` (initially ones).

    The statistic is computed in float32 whatever the compute dtype (under
    ``mixed_bfloat16`` the sum of squares of a wide vector loses too much in bfloat16);
    the result is cast back.

    Args:
        epsilon: added to the mean square (Llama 2: 1e-5; Keras' default 1e-6).

    Call arguments:
        x: ``(…, d)``.

    Returns:
        A tensor of the shape and compute dtype of ``x``.

    Example:
        >>> norm = RMSNorm(epsilon=1e-6)
        >>> y = norm(np.array([[3.0, 4.0]], "float32"))
        >>> np.round(keras.ops.convert_to_numpy(y).astype('float64'), 4).tolist()  # rms: √12.5
        [[0.8485, 1.1314]]

    References:
        Zhang & Sennrich (2019), *Root Mean Square Layer Normalization*, NeurIPS.
    """

    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float, np.floating)):
            raise ValueError(f"epsilon must be a number > 0. Received: epsilon={epsilon!r}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be a number > 0. Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"RMSNorm needs a known last axis. Received shape {input_shape}")
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        x32 = ops.cast(x, "float32")
        mean_square = ops.mean(ops.square(x32), axis=-1, keepdims=True)
        y = x32 * ops.rsqrt(mean_square + self.epsilon) * ops.cast(self.scale, "float32")
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
