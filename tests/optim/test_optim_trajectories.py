"""Our optimizers train a real model along the same parameter trajectory as Keras' built-ins.

Each case trains the same model twice from identical weights for 50 steps, once with ours and
once with the Keras optimizer of the same name and hyperparameters, and compares every weight
after every step (step 1 included). Tolerance ``atol=1e-6, rtol=1e-5`` (float32): the rules
are the same, but on PyTorch Keras runs its own fused ``torch._foreach`` implementations whose
operation order differs from ours, so bits may differ in the last place and grow slightly.
"""

import keras
import numpy as np
import pytest

from nlpbook import optim

STEPS = 50
ATOL, RTOL = 1e-6, 1e-5

CASES = {
    "sgd": (optim.SGD, keras.optimizers.SGD, {"learning_rate": 0.1}),
    "sgd-momentum": (optim.SGD, keras.optimizers.SGD, {"learning_rate": 0.05, "momentum": 0.9}),
    "sgd-nesterov": (
        optim.SGD,
        keras.optimizers.SGD,
        {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
    ),
    "adagrad": (
        optim.Adagrad,
        keras.optimizers.Adagrad,
        {"learning_rate": 0.1, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    ),
    "rmsprop": (
        optim.RMSprop,
        keras.optimizers.RMSprop,
        {"learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-7},
    ),
    "adam": (
        optim.Adam,
        keras.optimizers.Adam,
        {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    ),
}


def _mlp_task():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 3)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(3),
        ]
    )
    return model, [(x, y)]


def _embedding_task(vocabulary: int, repeated: bool):
    """Two alternating batches of 8 sequences of 5 token ids.

    Without ``repeated`` every id occurs at most once per batch (40 of 50 ids), so on
    TensorFlow the ``IndexedSlices`` gradient has no duplicate rows; rows unseen in a batch
    get a zero gradient while their optimizer state still moves.
    """
    rng = np.random.default_rng(1)
    batches = []
    for _ in range(2):
        if repeated:
            ids = rng.integers(0, vocabulary, size=(8, 5))
        else:
            ids = rng.permutation(vocabulary)[:40].reshape(8, 5)
        batches.append((ids.astype("int32"), rng.normal(size=(8, 1)).astype("float32")))
    model = keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(vocabulary, 8),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1),
        ]
    )
    return model, batches


TASKS = {
    "mlp": lambda: _mlp_task(),
    "embedding": lambda: _embedding_task(50, repeated=False),
    "embedding-repeated": lambda: _embedding_task(10, repeated=True),
}


def _trajectory(task, optimizer, steps=STEPS):
    keras.utils.set_random_seed(0)
    model, batches = TASKS[task]()
    model.compile(optimizer=optimizer, loss="mse")
    weights = [model.get_weights()]
    for step in range(steps):
        x, y = batches[step % len(batches)]
        model.train_on_batch(x, y)
        weights.append(model.get_weights())
    return weights


def _max_abs_difference(ours, theirs):
    return max(
        float(np.max(np.abs(a - b)))
        for step_a, step_b in zip(ours, theirs, strict=True)
        for a, b in zip(step_a, step_b, strict=True)
    )


def _assert_same_trajectory(ours, theirs, label):
    for a, b in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_array_equal(a, b, err_msg=f"{label}: initial weights differ")
    for step in range(1, len(ours)):
        moved = any(
            not np.array_equal(a, b) for a, b in zip(ours[step], ours[step - 1], strict=True)
        )
        assert moved, f"{label}: step {step} changed no weight"
        for i, (a, b) in enumerate(zip(ours[step], theirs[step], strict=True)):
            np.testing.assert_allclose(
                a, b, atol=ATOL, rtol=RTOL, err_msg=f"{label}: weight {i} after step {step}"
            )


@pytest.mark.parametrize("task", ["mlp", "embedding"])
@pytest.mark.parametrize("case", list(CASES))
def test_trajectory_equals_keras(case, task):
    ours_cls, keras_cls, kwargs = CASES[case]
    ours = _trajectory(task, ours_cls(**kwargs))
    theirs = _trajectory(task, keras_cls(**kwargs))
    print(
        f"{case} on {task}: max |ours - keras| over {STEPS} steps = "
        f"{_max_abs_difference(ours, theirs):.3g}"
    )
    _assert_same_trajectory(ours, theirs, f"{case} on {task}")


def _with_dense_gradients(keras_cls):
    """The Keras optimizer, fed the summed (dense) gradient of an Embedding on TensorFlow."""

    class Densified(keras_cls):
        def update_step(self, gradient, variable, learning_rate):
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                if isinstance(gradient, tf.IndexedSlices):
                    gradient = tf.convert_to_tensor(gradient)
            super().update_step(gradient, variable, learning_rate)

    return Densified


@pytest.mark.parametrize("case", list(CASES))
def test_repeated_tokens_follow_the_summed_gradient(case):
    """A token twice in a batch: the rule sees the sum of its two gradient rows.

    The reference is the Keras optimizer given the dense gradient (on JAX and PyTorch that
    is what it gets anyway). On TensorFlow the plain Keras Adagrad, RMSprop and Adam square
    the rows of the ``IndexedSlices`` one by one and so leave this trajectory; that is
    checked too, so the test says when a Keras release changes it.
    """
    ours_cls, keras_cls, kwargs = CASES[case]
    ours = _trajectory("embedding-repeated", ours_cls(**kwargs))
    reference = _trajectory("embedding-repeated", _with_dense_gradients(keras_cls)(**kwargs))
    _assert_same_trajectory(ours, reference, f"{case}, repeated tokens")
    if keras.backend.backend() == "tensorflow" and keras_cls is not keras.optimizers.SGD:
        plain = _trajectory("embedding-repeated", keras_cls(**kwargs), steps=1)
        gap = float(np.max(np.abs(plain[1][0] - ours[1][0])))
        print(f"{case}: keras on IndexedSlices differs from the summed-gradient rule by {gap:.3g}")
        assert gap > 1e-4, "Keras now sums duplicate rows: drop this part of the test"


def test_learning_rate_schedule_is_followed():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=5, decay_rate=0.5)
    ours = _trajectory("mlp", optim.SGD(schedule, momentum=0.9), steps=20)
    theirs = _trajectory("mlp", keras.optimizers.SGD(schedule, momentum=0.9), steps=20)
    _assert_same_trajectory(ours, theirs, "SGD with a schedule")
