"""GloVe's model and loss against NumPy transcriptions of the paper's equations."""

import keras
import numpy as np
import pytest

from nlpbook.models import GloVe, GloVeLoss
from nlpbook.pipelines import cooccurrence_matrix, glove_dataset


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def test_prediction_and_loss_are_the_papers():
    glove = GloVe(vocab_size=15, dim=6)
    i, j = np.array([1, 2, 2, 14]), np.array([3, 3, 5, 1])
    glove((i, j))
    rng = np.random.default_rng(0)
    glove.set_weights([rng.normal(size=w.shape).astype("float32") for w in glove.get_weights()])
    W, Wc, b, bc = (numpy(w) for w in glove.get_weights())  # centre, context, biases
    pred = (W[i] * Wc[j]).sum(1) + b[i, 0] + bc[j, 0]
    np.testing.assert_allclose(numpy(glove((i, j))), pred, rtol=1e-5, atol=1e-6)
    x = np.array([0.5, 3.0, 150.0, 100.0])
    f = np.minimum(1, (x / 100) ** 0.75)
    expected = (f * (pred - np.log(x)) ** 2).mean()
    assert float(GloVeLoss()(x, glove((i, j)))) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(glove.vectors, W + Wc, rtol=1e-6)


def test_training_fits_log_counts_and_groups_topics():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    topics = [np.arange(1, 9), np.arange(9, 17)]
    sentences = [rng.choice(topics[k % 2], 15).tolist() for k in range(400)]
    X = cooccurrence_matrix(sentences, 17, window=5)
    glove = GloVe(vocab_size=17, dim=8)
    glove.compile(keras.optimizers.Adagrad(0.2), GloVeLoss(x_max=10.0))
    history = glove.fit(glove_dataset(X, batch_size=32), epochs=20, verbose=0).history["loss"]
    assert history[-1] < 0.05 * history[0]
    v = glove.vectors[1:]
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = v @ v.T
    off = ~np.eye(8, dtype=bool)
    assert np.r_[cos[:8, :8][off], cos[8:, 8:][off]].mean() > cos[:8, 8:].mean() + 0.5


def test_config_round_trip_and_errors(tmp_path):
    glove = GloVe(vocab_size=9, dim=3)
    x = (np.array([1, 2]), np.array([3, 4]))
    glove(x)
    path = tmp_path / "glove.keras"
    glove.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(numpy(loaded(x)), numpy(glove(x)))
    assert GloVeLoss.from_config(GloVeLoss(x_max=50.0).get_config()).x_max == 50.0
    with pytest.raises(ValueError, match="dim"):
        GloVe(vocab_size=9, dim=0)
    with pytest.raises(ValueError, match="x_max"):
        GloVeLoss(x_max=0)
    with pytest.raises(ValueError, match="shape"):
        glove((np.array([[1]]), np.array([[2]])))
