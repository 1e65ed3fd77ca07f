"""The four classifier families: equations against NumPy/Keras references, masking, learning,
saving, and the errors they raise."""

import collections
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.models import (
    BagOfNgramsClassifier,
    KimCNN,
    RecurrentClassifier,
    TransformerClassifier,
    pretrained_embedding_matrix,
    string_input_classifier,
)
from nlpbook.testing import run_layer_test

VOCAB = 40


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


@pytest.fixture
def ids():
    """Four texts of lengths 7, 4, 1 and 2, padded on the right with 0."""
    rng = np.random.default_rng(0)
    batch = rng.integers(1, VOCAB, (4, 7)).astype("int32")
    for row, length in enumerate((7, 4, 1, 2)):
        batch[row, length:] = 0
    return batch


def lengths(batch):
    return (batch > 0).sum(axis=1)


def small(family):
    """One small model of each family (and both recurrent layers)."""
    return {
        "bag": lambda: BagOfNgramsClassifier(VOCAB, max_bigrams=30),
        "cnn": lambda: KimCNN(VOCAB, embedding_dim=6, filter_sizes=(2, 3), num_filters=5),
        "lstm": lambda: RecurrentClassifier(VOCAB, embedding_dim=6, units=4),
        "gru": lambda: RecurrentClassifier(VOCAB, embedding_dim=6, units=4, rnn_layer="gru"),
        "transformer": lambda: TransformerClassifier(
            VOCAB, max_length=12, embed_dim=8, num_heads=2, ff_dim=16
        ),
        "transformer_pre_ln": lambda: TransformerClassifier(
            VOCAB,
            max_length=12,
            embed_dim=8,
            num_heads=2,
            ff_dim=16,
            num_layers=2,
            positions="sinusoidal",
            norm_first=True,
        ),  # fmt: skip
    }[family]()


FAMILIES = ["bag", "cnn", "lstm", "gru", "transformer", "transformer_pre_ln"]


@pytest.mark.parametrize("family", FAMILIES)
def test_padding_never_changes_a_prediction(family, ids):
    model = small(family)
    if family == "bag":
        model.adapt(ids)
    logits = numpy(model(ids))
    assert logits.shape == (4, 2)
    more_padding = np.pad(ids, [(0, 0), (0, 5)])
    np.testing.assert_allclose(numpy(model(more_padding)), logits, atol=1e-6)
    # each text alone, without any padding, gets the logits it got inside the batch
    for row, n in enumerate(lengths(ids)):
        alone = numpy(model(ids[row : row + 1, :n]))
        np.testing.assert_allclose(alone[0], logits[row], atol=1e-5, err_msg=f"row {row}")
    # a real token does matter (the equality above is not a constant output)
    changed = ids.copy()
    changed[0, 1] = changed[0, 1] % (VOCAB - 1) + 1
    assert np.abs(numpy(model(changed))[0] - logits[0]).max() > 1e-6


# --- bag of n-grams --------------------------------------------------------------------------


def tfidf_numpy(train, batch, vocab_size):
    """TF-IDF of unigrams and all bigrams, unit L2 norm, as dicts n-gram -> value."""

    def grams(row):
        row = [int(t) for t in row]
        pairs = zip(row[:-1], row[1:], strict=True)
        return [(t,) for t in row if t] + [(a, b) for a, b in pairs if a and b]

    df = collections.Counter(g for row in train for g in set(grams(row)))
    out = []
    for row in batch:
        tf = collections.Counter(grams(row))
        x = {g: c * math.log(1 + len(train) / (1 + df[g])) for g, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in x.values()))
        out.append({g: v / norm for g, v in x.items()})
    return out


def test_bag_of_ngrams_features_equal_a_numpy_tfidf(ids):
    # padding inside a text (row 1) splits it: no bigram spans the hole
    train = np.concatenate([ids, [[3, 3, 5, 0, 5, 3, 3]]]).astype("int32")
    model = BagOfNgramsClassifier(VOCAB, max_bigrams=100)  # room for every bigram
    model.adapt(train)
    names = model.feature_ngrams()
    got = numpy(model.features(train))
    for row, expected in enumerate(tfidf_numpy(train, train, VOCAB)):
        as_dict = {names[j]: v for j, v in enumerate(got[row]) if v}
        assert as_dict.keys() == expected.keys(), row
        for g, v in expected.items():
            assert as_dict[g] == pytest.approx(v, rel=1e-5), (row, g)


