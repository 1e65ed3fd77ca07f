"""Our cells inside ``keras.layers.RNN`` against Keras' SimpleRNN, LSTM and GRU layers.

The same weights are copied into both; outputs, final states and gradients (with respect to
the inputs and every weight) must agree to float32 round-off, with masks of different lengths,
initial states, both directions, stacking and ``Bidirectional``.
"""

import keras
import numpy as np
import pytest
from keras import ops

BATCH, TIME, FEATURES = 5, 9, 4
LENGTHS = [9, 7, 1, 4, 9]  # right-padded sequences of different lengths
ATOL = 2e-6


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, TIME, FEATURES)).astype("float32")
    mask = np.arange(TIME)[None, :] < np.array(LENGTHS)[:, None]  # (batch, time)
    return rng, x, mask


def _numpy(outputs):
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(ops.convert_to_numpy(o)) for o in outputs]


def _randomize(reference, ours, rng):
    """Random weights (not the initial ones, whose zero biases would hide a bias mix-up)."""
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in reference.weights]
    reference.set_weights(weights)
    ours.set_weights(weights)


def _assert_same(ours, reference, what):
    assert len(ours) == len(reference), what
    for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
        assert a.shape == b.shape, f"{what}: output {i} shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=0, err_msg=f"{what}: output {i}")


def test_weights_have_keras_layout(case):
    name, make_ours, make_reference = case
    ours, reference = make_ours(), make_reference()
    x = np.zeros((1, 2, FEATURES), "float32")
    ours(x), reference(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in reference.weights]
    assert [w.name for w in ours.weights] == [w.name for w in reference.weights]
    if name == "lstm":  # unit_forget_bias: the forget block [i | f | g | o] starts at 1
        np.testing.assert_array_equal(ours.get_weights()[2], reference.get_weights()[2])
        assert ours.get_weights()[2].sum() == ours.cell.units


@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_sequences_and_states(case, data, go_backwards):
    _, make_ours, make_reference = case
    rng, x, mask = data
    kwargs = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    ours, reference = make_ours(**kwargs), make_reference(**kwargs)
    ours(x), reference(x)
    _randomize(reference, ours, rng)
    got, want = _numpy(ours(x, mask=mask)), _numpy(reference(x, mask=mask))
    _assert_same(got, want, "masked return_sequences/return_state")
    if not go_backwards:
        # past its end a sequence's output repeats its last valid step: the state was carried
        short = LENGTHS.index(4)
        np.testing.assert_allclose(got[0][short, 4:], np.repeat(got[0][short, 3:4], 5, axis=0))
        np.testing.assert_allclose(got[1][short], got[0][short, 3], atol=ATOL)


def test_initial_state_and_last_output_only(case, data):
    _, make_ours, make_reference = case
    rng, x, mask = data
    ours, reference = make_ours(return_state=True), make_reference(return_state=True)
    ours(x), reference(x)
    _randomize(reference, ours, rng)
    start = [rng.normal(size=(BATCH, size)).astype("float32") for size in ours.state_size]
    got = _numpy(ours(x, mask=mask, initial_state=start))
    want = _numpy(reference(x, mask=mask, initial_state=start))
    _assert_same(got, want, "initial_state")
    assert got[0].shape == (BATCH, ours.cell.units)
    # a zero initial state is the default one
    zero = [np.zeros_like(s) for s in start]
    _assert_same(_numpy(ours(x, initial_state=zero)), _numpy(ours(x)), "zero initial state")


def test_bidirectional_and_stacked(case, data):
    _, make_ours, make_reference = case
    rng, x, mask = data

    def model(make):
        inputs = keras.Input((TIME, FEATURES))
        h = keras.layers.Masking(0.0)(inputs)
        h = keras.layers.Bidirectional(make(return_sequences=True))(h)
        h = make(return_sequences=True)(h)
        return keras.Model(inputs, make()(h))

    ours, reference = model(make_ours), model(make_reference)
    _randomize(reference, ours, rng)
    padded = np.where(mask[..., None], x, 0.0).astype("float32")
    _assert_same(_numpy(ours(padded)), _numpy(reference(padded)), "Bidirectional + 2 stacked")


def _gradients(model, x, probe):
    """d(sum(model(x) * probe)) / d(x, each trainable weight), on the current backend."""
    backend = keras.backend.backend()
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss(x, trainable):
        out, _ = model.stateless_call(trainable, non_trainable, x)
        return ops.sum(out * ops.convert_to_tensor(probe))

    trainable = [ops.convert_to_tensor(v.value) for v in model.trainable_variables]
    x = ops.convert_to_tensor(x)
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch([x, *trainable])
            value = loss(x, trainable)
        grads = tape.gradient(value, [x, *trainable])
    elif backend == "jax":
        import jax

        grads = jax.grad(lambda args: loss(args[0], args[1:]))([x, *trainable])
    elif backend == "torch":
        import torch

        leaves = [t.detach().requires_grad_(True) for t in (x, *trainable)]
        grads = torch.autograd.grad(loss(leaves[0], leaves[1:]), leaves)
    else:
        pytest.skip(f"no autodiff helper for backend {backend}")
    return [np.asarray(ops.convert_to_numpy(g)) for g in grads]


def test_gradients_agree(case, data):
    _, make_ours, make_reference = case
    rng, x, mask = data

    def model(make):
        inputs = keras.Input((TIME, FEATURES))
        h = keras.layers.Masking(0.0)(inputs)
        return keras.Model(inputs, make(return_sequences=True)(h))

    ours, reference = model(make_ours), model(make_reference)
    _randomize(reference, ours, rng)
    padded = np.where(mask[..., None], x, 0.0).astype("float32")
    probe = rng.normal(size=(BATCH, TIME, ours.output_shape[-1])).astype("float32")
    got, want = _gradients(ours, padded, probe), _gradients(reference, padded, probe)
    names = ["inputs"] + [w.path for w in reference.trainable_variables]
    for name, a, b in zip(names, got, want, strict=True):
        assert np.abs(b).max() > 0, f"the reference gradient w.r.t. {name} is zero"
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5, err_msg=f"d loss / d {name}")
    # inputs past a sequence's end get no gradient
    assert np.all(got[0][~mask] == 0)
