r"""Activations the pretrained models need beyond Keras' names.

GELU, :math:`x\,\Phi(x)` with :math:`\Phi` the standard normal CDF, has two forms in use:
the exact one (``erf``; Google's BERT, ``"gelu"`` in Keras and in Hugging Face configs) and
the ``tanh`` approximation of Hendrycks & Gimpel,
:math:`\tfrac{1}{2}x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))` (GPT-2's ``gelu_new``,
and what keras-hub's BERT and GPT-2 use). They differ by up to about ``1e-3``, enough to
move a 6-layer encoder's hidden states past a ``1e-4`` comparison, so a model must use the
form its weights were trained with.
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="nlpbook")
def gelu_tanh(x):
    """GELU's ``tanh`` approximation (GPT-2's ``gelu_new``), a named, serializable function.

    Example:
        >>> round(float(gelu_tanh(keras.ops.convert_to_tensor(1.0))), 6)
        0.841192
    """
    return keras.activations.gelu(x, approximate=True)