def test_bag_of_ngrams_idf_equals_text_vectorization():
    # Keras' TextVectorization(output_mode="tf_idf") on the same documents is the reference
    docs = [[2, 3, 4, 2], [3, 4], [5, 2, 3], [6]]
    texts = [" ".join(f"w{t}" for t in d) for d in docs]
    vectorize = keras.layers.TextVectorization(
        standardize=None, ngrams=2, output_mode="tf_idf", max_tokens=None
    )
    vectorize.adapt(texts)
    reference = numpy(vectorize(texts))
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    columns = {t: j for j, t in enumerate(vectorize.get_vocabulary())}
    model = BagOfNgramsClassifier(8, max_bigrams=20)
    batch = np.array([d + [0] * (4 - len(d)) for d in docs], "int32")
    model.adapt(batch)
    ours = numpy(model.features(batch))
    for j, gram in enumerate(model.feature_ngrams()):
        name = " ".join(f"w{t}" for t in gram)
        if name in columns:
            np.testing.assert_allclose(ours[:, j], reference[:, columns[name]], rtol=1e-5)
        else:
            assert not ours[:, j].any()  # padding, unseen ids and empty bigram slots


def test_bag_of_ngrams_keeps_the_bigrams_in_most_documents():
    docs = np.array([[2, 3, 4], [2, 3, 5], [2, 3, 4], [6, 7, 0]], "int32")
    model = BagOfNgramsClassifier(10, max_bigrams=2)
    model.adapt(docs)
    # (2, 3) is in 3 documents, (3, 4) in 2; (3, 5) and (6, 7) in one each
    assert model.feature_ngrams()[10:] == [(2, 3), (3, 4)]
    feats = numpy(model.features(np.array([[3, 5, 6, 7]], "int32")))
    assert not feats[0, 10:].any()  # neither bigram of this text was kept


def test_bag_of_ngrams_adapts_from_a_dataset_of_batches(ids):
    labels = np.zeros(len(ids), "int32")
    ds = tf.data.Dataset.from_tensor_slices((ids, labels)).batch(3)
    from_ds, from_array = BagOfNgramsClassifier(VOCAB), BagOfNgramsClassifier(VOCAB)
    from_ds.adapt(ds)
    from_array.adapt(ids)
    np.testing.assert_array_equal(numpy(from_ds.idf), numpy(from_array.idf))
    np.testing.assert_array_equal(numpy(from_ds.bigram_keys), numpy(from_array.bigram_keys))


# --- Kim's CNN -------------------------------------------------------------------------------


