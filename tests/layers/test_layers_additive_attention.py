"""AdditiveAttention against a NumPy transcription of Bahdanau's equations."""

import keras
import numpy as np
import pytest

from nlpbook.layers import AdditiveAttention
from nlpbook.testing import run_layer_test

RNG = np.random.default_rng(0)
B, T, S, DQ, DK, UNITS = 2, 3, 5, 4, 6, 7


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def bahdanau_numpy(layer, query, keys, mask):
    """e_tj = vᵀ tanh(W_q s_t + W_k h_j + b), α = softmax over real j, c_t = Σ_j α_tj h_j."""
    w = {v.path.split("/")[-1]: numpy(v) for v in layer.weights}
    b = w.get("bias", 0.0)
    scores = np.empty((len(query), query.shape[1], keys.shape[1]))
    for n in range(len(query)):
        for t in range(query.shape[1]):
            for j in range(keys.shape[1]):
                hidden = query[n, t] @ w["query_kernel"] + keys[n, j] @ w["key_kernel"] + b
                scores[n, t, j] = w["score_vector"] @ np.tanh(hidden)
    alpha = np.zeros_like(scores)
    for n in range(len(query)):
        real = mask[n]
        if real.any():
            e = np.exp(scores[n][:, real] - scores[n][:, real].max(-1, keepdims=True))
            alpha[n][:, real] = e / e.sum(-1, keepdims=True)
    return alpha @ keys, alpha


def random_layer(use_bias=True):
    """A built layer whose weights are all random (the bias too, so no term hides as 0)."""
    layer = AdditiveAttention(UNITS, use_bias=use_bias)
    layer(np.zeros((1, 1, DQ), "float32"), np.zeros((1, 2, DK), "float32"))
    layer.set_weights([RNG.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer


def inputs():
    query = RNG.normal(size=(B, T, DQ)).astype("float32")
    keys = RNG.normal(size=(B, S, DK)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    return query, keys, mask


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("masked", [True, False])
def test_matches_numpy_transcription(use_bias, masked):
    layer = random_layer(use_bias)
    query, keys, mask = inputs()
    if not masked:
        mask = np.ones_like(mask)
    context, weights = layer(query, keys, mask=mask if masked else None)
    expected_context, expected_weights = bahdanau_numpy(layer, query, keys, mask)
    np.testing.assert_allclose(numpy(weights), expected_weights, atol=1e-5)
    np.testing.assert_allclose(numpy(context), expected_context, atol=1e-5)
    assert len(layer.trainable_weights) == (4 if use_bias else 3)


def test_single_step_query_equals_one_row_of_a_sequence():
    layer = random_layer()
    query, keys, mask = inputs()
    context, weights = layer(query[:, 1], keys, mask=mask)  # (B, dq): one decoder step
    assert tuple(context.shape) == (B, DK) and tuple(weights.shape) == (B, S)
    all_context, all_weights = layer(query, keys, mask=mask)
    np.testing.assert_allclose(numpy(weights), numpy(all_weights)[:, 1], atol=1e-6)
    np.testing.assert_allclose(numpy(context), numpy(all_context)[:, 1], atol=1e-6)


def test_padding_gets_zero_weight_and_changes_nothing():
    layer = random_layer()
    query, keys, mask = inputs()
    context, weights = layer(query, keys, mask=mask)
    w = numpy(weights)
    assert np.all(w[0, :, 3:] == 0.0)  # exactly 0, not merely small
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    # more padding, filled with large garbage keys: the real positions see no difference
    garbage = RNG.normal(size=(B, 4, DK)).astype("float32") * 100
    longer_keys = np.concatenate([keys, garbage], axis=1)
    longer_mask = np.concatenate([mask, np.zeros((B, 4), bool)], axis=1)
    longer_context, longer_weights = layer(query, longer_keys, mask=longer_mask)
    np.testing.assert_allclose(numpy(longer_context), numpy(context), atol=1e-6)
    np.testing.assert_allclose(numpy(longer_weights)[:, :, :S], w, atol=1e-6)
    assert np.all(numpy(longer_weights)[:, :, S:] == 0.0)


def test_a_fully_padded_source_gives_zero_weights_and_context():
    layer = random_layer()
    query, keys, _ = inputs()
    context, weights = layer(query, keys, mask=np.zeros((B, S), bool))
    assert np.all(numpy(weights) == 0.0) and np.all(numpy(context) == 0.0)


def test_generic_layer_contract():
    query, keys, mask = inputs()
    run_layer_test(
        AdditiveAttention,
        {"units": UNITS, "use_bias": False},
        (query, keys, mask),
        expected_output_shape=[(B, T, DK), (B, T, S)],
        expected_num_trainable_weights=3,
    )


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="units"):
        AdditiveAttention(0)
    with pytest.raises(ValueError, match="use_bias"):
        AdditiveAttention(4, use_bias="yes")
    layer = random_layer()
    query, keys, mask = inputs()
    with pytest.raises(ValueError, match="keys must be"):
        layer(query, keys[:, 0], mask=mask)
    with pytest.raises(ValueError, match="query must be"):
        layer(query[None], keys, mask=mask)
    with pytest.raises(ValueError, match="mask must be"):
        layer(query, keys, mask=mask[:, :3])
    with pytest.raises(ValueError, match="same batch size"):
        layer(query[:1], keys, mask=mask)
    with pytest.raises(ValueError, match="built for queries of size"):
        layer(query[..., :2], keys, mask=mask)
