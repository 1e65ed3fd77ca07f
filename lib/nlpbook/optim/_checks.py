"""Argument checks and the one gradient conversion that every optimizer here shares."""

from __future__ import annotations

import numbers

import keras


def learning_rate(value):
    """Return ``value`` as a float if it is a number >= 0; schedules and callables pass as is.

    Keras' base optimizer accepts only a float, so an int such as ``1`` is converted here.
    """
    if isinstance(value, bool):
        raise ValueError(f"learning_rate must be a number >= 0. Received: learning_rate={value!r}")
    if isinstance(value, numbers.Real):
        if not value >= 0:  # also catches NaN
            raise ValueError(
                f"learning_rate must be a number >= 0. Received: learning_rate={value!r}"
            )
        return float(value)
    return value


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number. Received: {name}={value!r}")
    return float(value)


def in_unit_interval(name: str, value) -> float:
    """``value`` as a float in [0, 1): a decay rate of 1 would never forget, and > 1 diverges."""
    number = _real(name, value)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"{name} must be in [0, 1). Received: {name}={value!r}")
    return number


def positive(name: str, value) -> float:
    """``value`` as a float > 0."""
    number = _real(name, value)
    if not number > 0.0:
        raise ValueError(f"{name} must be > 0. Received: {name}={value!r}")
    return number


def non_negative(name: str, value) -> float:
    """``value`` as a float >= 0."""
    number = _real(name, value)
    if not number >= 0.0:
        raise ValueError(f"{name} must be >= 0. Received: {name}={value!r}")
    return number


def dense(gradient):
    """The gradient as a dense tensor.

    On TensorFlow the gradient of an ``Embedding`` arrives as ``tf.IndexedSlices`` with one row
    per lookup, so a token that occurs twice in a batch has two rows. Element-wise maths on
    those rows is wrong for anything non-linear: squaring each row and scattering the squares
    adds ``g1**2 + g2**2`` where the rule wants ``(g1 + g2)**2``. Keras' own Adagrad, RMSprop
    and Adam (3.15) square the rows; we sum them first. JAX and PyTorch give dense gradients.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if isinstance(gradient, tf.IndexedSlices):
            return tf.convert_to_tensor(gradient)
    return gradient
