"""MultiHeadAttention against keras.layers.MultiHeadAttention and a NumPy transcription."""

import keras
import numpy as np
import pytest

from nlpbook.layers import MultiHeadAttention, causal_mask, scaled_dot_product_attention
from nlpbook.testing import run_layer_test

RNG = np.random.default_rng(0)


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def pair(num_heads=3, key_dim=4, value_dim=None, d_q=8, d_v=6, use_bias=True, output_dim=None):
    """Our layer and Keras', built on the same shapes, with the same random weights."""
    kwargs = dict(num_heads=num_heads, key_dim=key_dim, value_dim=value_dim, use_bias=use_bias,
                  output_shape=output_dim)  # fmt: skip
    theirs = keras.layers.MultiHeadAttention(**kwargs)
    ours = MultiHeadAttention(num_heads, key_dim, value_dim, use_bias=use_bias,
                              output_dim=output_dim)  # fmt: skip
    q = RNG.normal(size=(2, 5, d_q)).astype("float32")
    v = RNG.normal(size=(2, 7, d_v)).astype("float32")
    # Keras 3.15's fused path (no scores returned) fails on JAX when value_dim != key_dim
    theirs(q, v, return_attention_scores=True)
    ours(q, v)
    weights = [RNG.normal(size=w.shape).astype("float32") * 0.5 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs, q, v


def attention_numpy(q, k, v, mask):
    """softmax(Q Kᵀ / √d) V per head; masked weights 0, fully masked rows all 0."""
    scores = np.einsum("bthd,bshd->bhts", q, k) / np.sqrt(q.shape[-1])
    m = np.broadcast_to(mask[:, None], scores.shape)
    scores = np.where(m, scores, -np.inf)
    top = np.max(np.where(m, scores, -1e300), axis=-1, keepdims=True)
    e = np.where(m, np.exp(scores - top), 0.0)
    total = e.sum(-1, keepdims=True)
    w = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return np.einsum("bhts,bshd->bthd", w, v), w


def mha_numpy(layer, q, v, mask):
    """The four projections and the attention, in NumPy, with the layer's weights."""
    w = [numpy(x) for x in layer.get_weights()]
    if layer.use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = w
    else:
        wq, wk, wv, wo = w
        bq = bk = bv = bo = 0.0
    heads, weights = attention_numpy(
        np.einsum("btd,dhk->bthk", q, wq) + bq,
        np.einsum("bsd,dhk->bshk", v, wk) + bk,
        np.einsum("bsd,dhk->bshk", v, wv) + bv,
        mask,
    )
    return np.einsum("bthv,hvo->bto", heads, wo) + bo, weights


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("value_dim,output_dim", [(None, None), (5, 11)])
def test_equals_keras_and_numpy_with_the_same_weights(use_bias, value_dim, output_dim):
    ours, theirs, q, v = pair(use_bias=use_bias, value_dim=value_dim, output_dim=output_dim)
    out, w = ours(q, v, return_attention_scores=True)
    ref, ref_w = mha_numpy(ours, q, v, np.ones((2, 5, 7), bool))
    np.testing.assert_allclose(numpy(out), ref, atol=1e-4)
    np.testing.assert_allclose(numpy(w), ref_w, atol=1e-6)
    ref, ref_w = theirs(q, v, return_attention_scores=True)
    np.testing.assert_allclose(numpy(out), numpy(ref), atol=1e-5)
    np.testing.assert_allclose(numpy(w), numpy(ref_w), atol=1e-6)


def test_masks_equal_keras():
    ours, theirs, q, v = pair()
    q_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]], bool)
    explicit = RNG.random((2, 5, 7)) > 0.3
    # Keras takes padding masks from its inputs' _keras_mask; an explicit mask is the same
    for mask_kwargs, attention_mask in [
        ({"value_mask": v_mask}, v_mask[:, None, :]),
        ({"query_mask": q_mask, "value_mask": v_mask}, q_mask[:, :, None] & v_mask[:, None, :]),
        ({"attention_mask": explicit}, explicit),
    ]:
        out, w = ours(q, v, return_attention_scores=True, **mask_kwargs)
        ref, ref_w = theirs(
            q, v, attention_mask=np.broadcast_to(attention_mask, (2, 5, 7)),
            return_attention_scores=True,
        )  # fmt: skip
        np.testing.assert_allclose(numpy(w), numpy(ref_w), atol=1e-6)
        np.testing.assert_allclose(numpy(out), numpy(ref), atol=1e-5)


def test_causal_self_attention_equals_keras():
    ours, theirs, q, _ = pair(d_q=8, d_v=8)
    out, w = ours(q, q, use_causal_mask=True, return_attention_scores=True)
    ref, ref_w = theirs(q, q, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(numpy(w), numpy(ref_w), atol=1e-6)
    np.testing.assert_allclose(numpy(out), numpy(ref), atol=1e-5)
    assert np.all(numpy(w)[:, :, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)


def test_scaled_dot_product_attention_equals_numpy():
    q = RNG.normal(size=(2, 4, 3, 5))
    k = RNG.normal(size=(2, 6, 3, 5))
    v = RNG.normal(size=(2, 6, 3, 2))
    mask = RNG.random((2, 4, 6)) > 0.4
    mask[0, 1] = False  # a query that may see nothing
    out, w = scaled_dot_product_attention(q.astype("float32"), k.astype("float32"),
                                          v.astype("float32"), mask)  # fmt: skip
    ref, ref_w = attention_numpy(q, k, v, mask)
    np.testing.assert_allclose(numpy(w), ref_w, atol=1e-6)
    np.testing.assert_allclose(numpy(out), ref, atol=1e-5)
    assert np.all(numpy(w)[0, :, 1] == 0) and np.all(numpy(out)[0, 1] == 0)


def test_causal_prefix_and_padding_invariance():
    ours, _, q, _ = pair(d_q=8, d_v=8)
    full = numpy(ours(q, q, use_causal_mask=True))
    prefix = numpy(ours(q[:, :3], q[:, :3], use_causal_mask=True))
    np.testing.assert_allclose(prefix, full[:, :3], atol=1e-5)  # the future changes nothing
    # changing a padded key never changes the outputs of the real positions
    v_mask = np.array([[1, 1, 1, 0, 0]] * 2, bool)
    noisy = q.copy()
    noisy[:, 3:] = RNG.normal(size=noisy[:, 3:].shape) * 100
    a = numpy(ours(q, q, value_mask=v_mask))
    b = numpy(ours(q, noisy, key=noisy, value_mask=v_mask))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_causal_mask_shape():
    m = keras.ops.convert_to_numpy(causal_mask(3, 5))
    assert m.tolist() == [[True, False, False, False, False],
                          [True, True, False, False, False],
                          [True, True, True, False, False]]  # fmt: skip


def test_layer_contract():
    x = RNG.normal(size=(2, 5, 8)).astype("float32")
    run_layer_test(
        MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4, "dropout": 0.1},
        (x, x),
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=8,
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="dropout"):
        MultiHeadAttention(2, 4, dropout=1.5)
    mha = MultiHeadAttention(2, 4)
    with pytest.raises(ValueError, match="batch, time, features"):
        mha(np.ones((2, 8), "float32"), np.ones((2, 8), "float32"))
