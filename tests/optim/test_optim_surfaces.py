"""The 2-D test surfaces: analytic gradients equal autodiff, and trajectories are exact."""

import doctest

import keras
import numpy as np
import pytest

from nlpbook import optim
from nlpbook.optim import surfaces

# JAX computes float64 in float32 unless jax_enable_x64 is set; float64 checks then get the
# float32 tolerance instead of rounding-level agreement.
FLOAT64 = keras.ops.convert_to_numpy(keras.ops.ones((), dtype="float64")).dtype == np.float64
EXACT = 1e-12 if FLOAT64 else 1e-5

SURFACES = {
    "rosenbrock": optim.Rosenbrock(),
    "rosenbrock-a2-b10": optim.Rosenbrock(a=2.0, b=10.0),
    "bowl": optim.QuadraticBowl((1.0, 10.0)),
    "bowl-rotated": optim.QuadraticBowl((0.5, 20.0), angle=0.6),
}


def _points():
    return np.random.default_rng(0).uniform(-2.0, 2.0, size=(64, 2))


def _autodiff_gradient(surface, points):
    """The gradient of sum(f) by the backend's own autodiff (GradientTape on TensorFlow)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        w = tf.Variable(points)
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(surface(w))
        return tape.gradient(total, w).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda w: surface(w).sum())(points))
    if backend == "torch":
        import torch

        w = torch.tensor(points, requires_grad=True)
        surface(w).sum().backward()
        return w.grad.numpy()
    pytest.skip(f"no autodiff reference for backend {backend}")


@pytest.mark.parametrize("name", list(SURFACES))
def test_analytic_gradient_equals_autodiff(name):
    surface, points = SURFACES[name], _points()
    analytic = keras.ops.convert_to_numpy(surface.gradient(points))
    np.testing.assert_allclose(analytic, _autodiff_gradient(surface, points), rtol=EXACT)


@pytest.mark.parametrize("name", list(SURFACES))
def test_gradient_vanishes_only_at_the_minimum(name):
    surface = SURFACES[name]
    at_minimum = keras.ops.convert_to_numpy(surface.gradient(surface.minimum))
    assert float(keras.ops.convert_to_numpy(surface(surface.minimum))) == pytest.approx(0.0)
    np.testing.assert_allclose(at_minimum, 0.0, atol=1e-12)
    values = keras.ops.convert_to_numpy(surface(_points()))
    assert np.all(values > 0)


def test_values_against_numpy():
    x, y = _points().T
    rosenbrock = keras.ops.convert_to_numpy(optim.Rosenbrock(2.0, 10.0)(_points()))
    np.testing.assert_allclose(rosenbrock, (2.0 - x) ** 2 + 10.0 * (y - x**2) ** 2, rtol=EXACT)
    bowl = optim.QuadraticBowl((0.5, 20.0), angle=0.6)
    c, s = np.cos(0.6), np.sin(0.6)
    u, v = c * x + s * y, -s * x + c * y  # coordinates along the bowl's axes
    values = keras.ops.convert_to_numpy(bowl(_points()))
    np.testing.assert_allclose(values, 0.5 * (0.5 * u**2 + 20.0 * v**2), rtol=EXACT)


def test_grid_evaluation_for_contour_plots():
    grid = np.stack(np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5)), axis=-1)
    values = keras.ops.convert_to_numpy(optim.Rosenbrock()(grid))
    assert values.shape == (5, 7)
    assert values[2, 3] == pytest.approx(101.0)  # (0, 1): (1 - 0)**2 + 100 * (1 - 0**2)**2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sgd_on_the_bowl_is_the_closed_form_iterate(dtype):
    """Gradient descent on w^T A w / 2 is linear: w_t = (I - lr A)^t w_0.

    Keras keeps the learning rate in a float32 variable, so the rate is a power of two: exact
    in float32, and the float64 path can then be compared to 1e-12.
    """
    bowl, lr, start = optim.QuadraticBowl((0.5, 20.0), angle=0.6), 0.0625, np.array([1.5, -1.0])
    path = optim.trajectory(optim.SGD(learning_rate=lr), bowl, start, 40, dtype=dtype)
    step = np.eye(2) - lr * bowl.matrix
    expected = np.stack([np.linalg.matrix_power(step, t) @ start for t in range(41)])
    assert path.dtype == dtype or not FLOAT64
    atol = 1e-12 if dtype == "float64" and FLOAT64 else 1e-6
    np.testing.assert_allclose(path, expected, rtol=0, atol=atol)
    # lr * 20 = 1.25: the steep axis flips sign every step and shrinks by |1 - 1.25| = 0.25
    assert np.linalg.norm(path[-1]) < np.linalg.norm(start)


def test_keras_momentum_on_the_bowl_follows_the_recurrence():
    """Any Keras optimizer runs; momentum gives the heavy-ball recurrence v <- mu v - lr g."""
    # a rate and a momentum exact in float32 (Keras stores the rate in a float32 variable)
    bowl, lr, mu, start = optim.QuadraticBowl((1.0, 10.0)), 2.0**-6, 0.875, np.array([1.0, 1.0])
    path = optim.trajectory(
        keras.optimizers.SGD(learning_rate=lr, momentum=mu), bowl, start, 30, dtype="float64"
    )
    w, v, expected = start.copy(), np.zeros(2), [start]
    for _ in range(30):
        v = mu * v - lr * bowl.matrix @ w
        w = w + v
        expected.append(w)
    np.testing.assert_allclose(path, np.stack(expected), rtol=0, atol=EXACT)


DESCENDING = {
    "sgd-momentum": lambda: optim.SGD(learning_rate=1e-3, momentum=0.9),
    "adagrad": lambda: optim.Adagrad(learning_rate=1.0),
    "rmsprop": lambda: optim.RMSprop(learning_rate=1e-2),
    "adam": lambda: optim.Adam(learning_rate=0.1),
}


@pytest.mark.parametrize("name", list(DESCENDING))
def test_trajectory_on_rosenbrock_is_finite_and_descends(name):
    surface, start = optim.Rosenbrock(), (-1.5, 2.0)
    path = optim.trajectory(DESCENDING[name](), surface, start, 300)
    assert path.shape == (301, 2)
    assert path.dtype == np.float32
    np.testing.assert_array_equal(path[0], np.float32(start))
    assert np.all(np.isfinite(path))
    values = keras.ops.convert_to_numpy(surface(path))
    assert values[-1] < 0.5 * values[0]  # from 12.5; Adagrad and RMSprop crawl along the valley


def test_zero_steps_is_the_start():
    path = optim.trajectory(optim.Adam(), optim.QuadraticBowl(), [0.25, -0.5], 0)
    np.testing.assert_array_equal(path, [[0.25, -0.5]])


def test_ours_and_keras_share_a_path():
    ours = optim.trajectory(optim.Adam(0.05), optim.Rosenbrock(), (-1.5, 2.0), 100)
    theirs = optim.trajectory(keras.optimizers.Adam(0.05), optim.Rosenbrock(), (-1.5, 2.0), 100)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_diverging_optimizer_shows_in_the_path():
    """Too large a rate on the steep bowl (lr * 10 > 2) grows the error instead of erroring."""
    path = optim.trajectory(optim.SGD(0.25), optim.QuadraticBowl((1.0, 10.0)), (1.0, 1.0), 10)
    assert abs(path[-1, 1]) == pytest.approx(1.5**10, rel=1e-5)


def test_a_used_optimizer_is_refused():
    optimizer = optim.SGD(0.01)
    optim.trajectory(optimizer, optim.Rosenbrock(), (0.0, 0.0), 1)
    with pytest.raises(ValueError, match="already been applied"):
        optim.trajectory(optimizer, optim.Rosenbrock(), (0.0, 0.0), 1)


BAD_CALLS = [
    ({"optimizer": "adam"}, "optimizer must be a keras.optimizers.Optimizer"),
    ({"surface": lambda w: w}, "surface must be a Surface"),
    ({"start": (1.0, 2.0, 3.0)}, r"start must be two finite numbers. Received: start=\(1.0"),
    ({"start": (np.nan, 0.0)}, "start must be two finite numbers"),
    ({"steps": -1}, "steps must be an int >= 0. Received: steps=-1"),
    ({"steps": 2.0}, "steps must be an int >= 0. Received: steps=2.0"),
    ({"dtype": "int32"}, "dtype must be 'float32' or 'float64'. Received: dtype='int32'"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), BAD_CALLS, ids=[next(iter(b[0])) for b in BAD_CALLS]
)
def test_bad_trajectory_arguments_are_named(kwargs, message):
    arguments = {
        "optimizer": optim.SGD(0.01),
        "surface": optim.Rosenbrock(),
        "start": (0.0, 0.0),
        "steps": 3,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        optim.trajectory(**arguments)


BAD_SURFACES = [
    (optim.Rosenbrock, {"b": 0.0}, "b must be > 0. Received: b=0.0"),
    (optim.Rosenbrock, {"a": float("inf")}, "a must be a finite real number. Received: a=inf"),
    (optim.QuadraticBowl, {"curvatures": (1.0,)}, r"Received: curvatures=\(1.0,\)"),
    (optim.QuadraticBowl, {"curvatures": (1.0, -2.0)}, "curvatures must be > 0"),
    (optim.QuadraticBowl, {"angle": "30deg"}, "angle must be a real number"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"), BAD_SURFACES, ids=[b[2] for b in BAD_SURFACES]
)
def test_bad_surface_arguments_are_named(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_docstring_examples():
    result = doctest.testmod(surfaces, extraglobs={"keras": keras})
    assert result.attempted > 0
    assert result.failed == 0
