"""``keras.ops.dot_product_attention`` (the fused path) equals our plain attention.

Keras' op takes ``(batch, time, heads, head_dim)`` tensors, as ours does, and a boolean mask
broadcastable to ``(batch, heads, T, S)`` (ours: ``(batch, T, S)``). Where the backend and the
device offer one it runs a fused kernel (cuDNN or FlashAttention on a GPU, in half precision);
elsewhere it is the same softmax written differently. The two disagree on purpose for a query
that may see no key at all: ours returns all-zero weights (and a zero output); Keras' op
returns the plain average of all the values on CPU under TensorFlow, JAX and PyTorch alike
(its masked scores are all equal), and a fused GPU kernel whatever its own convention gives.
Such rows are meaningless (a padded query), so the comparisons below leave out every query
row with no visible key.
"""

import keras
import numpy as np
import pytest

from nlpbook.layers import causal_mask, scaled_dot_product_attention

B, T, S, H, D = 2, 5, 7, 3, 8


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def qkv(rng, t=T, s=S):
    """Queries ``(B, t, H, D)``, keys and values ``(B, s, H, D)``, standard normal, float32."""
    return (
        rng.normal(size=(B, t, H, D)).astype("float32"),
        rng.normal(size=(B, s, H, D)).astype("float32"),
        rng.normal(size=(B, s, H, D)).astype("float32"),
    )


def padding(lengths, length, left=False):
    """``(B, length)`` booleans, True at real tokens; padding on the right (or the left)."""
    positions = np.arange(length)[None]
    lengths = np.asarray(lengths)[:, None]
    return positions >= length - lengths if left else positions < lengths


def masks():
    """Named ``(B, T, S)`` masks (or None), with self-attention shapes where causal."""
    keys = padding([7, 4], S)
    queries = padding([5, 3], T)
    causal = np.asarray(keras.ops.convert_to_numpy(causal_mask(T, T)))[None]
    left = padding([5, 2], T, left=True)
    return {
        "none": (None, S),
        "key-padding": (np.broadcast_to(keys[:, None, :], (B, T, S)), S),
        "query-and-key-padding": (queries[:, :, None] & keys[:, None, :], S),
        "causal": (np.broadcast_to(causal, (B, T, T)), T),
        # left padding + causal: the first queries of the second sequence see no key at all
        "causal-left-padding": (causal & left[:, None, :] & left[:, :, None], T),
    }


def compare(mask, s, dtype, rng, atol, **fused_kwargs):
    """Max |fused − plain| over the query rows that see at least one key."""
    q, k, v = qkv(rng, s=s)
    if dtype != "float32":  # both paths see the same rounded numbers
        q, k, v = (numpy(keras.ops.cast(x, dtype)).astype("float32") for x in (q, k, v))
    plain, _ = scaled_dot_product_attention(q, k, v, mask)
    fused_mask = None if mask is None else mask[:, None]  # (B, 1, T, S): the same for each head
    fused = keras.ops.dot_product_attention(
        *(keras.ops.cast(x, dtype) for x in (q, k, v)), mask=fused_mask, **fused_kwargs
    )
    assert fused.shape == (B, T, H, D) and keras.backend.standardize_dtype(fused.dtype) == dtype
    seen = np.ones((B, T), bool) if mask is None else mask.any(axis=-1)  # (B, T)
    difference = np.abs(numpy(fused) - numpy(plain))[seen]  # (rows that see something, H, D)
    assert difference.max() < atol, f"max |fused - plain| = {difference.max():.2e}"
    return seen


@pytest.mark.parametrize("name", sorted(masks()))
def test_fused_equals_plain_in_float32(name):
    mask, s = masks()[name]
    seen = compare(mask, s, "float32", np.random.default_rng(0), atol=1e-5)
    if name in ("query-and-key-padding", "causal-left-padding"):
        assert not seen.all()  # the case really has rows with nothing to see, left out above


def test_is_causal_equals_a_causal_mask():
    rng = np.random.default_rng(1)
    q, k, v = qkv(rng, s=T)
    plain, _ = scaled_dot_product_attention(q, k, v, causal_mask(T, T)[None])
    fused = keras.ops.dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(numpy(fused), numpy(plain), atol=1e-5)


def test_a_padded_key_changes_nothing_on_either_path():
    rng = np.random.default_rng(2)
    q, k, v = qkv(rng)
    mask = np.broadcast_to(padding([4, 4], S)[:, None, :], (B, T, S))
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:], v2[:, 4:] = 100.0, -100.0  # change only the padded keys and values
    for attend in (
        lambda k, v: scaled_dot_product_attention(q, k, v, mask)[0],
        lambda k, v: keras.ops.dot_product_attention(q, k, v, mask=mask[:, None]),
    ):
        np.testing.assert_allclose(numpy(attend(k, v)), numpy(attend(k2, v2)), atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(masks()))
def test_fused_equals_plain_in_bfloat16_on_a_gpu(name):
    """On a GPU in bfloat16, where Keras may pick a fused (flash) kernel.

    bfloat16 keeps 8 significant bits (relative round-off 2**-8 ≈ 0.004); the fused kernel
    rounds the scores, the weights and the output to it, so outputs (weighted averages of
    standard-normal values, |v| < 5) may differ by a few hundredths from the float32 result.
    """
    mask, s = masks()[name]
    compare(mask, s, "bfloat16", np.random.default_rng(0), atol=5e-2)
