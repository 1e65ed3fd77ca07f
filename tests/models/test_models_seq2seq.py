"""The three translation models: decoding step by step equals teacher forcing, padding is
invisible, the source reaches the decoder, saving round-trips, and a toy task is learned."""

import tempfile
from pathlib import Path

import keras
import numpy as np
import pytest

from nlpbook.generation import beam_search, greedy_search
from nlpbook.models import AttentionGRUSeq2Seq, GRUSeq2Seq, TransformerSeq2Seq
from nlpbook.testing import jittered

SRC_VOCAB, TGT_VOCAB = 13, 11
BOS, EOS = 1, 2

MODELS = {
    "gru": lambda **kw: GRUSeq2Seq(SRC_VOCAB, TGT_VOCAB, embed_dim=6, units=8, **kw),
    "attention": lambda **kw: AttentionGRUSeq2Seq(
        SRC_VOCAB, TGT_VOCAB, embed_dim=6, units=8, attention_units=5, **kw
    ),  # fmt: skip
    "transformer": lambda **kw: TransformerSeq2Seq(
        SRC_VOCAB,
        TGT_VOCAB,
        d_model=8,
        num_heads=2,
        ff_dim=12,
        num_layers=2,
        dropout=0.0,
        max_length=16,
        **kw,
    ),  # fmt: skip
    "transformer-pre-ln": lambda **kw: TransformerSeq2Seq(
        SRC_VOCAB,
        TGT_VOCAB,
        d_model=8,
        num_heads=2,
        ff_dim=12,
        num_layers=1,
        dropout=0.0,
        norm_first=True,
        max_length=16,
        **kw,
    ),  # fmt: skip
}


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


@pytest.fixture(params=["gru", "attention", "transformer"])
def name(request):
    return request.param


# pre-LN changes only the Transformer's blocks: it is checked where the decoding is at stake
ALL_MODELS = pytest.mark.parametrize("name", sorted(MODELS))


def batch():
    """Three padded sources and decoder inputs (BOS first), right-padded with 0."""
    rng = np.random.default_rng(0)
    source = rng.integers(3, SRC_VOCAB, size=(3, 6)).astype("int32")
    source[0, 4:] = 0
    source[2, 2:] = 0
    decoder_input = rng.integers(3, TGT_VOCAB, size=(3, 5)).astype("int32")
    decoder_input[:, 0] = BOS
    decoder_input[1, 3:] = 0
    return source, decoder_input


def built(name, seed=0):
    keras.utils.set_random_seed(seed)
    model = MODELS[name]()
    model(batch())
    return model


def test_shapes_and_float32_logits(name):
    model = built(name)
    source, decoder_input = batch()
    logits = model((source, decoder_input))
    assert tuple(logits.shape) == (3, 5, TGT_VOCAB)
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"


@ALL_MODELS
def test_decoding_step_by_step_equals_teacher_forcing(name):
    model = built(name)
    source, decoder_input = batch()
    forced = numpy(model((source, decoder_input)))
    state = model.encode(source)
    steps = []
    for t in range(decoder_input.shape[1]):
        logits, state = model.decode_step(decoder_input[:, t], state)
        steps.append(numpy(logits))
    np.testing.assert_allclose(np.stack(steps, axis=1), forced, atol=1e-4)


@ALL_MODELS
def test_source_padding_changes_nothing(name):
    model = built(name)
    source, decoder_input = batch()
    longer = np.pad(source, ((0, 0), (0, 4)))
    np.testing.assert_allclose(
        numpy(model((longer, decoder_input))), numpy(model((source, decoder_input))), atol=1e-5
    )


def test_the_decoder_sees_the_source(name):
    # seed 004's model runs its decoder on the target alone: its logits would not move here
    model = built(name)
    source, decoder_input = batch()
    other = source.copy()
    other[:, 0] = np.where(source[:, 0] == 3, 4, 3)
    change = np.abs(numpy(model((other, decoder_input))) - numpy(model((source, decoder_input))))
    assert np.all(change.max(axis=(1, 2)) > 1e-4)


