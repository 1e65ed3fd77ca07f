"""Adagrad: a per-coordinate learning rate that shrinks with the gradients seen so far."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook.optim import _checks


@keras.saving.register_keras_serializable(package="nlpbook")
class Adagrad(keras.optimizers.Optimizer):
    r"""Adagrad, written from its update rule.

    For a variable ``w`` with gradient ``g`` and learning rate ``lr``, the accumulator ``a``
    starts at ``initial_accumulator_value`` and sums the squared gradients::

        a <- a + g**2
        w <- w - lr * g / sqrt(a + epsilon)

    ``epsilon`` sits *inside* the square root, as in Keras (Adam puts it outside). Coordinates
    with large or frequent gradients get small steps; rare ones (rare words' embedding rows)
    keep large steps. The step size only ever decreases, which is what RMSprop fixes.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001 (Keras'
            default; Duchi et al. use larger rates, e.g. 0.1 or 1.0).
        initial_accumulator_value: starting value of ``a``, >= 0. Defaults to 0.1.
        epsilon: > 0, keeps the division finite when ``a`` is 0. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (``name``, ``clipnorm``, ...).

    Example:
        >>> opt = Adagrad(learning_rate=0.1)
        >>> w = keras.Variable([1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5])], [w])  # a = 0.1 + 0.25
        >>> round(float(w.numpy()[0]), 6)  # 1 - 0.1 * 0.5 / sqrt(0.35)
        0.915485

    References:
        - Duchi, Hazan, Singer (2011), "Adaptive Subgradient Methods for Online Learning and
          Stochastic Optimization", JMLR 12.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=_checks.learning_rate(learning_rate), **kwargs)
        self.initial_accumulator_value = _checks.non_negative(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.epsilon = _checks.positive("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        start = keras.initializers.Constant(self.initial_accumulator_value)
        self._accumulators = [
            self.add_variable_from_reference(v, name="accumulator", initializer=start)
            for v in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(_checks.dense(gradient), variable.dtype)
        a = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(a, ops.square(g))
        self.assign_sub(variable, ops.divide(ops.multiply(lr, g), ops.sqrt(a + self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update(
            {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}
        )
        return config
