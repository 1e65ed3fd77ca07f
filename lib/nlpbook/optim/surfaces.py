"""Two-dimensional test surfaces for optimizers, and the path an optimizer takes on one.

A surface is a function ``f(w)`` of a point ``w = (x, y)`` with a known minimum. Its value and
its gradient are written in ``keras.ops`` over the last axis, so ``f`` evaluates a whole grid
at once (for contour plots) and runs on any Keras backend. The gradient is the analytic one:
:func:`trajectory` then needs no backend's autodiff, and the tests check it against autodiff.

Example:
    >>> path = trajectory(keras.optimizers.SGD(0.1), QuadraticBowl((1.0, 10.0)), (1.0, 1.0), 5)
    >>> path.shape
    (6, 2)
"""

from __future__ import annotations

import abc
import math
import numbers

import keras
import numpy as np
from keras import ops

from nlpbook.optim import _checks


class Surface(abc.ABC):
    """A 2-D test function with its analytic gradient and its minimum.

    Subclasses define :meth:`value` and :meth:`gradient` in ``keras.ops``, both taking points
    (NumPy arrays or tensors) of shape ``(..., 2)``, and set ``minimum`` (the minimiser, a
    NumPy array of shape (2,)). Calling a surface is calling :meth:`value`.
    """

    name = "surface"
    minimum: np.ndarray

    @abc.abstractmethod
    def value(self, w):
        """``f(w)`` for points ``w`` of shape ``(..., 2)``: a tensor of shape ``(...)``."""

    @abc.abstractmethod
    def gradient(self, w):
        """``grad f(w)`` for points ``w`` of shape ``(..., 2)``: a tensor of shape ``(..., 2)``."""

    def __call__(self, w):
        return self.value(w)


class Rosenbrock(Surface):
    r"""Rosenbrock's banana valley ``f(x, y) = (a - x)**2 + b * (y - x**2)**2``.

    The minimum is 0 at ``(a, a**2)``, at the end of a long, curved, flat-bottomed valley:
    the walls are ``b`` times steeper than the floor, so plain gradient descent crosses the
    valley in a few steps and then crawls along it.

    Args:
        a: position of the minimum, any real number. Defaults to 1.
        b: steepness of the valley walls, > 0. Defaults to 100.

    Example:
        >>> surface = Rosenbrock()
        >>> float(surface(np.array([1.0, 1.0])))
        0.0
        >>> keras.ops.convert_to_numpy(surface.gradient(np.array([0.0, 0.0]))).tolist()
        [-2.0, 0.0]

    References:
        - Rosenbrock (1960), "An automatic method for finding the greatest or least value of
          a function", The Computer Journal 3(3).
    """

    name = "Rosenbrock"

    def __init__(self, a=1.0, b=100.0):
        if isinstance(a, bool) or not isinstance(a, numbers.Real) or not math.isfinite(a):
            raise ValueError(f"a must be a finite real number. Received: a={a!r}")
        self.a = float(a)
        self.b = _checks.positive("b", b)
        self.minimum = np.array([self.a, self.a**2])

    def value(self, w):
        x, y = w[..., 0], w[..., 1]
        return ops.square(self.a - x) + self.b * ops.square(y - ops.square(x))

    def gradient(self, w):
        x, y = w[..., 0], w[..., 1]
        valley = y - ops.square(x)  # zero on the valley floor y = x**2
        dx = -2.0 * (self.a - x) - 4.0 * self.b * x * valley
        dy = 2.0 * self.b * valley
        return ops.stack([dx, dy], axis=-1)


