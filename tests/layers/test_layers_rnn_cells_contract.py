"""Each cell's step against a NumPy transcription of its equations; the layer contract; errors."""

import copy

import keras
import numpy as np
import pytest
from keras import ops

from nlpbook.layers import GRUCell, LSTMCell, SimpleRNNCell
from nlpbook.testing import run_layer_test


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# The equations of the docstrings, written out once more in NumPy (float64), one gate at a time
# from the weight blocks: a transcription independent of the cells' fused matmul-and-split.
def numpy_simple_step(x, h, kernel, recurrent_kernel, bias):
    return np.tanh(x @ kernel + h @ recurrent_kernel + bias)


def numpy_lstm_step(x, h, c, kernel, recurrent_kernel, bias):
    n = h.shape[-1]

    def block(k):  # the k-th gate's pre-activation
        cols = slice(k * n, (k + 1) * n)
        return x @ kernel[:, cols] + h @ recurrent_kernel[:, cols] + bias[cols]

    i, f, g, o = sigmoid(block(0)), sigmoid(block(1)), np.tanh(block(2)), sigmoid(block(3))
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def numpy_gru_step(x, h, kernel, recurrent_kernel, bias, reset_after):
    n = h.shape[-1]
    W = [kernel[:, k * n : (k + 1) * n] for k in range(3)]  # z, r, h
    U = [recurrent_kernel[:, k * n : (k + 1) * n] for k in range(3)]
    if reset_after:
        bx = [bias[0, k * n : (k + 1) * n] for k in range(3)]
        bh = [bias[1, k * n : (k + 1) * n] for k in range(3)]
        z = sigmoid(x @ W[0] + bx[0] + h @ U[0] + bh[0])
        r = sigmoid(x @ W[1] + bx[1] + h @ U[1] + bh[1])
        candidate = np.tanh(x @ W[2] + bx[2] + r * (h @ U[2] + bh[2]))
    else:
        b = [bias[k * n : (k + 1) * n] for k in range(3)]
        z = sigmoid(x @ W[0] + h @ U[0] + b[0])
        r = sigmoid(x @ W[1] + h @ U[1] + b[1])
        candidate = np.tanh(x @ W[2] + (r * h) @ U[2] + b[2])
    return z * h + (1 - z) * candidate


def _random_weights(cell, rng):
    weights = [rng.normal(scale=0.6, size=tuple(w.shape)) for w in cell.weights]
    cell.set_weights([w.astype("float32") for w in weights])
    return weights


def _np(x):
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_simple_rnn_step_is_the_equation(rng):
    cell = SimpleRNNCell(5)
    x, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    cell.build((None, 4))
    weights = _random_weights(cell, rng)
    out, states = cell(x.astype("float32"), [h.astype("float32")])
    want = numpy_simple_step(x, h, *weights)
    np.testing.assert_allclose(_np(out), want, atol=1e-6)
    np.testing.assert_allclose(_np(states[0]), want, atol=1e-6)
    # a bare state tensor in, a bare state tensor out (as Keras' cells do)
    _, bare = cell(x.astype("float32"), h.astype("float32"))
    np.testing.assert_allclose(_np(bare), want, atol=1e-6)


def test_lstm_step_is_the_equation(rng):
    cell = LSTMCell(5)
    x, h, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    cell.build((None, 4))
    weights = _random_weights(cell, rng)
    out, (h_new, c_new) = cell(x.astype("float32"), [h.astype("float32"), c.astype("float32")])
    want_h, want_c = numpy_lstm_step(x, h, c, *weights)
    np.testing.assert_allclose(_np(out), want_h, atol=1e-6)
    np.testing.assert_allclose(_np(h_new), want_h, atol=1e-6)
    np.testing.assert_allclose(_np(c_new), want_c, atol=1e-6)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_step_is_the_equation(rng, reset_after):
    cell = GRUCell(5, reset_after=reset_after)
    x, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    cell.build((None, 4))
    weights = _random_weights(cell, rng)
    out, states = cell(x.astype("float32"), [h.astype("float32")])
    want = numpy_gru_step(x, h, *weights, reset_after=reset_after)
    np.testing.assert_allclose(_np(out), want, atol=1e-6)
    np.testing.assert_allclose(_np(states[0]), want, atol=1e-6)


def test_the_two_gru_conventions_differ(rng):
    """Same weights, reset gate before vs after U_h: a different model, not a rewrite."""
    x, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    weights = [rng.normal(size=(4, 15)), rng.normal(size=(5, 15)), rng.normal(size=(15,))]
    before = numpy_gru_step(x, h, *weights, reset_after=False)
    both_biases = np.stack([weights[2], np.zeros(15)])
    after = numpy_gru_step(x, h, *weights[:2], both_biases, reset_after=True)
    assert np.abs(before - after).max() > 1e-2


