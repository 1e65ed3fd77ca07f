"""The layer-test helper passes correct layers and catches each kind of broken one."""

import keras
import numpy as np
import pytest

from nlpbook.testing import run_layer_test

X = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")


def test_passes_on_keras_dense():
    run_layer_test(
        keras.layers.Dense,
        {"units": 5, "activation": "tanh"},
        X,
        expected_output_shape=(4, 5),
        expected_num_trainable_weights=2,
        expected_num_non_trainable_weights=0,
    )


def test_passes_on_a_two_input_layer_and_int_inputs():
    seq = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    run_layer_test(
        keras.layers.MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3},
        (seq, seq[:, :3]),  # query and value of different lengths, passed positionally
        expected_output_shape=(2, 5, 4),
        expected_num_trainable_weights=8,
    )
    ids = np.array([[1, 2, 0], [3, 0, 0]], dtype="int32")
    run_layer_test(
        keras.layers.Embedding,
        {"input_dim": 4, "output_dim": 2},
        ids,
        expected_output_shape=(2, 3, 2),
    )


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class ForgetsArgument(keras.layers.Dense):
    def __init__(self, units, scale=1.0, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = scale  # never put in get_config


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class CountsCalls(keras.layers.Layer):
    """Python state that changes per call: eager and symbolic calls cannot agree."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x * self.calls


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class NaNAfterUpdate(keras.layers.Dense):
    """sqrt(kernel - 1) at kernel = 1 has an infinite gradient: one step ruins the weights."""

    def call(self, x):
        return keras.ops.matmul(x, keras.ops.sqrt(self.kernel - 1.0)) + 1.0


class NotRegistered(keras.layers.Dense):
    pass


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class Float32Only(keras.layers.Dense):
    def call(self, x):
        return keras.ops.cast(super().call(x), "float32")


@keras.saving.register_keras_serializable(package="nlpbook_tests")
class NoGradient(keras.layers.Dense):
    def call(self, x):
        return keras.ops.stop_gradient(super().call(x))


@pytest.mark.parametrize(
    "layer_cls, kwargs, match",
    [
        (ForgetsArgument, {"units": 2, "scale": 3.0}, "lacks argument 'scale'"),
        (CountsCalls, {}, "symbolic vs eager"),
        (NotRegistered, {"units": 2}, "NotRegistered|not.*serializ|Could not locate"),
        (Float32Only, {"units": 2}, "not bfloat16"),
        (NoGradient, {"units": 2}, "changed no trainable weight|fit step failed"),
    ],
)
def test_catches_broken_layers(layer_cls, kwargs, match):
    with pytest.raises((AssertionError, TypeError, ValueError), match=match):
        run_layer_test(layer_cls, kwargs, X)


def test_catches_nan_after_a_fit_step():
    with pytest.raises(AssertionError, match="not finite|non-finite"):
        run_layer_test(
            NaNAfterUpdate,
            {"units": 2, "kernel_initializer": keras.initializers.Constant(1.0)},
            np.abs(X) * 100,
            run_mixed_precision=False,
        )


def test_wrong_shape_and_weight_counts_are_reported():
    with pytest.raises(AssertionError, match="output shape"):
        run_layer_test(keras.layers.Dense, {"units": 5}, X, expected_output_shape=(4, 6))
    with pytest.raises(AssertionError, match="trainable weights"):
        run_layer_test(keras.layers.Dense, {"units": 5}, X, expected_num_trainable_weights=3)
    with pytest.raises(TypeError, match="keras Layer class"):
        run_layer_test(int, {}, X)


def test_a_layer_whose_from_config_consumes_its_config():
    # keras.layers.RNN.from_config pops "cell" from the dict it is given
    run_layer_test(
        keras.layers.RNN,
        {"cell": keras.layers.LSTMCell(3), "return_sequences": True},
        np.ones((2, 4, 5), "float32"),
        expected_output_shape=(2, 4, 3),
    )


def test_argmax_margin_is_the_gap_between_the_two_largest():
    from nlpbook.testing import argmax_margin

    logits = np.array([[1.0, 3.0, 2.5], [0.0, 0.0, -1.0], [-np.inf, 2.0, -1.0]], "float32")
    np.testing.assert_allclose(argmax_margin(logits), [0.5, 0.0, 3.0])
    assert argmax_margin(logits[:, None, :]).shape == (3, 1)
    np.testing.assert_allclose(argmax_margin(logits, relative=True), [0.5 / 3, 0.0, 1.5])
    np.testing.assert_allclose(argmax_margin(np.zeros((1, 3)), relative=True), [0.0])
    with pytest.raises(ValueError, match="two values"):
        argmax_margin(np.ones((2, 1)))


def test_jittered_step_moves_logits_by_at_most_its_scale():
    from nlpbook.testing import jittered

    base = np.arange(12, dtype="float32").reshape(3, 4)
    step = jittered(lambda tokens, state: (base, state + 1), scale=1e-3, seed=1)
    logits, state = step(None, 0)
    assert state == 1
    change = logits - base
    # within the scale (plus float32's rounding of values up to 11), spread over both signs
    assert np.abs(change).max() <= 1e-3 + 1e-6
    assert change.min() < 0 < change.max()
    assert not np.array_equal(step(None, 0)[0], logits)  # fresh noise at every call
    with pytest.raises(ValueError, match="scale"):
        jittered(lambda t, s: (base, s), scale=0)


def test_docstring_examples():
    import doctest

    import nlpbook.testing

    assert doctest.testmod(nlpbook.testing, extraglobs={"np": np, "keras": keras}).failed == 0
