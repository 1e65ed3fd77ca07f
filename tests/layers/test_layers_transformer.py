"""Transformer blocks against a composition of Keras built-in layers with the same weights."""

import doctest

import keras
import numpy as np
import pytest

import nlpbook.layers.transformer
from nlpbook.layers import TransformerDecoderBlock, TransformerEncoderBlock
from nlpbook.testing import run_layer_test

RNG = np.random.default_rng(0)
HEADS, D_MODEL, FF = 2, 8, 12


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def randomize(layer):
    """Random weights everywhere (biases and norm offsets too), so no term hides as 0 or 1."""
    layer.set_weights(
        [(RNG.normal(size=w.shape) * 0.5 + (w == 1)).astype("float32") for w in layer.get_weights()]
    )


def keras_copy(ours, make):
    """A Keras built-in layer ``make()``, built like ``ours`` and given its weights."""
    theirs = make()
    theirs.build_from_config(ours.get_build_config())
    theirs.set_weights(ours.get_weights())
    return theirs


def keras_sublayers(block, activation):
    """The block's sub-layers re-made from keras.layers: MHA, LayerNorm and Dense."""
    eps = block.layer_norm_epsilon

    def mha(ours):
        return keras_copy(ours, lambda: keras.layers.MultiHeadAttention(HEADS, D_MODEL // HEADS))

    def norm(ours):
        return keras_copy(ours, lambda: keras.layers.LayerNormalization(epsilon=eps))

    parts = {
        "self_attn": mha(block.self_attn),
        "self_attn_norm": norm(block.self_attn_norm),
        "ffn_inner": keras_copy(block.ffn_inner, lambda: keras.layers.Dense(FF, activation)),
        "ffn_output": keras_copy(block.ffn_output, lambda: keras.layers.Dense(D_MODEL)),
        "ffn_norm": norm(block.ffn_norm),
    }
    if getattr(block, "cross_attention", False):
        parts["cross_attn"] = mha(block.cross_attn)
        parts["cross_attn_norm"] = norm(block.cross_attn_norm)
    return parts


def reference(parts, x, self_mask, memory=None, memory_mask=None, norm_first=False):
    """Post-LN ``x = LN(x + f(x))`` or pre-LN ``x = x + f(LN(x))``, written out with Keras."""
    x = keras.ops.convert_to_tensor(x)  # NumPy + torch.Tensor has no meaning

    def sublayer(x, norm, f):
        return x + f(norm(x)) if norm_first else norm(x + f(x))

    def ffn(h):
        return parts["ffn_output"](parts["ffn_inner"](h))

    def self_attention(h):
        return parts["self_attn"](h, h, attention_mask=self_mask)

    def cross_attention(h):
        return parts["cross_attn"](h, memory, attention_mask=memory_mask)

    x = sublayer(x, parts["self_attn_norm"], self_attention)
    if memory is not None:
        x = sublayer(x, parts["cross_attn_norm"], cross_attention)
    return numpy(sublayer(x, parts["ffn_norm"], ffn))


def data(batch=2, t=5, s=4):
    x = RNG.normal(size=(batch, t, D_MODEL)).astype("float32")
    memory = RNG.normal(size=(batch, s, D_MODEL)).astype("float32")
    return x, memory


# ---------------------------------------------------------------- reference checks


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_equals_keras_composition(norm_first):
    activation = "gelu" if norm_first else "relu"
    block = TransformerEncoderBlock(HEADS, FF, dropout=0.3, attention_dropout=0.2,
                                    norm_first=norm_first, activation=activation)  # fmt: skip
    x, _ = data()
    padding = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    block(x)
    randomize(block)
    out = numpy(block(x, padding_mask=padding, training=False))
    key_mask = np.broadcast_to(padding[:, None, :], (2, 5, 5))
    expected = reference(keras_sublayers(block, activation), x, key_mask, norm_first=norm_first)
    np.testing.assert_allclose(out, expected, atol=1e-4)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_decoder_equals_keras_composition(norm_first):
    block = TransformerDecoderBlock(HEADS, FF, dropout=0.3, norm_first=norm_first)
    x, memory = data()
    block(x, memory)
    randomize(block)
    # right padding: with left padding the first query sees no key at all, and Keras then
    # averages over every key where ours gives zero weights (only padded outputs differ)
    decoder_padding = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], bool)
    memory_padding = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    out = numpy(block(x, memory, decoder_padding, memory_padding))
    causal = np.tril(np.ones((5, 5), bool))[None] & decoder_padding[:, None, :]
    memory_mask = np.broadcast_to(memory_padding[:, None, :], (2, 5, 4))
    parts = keras_sublayers(block, "relu")
    expected = reference(parts, x, causal, memory, memory_mask, norm_first=norm_first)
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_decoder_only_equals_keras_composition():
    block = TransformerDecoderBlock(HEADS, FF, cross_attention=False, norm_first=True)
    x, _ = data()
    block(x)
    randomize(block)
    assert not hasattr(block, "cross_attn") and len(block.trainable_weights) == 16
    causal = np.broadcast_to(np.tril(np.ones((5, 5), bool)), (2, 5, 5))
    expected = reference(keras_sublayers(block, "relu"), x, causal, norm_first=True)
    np.testing.assert_allclose(numpy(block(x)), expected, atol=1e-4)


