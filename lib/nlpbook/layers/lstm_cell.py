r"""The long short-term memory cell: a memory cell written to, kept and read through gates."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool
from nlpbook.layers._cell import RecurrentCell, get_activation


@keras.saving.register_keras_serializable(package="nlpbook")
class LSTMCell(RecurrentCell):
    r"""One step of the LSTM with a forget gate (Gers et al. 2000), as in Keras and cuDNN.

    With row vectors, ``W = kernel``, ``U = recurrent_kernel``, ``b = bias``,
    :math:`\sigma` = ``recurrent_activation`` and :math:`\phi` = ``activation``; the four
    blocks of ``units`` columns of ``W``, ``U`` and ``b`` belong, in this order, to the input
    gate ``i``, the forget gate ``f``, the candidate ``g`` and the output gate ``o``:

    .. math::
        [a_i, a_f, a_g, a_o] &= x_t W + h_{t-1} U + b \\
        i_t = \sigma(a_i), \quad f_t &= \sigma(a_f), \quad g_t = \phi(a_g),
            \quad o_t = \sigma(a_o) \\
        c_t &= f_t \odot c_{t-1} + i_t \odot g_t \\
        h_t &= o_t \odot \phi(c_t)

    Each gate has its own block of weights for :math:`x_t` and for :math:`h_{t-1}`; the
    state is the pair ``[h_t, c_t]`` (Keras' order). The additive update of :math:`c_t` is
    why gradients survive many steps: :math:`\partial c_t / \partial c_{t-1} = f_t`
    (elementwise) along the cell path, close to 1 where the forget gate is open.

    Weight layout as ``keras.layers.LSTMCell``: ``kernel (input_dim, 4 * units)``,
    ``recurrent_kernel (units, 4 * units)``, ``bias (4 * units,)``, blocks ``[i | f | g | o]``.
    Dropout is not built in: put ``keras.layers.Dropout`` before or after the RNN layer.

    Args:
        units: size of :math:`h_t` and :math:`c_t`.
        activation: :math:`\phi`, default ``"tanh"``.
        recurrent_activation: :math:`\sigma` of the gates, default ``"sigmoid"``.
        use_bias: add :math:`b`.
        unit_forget_bias: start the forget-gate bias at 1 (Jozefowicz et al. 2015), so that
            the cell remembers from the first step of training (ignored without a bias).
        kernel_initializer, recurrent_initializer, bias_initializer: initializers of
            :math:`W`, :math:`U`, :math:`b`.
        **kwargs: ``name``, ``dtype`` and the other arguments of ``keras.layers.Layer``.

    Call arguments:
        inputs: :math:`x_t`, ``(batch, input_dim)``.
        states: ``[h_{t-1}, c_{t-1}]``, each ``(batch, units)``.
        training: unused (no dropout); accepted for ``keras.layers.RNN``.

    Returns:
        ``(h_t, [h_t, c_t])``, each ``(batch, units)``.

    Example:
        >>> layer = keras.layers.RNN(LSTMCell(8), return_state=True)
        >>> h, h_again, c = layer(np.zeros((2, 5, 3), "float32"))
        >>> tuple(h.shape), tuple(c.shape)
        ((2, 8), (2, 8))

    References:
        Hochreiter & Schmidhuber (1997), *Long Short-Term Memory*, Neural Computation 9(8);
        Gers, Schmidhuber & Cummins (2000), *Learning to Forget*, Neural Computation 12(10);
        Jozefowicz, Zaremba & Sutskever (2015), *An Empirical Exploration of Recurrent
        Network Architectures*, ICML.
    """

    gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        unit_forget_bias=True,
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
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        self.state_size = [self.units, self.units]

    def make_bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, base = self.units, self.bias_initializer

        def forget_bias_one(shape, dtype=None):
            # blocks [i | f | g | o]: the forget block starts at 1, the others as asked
            return ops.concatenate(
                [
                    base((units,), dtype=dtype),
                    ops.ones((units,), dtype=dtype),
                    base((2 * units,), dtype=dtype),
                ]
            )

        return forget_bias_one

    def step(self, x, states):
        h_prev, c_prev = states  # (batch, units) each
        a = self.linear(x, self.kernel, self.bias) + self.linear(h_prev, self.recurrent_kernel)
        a_i, a_f, a_g, a_o = ops.split(a, 4, axis=-1)  # (batch, units) each
        i = self.recurrent_activation(a_i)
        f = self.recurrent_activation(a_f)
        g = self.activation(a_g)
        o = self.recurrent_activation(a_o)
        c = f * c_prev + i * g
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {
            **super().get_config(),
            "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
            "unit_forget_bias": self.unit_forget_bias,
        }