def test_saving_round_trip(name):
    model = built(name)
    source, decoder_input = batch()
    config = model.get_config()
    assert type(model).from_config(config).get_config() == config
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(
        numpy(loaded((source, decoder_input))), numpy(model((source, decoder_input)))
    )
    step, _ = loaded.decode_step(np.array([BOS] * 3), loaded.encode(source))
    forced = numpy(model((source, decoder_input)))[:, 0]
    np.testing.assert_allclose(numpy(step), forced, atol=1e-5)


def test_mixed_bfloat16_keeps_float32_logits_close(name):
    model = built(name)
    source, decoder_input = batch()
    mixed = type(model).from_config({**model.get_config(), "dtype": "mixed_bfloat16"})
    mixed((source, decoder_input))
    mixed.set_weights(model.get_weights())
    logits = mixed((source, decoder_input))
    assert keras.backend.standardize_dtype(logits.dtype) == "float32"
    assert all(w.dtype == "float32" for w in mixed.trainable_weights)
    np.testing.assert_allclose(numpy(logits), numpy(model((source, decoder_input))), atol=5e-2)


def test_translate_with_one_beam_equals_greedy_search(name):
    model = built(name, seed=1)
    source, _ = batch()
    greedy = greedy_search(
        model.decode_step, model.encode(source), np.full(3, BOS, "int32"), max_length=6,
        eos_id=EOS,
    )  # fmt: skip
    translated = model.translate(source, BOS, EOS, max_length=6, beam_width=1)
    np.testing.assert_array_equal(translated, greedy)
    # a list of unpadded id lists is padded by translate itself
    as_lists = [row[row > 0].tolist() for row in source]
    np.testing.assert_array_equal(model.translate(as_lists, BOS, EOS, max_length=6), greedy)


def test_beam_search_keeps_the_sentences_of_a_batch_apart(name):
    # the state is reordered with the beams: a batch must give what each sentence gives alone
    model = built(name, seed=2)
    source, _ = batch()
    start = np.full(3, BOS, "int32")
    together, scores = beam_search(
        model.decode_step, model.encode(source), start, beam_width=3, max_length=5, eos_id=EOS
    )
    for i in range(3):
        # batches of 9 and 3 rows round differently; with one side jittered by 1e-5 (~10x
        # float32 error) it must still choose the same beams, which a near-tie would likely fail
        alone, alone_scores = beam_search(
            jittered(model.decode_step, seed=i), model.encode(source[i : i + 1]), start[:1],
            beam_width=3, max_length=5, eos_id=EOS,
        )  # fmt: skip
        width = alone.shape[-1]
        np.testing.assert_array_equal(together[i, :, :width], alone[0])
        assert np.all(together[i, :, width:] == 0)
        np.testing.assert_allclose(scores[i], alone_scores[0], atol=1e-4)