class QuadraticBowl(Surface):
    r"""An elliptic bowl ``f(w) = w^T A w / 2`` with ``A = R diag(curvatures) R^T``.

    ``R`` rotates by ``angle``, so the bowl's axes make that angle with the coordinate axes.
    The minimum is 0 at the origin. The ratio of the curvatures is the condition number: with
    a learning rate small enough for the steep axis (``lr < 2 / max(curvatures)``), gradient
    descent shrinks the error along the flat axis only by ``1 - lr * min(curvatures)`` per step.
    Gradient descent here has a closed form, ``w_t = (I - lr A)^t w_0``, which the tests use.

    Args:
        curvatures: the two eigenvalues of ``A``, both > 0. Defaults to ``(1, 10)``.
        angle: rotation of the axes in radians. Defaults to 0 (axis-aligned), where
            per-coordinate methods (Adagrad, RMSprop, Adam) can rescale each axis exactly.

    Example:
        >>> bowl = QuadraticBowl((1.0, 10.0))
        >>> float(bowl(np.array([1.0, 1.0])))  # (1 * 1 + 10 * 1) / 2
        5.5
        >>> keras.ops.convert_to_numpy(bowl.gradient(np.array([1.0, 1.0]))).tolist()
        [1.0, 10.0]
    """

    name = "quadratic bowl"

    def __init__(self, curvatures=(1.0, 10.0), angle=0.0):
        if np.shape(curvatures) != (2,):
            raise ValueError(f"curvatures must be two numbers. Received: curvatures={curvatures!r}")
        self.curvatures = tuple(_checks.positive("curvatures", c) for c in curvatures)
        if isinstance(angle, bool) or not isinstance(angle, numbers.Real):
            raise ValueError(f"angle must be a real number. Received: angle={angle!r}")
        self.angle = float(angle)
        c, s = math.cos(self.angle), math.sin(self.angle)
        rotation = np.array([[c, -s], [s, c]])
        self.matrix = rotation @ np.diag(self.curvatures) @ rotation.T
        self.minimum = np.zeros(2)

    def value(self, w):
        return 0.5 * ops.sum(w * self.gradient(w), axis=-1)

    def gradient(self, w):
        # A is symmetric, so A w over the last axis is w @ A.
        return ops.matmul(w, ops.cast(self.matrix, ops.dtype(w)))


def trajectory(optimizer, surface, start, steps, dtype="float32") -> np.ndarray:
    """The points a Keras optimizer visits on a surface, start included.

    The point is a ``keras.Variable`` of shape (2,); each step feeds the surface's analytic
    gradient to ``optimizer.apply``, exactly as ``model.fit`` feeds a model's gradients. Any
    ``keras.optimizers.Optimizer`` works, ours or Keras', on any backend. Nothing stops a
    diverging optimizer: its path then ends in ``inf`` or ``nan``, which the caller can see.

    Args:
        optimizer: a fresh ``keras.optimizers.Optimizer`` (not yet applied to other variables:
            it builds its state for this point's variable).
        surface: a :class:`Surface`.
        start: the starting point, two finite numbers.
        steps: number of updates, an int >= 0.
        dtype: the variable's dtype, ``"float32"`` (default) or ``"float64"``.

    Returns:
        A NumPy array of shape ``(steps + 1, 2)``: row 0 is ``start``, row ``t`` the point
        after ``t`` updates.

    Raises:
        ValueError: a used optimizer, a surface of the wrong type, a bad start or step count.

    Example:
        >>> path = trajectory(keras.optimizers.SGD(0.1), Rosenbrock(), (-1.0, 1.0), 3)
        >>> path[0].tolist(), bool(np.all(np.isfinite(path)))
        ([-1.0, 1.0], True)
    """
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise ValueError(
            f"optimizer must be a keras.optimizers.Optimizer. Received: optimizer={optimizer!r}"
        )
    if optimizer.built:
        raise ValueError(
            "optimizer has already been applied to other variables; pass a fresh optimizer "
            f"(same config: type(opt).from_config(opt.get_config())). Received: {optimizer.name}"
        )
    if not isinstance(surface, Surface):
        raise ValueError(f"surface must be a Surface. Received: surface={surface!r}")
    point = np.asarray(start, dtype="float64")
    if point.shape != (2,) or not np.all(np.isfinite(point)):
        raise ValueError(f"start must be two finite numbers. Received: start={start!r}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an int >= 0. Received: steps={steps!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64'. Received: dtype={dtype!r}")

    w = keras.Variable(point.astype(dtype), dtype=dtype, name="w")
    path = [keras.ops.convert_to_numpy(w)]
    for _ in range(steps):
        optimizer.apply([surface.gradient(w.value)], [w])
        path.append(keras.ops.convert_to_numpy(w))
    return np.stack(path)
