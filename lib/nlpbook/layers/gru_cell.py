r"""The gated recurrent unit: an update gate mixes the old state with a reset-gated candidate."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool
from nlpbook.layers._cell import RecurrentCell, get_activation


@keras.saving.register_keras_serializable(package="nlpbook")
class GRUCell(RecurrentCell):
    r"""One step of the GRU (Cho et al. 2014), in both of its conventions.

    With row vectors, ``W = kernel``, ``U = recurrent_kernel``, :math:`\sigma` =
    ``recurrent_activation`` and :math:`\phi` = ``activation``; the three blocks of ``units``
    columns belong, in this order, to the update gate ``z``, the reset gate ``r`` and the
    candidate state ``h̃``.

    ``reset_after=False``, the form of Cho et al. (2014): the reset gate scales the old state
    *before* it is multiplied by :math:`U_h`; ``bias`` ``b`` is ``(3 * units,)``.

    .. math::
        z_t &= \sigma(x_t W_z + h_{t-1} U_z + b_z) \\
        r_t &= \sigma(x_t W_r + h_{t-1} U_r + b_r) \\
        \tilde h_t &= \phi(x_t W_h + (r_t \odot h_{t-1}) U_h + b_h) \\
        h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t

    ``reset_after=True`` (the default, Keras' and cuDNN's): the reset gate scales
    :math:`h_{t-1} U_h` *after* the product, so all three recurrent products are one matrix
    multiplication; ``bias`` is ``(2, 3 * units)``, row 0 the input bias :math:`b^x`, row 1
    the recurrent bias :math:`b^h`:

    .. math::
        z_t &= \sigma(x_t W_z + b^x_z + h_{t-1} U_z + b^h_z) \\
        r_t &= \sigma(x_t W_r + b^x_r + h_{t-1} U_r + b^h_r) \\
        \tilde h_t &= \phi(x_t W_h + b^x_h + r_t \odot (h_{t-1} U_h + b^h_h)) \\
        h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t

    Here :math:`z_t` near 1 *keeps* the old state; some texts (Chung et al. 2014) swap the
    roles of :math:`z` and :math:`1 - z`, which is the same model with the gate's sign flipped.

    Weight layout as ``keras.layers.GRUCell``: ``kernel (input_dim, 3 * units)``,
    ``recurrent_kernel (units, 3 * units)``, blocks ``[z | r | h]``. Dropout is not built
    in: put ``keras.layers.Dropout`` before or after the RNN layer.

    Args:
        units: size of the state :math:`h_t`.
        activation: :math:`\phi`, default ``"tanh"``.
        recurrent_activation: :math:`\sigma` of the gates, default ``"sigmoid"``.
        use_bias: add the biases.
        reset_after: apply the reset gate after the recurrent product (two biases) or
            before it (Cho et al.'s form, one bias).
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of
            :math:`W`, :math:`U` and the biases.
        **kwargs: ``name``, ``dtype`` and the other arguments of ``keras.layers.Layer``.

    Call arguments:
        inputs: :math:`x_t`, ``(batch, input_dim)``.
        states: :math:`h_{t-1}`, ``(batch, units)``, or a one-element list of it.
        training: unused (no dropout); accepted for ``keras.layers.RNN``.

    Returns:
        ``(h_t, new_states)``: ``h_t`` is ``(batch, units)``; ``new_states`` is ``[h_t]``, or
        ``h_t`` when ``states`` was passed as a bare tensor.

    Example:
        >>> layer = keras.layers.RNN(GRUCell(8, reset_after=False))
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 8)

    References:
        Cho, van Merriënboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio (2014),
        *Learning Phrase Representations using RNN Encoder-Decoder for Statistical Machine
        Translation*, EMNLP (eqs. 5-8); Chung, Gulcehre, Cho & Bengio (2014), *Empirical
        Evaluation of Gated Recurrent Neural Networks on Sequence Modeling*, arXiv:1412.3555.
    """

    gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.recurrent_activation = get_activation("recurrent_activation", recurrent_activation)
        self.reset_after = check_bool("reset_after", reset_after)
        self.state_size = self.units

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def step(self, x, states):
        (h_prev,) = states  # (batch, units)
        if self.bias is None:
            b_x = b_h = None
        elif self.reset_after:
            b_x, b_h = self.bias[0], self.bias[1]  # (3 * units,) each
        else:
            b_x, b_h = self.bias, None
        x_z, x_r, x_h = ops.split(self.linear(x, self.kernel, b_x), 3, axis=-1)
        u = self.units
        if self.reset_after:
            h_z, h_r, h_h = ops.split(self.linear(h_prev, self.recurrent_kernel, b_h), 3, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            candidate = self.activation(x_h + r * h_h)
        else:
            h_z, h_r = ops.split(ops.matmul(h_prev, self.recurrent_kernel[:, : 2 * u]), 2, axis=-1)
            z = self.recurrent_activation(x_z + h_z)
            r = self.recurrent_activation(x_r + h_r)
            candidate = self.activation(
                x_h + ops.matmul(r * h_prev, self.recurrent_kernel[:, 2 * u :])
            )
        h = z * h_prev + (1 - z) * candidate
        return h, [h]

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "reset_after": self.reset_after,
        }