@pytest.mark.parametrize("name", ["attention", "transformer"])
def test_attention_weights_sum_to_one_over_the_real_source(name):
    model = built(name)
    source, decoder_input = batch()
    weights = numpy(model.attention_weights(source, decoder_input))
    real = source > 0
    if name == "attention":
        assert weights.shape == (3, 5, 6)
    else:
        assert weights.shape == (3, 2, 5, 6)  # (batch, heads, T, S)
        weights = weights.reshape(-1, 5, 6)
        real = np.repeat(real, 2, axis=0)
    assert np.all(weights[~np.broadcast_to(real[:, None], weights.shape)] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def reversal_task(n, seed):
    """Sources of 2-4 digits (ids 3-8), targets the digits reversed."""
    rng = np.random.default_rng(seed)
    source = np.zeros((n, 4), "int32")
    decoder_input = np.zeros((n, 5), "int32")
    label = np.zeros((n, 5), "int32")
    for i in range(n):
        k = rng.integers(2, 5)
        digits = rng.integers(3, 9, size=k)
        source[i, :k] = digits
        decoder_input[i, : k + 1] = [BOS, *digits[::-1]]
        label[i, : k + 1] = [*digits[::-1], EOS]
    return source, decoder_input, label


TOY = {  # (model, learning rate, epochs, floor on exact matches)
    "gru": (lambda: GRUSeq2Seq(9, 9, embed_dim=16, units=64), 0.02, 8, 0.6),
    "attention": (lambda: AttentionGRUSeq2Seq(9, 9, embed_dim=16, units=32), 0.02, 6, 0.85),
    "transformer": (
        lambda: TransformerSeq2Seq(
            9, 9, d_model=32, num_heads=2, ff_dim=64, num_layers=1, dropout=0.0, max_length=8
        ),  # fmt: skip
        0.005,
        6,
        0.85,
    ),  # fmt: skip
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TOY))
def test_learns_to_reverse_digits(name):
    make, learning_rate, epochs, floor = TOY[name]
    keras.utils.set_random_seed(0)
    model = make()
    source, decoder_input, label = reversal_task(2000, seed=0)
    model.compile(
        keras.optimizers.Adam(learning_rate),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.fit((source, decoder_input), label, batch_size=100, epochs=epochs, verbose=0)
    test_source, _, test_label = reversal_task(200, seed=1)
    for beam_width in (1, 3):
        out = model.translate(test_source, BOS, EOS, max_length=6, beam_width=beam_width)
        out = np.pad(out, ((0, 0), (0, 6 - out.shape[1])))
        exact = np.mean(np.all(out[:, :5] == test_label, axis=1))
        # chance: a 2-digit reversal is guessed with probability 1/36, longer ones far less
        assert exact >= floor, f"{name}, beam {beam_width}: {exact:.2f} of 200 reversed exactly"


def test_bad_arguments_and_inputs():
    source, decoder_input = batch()
    with pytest.raises(ValueError, match="dropout"):
        GRUSeq2Seq(10, 10, 4, 4, dropout=1.0)
    with pytest.raises(ValueError, match="units"):
        AttentionGRUSeq2Seq(10, 10, 4, 0)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TransformerSeq2Seq(10, 10, d_model=6, num_heads=4)
    with pytest.raises(ValueError, match="norm_first"):
        TransformerSeq2Seq(10, 10, d_model=8, num_heads=2, norm_first="yes")
    model = built("gru")
    with pytest.raises(ValueError, match="pair"):
        model(source)
    with pytest.raises(ValueError, match="rank|time"):
        model((source[0], decoder_input))
    with pytest.raises(ValueError, match="same number of sentences"):
        model((source[:2], decoder_input))
    with pytest.raises(ValueError, match="source_ids"):
        model.translate(np.zeros((2, 0), "int32"), BOS, EOS, max_length=3)
    with pytest.raises(ValueError, match="bos_id"):
        model.translate(source, 0, EOS, max_length=3)
    transformer = built("transformer")
    with pytest.raises(ValueError, match="max_length=16"):
        transformer((np.ones((1, 17), "int32"), decoder_input[:1]))


def test_attention_can_learn_from_the_first_step():
    # with Keras' default word vectors, U(-0.05, 0.05), every encoder output was nearly the
    # same: attention was uniform to 7e-5 nats at initialisation and the gradient of its query
    # kernel 1e-6 of the output layer's; with N(0, 1) word vectors we measure 0.026 nats and
    # 0.01 (chapter 10's quick-mode sizes)
    keras.utils.set_random_seed(0)
    model = AttentionGRUSeq2Seq(300, 300, embed_dim=64, units=64)
    rng = np.random.default_rng(0)
    source, decoder_input, label = (rng.integers(1, 300, size=(16, 12)) for _ in range(3))
    weights = numpy(model.attention_weights(source, decoder_input))
    entropy = -(weights * np.log(weights)).sum(-1).mean()
    assert entropy < np.log(12) - 0.01
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        with tf.GradientTape() as tape:
            value = loss(label, model((source, decoder_input)))
        query, output = tape.gradient(
            value, [model.attention.query_kernel, model.output_layer.kernel]
        )
        assert float(tf.norm(query)) > 1e-3 * float(tf.norm(output))
