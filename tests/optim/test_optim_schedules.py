"""WarmupCosine equals Keras' CosineDecay with warm-up, step by step, and works in optimizers."""

import doctest
import math

import keras
import numpy as np
import pytest

from nlpbook import optim
from nlpbook.optim import schedules

CASES = {
    "warmup-and-final": {"peak": 3e-3, "warmup": 10, "decay": 40, "final": 3e-4},
    "no-warmup": {"peak": 0.1, "warmup": 0, "decay": 25, "final": 0.0},
    "one-step-each": {"peak": 1.0, "warmup": 1, "decay": 1, "final": 0.5},
    "final-equals-peak": {"peak": 0.01, "warmup": 5, "decay": 7, "final": 0.01},
}


def _ours(case):
    c = CASES[case]
    return optim.WarmupCosine(c["peak"], c["warmup"], c["decay"], final_learning_rate=c["final"])


def _keras(case):
    c = CASES[case]
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=c["decay"],
        warmup_target=c["peak"],
        warmup_steps=c["warmup"],
        alpha=c["final"] / c["peak"],
    )


def _formula(case, step):
    """The schedule as the docstring states it, in float64."""
    c = CASES[case]
    if step < c["warmup"]:
        return c["peak"] * step / c["warmup"]
    progress = min((step - c["warmup"]) / c["decay"], 1.0)
    return c["final"] + (c["peak"] - c["final"]) * (1 + math.cos(math.pi * progress)) / 2


def _rates(schedule, steps):
    return np.array([float(keras.ops.convert_to_numpy(schedule(s))) for s in steps])


@pytest.mark.parametrize("case", list(CASES))
def test_equals_keras_cosine_decay_at_every_step(case):
    c = CASES[case]
    steps = range(c["warmup"] + c["decay"] + 6)  # past the end, where the rate stays final
    ours, theirs = _rates(_ours(case), steps), _rates(_keras(case), steps)
    expected = np.array([_formula(case, s) for s in steps])
    # float32: 1 + cos(x) near x = pi cancels, so the absolute error is float32's eps * peak
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7 * c["peak"])
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7 * c["peak"])
    # the landmarks of the docstring
    assert ours[0] == 0.0 if c["warmup"] else ours[0] == pytest.approx(c["peak"])
    assert ours[c["warmup"]] == pytest.approx(c["peak"], rel=1e-6)
    assert np.all(ours[c["warmup"] + c["decay"] :] == pytest.approx(c["final"], rel=1e-6))


def test_shape_of_the_curve():
    rates = _rates(_ours("warmup-and-final"), range(60))
    assert np.all(np.diff(rates[:11]) > 0)  # rises during warm-up
    assert np.all(np.diff(rates[10:51]) < 0)  # then falls
    assert rates[30] == pytest.approx((3e-3 + 3e-4) / 2, rel=1e-6)  # half-way: the mean


def test_accepts_tensor_steps_and_the_optimizer_counter():
    schedule = _ours("warmup-and-final")
    counter = keras.Variable(7, dtype="int64", trainable=False)
    expected = _formula("warmup-and-final", 7)
    assert float(keras.ops.convert_to_numpy(schedule(counter))) == pytest.approx(expected)
    assert float(keras.ops.convert_to_numpy(schedule(np.int32(7)))) == pytest.approx(expected)


def test_config_round_trip():
    schedule = optim.WarmupCosine(0.01, 3, 20, final_learning_rate=1e-4, name="lr")
    config = schedule.get_config()
    assert config == {
        "peak_learning_rate": 0.01,
        "warmup_steps": 3,
        "decay_steps": 20,
        "final_learning_rate": 1e-4,
        "name": "lr",
    }
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(again) is optim.WarmupCosine
    assert again.get_config() == config


def test_drives_an_optimizer():
    """With gradient 1, SGD's update t moves the weight by exactly rate(t)."""
    schedule = _ours("warmup-and-final")
    optimizer = optim.SGD(learning_rate=schedule)
    w = keras.Variable([0.0], dtype="float64")
    for _ in range(15):
        optimizer.apply([keras.ops.ones((1,), dtype="float64")], [w])
    expected = -sum(_formula("warmup-and-final", t) for t in range(15))
    assert float(keras.ops.convert_to_numpy(w)[0]) == pytest.approx(expected, rel=1e-6)