# ---------------------------------------------------------------- masks and causality


def noisy_at(x, keep):
    """``x`` with large noise wherever ``keep`` (batch, time) is False."""
    noise = RNG.normal(size=x.shape).astype("float32") * 100
    return np.where(keep[..., None], x, x + noise)


def test_encoder_padding_never_reaches_real_positions():
    block = TransformerEncoderBlock(HEADS, FF, norm_first=False)
    x, _ = data()
    padding = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], bool)
    a = numpy(block(x, padding_mask=padding))
    b = numpy(block(noisy_at(x, padding), padding_mask=padding))
    np.testing.assert_allclose(a[padding], b[padding], atol=1e-4)
    unmasked = numpy(block(noisy_at(x, padding)))
    assert np.max(np.abs(unmasked[padding] - a[padding])) > 1e-2  # the mask is what protects


def test_encoder_takes_the_keras_mask_of_its_input():
    tokens = np.array([[5, 3, 7, 0, 0], [2, 9, 4, 1, 0]])
    inputs = keras.Input(shape=(5,), dtype="int32")
    embedded = keras.layers.Embedding(10, D_MODEL, mask_zero=True)(inputs)
    block = TransformerEncoderBlock(HEADS, FF)
    model = keras.Model(inputs, block(embedded))
    embedding = model.layers[1]
    explicit = block(embedding(tokens), padding_mask=tokens != 0)
    np.testing.assert_allclose(numpy(model(tokens)), numpy(explicit), atol=1e-5)
    no_mask = block(keras.ops.convert_to_tensor(numpy(embedding(tokens)).astype("float32")))
    assert np.max(np.abs(numpy(no_mask) - numpy(explicit))) > 1e-3


def test_decoder_self_and_memory_padding_never_reach_real_positions():
    block = TransformerDecoderBlock(HEADS, FF)
    x, memory = data()
    # left padding: causal attention alone would let real tokens see the padded ones
    decoder_padding = np.array([[0, 0, 1, 1, 1], [0, 1, 1, 1, 1]], bool)
    memory_padding = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    a = numpy(block(x, memory, decoder_padding, memory_padding))
    b = numpy(
        block(noisy_at(x, decoder_padding), noisy_at(memory, memory_padding), decoder_padding,
              memory_padding)
    )  # fmt: skip
    np.testing.assert_allclose(a[decoder_padding], b[decoder_padding], atol=1e-4)
    unmasked = numpy(block(noisy_at(x, decoder_padding), memory, None, memory_padding))
    assert np.max(np.abs(unmasked[decoder_padding] - a[decoder_padding])) > 1e-2


# a one-token prefix attends over one key; Keras warns about any softmax over an axis of size 1
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1")
@pytest.mark.parametrize("cross_attention", [True, False], ids=["seq2seq", "decoder-only"])
def test_decoder_prefix_gives_the_same_outputs(cross_attention):
    block = TransformerDecoderBlock(HEADS, FF, cross_attention=cross_attention, norm_first=True)
    x, memory = data(t=6)
    args = (memory,) if cross_attention else ()
    full = numpy(block(x, *args))
    for t in (1, 3, 5):
        np.testing.assert_allclose(numpy(block(x[:, :t], *args)), full[:, :t], atol=1e-5)


