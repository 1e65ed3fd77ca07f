"""Adam: momentum on the gradient, RMSprop on its square, both corrected for their zero start."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook.optim import _checks


@keras.saving.register_keras_serializable(package="nlpbook")
class Adam(keras.optimizers.Optimizer):
    r"""Adam, written from its update rule.

    For a variable ``w`` with gradient ``g`` and learning rate ``lr``, the moments ``m`` and
    ``v`` start at 0 and ``t`` counts the updates, starting at 1 (``t = iterations + 1``)::

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g**2
        alpha_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w <- w - alpha_t * m / (sqrt(v) + epsilon)

    The bias correction ``m_hat = m / (1 - beta_1**t)``, ``v_hat = v / (1 - beta_2**t)`` is
    folded into the step size ``alpha_t`` (Kingma and Ba, end of section 2), as Keras does.
    That is why ``epsilon`` here is the paper's "epsilon hat": it is added to ``sqrt(v)``,
    not to ``sqrt(v_hat)``, so it weighs ``1 / sqrt(1 - beta_2**t)`` times more than in
    Algorithm 1 (the two forms differ only through ``epsilon``).

    The count must start at 1: the seed article (002 §2.1.2, "Adam优化器") divides by
    ``1 - beta1 ** epoch`` with ``epoch`` starting at 0, a division by zero on the first
    update, and it counts epochs, not updates, so later steps are corrected wrongly too.

    Args:
        learning_rate: a float >= 0, a schedule or a callable. Defaults to 0.001.
        beta_1: decay rate of the first moment, in [0, 1). Defaults to 0.9.
        beta_2: decay rate of the second moment, in [0, 1). Defaults to 0.999.
        epsilon: > 0, added to ``sqrt(v)``. Defaults to 1e-7.
        **kwargs: the base optimizer's arguments (``name``, ``clipnorm``, ...).

    Example:
        >>> opt = Adam(learning_rate=0.1)
        >>> w = keras.Variable([1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5])], [w])
        >>> round(float(w.numpy()[0]), 5)  # the first step is about lr * sign(g)
        0.9

    References:
        - Kingma and Ba (2015), "Adam: A Method for Stochastic Optimization", ICLR,
          arXiv:1412.6980.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=_checks.learning_rate(learning_rate), **kwargs)
        self.beta_1 = _checks.in_unit_interval("beta_1", beta_1)
        self.beta_2 = _checks.in_unit_interval("beta_2", beta_2)
        self.epsilon = _checks.positive("epsilon", epsilon)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # One loop so that each variable's m and v sit side by side in `self.variables`.
        self._first_moments, self._second_moments = [], []
        for v in var_list:
            self._first_moments.append(self.add_variable_from_reference(v, name="m"))
            self._second_moments.append(self.add_variable_from_reference(v, name="v"))

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        g = ops.cast(_checks.dense(gradient), dtype)
        t = ops.cast(self.iterations + 1, dtype)
        alpha = lr * ops.sqrt(1 - ops.power(ops.cast(self.beta_2, dtype), t))
        alpha = alpha / (1 - ops.power(ops.cast(self.beta_1, dtype), t))

        index = self._get_variable_index(variable)
        m, v = self._first_moments[index], self._second_moments[index]
        # m + (1 - beta) * (g - m) is beta * m + (1 - beta) * g with one rounding fewer.
        self.assign_add(m, ops.multiply(ops.subtract(g, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(g), v), 1 - self.beta_2))
        self.assign_sub(variable, ops.divide(ops.multiply(alpha, m), ops.sqrt(v) + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
