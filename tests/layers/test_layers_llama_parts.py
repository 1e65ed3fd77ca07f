"""Llama's parts against Keras built-ins and NumPy transcriptions of their equations.

RMSNorm, the gated (SwiGLU) feed-forward network, grouped-query attention with rotary
positions, and the preallocated key/value cache (``update_cache``, ``cache_attention_mask``)
that MultiHeadAttention, GroupedQueryAttention and TransformerDecoderBlock decode with.
"""

import math

import keras
import numpy as np
import pytest

from nlpbook.layers import (
    GatedFeedForward,
    GroupedQueryAttention,
    MultiHeadAttention,
    RMSNorm,
    TransformerDecoderBlock,
    cache_attention_mask,
    update_cache,
)
from nlpbook.testing import run_layer_test

RNG = np.random.default_rng(0)


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def randomise(layer, scale=0.3, rng=RNG):
    """Give every weight of a built layer random values (biases too, so they matter)."""
    for w in layer.weights:
        w.assign(rng.normal(size=tuple(w.shape)).astype("float32") * scale)


# ---------------------------------------------------------------- NumPy references


def rms_norm_numpy(x, gain, eps):
    x = np.asarray(x, np.float64)
    return x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + eps) * gain


def silu_numpy(z):
    return z / (1.0 + np.exp(-z))


def gelu_numpy(z):
    """The exact GELU, ``z Φ(z)``."""
    return 0.5 * z * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


def rope_numpy(x, positions, base):
    """Rotate half by loop: dimension j pairs with j + d/2, angle pos · base^(-2j/d)."""
    positions = np.asarray(positions)
    b, t, _, d = x.shape
    half = d // 2
    out = np.zeros(x.shape)
    for n in range(b):
        for s in range(t):
            pos = positions[n, s] if positions.ndim == 2 else positions[s]
            for j in range(half):
                angle = pos * base ** (-2.0 * j / d)
                c, si = math.cos(angle), math.sin(angle)
                x1, x2 = x[n, s, :, j], x[n, s, :, j + half]
                out[n, s, :, j] = x1 * c - x2 * si
                out[n, s, :, j + half] = x2 * c + x1 * si
    return out


def attend_numpy(q, k, v, mask):
    """One head: q (T, d), k (S, d), v (S, dv), mask (T, S); a row that sees nothing is 0."""
    scores = q @ k.T / math.sqrt(q.shape[-1])
    out = np.zeros((q.shape[0], v.shape[-1]))
    for t in range(q.shape[0]):
        seen = np.flatnonzero(mask[t])
        if seen.size == 0:
            continue
        e = np.exp(scores[t, seen] - scores[t, seen].max())
        out[t] = (e / e.sum()) @ v[seen]
    return out


def gqa_projections_numpy(layer, x, positions=None):
    """The queries, keys and values of a GroupedQueryAttention, rotated when it uses RoPE."""
    x = np.asarray(x, np.float64)

    def project(kernel, bias):
        y = np.einsum("btd,dhk->bthk", x, numpy(kernel))
        return y if bias is None else y + numpy(bias)

    q = project(layer.query_kernel, layer.query_bias)
    k = project(layer.key_kernel, layer.key_bias)
    v = project(layer.value_kernel, layer.value_bias)
    if layer.rope_base is not None:
        positions = np.arange(x.shape[1]) if positions is None else positions
        q = rope_numpy(q, positions, layer.rope_base)
        k = rope_numpy(k, positions, layer.rope_base)
    return q, k, v


def gqa_numpy(layer, x, mask, positions=None):
    """Grouped-query attention by loop: query head i attends with key/value head i // group.

    ``mask``: (batch, T, T) booleans, True where a query may attend.
    """
    q, k, v = gqa_projections_numpy(layer, x, positions)
    hq, hkv = layer.num_query_heads, layer.num_key_value_heads
    group = hq // hkv
    wo = numpy(layer.output_kernel)  # (hq, hd, out)
    out = np.zeros((x.shape[0], x.shape[1], wo.shape[-1]))
    for b in range(x.shape[0]):
        for i in range(hq):
            g = i // group
            out[b] += attend_numpy(q[b, :, i], k[b, :, g], v[b, :, g], mask[b]) @ wo[i]
    if layer.output_bias is not None:
        out += numpy(layer.output_bias)
    return out