def test_attention_weights_for_heat_maps():
    block = TransformerDecoderBlock(HEADS, FF)
    x, memory = data()
    memory_padding = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    _, weights = block(x, memory, memory_padding_mask=memory_padding,
                       return_attention_scores=True)  # fmt: skip
    w_self, w_cross = numpy(weights["self_attention"]), numpy(weights["cross_attention"])
    assert w_self.shape == (2, HEADS, 5, 5) and w_cross.shape == (2, HEADS, 5, 4)
    np.testing.assert_allclose(w_self.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(w_cross.sum(-1), 1.0, atol=1e-5)
    assert np.all(w_self[..., np.triu(np.ones((5, 5), bool), 1)] == 0)
    assert np.all(w_cross[0, :, :, 3] == 0)
    _, enc_weights = TransformerEncoderBlock(HEADS, FF)(x, return_attention_scores=True)
    assert list(enc_weights) == ["self_attention"]
    assert tuple(enc_weights["self_attention"].shape) == (2, HEADS, 5, 5)


# ---------------------------------------------------------------- contract and training


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_contract(norm_first):
    x, _ = data()
    run_layer_test(
        TransformerEncoderBlock,
        {
            "num_heads": HEADS,
            "ff_dim": FF,
            "dropout": 0.1,
            "norm_first": norm_first,
            "activation": "gelu",
            "layer_norm_epsilon": 1e-6,
        },  # fmt: skip
        x,
        expected_output_shape=(2, 5, D_MODEL),
        expected_num_trainable_weights=16,
    )


def test_decoder_contract():
    x, memory = data()
    run_layer_test(
        TransformerDecoderBlock,
        {"num_heads": HEADS, "ff_dim": FF, "dropout": 0.1, "attention_dropout": 0.1},
        (x, memory),
        expected_output_shape=(2, 5, D_MODEL),
        expected_num_trainable_weights=26,
    )


def test_decoder_only_contract():
    x, _ = data()
    run_layer_test(
        TransformerDecoderBlock,
        {"num_heads": HEADS, "ff_dim": FF, "cross_attention": False, "norm_first": True},
        x,
        expected_output_shape=(2, 5, D_MODEL),
        expected_num_trainable_weights=16,
    )


def test_one_encoder_block_learns_to_average_over_the_sequence():
    """Each position must output the mean of feature 0 over its sequence of 6 tokens.

    A model that sees one position at a time can at best predict ``x_t / 6`` and keeps 5/6 of
    the target's variance; going below half of it needs attention across positions.
    """
    keras.utils.set_random_seed(0)
    x = RNG.normal(size=(64, 6, D_MODEL)).astype("float32")
    y = np.repeat(x[:, :, :1].mean(axis=1, keepdims=True), 6, axis=1)
    inputs = keras.Input(shape=(6, D_MODEL))
    hidden = TransformerEncoderBlock(HEADS, 16, dropout=0.0, norm_first=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    steps = 200  # one epoch of the batch repeated: far less overhead than 200 epochs
    history = model.fit(np.tile(x, (steps, 1, 1)), np.tile(y, (steps, 1, 1)), batch_size=64,
                        verbose=0).history  # fmt: skip
    loss = float(model.evaluate(x, y, verbose=0))
    variance = float(np.var(y))  # the loss of the best constant prediction
    assert loss < 0.5 * variance, (loss, variance, history["loss"])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_heads"):
        TransformerEncoderBlock(0, FF)
    with pytest.raises(ValueError, match="dropout"):
        TransformerEncoderBlock(HEADS, FF, dropout=1.0)
    with pytest.raises(ValueError, match="layer_norm_epsilon"):
        TransformerEncoderBlock(HEADS, FF, layer_norm_epsilon=0)
    with pytest.raises(ValueError, match="activation"):
        TransformerDecoderBlock(HEADS, FF, activation="no-such-activation")
    with pytest.raises(ValueError, match="multiple of num_heads.*d_model=7"):
        TransformerEncoderBlock(2, FF)(np.zeros((1, 3, 7), "float32"))
    x, memory = data()
    with pytest.raises(ValueError, match="needs memory"):
        TransformerDecoderBlock(HEADS, FF)(x)
    with pytest.raises(ValueError, match="cross_attention=False"):
        TransformerDecoderBlock(HEADS, FF, cross_attention=False)(x, memory)


def test_docstring_examples():
    result = doctest.testmod(nlpbook.layers.transformer, extraglobs={"keras": keras, "np": np})
    assert result.failed == 0 and result.attempted > 0
