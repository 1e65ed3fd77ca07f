"""RMSprop: divide the step by a running root-mean-square of recent gradients."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook.optim import _checks


@keras.saving.register_keras_serializable(package="nlpbook")
class RMSprop(keras.optimizers.Optimizer):
    r"""RMSprop (without momentum, uncentred), written from its update rule.

    For a variable ``w`` with gradient ``g`` and learning rate ``lr``, the mean square ``s``
    starts at 0 and forgets old gradients at rate ``rho``::

        s <- rho * s + (1 - rho) * g**2
        w <- w - lr * g / sqrt(s + epsilon)

    ``epsilon`` sits *inside* the square root, as in Keras. Unlike Adagrad's ever-growing sum,
    ``s`` is an exponential moving average, so the step size can grow again. There is no bias
    correction: the first steps are larger than later ones (``s`` starts at 0), which Adam
    corrects.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001.
        rho: decay rate of the moving average, in [0, 1). Defaults to 0.9.
        epsilon: > 0, keeps the division finite. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (``name``, ``clipnorm``, ...).

    Example:
        >>> opt = RMSprop(learning_rate=0.01)
        >>> w = keras.Variable([1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5])], [w])  # s = 0.1 * 0.25
        >>> round(float(w.numpy()[0]), 6)  # 1 - 0.01 * 0.5 / sqrt(0.025)
        0.968377

    References:
        - Tieleman and Hinton (2012), Neural Networks for Machine Learning, lecture 6.5,
          "rmsprop: Divide the gradient by a running average of its recent magnitude".
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=_checks.learning_rate(learning_rate), **kwargs)
        self.rho = _checks.in_unit_interval("rho", rho)
        self.epsilon = _checks.positive("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._mean_squares = [
            self.add_variable_from_reference(v, name="mean_square") for v in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(_checks.dense(gradient), variable.dtype)
        s = self._mean_squares[self._get_variable_index(variable)]
        self.assign(
            s, ops.add(ops.multiply(self.rho, s), ops.multiply(1 - self.rho, ops.square(g)))
        )
        self.assign_sub(variable, ops.divide(ops.multiply(lr, g), ops.sqrt(s + self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
