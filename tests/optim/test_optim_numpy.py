"""Each optimizer equals a NumPy transcription of its update rule (float64) on one variable."""

import keras
import numpy as np
import pytest

from nlpbook import optim

STEPS = 20


def _sgd_steps(w, grads, learning_rate, momentum=0.0, nesterov=False):
    v = np.zeros_like(w)
    for g in grads:
        v = momentum * v - learning_rate * g
        w = w + (momentum * v - learning_rate * g if nesterov else v)
        yield w


def _adagrad_steps(w, grads, learning_rate, initial_accumulator_value, epsilon):
    a = np.full_like(w, initial_accumulator_value)
    for g in grads:
        a = a + g**2
        w = w - learning_rate * g / np.sqrt(a + epsilon)
        yield w


def _rmsprop_steps(w, grads, learning_rate, rho, epsilon):
    s = np.zeros_like(w)
    for g in grads:
        s = rho * s + (1 - rho) * g**2
        w = w - learning_rate * g / np.sqrt(s + epsilon)
        yield w


def _adam_steps(w, grads, learning_rate, beta_1, beta_2, epsilon, first_step=1):
    """Adam with the bias correction folded into the step size; ``t`` starts at first_step."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=first_step):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        alpha = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - alpha * m / (np.sqrt(v) + epsilon)
        yield w


CASES = {
    "sgd": (optim.SGD, _sgd_steps, {"learning_rate": 0.1}),
    "sgd-momentum": (optim.SGD, _sgd_steps, {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd-nesterov": (
        optim.SGD,
        _sgd_steps,
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    "adagrad": (
        optim.Adagrad,
        _adagrad_steps,
        {"learning_rate": 0.1, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    ),
    "rmsprop": (
        optim.RMSprop,
        _rmsprop_steps,
        {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-7},
    ),
    "adam": (
        optim.Adam,
        _adam_steps,
        {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    ),
}


def _gradients():
    rng = np.random.default_rng(2)
    grads = rng.normal(size=(STEPS, 3, 4))
    grads[5] = 0.0  # a step without gradient: the state must still carry the update
    grads[7, 0] *= 100.0  # one large gradient row
    return grads


def _ours(optimizer, w0, grads):
    w = keras.Variable(w0.astype("float32"))
    for g in grads:
        optimizer.apply([keras.ops.convert_to_tensor(g.astype("float32"))], [w])
        yield keras.ops.convert_to_numpy(w)


@pytest.mark.parametrize("case", list(CASES))
def test_equals_numpy_transcription(case):
    cls, numpy_rule, kwargs = CASES[case]
    w0 = np.random.default_rng(3).normal(size=(3, 4))
    grads = _gradients()
    expected = list(numpy_rule(w0, grads, **kwargs))
    got = list(_ours(cls(**kwargs), w0, grads))
    worst = max(float(np.max(np.abs(a - e))) for a, e in zip(got, expected, strict=True))
    print(f"{case}: max |ours (float32) - numpy (float64)| over {STEPS} steps = {worst:.3g}")
    for step, (a, e) in enumerate(zip(got, expected, strict=True), start=1):
        np.testing.assert_allclose(a, e, atol=1e-6, rtol=1e-5, err_msg=f"{case}, step {step}")
    assert not np.allclose(expected[-1], w0), "the rule should have moved the variable"


def test_adam_first_step_is_finite_and_equals_keras():
    """The count starts at 1; the seed article's ``1 - beta1 ** epoch`` with epoch 0 is 0."""
    kwargs = {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    w0 = np.random.default_rng(4).normal(size=(3, 4))
    g = _gradients()[:1]
    with np.errstate(divide="ignore", invalid="ignore"):
        seed_version = next(_adam_steps(w0, g, **kwargs, first_step=0))
    assert not np.all(np.isfinite(seed_version))

    ours = next(_ours(optim.Adam(**kwargs), w0, g))
    theirs = next(_ours(keras.optimizers.Adam(**kwargs), w0, g))
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, atol=1e-7, rtol=1e-6)
    # With t = 1 the corrected first step is lr * g / (|g| + eps / sqrt(1 - beta_2)): ~lr * sign(g).
    np.testing.assert_allclose(w0 - ours, 0.01 * np.sign(g[0]), atol=1e-6)