def test_lstm_sequence_is_the_step_repeated(rng):
    layer = keras.layers.RNN(LSTMCell(3), return_state=True)
    x = rng.normal(size=(2, 6, 4))
    layer(x.astype("float32"))
    weights = _random_weights(layer, rng)
    h = c = np.zeros((2, 3))
    for t in range(6):
        h, c = numpy_lstm_step(x[:, t], h, c, *weights)
    out, h_last, c_last = layer(x.astype("float32"))
    np.testing.assert_allclose(_np(out), h, atol=1e-5)
    np.testing.assert_allclose(_np(c_last), c, atol=1e-5)


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class CellRNN(keras.layers.RNN):
    """``keras.layers.RNN`` for ``run_layer_test``, with two changes to ``from_config``.

    Keras' ``RNN.from_config`` pops ``"cell"`` from the dict it is given, so the generic
    config round trip (which compares against that dict afterwards) would see it vanish; and
    the cell keeps its own dtype policy, so ``dtype="mixed_bfloat16"`` on the RNN alone would
    leave the cell computing in float32. Here the config is copied and the RNN's policy is
    handed to the cell.
    """

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        cell_config = config.pop("cell")
        if "dtype" in config:
            cell_config["config"]["dtype"] = config["dtype"]
        cell = keras.saving.deserialize_keras_object(cell_config, custom_objects=custom_objects)
        return cls(cell, **config)


CELLS = {
    "simple": (SimpleRNNCell, {"units": 4}, 3),
    "lstm": (LSTMCell, {"units": 4, "unit_forget_bias": False}, 3),
    "gru": (GRUCell, {"units": 4}, 3),
    "gru-cho2014": (GRUCell, {"units": 4, "reset_after": False, "activation": "relu"}, 3),
}


@pytest.mark.parametrize("name", sorted(CELLS))
def test_layer_contract_inside_rnn(name):
    cell_cls, kwargs, n_weights = CELLS[name]
    x = np.random.default_rng(1).normal(size=(2, 5, 3)).astype("float32")
    run_layer_test(
        CellRNN,
        {"cell": cell_cls(**kwargs), "return_sequences": True},
        x,
        expected_output_shape=(2, 5, 4),
        expected_num_trainable_weights=n_weights,
        expected_num_non_trainable_weights=0,
    )
    # the cell's own config round trip keeps every argument
    cell = cell_cls(**kwargs)
    config = cell.get_config()
    assert {k: config[k] for k in kwargs} == kwargs
    assert cell_cls.from_config(config).get_config() == config


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_computes_in_bfloat16_under_mixed_precision(name):
    cell_cls, kwargs, _ = CELLS[name]
    rng = np.random.default_rng(2)
    x, h = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 4)).astype("float32")
    states = [h, h] if cell_cls is LSTMCell else [h]
    full, mixed = cell_cls(**kwargs), cell_cls(**kwargs, dtype="mixed_bfloat16")
    full(x, states), mixed(x, states)
    mixed.set_weights(full.get_weights())
    out, new_states = mixed(x, states)
    for tensor in (out, *new_states):
        assert keras.backend.standardize_dtype(tensor.dtype) == "bfloat16"
    assert all(w.dtype == "float32" for w in mixed.weights)
    want = _np(full(x, states)[0])
    np.testing.assert_allclose(_np(ops.cast(out, "float32")), want, atol=5e-2)


@pytest.mark.parametrize(
    "cell_cls, kwargs, message",
    [
        (SimpleRNNCell, {"units": 0}, "units must be a positive int. Received: units=0"),
        (LSTMCell, {"units": 2.5}, "Received: units=2.5"),
        (GRUCell, {"units": True}, "Received: units=True"),
        (SimpleRNNCell, {"units": 3, "activation": "nope"}, "activation=.nope."),
        (LSTMCell, {"units": 3, "recurrent_activation": None}, "recurrent_activation must be"),
        (GRUCell, {"units": 3, "reset_after": "yes"}, "reset_after must be True or False"),
        (LSTMCell, {"units": 3, "unit_forget_bias": 1}, "unit_forget_bias must be True or"),
        (SimpleRNNCell, {"units": 3, "use_bias": None}, "use_bias must be True or False"),
    ],
)
def test_bad_arguments_are_named(cell_cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cell_cls(**kwargs)


def test_bad_calls_are_explained():
    x = np.zeros((2, 4), "float32")
    with pytest.raises(ValueError, match=r"one time step.*\(batch, features\).*keras.layers.RNN"):
        LSTMCell(3)(np.zeros((2, 5, 4), "float32"), [np.zeros((2, 3), "float32")] * 2)
    with pytest.raises(ValueError, match="LSTMCell has 2 state tensor"):
        LSTMCell(3)(x, [np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match="needs a known feature size"):
        keras.layers.RNN(GRUCell(3))(keras.Input((5, None)))
