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