def causal_numpy(batch, t, key_mask=None):
    mask = np.broadcast_to(np.tril(np.ones((t, t), bool)), (batch, t, t))
    return mask if key_mask is None else mask & np.asarray(key_mask, bool)[:, None, :]


# ---------------------------------------------------------------- RMSNorm


@pytest.mark.parametrize("eps,x_scale", [(1e-6, 1.0), (1e-5, 1.0), (1e-5, 1e-3), (0.5, 1.0)])
def test_rms_norm_equals_keras_and_numpy(eps, x_scale):
    x = (RNG.normal(size=(2, 5, 16)) * x_scale).astype("float32")
    gain = RNG.normal(size=(16,)).astype("float32")
    ours = RMSNorm(epsilon=eps)
    theirs = keras.layers.RMSNormalization(epsilon=eps)
    ours(x)
    theirs(x)
    assert [tuple(w.shape) for w in theirs.get_weights()] == [(16,)]  # one gain, "scale"
    assert [tuple(w.shape) for w in ours.get_weights()] == [(16,)]
    np.testing.assert_array_equal(numpy(ours.scale), np.ones(16))  # the gain starts at one
    ours.set_weights([gain])
    theirs.set_weights([gain])
    got = numpy(ours(x))
    # x_scale 1e-3 with eps 1e-5: the mean square (1e-6) is below eps, which then dominates
    np.testing.assert_allclose(got, rms_norm_numpy(x, gain, eps), atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(got, numpy(theirs(x)), atol=1e-5, rtol=1e-5)


def test_rms_norm_under_mixed_bfloat16():
    x = RNG.normal(size=(2, 5, 64)).astype("float32") * 3.0
    gain = RNG.normal(size=(64,)).astype("float32")
    reference = RMSNorm(epsilon=1e-5)
    reference(x)
    reference.set_weights([gain])
    expected = numpy(reference(x))
    try:
        keras.config.set_dtype_policy("mixed_bfloat16")
        mixed = RMSNorm(epsilon=1e-5)
        mixed(x)
        mixed.set_weights([gain])
        y = mixed(x)
        assert mixed.scale.dtype == "float32"
    finally:
        keras.config.set_dtype_policy("float32")
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    # bfloat16 keeps 8 bits of mantissa: about 0.4% of each value
    np.testing.assert_allclose(numpy(y), expected, rtol=1e-2, atol=1e-2)
    assert np.max(np.abs(numpy(y) - expected)) > 0  # it did compute (or at least round) in bf16


@pytest.mark.parametrize("eps", [0, 0.0, -1, True, "x", None])
def test_rms_norm_rejects_bad_epsilon(eps):
    with pytest.raises(ValueError, match="epsilon"):
        RMSNorm(epsilon=eps)


def test_rms_norm_contract():
    run_layer_test(
        RMSNorm,
        {"epsilon": 1e-5},
        RNG.normal(size=(2, 5, 6)).astype("float32"),
        expected_output_shape=(2, 5, 6),
        expected_num_trainable_weights=1,
    )


# ---------------------------------------------------------------- GatedFeedForward


def gated_ffn_numpy(layer, x, act):
    x = np.asarray(x, np.float64)

    def dense(h, kernel, bias_name):
        y = h @ numpy(kernel)
        return y + numpy(getattr(layer, bias_name)) if layer.use_bias else y

    hidden = act(dense(x, layer.gate_kernel, "gate_bias")) * dense(x, layer.up_kernel, "up_bias")
    return dense(hidden, layer.down_kernel, "down_bias")


@pytest.mark.parametrize(
    "kwargs,act",
    [
        ({}, silu_numpy),
        ({"use_bias": True}, silu_numpy),
        ({"activation": "gelu"}, gelu_numpy),
        ({"activation": "gelu", "use_bias": True, "output_dim": 5}, gelu_numpy),
        ({"output_dim": 3}, silu_numpy),
    ],
)
def test_gated_feed_forward_equals_numpy(kwargs, act):
    x = RNG.normal(size=(2, 4, 8)).astype("float32")
    layer = GatedFeedForward(intermediate_size=12, **kwargs)
    y = layer(x)
    out = kwargs.get("output_dim", 8)
    assert tuple(y.shape) == (2, 4, out)
    expected_shapes = [(8, 12), (8, 12), (12, out)]
    if kwargs.get("use_bias"):
        expected_shapes += [(12,), (12,), (out,)]
    assert sorted(tuple(w.shape) for w in layer.weights) == sorted(expected_shapes)
    randomise(layer, scale=0.5)
    np.testing.assert_allclose(numpy(layer(x)), gated_ffn_numpy(layer, x, act), atol=1e-5)


def test_gated_feed_forward_gate_is_not_the_up_projection():
    # swapping the gate and up kernels changes the output: the activation is on the gate
    x = RNG.normal(size=(1, 3, 8)).astype("float32")
    layer = GatedFeedForward(intermediate_size=6)
    layer(x)
    randomise(layer, scale=0.5)
    y = numpy(layer(x))
    gate, up = numpy(layer.gate_kernel), numpy(layer.up_kernel)
    layer.gate_kernel.assign(up.astype("float32"))
    layer.up_kernel.assign(gate.astype("float32"))
    assert np.max(np.abs(numpy(layer(x)) - y)) > 1e-2


def test_gated_feed_forward_contract():
    run_layer_test(
        GatedFeedForward,
        {"intermediate_size": 12, "use_bias": True, "output_dim": 5, "activation": "gelu"},
        RNG.normal(size=(2, 5, 8)).astype("float32"),
        expected_output_shape=(2, 5, 5),
        expected_num_trainable_weights=6,
    )


def test_gated_feed_forward_bad_arguments_are_named():
    with pytest.raises(ValueError, match="intermediate_size"):
        GatedFeedForward(0)
    with pytest.raises(ValueError, match="activation"):
        GatedFeedForward(4, activation="no-such-activation")
    with pytest.raises(ValueError, match="output_dim"):
        GatedFeedForward(4, output_dim=0)


# ---------------------------------------------------------------- GroupedQueryAttention


def keras_gqa_pair(use_bias, hq=4, hkv=2, hd=3, d=10, seed=1):
    """Our layer (no rope) and keras.layers.GroupQueryAttention with the same random weights."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 6, d)).astype("float32")
    ours = GroupedQueryAttention(hq, hkv, head_dim=hd, use_bias=use_bias)
    theirs = keras.layers.GroupQueryAttention(
        head_dim=hd, num_query_heads=hq, num_key_value_heads=hkv, use_bias=use_bias
    )
    ours(x)
    theirs(x, x)
    # Keras' variables: <layer>/query/kernel, …/query/bias, …, …/attention_output/kernel
    ours_by_name = {w.path.split("/")[-1]: w for w in ours.weights}
    assert len(ours_by_name) == len(theirs.weights) == (8 if use_bias else 4)
    for w in theirs.weights:
        sub, kind = w.path.split("/")[-2:]
        name = f"{'output' if sub == 'attention_output' else sub}_{kind}"
        value = rng.normal(size=tuple(w.shape)).astype("float32") * 0.4
        assert tuple(ours_by_name[name].shape) == tuple(w.shape), name
        w.assign(value)
        ours_by_name[name].assign(value)
    return ours, theirs, x


@pytest.mark.parametrize("use_bias", [False, True])
def test_gqa_equals_keras_group_query_attention(use_bias):
    ours, theirs, x = keras_gqa_pair(use_bias)
    got = numpy(ours(x, use_causal_mask=True))
    np.testing.assert_allclose(got, numpy(theirs(x, x, use_causal_mask=True)), atol=1e-5)
    np.testing.assert_allclose(got, gqa_numpy(ours, x, causal_numpy(2, 6)), atol=1e-5)
    # padding: right-padded example 0, left-padded example 1
    pad = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]], bool)
    got = numpy(ours(x, padding_mask=pad, use_causal_mask=True))
    ref = numpy(theirs(x, x, value_mask=pad, use_causal_mask=True))
    np.testing.assert_allclose(got[pad], ref[pad], atol=1e-5)  # at the real queries
    np.testing.assert_allclose(got, gqa_numpy(ours, x, causal_numpy(2, 6, pad)), atol=1e-5)
    # and without a causal mask, padding alone
    got = numpy(ours(x, padding_mask=pad))
    ref = numpy(theirs(x, x, value_mask=pad))
    np.testing.assert_allclose(got[pad], ref[pad], atol=1e-5)


@pytest.mark.parametrize("hq,hkv", [(4, 2), (6, 1), (6, 3), (2, 2)])
def test_gqa_with_rope_equals_numpy(hq, hkv):
    x = RNG.normal(size=(2, 7, 12)).astype("float32")
    layer = GroupedQueryAttention(hq, hkv, head_dim=4, rope_base=10000.0, use_bias=True)
    layer(x)
    randomise(layer, scale=0.4)
    mask = causal_numpy(2, 7)
    got = numpy(layer(x, use_causal_mask=True))
    np.testing.assert_allclose(got, gqa_numpy(layer, x, mask), atol=1e-5)
    # positions (T,) and (batch, T)
    shared = np.arange(5, 12)
    got = numpy(layer(x, use_causal_mask=True, positions=shared))
    np.testing.assert_allclose(got, gqa_numpy(layer, x, mask, shared), atol=1e-5)
    per_example = np.array([np.arange(3, 10), np.arange(20, 27)])
    got = numpy(layer(x, use_causal_mask=True, positions=per_example))
    np.testing.assert_allclose(got, gqa_numpy(layer, x, mask, per_example), atol=1e-5)
    # the rotation matters: the result differs from the layer without it
    plain = GroupedQueryAttention(hq, hkv, head_dim=4, use_bias=True)
    plain(x)
    plain.set_weights(layer.get_weights())
    assert np.max(np.abs(numpy(plain(x, use_causal_mask=True)) - got)) > 1e-2


def test_gqa_rope_with_head_dim_from_d_model_and_output_dim():
    x = RNG.normal(size=(1, 5, 16)).astype("float32")
    layer = GroupedQueryAttention(4, 2, rope_base=500.0, output_dim=6)
    y = layer(x, use_causal_mask=True)
    assert layer.head_dim == 4 and tuple(y.shape) == (1, 5, 6)
    assert tuple(layer.output_kernel.shape) == (4, 4, 6)
    randomise(layer, scale=0.4)
    np.testing.assert_allclose(
        numpy(layer(x, use_causal_mask=True)), gqa_numpy(layer, x, causal_numpy(1, 5)), atol=1e-5
    )


def test_gqa_with_as_many_kv_heads_equals_multi_head_attention():
    x = RNG.normal(size=(2, 6, 12)).astype("float32")
    gqa = GroupedQueryAttention(3, 3, head_dim=4)
    mha = MultiHeadAttention(num_heads=3, key_dim=4, use_bias=False)
    gqa(x)
    mha(x, x)
    randomise(gqa, scale=0.4)
    for name in ["query_kernel", "key_kernel", "value_kernel", "output_kernel"]:
        getattr(mha, name).assign(keras.ops.convert_to_numpy(getattr(gqa, name)))
    np.testing.assert_allclose(
        numpy(gqa(x, use_causal_mask=True)), numpy(mha(x, x, use_causal_mask=True)), atol=1e-5
    )
    pad = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], bool)
    np.testing.assert_allclose(
        numpy(gqa(x, padding_mask=pad)), numpy(mha(x, x, value_mask=pad)), atol=1e-5
    )
    _, w_gqa = gqa(x, use_causal_mask=True, return_attention_scores=True)
    _, w_mha = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    assert tuple(w_gqa.shape) == (2, 3, 6, 6)
    np.testing.assert_allclose(numpy(w_gqa), numpy(w_mha), atol=1e-6)


def decode_in_steps(call, x, prefill, cache, pad=None):
    """Prefill ``x[:, :prefill]`` at index 0, then one token at a time; return (outputs, cache).

    ``call(x_part, cache, index, attention_mask, positions)`` returns ``(output, cache)``.
    ``pad`` (batch, T): True at real tokens (default all).
    """
    b, t = x.shape[:2]
    size = cache.shape[2]
    key_mask = np.zeros((b, size), bool)
    key_mask[:, :t] = True if pad is None else pad
    outputs = []
    y, cache = call(
        x[:, :prefill], cache, 0, cache_attention_mask(key_mask, 0, prefill), np.arange(prefill)
    )
    outputs.append(numpy(y))
    for i in range(prefill, t):
        index = keras.ops.convert_to_tensor(i, "int32")  # a tensor index, as in a compiled loop
        positions = np.full((b, 1), i)
        y, cache = call(x[:, i : i + 1], cache, index, cache_attention_mask(key_mask, index, 1),
                        positions)  # fmt: skip
        outputs.append(numpy(y))
    return np.concatenate(outputs, axis=1), cache


@pytest.mark.parametrize("prefill", [1, 3])
@pytest.mark.parametrize("padded", [False, True])
def test_gqa_cache_equals_the_full_causal_pass(prefill, padded):
    b, t, size, hq, hkv, hd = 2, 6, 9, 4, 2, 4
    x = RNG.normal(size=(b, t, 12)).astype("float32")
    layer = GroupedQueryAttention(hq, hkv, head_dim=hd, rope_base=10000.0, use_bias=True)
    layer(x)
    randomise(layer, scale=0.4)
    pad = np.array([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], bool) if padded else None
    full = numpy(layer(x, padding_mask=pad, use_causal_mask=True))

    def call(part, cache, index, mask, positions):
        return layer(part, attention_mask=mask, positions=positions, cache=cache,
                     cache_index=index)  # fmt: skip

    steps, cache = decode_in_steps(call, x, prefill, np.zeros((b, 2, size, hkv, hd), "float32"),
                                   pad)  # fmt: skip
    np.testing.assert_allclose(steps, full, atol=1e-5)
    # the cache holds the rotated keys and the values at 0 … T-1, zeros after
    _, keys, values = gqa_projections_numpy(layer, x)
    cache = numpy(cache)
    assert cache.shape == (b, 2, size, hkv, hd)
    np.testing.assert_allclose(cache[:, 0, :t], keys, atol=1e-5)
    np.testing.assert_allclose(cache[:, 1, :t], values, atol=1e-5)
    assert np.all(cache[:, :, t:] == 0)


def test_gqa_cache_returns_scores_and_keeps_earlier_slots():
    layer = GroupedQueryAttention(2, 1, head_dim=4, rope_base=100.0)
    x = RNG.normal(size=(1, 2, 8)).astype("float32")
    layer(x)
    old = RNG.normal(size=(1, 2, 5, 1, 4)).astype("float32")
    key_mask = np.array([[1, 1, 1, 1, 0]], bool)
    out, weights, cache = layer(
        x, attention_mask=cache_attention_mask(key_mask, 2, 2), positions=np.array([2, 3]),
        cache=old, cache_index=2, return_attention_scores=True,
    )  # fmt: skip
    assert tuple(out.shape) == (1, 2, 8) and tuple(weights.shape) == (1, 2, 2, 5)
    cache, weights = numpy(cache), numpy(weights)
    np.testing.assert_array_equal(cache[:, :, :2], old[:, :, :2])  # earlier slots untouched
    np.testing.assert_array_equal(cache[:, :, 4:], old[:, :, 4:])  # later slots untouched
    _, keys, values = gqa_projections_numpy(layer, x, np.array([2, 3]))
    np.testing.assert_allclose(cache[:, 0, 2:4], keys, atol=1e-5)
    np.testing.assert_allclose(cache[:, 1, 2:4], values, atol=1e-5)
    assert np.all(weights[:, :, 0, 3:] == 0) and np.all(weights[:, :, 1, 4:] == 0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)


def test_gqa_errors():
    with pytest.raises(ValueError, match="num_key_value_heads must divide num_query_heads"):
        GroupedQueryAttention(4, 3)
    with pytest.raises(ValueError, match="num_query_heads"):
        GroupedQueryAttention(0, 1)
    with pytest.raises(ValueError, match="even head_dim"):
        GroupedQueryAttention(2, 1, head_dim=5, rope_base=10000.0)
    with pytest.raises(ValueError, match="even head_dim"):  # head_dim = 10 // 2 = 5, at build
        GroupedQueryAttention(2, 1, rope_base=10000.0)(np.zeros((1, 3, 10), "float32"))
    with pytest.raises(ValueError, match="base"):
        GroupedQueryAttention(2, 1, rope_base=1.0)
    GroupedQueryAttention(2, 1, head_dim=5)(np.zeros((1, 3, 10), "float32"))  # fine without rope
    layer = GroupedQueryAttention(2, 1, head_dim=4, rope_base=10000.0)
    x = np.zeros((1, 3, 8), "float32")
    cache = np.zeros((1, 2, 6, 1, 4), "float32")
    mask = cache_attention_mask(np.ones((1, 6), bool), 0, 3)
    with pytest.raises(ValueError, match="cache_index"):
        layer(x, attention_mask=mask, cache=cache)
    with pytest.raises(ValueError, match="use_causal_mask"):
        layer(x, cache=cache, cache_index=0, use_causal_mask=True)
    with pytest.raises(ValueError, match="padding_mask"):
        layer(x, cache=cache, cache_index=0, padding_mask=np.ones((1, 3), bool))
    with pytest.raises(ValueError, match="batch, time, d_model"):
        GroupedQueryAttention(2, 1)(np.zeros((3, 8), "float32"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs,trainable,out",
    [
        ({"num_query_heads": 4, "num_key_value_heads": 2, "rope_base": 10000.0}, 4, 16),
        ({"num_query_heads": 4, "num_key_value_heads": 1, "head_dim": 6, "use_bias": True,
          "output_dim": 5, "dropout": 0.1}, 8, 5),
    ],
)  # fmt: skip
def test_gqa_contract(kwargs, trainable, out):
    run_layer_test(
        GroupedQueryAttention,
        kwargs,
        RNG.normal(size=(2, 5, 16)).astype("float32"),
        call_kwargs={"use_causal_mask": True},
        expected_output_shape=(2, 5, out),
        expected_num_trainable_weights=trainable,
    )


# ---------------------------------------------------------------- the cache functions


@pytest.mark.parametrize("index,t", [(0, 3), (2, 1), (4, 3), (6, 1)])
@pytest.mark.parametrize("tensor_index", [False, True])
def test_update_cache_writes_exactly_its_slots(index, t, tensor_index):
    b, size, h, d = 2, 7, 3, 4
    cache = RNG.normal(size=(b, 2, size, h, d)).astype("float32")
    key = RNG.normal(size=(b, t, h, d)).astype("float32")
    value = RNG.normal(size=(b, t, h, d)).astype("float32")
    where = keras.ops.convert_to_tensor(index, "int32") if tensor_index else index
    got = numpy(update_cache(keras.ops.convert_to_tensor(cache), key, value, where))
    expected = cache.astype(np.float64)
    for n in range(b):
        for s in range(t):
            expected[n, 0, index + s] = key[n, s]
            expected[n, 1, index + s] = value[n, s]
    np.testing.assert_array_equal(got, expected)
    untouched = np.r_[0:index, index + t : size]
    np.testing.assert_array_equal(got[:, :, untouched], cache[:, :, untouched])


def test_update_cache_casts_to_the_cache_dtype():
    cache = keras.ops.zeros((1, 2, 4, 1, 2), "bfloat16")
    new = np.ones((1, 1, 1, 2), "float32")
    got = update_cache(cache, new, 2 * new, 1)
    assert keras.backend.standardize_dtype(got.dtype) == "bfloat16"
    assert numpy(got)[0, :, :, 0, 0].tolist() == [[0, 1, 0, 0], [0, 2, 0, 0]]


@pytest.mark.parametrize("index,t", [(0, 4), (3, 1), (2, 3), (7, 1)])
def test_cache_attention_mask_equals_its_definition(index, t):
    b, size = 3, 8
    key_mask = RNG.random((b, size)) > 0.3
    got = keras.ops.convert_to_numpy(cache_attention_mask(key_mask, index, t))
    expected = np.zeros((b, t, size), bool)
    for n in range(b):
        for q in range(t):
            for s in range(size):
                expected[n, q, s] = bool(key_mask[n, s]) and s <= index + q
    assert got.dtype == bool and got.shape == (b, t, size)
    np.testing.assert_array_equal(got, expected)
    tensor = keras.ops.convert_to_tensor(index, "int32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(cache_attention_mask(key_mask, tensor, t)), expected
    )


# ---------------------------------------------------------------- MHA and decoder block caches


@pytest.mark.parametrize("prefill", [1, 4])
def test_multi_head_attention_cache_equals_the_full_causal_pass(prefill):
    b, t, size, heads, key_dim = 2, 6, 8, 2, 5
    x = RNG.normal(size=(b, t, 10)).astype("float32")
    layer = MultiHeadAttention(num_heads=heads, key_dim=key_dim)
    layer(x, x)
    randomise(layer, scale=0.4)
    full = numpy(layer(x, x, use_causal_mask=True))

    def call(part, cache, index, mask, positions):
        return layer(part, part, attention_mask=mask, cache=cache, cache_index=index)

    steps, cache = decode_in_steps(
        call, x, prefill, np.zeros((b, 2, size, heads, key_dim), "float32")
    )
    np.testing.assert_allclose(steps, full, atol=1e-5)
    cache = numpy(cache)
    keys = np.einsum("btd,dhk->bthk", x, numpy(layer.key_kernel)) + numpy(layer.key_bias)
    values = np.einsum("btd,dhk->bthk", x, numpy(layer.value_kernel)) + numpy(layer.value_bias)
    np.testing.assert_allclose(cache[:, 0, :t], keys, atol=1e-5)
    np.testing.assert_allclose(cache[:, 1, :t], values, atol=1e-5)
    assert np.all(cache[:, :, t:] == 0)


def test_multi_head_attention_cache_errors():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = np.zeros((1, 2, 8), "float32")
    cache = np.zeros((1, 2, 5, 2, 4), "float32")
    with pytest.raises(ValueError, match="cache_index"):
        layer(x, x, cache=cache)
    with pytest.raises(ValueError, match="use_causal_mask"):
        layer(x, x, cache=cache, cache_index=0, use_causal_mask=True)
    with pytest.raises(ValueError, match="value_dim == key_dim"):
        MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)(
            x, x, cache=cache, cache_index=0, attention_mask=np.ones((1, 2, 5), bool)
        )


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_block_cache_equals_the_full_causal_pass(norm_first):
    b, t, size, heads, d = 2, 5, 7, 2, 8
    x = RNG.normal(size=(b, t, d)).astype("float32")
    block = TransformerDecoderBlock(num_heads=heads, ff_dim=16, cross_attention=False,
                                    norm_first=norm_first)  # fmt: skip
    block(x)
    randomise(block, scale=0.4)
    full = numpy(block(x))
    # the block is causal: the output at t does not change with later inputs
    later = x.copy()
    later[:, 3:] += 5.0
    np.testing.assert_allclose(numpy(block(later))[:, :3], full[:, :3], atol=1e-5)

    def call(part, cache, index, mask, positions):
        return block(part, self_attention_cache=cache, cache_index=index,
                     self_attention_mask=mask)  # fmt: skip

    steps, cache = decode_in_steps(call, x, 2, np.zeros((b, 2, size, heads, d // heads), "float32"))
    np.testing.assert_allclose(steps, full, atol=1e-5)
    assert numpy(cache).shape == (b, 2, size, heads, d // heads)
    assert np.all(numpy(cache)[:, :, t:] == 0) and np.all(numpy(cache)[:, 0, :t] != 0)
    y, w, _ = block(
        x[:, :2], self_attention_cache=np.zeros((b, 2, size, heads, d // heads), "float32"),
        cache_index=0, self_attention_mask=cache_attention_mask(np.ones((b, size), bool), 0, 2),
        return_attention_scores=True,
    )  # fmt: skip
    assert tuple(w["self_attention"].shape) == (b, heads, 2, size)
    with pytest.raises(ValueError, match="cache_index and self_attention_mask"):
        block(x, self_attention_cache=np.zeros((b, 2, size, heads, d // heads), "float32"))
