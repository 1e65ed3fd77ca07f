"""Stochastic gradient descent, with optional momentum and Nesterov momentum."""

from __future__ import annotations

import keras
from keras import ops

from nlpbook.optim import _checks


@keras.saving.register_keras_serializable(package="nlpbook")
class SGD(keras.optimizers.Optimizer):
    r"""Gradient descent, plain or with (Nesterov) momentum, written from its update rule.

    For a variable ``w`` with gradient ``g``, learning rate ``lr`` and momentum ``mu``:

    Plain (``momentum=0``)::

        w <- w - lr * g

    Momentum (``momentum > 0``); the velocity ``v`` starts at 0 and already carries the
    learning rate and the minus sign, so it is the step itself::

        v <- mu * v - lr * g
        w <- w + v

    Nesterov (``nesterov=True``): the step looks ahead along the new velocity::

        v <- mu * v - lr * g
        w <- w + mu * v - lr * g

    This is Keras' formulation (and the seed article's, 002 §2.1.2 "动量"). It is the
    Sutskever et al. (2013) form rewritten in the look-ahead variable, and it differs from
    PyTorch's ``torch.optim.SGD``, whose buffer ``b <- mu * b + g`` excludes ``lr`` (the two
    agree while ``lr`` is constant, and part ways when a schedule changes it).

    Args:
        learning_rate: a float >= 0, a ``keras.optimizers.schedules.LearningRateSchedule``
            or a callable returning the rate. Defaults to 0.01.
        momentum: ``mu`` in [0, 1). 0 means plain gradient descent (and no velocity slots).
        nesterov: use Nesterov momentum (only meaningful when ``momentum > 0``).
        **kwargs: the base optimizer's arguments (``name``, ``weight_decay``, ``clipnorm``,
            ``clipvalue``, ``global_clipnorm``, ``use_ema``, ...).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
        >>> w = keras.Variable([1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5])], [w])
        >>> round(float(w.numpy()[0]), 6)  # 1 + 0.9 * (-0.05) - 0.05
        0.905

    References:
        - Polyak (1964), "Some methods of speeding up the convergence of iteration methods".
        - Sutskever, Martens, Dahl, Hinton (2013), "On the importance of initialization and
          momentum in deep learning", ICML.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=_checks.learning_rate(learning_rate), **kwargs)
        self.momentum = _checks.in_unit_interval("momentum", momentum)
        if not isinstance(nesterov, bool):
            raise ValueError(f"nesterov must be a bool. Received: nesterov={nesterov!r}")
        self.nesterov = nesterov

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # Without momentum there is no state to keep (and none to save).
        self._velocities = (
            [self.add_variable_from_reference(v, name="velocity") for v in var_list]
            if self.momentum > 0
            else []
        )

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        # The rule is linear in g, so TensorFlow's IndexedSlices (one row per lookup) can be
        # applied as they are: scattering the rows adds them up.
        if self.momentum == 0:
            self.assign_sub(variable, ops.multiply(lr, gradient))
            return
        mu = ops.cast(self.momentum, variable.dtype)
        v = self._velocities[self._get_variable_index(variable)]
        self.assign(v, ops.subtract(ops.multiply(mu, v), ops.multiply(lr, gradient)))
        if self.nesterov:
            self.assign_add(variable, ops.subtract(ops.multiply(mu, v), ops.multiply(lr, gradient)))
        else:
            self.assign_add(variable, v)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
