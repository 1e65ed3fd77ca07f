r"""The gated feed-forward network of Llama and PaLM (SwiGLU).

.. math::
    \mathrm{FFN}_{\mathrm{SwiGLU}}(x) = \big(\mathrm{SiLU}(x W_g) \odot x W_u\big)\, W_d,
    \qquad \mathrm{SiLU}(z) = z\,\sigma(z)

Shazeer (2020) replaced the Transformer's ``act(x W_1) W_2`` by a gated linear unit
(Dauphin et al. 2017) whose gate goes through an activation; with SiLU ("Swish") it is
SwiGLU. Three matrices instead of two, so Llama shrinks the hidden width to about
``8/3 · d`` to keep the parameter count (SmolLM2-135M: 576 → 1,536).
"""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool, check_int
from nlpbook.layers._cell import get_activation
from nlpbook.layers.lora import LoRAMixin


@keras.saving.register_keras_serializable(package="nlpbook")
class GatedFeedForward(LoRAMixin, keras.layers.Layer):
    """``(act(x W_gate) * (x W_up)) W_down``, applied at every position.

    Args:
        intermediate_size: the hidden width (Llama's ``intermediate_size``).
        activation: of the gate (``"silu"``: SwiGLU; ``"gelu"``: GeGLU).
        use_bias: biases in the three projections (Llama: none).
        output_dim: output width (default: the input's).
        lora: LoRA adapters on the kernels ``"gate"``, ``"up"``, ``"down"`` (see
            :mod:`nlpbook.layers.lora`), or None.

    Call arguments:
        x: ``(…, d)``.
        training: whether LoRA's dropout is active.

    Returns:
        ``(…, output_dim)``.

    Example:
        >>> ffn = GatedFeedForward(intermediate_size=12)
        >>> y = ffn(np.ones((2, 3, 8), "float32"))
        >>> tuple(y.shape), tuple(ffn.gate_kernel.shape), tuple(ffn.down_kernel.shape)
        ((2, 3, 8), (8, 12), (12, 8))

    References:
        Shazeer (2020), *GLU Variants Improve Transformer*, arXiv:2002.05202; Touvron et al.
        (2023), *LLaMA*.
    """

    _lora_kernels = {"gate": ("gate_kernel", 1), "up": ("up_kernel", 1),
                     "down": ("down_kernel", 1)}  # fmt: skip

    def __init__(self, intermediate_size, activation="silu", use_bias=False, output_dim=None,
                 lora=None, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._init_lora(lora)
        self.intermediate_size = check_int("intermediate_size", intermediate_size, 1)
        self.activation = get_activation("activation", activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.output_dim = None if output_dim is None else check_int("output_dim", output_dim, 1)
        self.supports_masking = True

    def build(self, input_shape):
        d = input_shape[-1]
        if d is None:
            raise ValueError(f"GatedFeedForward needs a known last axis. Received {input_shape}")
        f, out = self.intermediate_size, self.output_dim or d
        self.gate_kernel = self.add_weight(shape=(d, f), initializer="glorot_uniform",
                                           name="gate_kernel")  # fmt: skip
        self.up_kernel = self.add_weight(shape=(d, f), initializer="glorot_uniform",
                                         name="up_kernel")  # fmt: skip
        self.down_kernel = self.add_weight(shape=(f, out), initializer="glorot_uniform",
                                           name="down_kernel")  # fmt: skip
        if self.use_bias:
            self.gate_bias = self.add_weight(shape=(f,), initializer="zeros", name="gate_bias")
            self.up_bias = self.add_weight(shape=(f,), initializer="zeros", name="up_bias")
            self.down_bias = self.add_weight(shape=(out,), initializer="zeros", name="down_bias")
        self._build_lora()

    def _dense(self, x, name, training):
        y = ops.matmul(x, ops.cast(getattr(self, f"{name}_kernel"), x.dtype))
        update = self._lora_update(name, x, training)
        y = y if update is None else y + ops.cast(update, y.dtype)
        return y + ops.cast(getattr(self, f"{name}_bias"), x.dtype) if self.use_bias else y

    def call(self, x, training=None):
        gate = self.activation(self._dense(x, "gate", training))
        hidden = gate * self._dense(x, "up", training)
        return self._dense(hidden, "down", training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.output_dim or input_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "intermediate_size": self.intermediate_size,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "lora": self.lora,
        }