def test_saves_with_the_model(tmp_path):
    schedule = _ours("warmup-and-final")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    for _ in range(15):
        model.train_on_batch(x, y)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    restored = loaded.optimizer.get_config()["learning_rate"]
    assert restored["class_name"] == "WarmupCosine"
    assert restored["config"] == schedule.get_config()
    # the restored optimizer carries on at step 15 of the same schedule
    assert float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(
        _formula("warmup-and-final", 15), rel=1e-6
    )


BAD = [
    ({"peak_learning_rate": 0.0}, "peak_learning_rate=0.0"),
    ({"peak_learning_rate": -1e-3}, "peak_learning_rate=-0.001"),
    ({"peak_learning_rate": "1e-3"}, "peak_learning_rate='1e-3'"),
    ({"warmup_steps": -1}, "warmup_steps=-1"),
    ({"warmup_steps": 2.5}, "warmup_steps=2.5"),
    ({"warmup_steps": True}, "warmup_steps=True"),
    ({"decay_steps": 0}, "decay_steps=0"),
    ({"final_learning_rate": -1e-5}, "final_learning_rate=-1e-05"),
    ({"final_learning_rate": 0.5}, "final_learning_rate=0.5, peak_learning_rate=0.1"),
]


@pytest.mark.parametrize(("kwargs", "received"), BAD, ids=[b[1] for b in BAD])
def test_bad_arguments_are_named(kwargs, received):
    arguments = {"peak_learning_rate": 0.1, "warmup_steps": 2, "decay_steps": 10, **kwargs}
    with pytest.raises(ValueError, match=f"Received: {received}") as info:
        optim.WarmupCosine(**arguments)
    assert str(info.value).startswith(next(iter(kwargs)))


def test_docstring_example():
    result = doctest.testmod(schedules, extraglobs={"keras": keras})
    assert result.attempted > 0
    assert result.failed == 0


def _linear_formula(case, step):
    c = CASES[case]
    if step < c["warmup"]:
        return c["peak"] * step / c["warmup"]
    progress = min((step - c["warmup"]) / c["decay"], 1.0)
    return c["peak"] + (c["final"] - c["peak"]) * progress


@pytest.mark.parametrize("case", list(CASES))
def test_warmup_linear_equals_keras_polynomial_decay_after_the_warmup(case):
    c = CASES[case]
    ours = optim.WarmupLinear(c["peak"], c["warmup"], c["decay"], final_learning_rate=c["final"])
    theirs = keras.optimizers.schedules.PolynomialDecay(
        c["peak"], c["decay"], end_learning_rate=c["final"], power=1.0
    )
    steps = range(c["warmup"] + c["decay"] + 6)
    rates = _rates(ours, steps)
    expected = np.array([_linear_formula(case, s) for s in steps])
    np.testing.assert_allclose(rates, expected, rtol=1e-6, atol=1e-9)
    after = range(c["warmup"], c["warmup"] + c["decay"] + 6)
    np.testing.assert_allclose(
        rates[c["warmup"] :], _rates(theirs, [s - c["warmup"] for s in after]), rtol=1e-6
    )
    assert rates[c["warmup"]] == pytest.approx(c["peak"], rel=1e-6)


@pytest.mark.parametrize(("kwargs", "received"), BAD, ids=[b[1] for b in BAD])
def test_warmup_linear_bad_arguments_are_named(kwargs, received):
    arguments = {"peak_learning_rate": 0.1, "warmup_steps": 2, "decay_steps": 10, **kwargs}
    with pytest.raises(ValueError, match=f"Received: {received}"):
        optim.WarmupLinear(**arguments)


def test_warmup_linear_saves_with_the_model(tmp_path):
    schedule = optim.WarmupLinear(1e-2, 3, 10, final_learning_rate=1e-3, name="lin")
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(again) is optim.WarmupLinear and again.get_config() == schedule.get_config()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    for _ in range(5):
        model.train_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert float(keras.ops.convert_to_numpy(loaded.optimizer.learning_rate)) == pytest.approx(
        1e-2 + (1e-3 - 1e-2) * 2 / 10, rel=1e-6
    )
