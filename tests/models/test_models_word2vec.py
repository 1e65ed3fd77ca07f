"""SkipGram and CBOW against NumPy transcriptions of word2vec's negative-sampling objective."""

import keras
import numpy as np
import pytest

from nlpbook.models.word2vec import CBOW, SkipGram
from nlpbook.pipelines import word2vec_dataset


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def random_weights(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return [numpy(w) for w in model.get_weights()]


def test_skipgram_scores_and_loss_are_word2vecs():
    sg = SkipGram(vocab_size=12, dim=5)
    centres, candidates = np.array([1, 4, 4]), np.array([[2, 7, 9], [3, 3, 11], [5, 1, 2]])
    sg((centres, candidates))
    V, U = random_weights(sg)  # words (input vectors), contexts (output vectors)
    expected = np.einsum("bd,bkd->bk", V[centres], U[candidates])
    np.testing.assert_allclose(numpy(sg((centres, candidates))), expected, rtol=1e-5, atol=1e-6)
    # binary cross-entropy from logits = -[log σ(u_o·v) + Σ log σ(-u_n·v)] / (1 + k)
    labels = np.zeros((3, 3))
    labels[:, 0] = 1
    bce = keras.losses.BinaryCrossentropy(from_logits=True)(labels, sg((centres, candidates)))

    def log_sigmoid(x):
        return -np.log1p(np.exp(-x))

    objective = log_sigmoid(expected[:, 0]) + log_sigmoid(-expected[:, 1:]).sum(axis=1)
    assert float(bce) == pytest.approx(-objective.mean() / 3, rel=1e-5)


def test_cbow_averages_the_unpadded_context_vectors():
    cbow = CBOW(vocab_size=12, dim=5)
    contexts = np.array([[1, 2, 0, 0], [3, 4, 5, 6], [7, 0, 0, 0]])
    candidates = np.array([[8, 9], [10, 11], [1, 2]])
    cbow((contexts, candidates))
    V, U = random_weights(cbow, seed=1)
    h = np.stack([V[[t for t in row if t]].mean(axis=0) for row in contexts])
    expected = np.einsum("bd,bkd->bk", h, U[candidates])
    np.testing.assert_allclose(numpy(cbow((contexts, candidates))), expected, rtol=1e-5, atol=1e-6)


def test_initialisation_follows_the_c_code():
    sg = SkipGram(vocab_size=1000, dim=50)
    sg((np.array([1]), np.array([[1, 2]])))
    words, contexts = (numpy(w) for w in sg.get_weights())
    assert np.all(np.abs(words) <= 0.5 / 50) and words.std() > 0.003
    assert np.all(contexts == 0)
    np.testing.assert_array_equal(sg.vectors, words.astype("float32"))


@pytest.mark.parametrize("cls,mode", [(SkipGram, "skipgram"), (CBOW, "cbow")])
def test_training_separates_two_topics(cls, mode):
    """Words of two disjoint topics: after training, same-topic cosines beat cross-topic."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    topics = [np.arange(1, 11), np.arange(11, 21)]
    sentences = [rng.choice(topics[i % 2], 12).tolist() for i in range(600)]
    counts = np.r_[0, np.ones(20) * 100]
    ds = word2vec_dataset(sentences, counts, mode=mode, window=3, num_negatives=5,
                          sample=None, batch_size=256)  # fmt: skip
    model = cls(vocab_size=21, dim=16)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=3, verbose=0).history["loss"]
    # output vectors start at zero: every score 0, loss ln 2 = 0.693 before training
    assert history[-1] < 0.5
    v = model.vectors[1:]
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = v @ v.T
    same = np.r_[cos[:10, :10][~np.eye(10, dtype=bool)], cos[10:, 10:][~np.eye(10, dtype=bool)]]
    across = cos[:10, 10:].ravel()
    assert same.mean() > across.mean() + 0.5


@pytest.mark.parametrize("cls", [SkipGram, CBOW])
def test_config_and_keras_file_round_trip(cls, tmp_path):
    model = cls(vocab_size=9, dim=3)
    x = (np.array([1, 2]), np.array([[3, 4], [5, 6]]))
    if cls is CBOW:
        x = (np.array([[1, 2], [3, 0]]), x[1])
    model(x)
    random_weights(model)
    again = cls.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    path = tmp_path / "w2v.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), rtol=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="vocab_size"):
        SkipGram(vocab_size=1)
    with pytest.raises(ValueError, match="dim"):
        CBOW(vocab_size=5, dim=0)
    sg = SkipGram(vocab_size=5, dim=2)
    with pytest.raises(ValueError, match="centres"):
        sg((np.array([[1]]), np.array([[1, 2]])))
    with pytest.raises(ValueError, match="candidates"):
        sg((np.array([1]), np.array([1, 2])))


def gradients(model, x, labels):
    """Gradients of the summed cross-entropy w.r.t. (words, contexts), dense, float64."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        scores = model(x, training=True)
        loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")(labels, scores)
    return [numpy(tf.convert_to_tensor(g)) for g in tape.gradient(loss, model.trainable_weights)]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
@pytest.mark.parametrize("repeats,power", [("sum", 0.0), ("sqrt", 0.5), ("mean", 1.0)])
def test_repeated_rows_get_the_scaled_sum_of_their_gradients(repeats, power):
    # word 4 is a centre twice; word 3 is a candidate three times, word 2 twice
    centres, candidates = np.array([1, 4, 4]), np.array([[2, 7, 9], [3, 3, 11], [5, 3, 2]])
    labels = np.zeros((3, 3), "float32")
    labels[:, 0] = 1
    sg = SkipGram(vocab_size=12, dim=5, repeats=repeats)
    sg((centres, candidates))
    V, U = random_weights(sg)
    # the scores do not change, in training or not
    plain = numpy(sg((centres, candidates)))
    np.testing.assert_array_equal(numpy(sg((centres, candidates), training=True)), plain)
    # NumPy: each example's gradient, summed into its rows, divided by count ** power
    # d loss / d score, (batch, 1 + k); Keras' cross-entropy averages an example's 1 + k terms
    g = (1 / (1 + np.exp(-plain)) - labels) / 3
    d_words, d_contexts = np.zeros_like(V), np.zeros_like(U)
    np.add.at(d_words, centres, np.einsum("bk,bkd->bd", g, U[candidates]))
    np.add.at(d_contexts, candidates, g[..., None] * V[centres][:, None, :])
    d_words /= np.maximum(np.bincount(centres, minlength=12), 1)[:, None] ** power
    d_contexts /= np.maximum(np.bincount(candidates.ravel(), minlength=12), 1)[:, None] ** power
    got_words, got_contexts = gradients(sg, (centres, candidates), labels)
    np.testing.assert_allclose(got_words, d_words, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_contexts, d_contexts, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
def test_cbow_counts_only_real_context_slots():
    contexts = np.array([[1, 2, 0, 0], [1, 3, 0, 0], [1, 0, 0, 0]])  # word 1 three times
    candidates = np.array([[4, 5], [4, 6], [7, 4]])
    labels = np.array([[1, 0], [1, 0], [1, 0]], "float32")
    cbow = CBOW(vocab_size=8, dim=3, repeats="mean")
    cbow((contexts, candidates))
    reference = CBOW(vocab_size=8, dim=3)
    reference((contexts, candidates))
    weights = random_weights(cbow, seed=3)
    reference.set_weights([w.astype("float32") for w in weights])
    sums = gradients(reference, (contexts, candidates), labels)
    means = gradients(cbow, (contexts, candidates), labels)
    np.testing.assert_allclose(means[0][1], sums[0][1] / 3, rtol=1e-5)  # not / 9 (padding)
    np.testing.assert_allclose(means[0][2:4], sums[0][2:4], rtol=1e-5)
    np.testing.assert_array_equal(means[0][0], 0.0)  # padding: no gradient
    np.testing.assert_allclose(means[1][4], sums[1][4] / 3, rtol=1e-5)


def test_plain_sgd_with_sqrt_repeats_trains_where_summed_gradients_diverge():
    """Many repeats per batch: the summed step of a frequent word overshoots; / √n does not."""
    rng = np.random.default_rng(0)
    topics = [np.arange(1, 11), np.arange(11, 21)]
    sentences = [rng.choice(topics[i % 2], 12).tolist() for i in range(600)]
    counts = np.r_[0, np.ones(20) * 100]
    losses = {}
    for repeats in ("sum", "sqrt"):
        keras.utils.set_random_seed(0)
        ds = word2vec_dataset(sentences, counts, window=3, num_negatives=5, sample=None,
                              batch_size=2048, seed=0)  # fmt: skip
        model = SkipGram(vocab_size=21, dim=16, repeats=repeats)
        loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
        model.compile(keras.optimizers.SGD(0.5), loss)
        losses[repeats] = model.fit(ds, epochs=3, verbose=0).history["loss"][-1] / 2048
        if repeats == "sqrt":
            v = model.vectors[1:] / np.linalg.norm(model.vectors[1:], axis=1, keepdims=True)
            cos = v @ v.T
            assert cos[:10, :10].mean() > cos[:10, 10:].mean() + 0.5
    assert not losses["sum"] < 0.6  # NaN or far from trained (each of 10 words ~200 times a batch)
    assert losses["sqrt"] < 0.5


def test_repeats_is_checked_and_kept_in_the_config():
    with pytest.raises(ValueError, match="repeats"):
        SkipGram(vocab_size=5, repeats="max")
    config = CBOW(vocab_size=5, repeats="sqrt").get_config()
    assert config["repeats"] == "sqrt" and CBOW.from_config(config).repeats == "sqrt"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
@pytest.mark.parametrize("jit_compile", [False, True])
def test_one_sgd_step_moves_each_used_row_by_its_scaled_gradient(jit_compile):
    """Keras' SGD (on TensorFlow a scatter of IndexedSlices) gives word2vec's update, rows
    used twice included; rows the batch does not use stay put."""
    import tensorflow as tf

    centres, candidates = np.array([1, 4, 4]), np.array([[2, 7, 9], [3, 3, 11], [5, 3, 2]])
    labels = np.zeros((3, 3), "float32")
    labels[:, 0] = 1
    sg = SkipGram(vocab_size=12, dim=5, repeats="sqrt")
    sg((centres, candidates))
    V, U = random_weights(sg, seed=2)
    expected_grads = gradients(sg, (centres, candidates), labels)
    loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    sg.compile(keras.optimizers.SGD(0.1), loss, jit_compile=jit_compile)
    sg.fit(tf.data.Dataset.from_tensors(((centres, candidates), labels)), verbose=0)
    words, contexts = (numpy(w) for w in sg.get_weights())
    np.testing.assert_allclose(words, V - 0.1 * expected_grads[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(contexts, U - 0.1 * expected_grads[1], rtol=1e-5, atol=1e-6)
    unused = [0, 6, 8, 10]
    np.testing.assert_array_equal(words[unused], V[unused])
    np.testing.assert_array_equal(contexts[[0, 4, 6, 8, 10]], U[[0, 4, 6, 8, 10]])
