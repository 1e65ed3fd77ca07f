"""Config round trip, .keras save/load with the optimizer state, argument checks, docstrings."""

import doctest
import importlib

import keras
import numpy as np
import pytest

from nlpbook import optim

CASES = {
    "sgd-nesterov": (optim.SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adagrad": (optim.Adagrad, {"learning_rate": 0.1, "initial_accumulator_value": 0.2}),
    "rmsprop": (optim.RMSprop, {"learning_rate": 0.01, "rho": 0.8, "epsilon": 1e-6}),
    "adam": (optim.Adam, {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99}),
}
SLOTS = {"sgd-nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}


@pytest.mark.parametrize("case", list(CASES))
def test_config_round_trip(case):
    cls, kwargs = CASES[case]
    optimizer = cls(**kwargs)
    config = optimizer.get_config()
    for name, value in kwargs.items():
        assert config[name] == pytest.approx(value), name
    assert cls.from_config(config).get_config() == config
    again = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(again) is cls
    assert again.get_config() == config


def _model():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5, activation="relu"), keras.layers.Dense(1)]
    )


@pytest.mark.parametrize("case", list(CASES))
def test_keras_save_load_restores_optimizer_state(case, tmp_path):
    cls, kwargs = CASES[case]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model = _model()
    model.compile(optimizer=cls(**kwargs), loss="mse")
    for _ in range(3):
        model.train_on_batch(x, y)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)

    assert type(loaded.optimizer) is cls
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)) == 3
    saved = model.optimizer.variables
    restored = loaded.optimizer.variables
    # iterations, learning rate, then the slots of the model's 4 weights
    assert len(saved) == len(restored) == 2 + SLOTS[case] * 4
    for a, b in zip(saved, restored, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path
        )
    # The restored state is the one in use: the next step is the same in both models.
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7, rtol=1e-6)


BAD = [
    (optim.SGD, {"learning_rate": -0.1}, "learning_rate=-0.1"),
    (optim.Adam, {"learning_rate": float("nan")}, "learning_rate=nan"),
    (optim.SGD, {"momentum": 1.5}, "momentum=1.5"),
    (optim.SGD, {"momentum": 1.0}, "momentum=1.0"),
    (optim.SGD, {"momentum": -0.1}, "momentum=-0.1"),
    (optim.SGD, {"momentum": "0.9"}, "momentum='0.9'"),
    (optim.SGD, {"nesterov": "yes"}, "nesterov='yes'"),
    (optim.Adagrad, {"epsilon": 0.0}, "epsilon=0.0"),
    (optim.Adagrad, {"initial_accumulator_value": -1.0}, "initial_accumulator_value=-1.0"),
    (optim.RMSprop, {"rho": 1.0}, "rho=1.0"),
    (optim.RMSprop, {"epsilon": -1e-7}, "epsilon=-1e-07"),
    (optim.Adam, {"beta_1": 1.0}, "beta_1=1.0"),
    (optim.Adam, {"beta_1": -0.5}, "beta_1=-0.5"),
    (optim.Adam, {"beta_2": 1.5}, "beta_2=1.5"),
    (optim.Adam, {"epsilon": 0}, "epsilon=0"),
]


@pytest.mark.parametrize(("cls", "kwargs", "received"), BAD, ids=[b[2] for b in BAD])
def test_bad_hyperparameters_are_named(cls, kwargs, received):
    with pytest.raises(ValueError, match=f"Received: {received}") as info:
        cls(**kwargs)
    assert str(info.value).startswith(next(iter(kwargs)))


def test_integer_learning_rate_is_accepted():
    assert optim.Adam(learning_rate=1).get_config()["learning_rate"] == 1.0


@pytest.mark.parametrize("name", ["sgd", "adagrad", "rmsprop", "adam"])
def test_docstring_examples(name):
    module = importlib.import_module(f"nlpbook.optim.{name}")
    result = doctest.testmod(module, extraglobs={"keras": keras})
    assert result.attempted > 0
    assert result.failed == 0
