r"""The Elman recurrent cell: one tanh layer fed its own previous output."""

from __future__ import annotations

import keras

from nlpbook.layers._cell import RecurrentCell


@keras.saving.register_keras_serializable(package="nlpbook")
class SimpleRNNCell(RecurrentCell):
    r"""One step of the simple (Elman) recurrent network.

    With row vectors (one row per example of the batch), ``W = kernel``,
    ``U = recurrent_kernel``, ``b = bias`` and :math:`\phi` = ``activation``:

    .. math::
        h_t = \phi(x_t W + h_{t-1} U + b)

    The output is the new state :math:`h_t`. Weight layout as ``keras.layers.SimpleRNNCell``:
    ``kernel (input_dim, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.
    Dropout is not built in: put ``keras.layers.Dropout`` before or after the RNN layer.

    Args:
        units: size of the state :math:`h_t`.
        activation: :math:`\phi`, default ``"tanh"``.
        use_bias: add :math:`b`.
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of
            :math:`W`, :math:`U`, :math:`b` (Keras' defaults: Glorot uniform, orthogonal,
            zeros).
        **kwargs: ``name``, ``dtype`` and the other arguments of ``keras.layers.Layer``.

    Call arguments:
        inputs: :math:`x_t`, ``(batch, input_dim)``.
        states: :math:`h_{t-1}`, ``(batch, units)``, or a one-element list of it.
        training: unused (no dropout); accepted for ``keras.layers.RNN``.

    Returns:
        ``(h_t, new_states)``: ``h_t`` is ``(batch, units)``; ``new_states`` is ``[h_t]``, or
        ``h_t`` when ``states`` was passed as a bare tensor.

    Example:
        >>> layer = keras.layers.RNN(SimpleRNNCell(8), return_sequences=True)
        >>> tuple(layer(np.zeros((2, 5, 3), "float32")).shape)
        (2, 5, 8)

    References:
        Elman (1990), *Finding Structure in Time*, Cognitive Science 14.
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
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
        self.state_size = self.units

    def step(self, x, states):
        (h_prev,) = states  # (batch, units)
        h = self.activation(
            self.linear(x, self.kernel, self.bias) + self.linear(h_prev, self.recurrent_kernel)
        )
        return h, [h]