def kim_numpy(model: KimCNN, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kim's equations, one sentence at a time: h-1 zero vectors each side, c_i, max, ReLU."""
    table = numpy(model.embedding.embeddings)
    pooled = []
    for row in batch:
        x = table[row[row > 0]]  # (n, dim): the real words only
        features = []
        for h, conv in zip(model.filter_sizes, model.convs, strict=True):
            kernel, bias = numpy(conv.kernel), numpy(conv.bias)  # (h, dim, filters)
            xp = np.pad(x, [(h - 1, h - 1), (0, 0)])
            c = [
                np.einsum("hd,hdf->f", xp[i : i + h], kernel) + bias for i in range(len(xp) - h + 1)
            ]
            features.append(np.maximum(np.max(c, axis=0), 0))
        pooled.append(np.concatenate(features))
    pooled = np.array(pooled)
    return pooled, pooled @ numpy(model.output_layer.kernel) + numpy(model.output_layer.bias)


def test_kim_cnn_equals_its_equations(ids):
    model = small("cnn")
    logits = numpy(model(ids))
    pooled_ref, logits_ref = kim_numpy(model, ids)
    np.testing.assert_allclose(numpy(model.pooled_features(ids)), pooled_ref, atol=1e-5)
    np.testing.assert_allclose(logits, logits_ref, atol=1e-5)


def test_kim_cnn_static_embeddings_stay_fixed(ids):
    matrix = np.random.default_rng(1).normal(size=(VOCAB, 6)).astype("float32")
    static = KimCNN(VOCAB, embedding_dim=6, num_filters=3, embeddings_trainable=False)
    static.set_embeddings(matrix)
    static.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    static.fit(ids, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    np.testing.assert_array_equal(numpy(static.embedding.embeddings), matrix)
    assert static.embedding.embeddings.path not in [w.path for w in static.trainable_weights]
    # Kim's constraint: every output weight vector has L2 norm <= 3 after each update
    assert np.linalg.norm(numpy(static.output_layer.kernel), axis=0).max() <= 3 + 1e-5


def test_recurrent_classifier_takes_pretrained_vectors_and_fine_tunes_them(ids):
    matrix = np.random.default_rng(2).normal(size=(VOCAB, 6)).astype("float32")
    model = RecurrentClassifier(VOCAB, embedding_dim=6, units=3)
    model.set_embeddings(matrix)  # before the model is built
    np.testing.assert_array_equal(numpy(model.embedding(ids)), matrix[ids])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(ids, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    moved = np.abs(numpy(model.embedding.embeddings) - matrix).max(axis=1)
    seen = np.unique(ids[ids > 0])
    unseen = np.setdiff1d(np.arange(1, VOCAB), seen)
    assert moved[seen].min() > 0  # non-static: every vector read is tuned
    assert moved[unseen].max() == 0 and moved[0] == 0  # no gradient reaches the others, nor padding
    frozen = RecurrentClassifier(VOCAB, embedding_dim=6, units=3)
    frozen.set_embeddings(matrix)
    frozen.embedding.trainable = False
    frozen.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    frozen.fit(ids, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    np.testing.assert_array_equal(numpy(frozen.embedding.embeddings), matrix)
    with pytest.raises(ValueError, match=rf"shape \({VOCAB}, 6\)"):
        model.set_embeddings(matrix[:-1])


# --- recurrent ---------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="nlpbook_tests")
def lstm_from_cell(units, **kwargs):
    """A factory as chapter 06 will give one: a cell wrapped in ``keras.layers.RNN``."""
    return keras.layers.RNN(keras.layers.LSTMCell(units), **kwargs)


def test_recurrent_factory_equals_the_built_in_layer_and_saves(ids, tmp_path):
    built_in = small("lstm")
    factory = RecurrentClassifier(VOCAB, embedding_dim=6, units=4, rnn_layer=lstm_from_cell)
    built_in(ids), factory(ids)
    factory.set_weights(built_in.get_weights())
    np.testing.assert_allclose(numpy(factory(ids)), numpy(built_in(ids)), atol=1e-6)
    path = tmp_path / "rnn.keras"
    factory.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.rnn_layer is lstm_from_cell
    np.testing.assert_array_equal(numpy(loaded(ids)), numpy(factory(ids)))


@pytest.mark.parametrize("rnn_layer", ["lstm", "gru", "simple_rnn"])
def test_chapter_6_cells_equal_the_built_in_layers_and_save(rnn_layer, ids, tmp_path):
    built_in = RecurrentClassifier(VOCAB, embedding_dim=6, units=4, rnn_layer=rnn_layer)
    ours = RecurrentClassifier(
        VOCAB, embedding_dim=6, units=4, rnn_layer=rnn_layer, cells="nlpbook"
    )
    built_in(ids), ours(ids)
    assert "nlpbook" in type(ours.rnn.forward_layer.cell).__module__
    ours.set_weights(built_in.get_weights())
    np.testing.assert_allclose(numpy(ours(ids)), numpy(built_in(ids)), atol=1e-6)
    path = tmp_path / "ours.keras"
    ours.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert loaded.cells == "nlpbook"
    np.testing.assert_array_equal(numpy(loaded(ids)), numpy(ours(ids)))


def test_bidirectional_reads_both_directions(ids):
    model = small("lstm")
    model(ids)
    forward, backward = model.rnn.forward_layer, model.rnn.backward_layer
    x = model.embedding(ids)
    mask = ids > 0
    h = numpy(model.rnn(x, mask=mask))
    np.testing.assert_allclose(h[:, :4], numpy(forward(x, mask=mask)), atol=1e-6)
    # the backward state: the backward layer (go_backwards) reading each text without padding
    assert backward.go_backwards
    for row, n in enumerate(lengths(ids)):
        got = numpy(backward(x[row : row + 1, :n]))
        np.testing.assert_allclose(h[row, 4:], got[0], atol=1e-5, err_msg=f"row {row}")


# --- Transformer -------------------------------------------------------------------------------


def test_transformer_uses_positions_and_rejects_long_inputs(ids):
    model = small("transformer")
    logits = numpy(model(ids))
    swapped = ids.copy()
    swapped[0, [0, 1]] = swapped[0, [1, 0]]  # same bag of words, another order
    assert np.abs(numpy(model(swapped))[0] - logits[0]).max() > 1e-6
    with pytest.raises(ValueError, match="max_length"):
        model(np.ones((1, 13), "int32"))


@pytest.mark.parametrize("family", ["transformer", "transformer_pre_ln"])
def test_transformer_equals_its_parts_by_hand(family, ids):
    """Token + position embeddings, the blocks, (pre-LN) a final norm, the mean over the real
    tokens and the softmax layer, recomputed outside the model with NumPy where it can."""
    model = small(family)
    logits = numpy(model(ids))
    token_table = numpy(model.token_embedding.embeddings)
    if model.positions == "learned":
        position_table = numpy(model.position_embedding.embeddings)[: ids.shape[1]]
    else:  # the formula of Vaswani et al. §3.5: sin on even, cos on odd dimensions
        pos, i = np.arange(ids.shape[1])[:, None], np.arange(8)[None]
        angle = pos / 10000.0 ** (2 * (i // 2) / 8)
        position_table = np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
    x = (token_table[ids] + position_table[None]).astype("float32")
    mask = ids > 0
    for block in model.blocks:
        x = block(x, padding_mask=mask)
    if model.norm_first:
        x = model.final_norm(x)
    x = numpy(x)
    pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    kernel, bias = (numpy(w) for w in model.output_layer.weights)
    np.testing.assert_allclose(logits, pooled @ kernel + bias, atol=1e-5)


def test_transformer_attention_scores(ids):
    model = small("transformer_pre_ln")
    scores = [numpy(w) for w in model.attention_scores(ids)]
    assert [w.shape for w in scores] == [(4, 2, 7, 7)] * 2
    np.testing.assert_allclose(scores[0].sum(axis=-1), 1.0, atol=1e-6)
    padded_keys = ~(ids > 0)[:, None, None, :]  # (batch, 1, 1, key)
    assert np.all(np.broadcast_to(padded_keys, scores[1].shape) <= (scores[1] == 0))
    # the first block's weights are those of the block itself on the embedded input
    x = model.position_embedding(model.token_embedding(ids))
    _, weights = model.blocks[0](x, padding_mask=ids > 0, return_attention_scores=True)
    np.testing.assert_allclose(scores[0], numpy(weights["self_attention"]), atol=1e-6)


# --- contract, learning, saving ---------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (BagOfNgramsClassifier, {"vocab_size": VOCAB, "max_bigrams": 10, "dropout": 0.1}),
        (KimCNN, {"vocab_size": VOCAB, "embedding_dim": 6, "num_filters": 3}),
        (RecurrentClassifier, {"vocab_size": VOCAB, "embedding_dim": 6, "units": 4}),
        (
            TransformerClassifier,
            {"vocab_size": VOCAB, "max_length": 8, "embed_dim": 8, "num_heads": 2, "ff_dim": 8},
        ),
        (
            TransformerClassifier,
            {
                "vocab_size": VOCAB,
                "max_length": 8,
                "embed_dim": 8,
                "num_heads": 2,
                "ff_dim": 8,
                "positions": "sinusoidal",
                "norm_first": True,
            },
        ),  # fmt: skip
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_layer_contract(cls, kwargs, ids):
    run_layer_test(
        cls,
        kwargs,
        ids,
        call_kwargs={"training": False},
        expected_output_shape=(4, 2),
        mixed_output_dtype="float32",  # the softmax head computes in float32
    )


def separable_task(n, seed):
    """Label 1 iff token 2 appears; filler tokens 4.. around it; lengths 3..8."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 8), "int32")
    y = rng.integers(0, 2, n).astype("int32")
    for i in range(n):
        length = rng.integers(3, 9)
        x[i, :length] = rng.integers(4, 20, length)
        x[i, rng.integers(0, length)] = 2 if y[i] else 3
    return x, y


@pytest.mark.parametrize("family", ["bag", "cnn", "gru", "transformer"])
def test_each_family_learns_a_separable_task(family):
    keras.utils.set_random_seed(0)
    x, y = separable_task(256, 0)
    x_test, y_test = separable_task(64, 1)
    model = {
        "bag": lambda: BagOfNgramsClassifier(20, max_bigrams=50),
        "cnn": lambda: KimCNN(20, embedding_dim=8, num_filters=8, dropout=0.0),
        "gru": lambda: RecurrentClassifier(20, embedding_dim=8, units=8, rnn_layer="gru"),
        "transformer": lambda: TransformerClassifier(
            20, max_length=8, embed_dim=16, num_heads=2, ff_dim=16, dropout=0.0
        ),
    }[family]()
    if family == "bag":
        model.adapt(x)
    model.compile(
        keras.optimizers.Adam(0.3 if family == "bag" else 0.02),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=12, verbose=0)
    accuracy = float(np.mean(numpy(model.predict(x_test, verbose=0)).argmax(1) == y_test))
    assert accuracy >= 0.95, accuracy


def test_string_model_round_trip_gives_identical_predictions(tmp_path):
    if keras.backend.backend() != "tensorflow":
        with pytest.raises(RuntimeError, match="TensorFlow backend"):
            string_input_classifier(None, None)
        return
    texts = ["a good film", "a bad film", "good acting", "bad plot", "really good", "so bad"]
    vectorize = keras.layers.TextVectorization()
    vectorize.adapt(texts)
    model = string_input_classifier(vectorize, KimCNN(vectorize.vocabulary_size(), 8, 8))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = np.array([1, 0, 1, 0, 1, 0])
    model.fit(tf.data.Dataset.from_tensor_slices((texts, labels)).batch(3), epochs=2, verbose=0)
    path = tmp_path / "text_classifier.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    new = tf.constant(["good film", "a very bad plot", "unseen words only"])
    np.testing.assert_array_equal(numpy(loaded(new)), numpy(model(new)))
    assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()


# --- pretrained vectors -----------------------------------------------------------------------


def test_pretrained_embedding_matrix():
    words = ["the", "good", "film"]
    vectors = np.arange(12, dtype="float32").reshape(3, 4)
    tokens = ["", "[UNK]", "film", "good", "zzz"]
    matrix, coverage = pretrained_embedding_matrix(tokens, words, vectors, seed=0)
    assert matrix.shape == (5, 4) and matrix.dtype == np.float32
    assert not matrix[0].any()  # padding
    np.testing.assert_array_equal(matrix[2], vectors[2])
    np.testing.assert_array_equal(matrix[3], vectors[1])
    assert coverage == pytest.approx(2 / 4)
    # the random rows share the pretrained variance: U[-a, a] with a = sqrt(3 var)
    a = math.sqrt(3 * vectors.var())
    assert np.abs(matrix[[1, 4]]).max() <= a and np.abs(matrix[[1, 4]]).max() > 0
    with pytest.raises(ValueError, match="len\\(words\\)"):
        pretrained_embedding_matrix(tokens, words[:2], vectors)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: KimCNN(0), "vocab_size"),
        (lambda: KimCNN(10, filter_sizes=[]), "filter_sizes"),
        (lambda: KimCNN(10, filter_sizes=[3, 0]), "filter_sizes"),
        (lambda: KimCNN(10, max_norm=-1), "max_norm"),
        (lambda: KimCNN(10, dropout=1.0), "dropout"),
        (lambda: RecurrentClassifier(10, rnn_layer="transformer"), "rnn_layer"),
        (lambda: RecurrentClassifier(10, rnn_layer=lambda units, **kw: 3), "not a Keras layer"),
        (lambda: RecurrentClassifier(10, cells="cudnn"), "cells"),
        (lambda: RecurrentClassifier(10, rnn_layer=lstm_from_cell, cells="nlpbook"), "factory"),
        (lambda: TransformerClassifier(10, 8, embed_dim=10, num_heads=4), "multiple of num_heads"),
        (lambda: TransformerClassifier(10, 0), "max_length"),
        (lambda: TransformerClassifier(10, 8, positions="rotary"), "positions"),
        (lambda: TransformerClassifier(10, 8, norm_first="yes"), "norm_first"),
        (lambda: BagOfNgramsClassifier(50_000), "int32"),
        (lambda: BagOfNgramsClassifier(10, num_classes=1), "num_classes"),
    ],
)
def test_bad_arguments_are_named(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_inputs_are_named():
    cnn = KimCNN(10, embedding_dim=4, num_filters=2)
    with pytest.raises(ValueError, match="rank 2"):
        cnn(np.ones((2, 3, 1), "int32"))
    with pytest.raises(ValueError, match=r"shape \(10, 4\)"):
        cnn.set_embeddings(np.zeros((9, 4)))
    bag = BagOfNgramsClassifier(10)
    with pytest.raises(ValueError, match="in \\[0, 10\\)"):
        bag.adapt(np.array([[1, 12]]))
    with pytest.raises(ValueError, match="no documents"):
        bag.adapt([])
    if keras.backend.backend() == "tensorflow":
        counts = keras.layers.TextVectorization(output_mode="count")
        with pytest.raises(ValueError, match="output_mode='int'"):
            string_input_classifier(counts, cnn)
