"""Position encodings against NumPy transcriptions of their formulas, and the layer contract."""

import doctest

import keras
import numpy as np
import pytest

import nlpbook.layers.positional
from nlpbook.layers import (
    PositionEmbedding,
    SinusoidalPositionEmbedding,
    apply_rotary,
    sinusoidal_positions,
)
from nlpbook.testing import run_layer_test

RNG = np.random.default_rng(0)


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def sinusoid_numpy(length, dim, base=10000.0, start=0):
    """PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(pos / base^(2i/d)), by loop."""
    pe = np.zeros((length, dim))
    for row in range(length):
        pos = start + row
        for i in range((dim + 1) // 2):
            angle = pos / base ** (2 * i / dim)
            pe[row, 2 * i] = np.sin(angle)
            if 2 * i + 1 < dim:
                pe[row, 2 * i + 1] = np.cos(angle)
    return pe


def rotary_numpy(x, positions, base=10000.0):
    """Rotate half: dimension j pairs with j + d/2, angle pos * base^(-2j/d), by loop."""
    b, t, h, d = x.shape
    half = d // 2
    out = np.zeros(x.shape)
    for n in range(b):
        for s in range(t):
            pos = positions[n, s] if positions.ndim == 2 else positions[s]
            for j in range(half):
                angle = pos * base ** (-2 * j / d)
                c, si = np.cos(angle), np.sin(angle)
                x1, x2 = x[n, s, :, j], x[n, s, :, j + half]
                out[n, s, :, j] = x1 * c - x2 * si
                out[n, s, :, j + half] = x2 * c + x1 * si
    return out


def rotary_interleaved_numpy(x, positions, base=10000.0):
    """Su et al. (2021): dimensions 2j and 2j + 1 form pair j."""
    d = x.shape[-1]
    out = np.zeros(x.shape)
    for s, pos in enumerate(positions):
        for j in range(d // 2):
            angle = pos * base ** (-2 * j / d)
            c, si = np.cos(angle), np.sin(angle)
            x1, x2 = x[:, s, :, 2 * j], x[:, s, :, 2 * j + 1]
            out[:, s, :, 2 * j] = x1 * c - x2 * si
            out[:, s, :, 2 * j + 1] = x2 * c + x1 * si
    return out


# ---------------------------------------------------------------- sinusoidal


@pytest.mark.parametrize("length,dim,base", [(50, 16, 10000.0), (7, 5, 10000.0), (9, 6, 100.0)])
def test_sinusoidal_table_equals_the_formula(length, dim, base):
    got = numpy(sinusoidal_positions(length, dim, base=base))
    np.testing.assert_allclose(got, sinusoid_numpy(length, dim, base), atol=2e-5)


def test_row_zero_is_sin_cos_of_zero():
    assert numpy(sinusoidal_positions(3, 8))[0].tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    assert numpy(sinusoidal_positions(3, 7))[0].tolist() == [0, 1, 0, 1, 0, 1, 0]


def test_sinusoidal_layer_adds_the_table_and_start_index_slices_it():
    x = RNG.normal(size=(2, 6, 10)).astype("float32")
    layer = SinusoidalPositionEmbedding()
    table = sinusoid_numpy(20, 10)
    np.testing.assert_allclose(numpy(layer(x)), x + table[:6], atol=2e-5)
    np.testing.assert_allclose(numpy(layer(x, start_index=9)), x + table[9:15], atol=2e-5)
    # one token at a time (incremental decoding) gives the rows of the full sequence
    steps = [numpy(layer(x[:, t : t + 1], start_index=t)) for t in range(6)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), numpy(layer(x)), atol=1e-6)
    assert not layer.weights


def test_sinusoidal_layer_passes_the_keras_mask_through():
    tokens = np.array([[3, 4, 0, 0]])
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    out = SinusoidalPositionEmbedding()(embedded)
    assert keras.ops.convert_to_numpy(out._keras_mask).tolist() == [[True, True, False, False]]


def test_sinusoidal_layer_contract():
    run_layer_test(
        SinusoidalPositionEmbedding,
        {"base": 500.0},
        RNG.normal(size=(2, 5, 6)).astype("float32"),
        call_kwargs={"start_index": 3},
        expected_output_shape=(2, 5, 6),
        expected_num_trainable_weights=0,
        # no weights to move; the learned layer below runs the fit step
        run_training=False,
    )


# ---------------------------------------------------------------- learned


def test_learned_adds_its_rows_and_start_index_slices_them():
    layer = PositionEmbedding(max_length=12)
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    layer(x)
    table = numpy(layer.embeddings)
    np.testing.assert_allclose(numpy(layer(x)), x + table[:5], atol=1e-6)
    np.testing.assert_allclose(numpy(layer(x, start_index=7)), x + table[7:12], atol=1e-6)


def test_learned_raises_past_max_length():
    layer = PositionEmbedding(max_length=4)
    with pytest.raises(ValueError, match="max_length=4.*length 5"):
        layer(np.zeros((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match="length 2 starting at 3"):
        layer(np.zeros((1, 2, 3), "float32"), start_index=3)


def test_learned_layer_contract():
    run_layer_test(
        PositionEmbedding,
        {"max_length": 9},
        RNG.normal(size=(2, 5, 6)).astype("float32"),
        call_kwargs={"start_index": 2},
        expected_output_shape=(2, 5, 6),
        expected_num_trainable_weights=1,
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="dim"):
        sinusoidal_positions(4, 0)
    with pytest.raises(ValueError, match="base"):
        sinusoidal_positions(4, 8, base=1)
    with pytest.raises(ValueError, match="max_length"):
        PositionEmbedding(max_length=0)
    with pytest.raises(ValueError, match="batch, time, features"):
        SinusoidalPositionEmbedding()(np.zeros((2, 8), "float32"))


# ---------------------------------------------------------------- rotary


def test_rotary_equals_numpy():
    x = RNG.normal(size=(2, 5, 3, 8))
    positions = np.arange(5)
    got = numpy(apply_rotary(x.astype("float32")))
    np.testing.assert_allclose(got, rotary_numpy(x, positions), atol=1e-5)
    per_example = np.array([[3, 4, 5, 6, 7], [40, 41, 42, 43, 44]])
    got = numpy(apply_rotary(x.astype("float32"), positions=per_example, base=500.0))
    np.testing.assert_allclose(got, rotary_numpy(x, per_example, base=500.0), atol=1e-4)


def test_rotate_half_is_the_interleaved_rotation_with_dims_permuted():
    x = RNG.normal(size=(1, 4, 2, 8))
    order = np.r_[0:8:2, 1:8:2]  # interleaved pair j = (2j, 2j+1) -> half-split (j, j + 4)
    got = numpy(apply_rotary(x[..., order].astype("float32")))
    np.testing.assert_allclose(got, rotary_interleaved_numpy(x, np.arange(4))[..., order],
                               atol=1e-5)  # fmt: skip


def test_rotary_scores_depend_on_relative_position_only():
    q = RNG.normal(size=(1, 6, 2, 16)).astype("float32")
    k = RNG.normal(size=(1, 6, 2, 16)).astype("float32")
    q_pos, k_pos = np.array([0, 3, 5, 9, 2, 7]), np.array([1, 1, 4, 8, 6, 0])

    def scores(shift):
        rq = numpy(apply_rotary(q, positions=q_pos + shift))
        rk = numpy(apply_rotary(k, positions=k_pos + shift))
        return np.einsum("bthd,bshd->bhts", rq, rk)

    np.testing.assert_allclose(scores(37), scores(0), atol=1e-3)
    np.testing.assert_allclose(scores(5), scores(0), atol=1e-3)
    # but the scores do see the offset: shifting queries alone changes them
    shifted_q = numpy(apply_rotary(q, positions=q_pos + 5))
    moved = np.einsum("bthd,bshd->bhts", shifted_q, numpy(apply_rotary(k, positions=k_pos)))
    assert np.max(np.abs(moved - scores(0))) > 0.1


def test_rotary_preserves_norms_and_dtype():
    x = RNG.normal(size=(2, 7, 3, 6)).astype("float32")
    y = numpy(apply_rotary(x, positions=np.arange(100, 107)))
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5)
    half = apply_rotary(keras.ops.cast(x, "float16"))
    assert keras.backend.standardize_dtype(half.dtype) == "float16"


def test_rotary_rejects_odd_or_misshapen_heads():
    with pytest.raises(ValueError, match="even d_head.*d_head=5"):
        apply_rotary(np.zeros((1, 3, 2, 5), "float32"))
    with pytest.raises(ValueError, match="batch, time, heads, d_head"):
        apply_rotary(np.zeros((3, 2, 4), "float32"))


def test_docstring_examples():
    result = doctest.testmod(nlpbook.layers.positional, extraglobs={"keras": keras, "np": np})
    assert result.failed == 0 and result.attempted > 0
