"""The taggers: they learn a toy tagging task, ignore padding, save and reload, and their
losses equal the CRF's negative log-likelihood and a NumPy masked cross-entropy."""

import keras
import numpy as np
import pytest

from nlpbook.models.tagger import Tagger, set_word_vectors, tag_names

TAGS = ["O", "B-X", "I-X", "B-Y", "I-Y"]


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def toy(n=400, seed=0, width=10):
    """Words 2-6 are X, 7-9 are Y; a run of them is one entity (B- then I-); the rest O."""
    rng = np.random.default_rng(seed)
    words = np.zeros((n, width), "int32")
    tags = np.zeros((n, width), "int32")
    for row in range(n):
        length = int(rng.integers(3, width + 1))
        words[row, :length] = rng.integers(2, 20, length)
        previous = None
        for t in range(length):
            w = words[row, t]
            kind = "X" if 2 <= w <= 6 else "Y" if 7 <= w <= 9 else None
            if kind is None:
                tags[row, t] = 0
            else:
                tags[row, t] = TAGS.index(("I-" if previous == kind else "B-") + kind)
            previous = kind
    chars = np.where(words[..., None] > 0, (words[..., None] % 5) + 1, 0).repeat(3, axis=-1)
    return {"words": words, "chars": chars.astype("int32")}, tags


def make(crf=True, **kwargs):
    keras.utils.set_random_seed(0)
    options = dict(vocab_size=20, num_tags=len(TAGS), word_dim=16, hidden_size=16,
                   char_vocab_size=7, char_dim=4, char_hidden_size=4, crf=crf, dropout=0.0)  # fmt: skip
    options.update(kwargs)
    return Tagger(**options)


@pytest.mark.parametrize("crf", [True, False])
def test_learns_the_toy_task(crf):
    x, y = toy()
    tagger = make(crf)
    tagger.compile(optimizer=keras.optimizers.Adam(0.02))
    tagger.fit(x, y, batch_size=32, epochs=8, verbose=0)
    xt, yt = toy(100, seed=1)
    predicted = tagger.tag(xt)
    real = xt["words"] != 0
    accuracy = np.mean(np.concatenate(predicted) == yt[real])
    assert accuracy > 0.97, accuracy  # the majority tag O alone: about 0.6


def test_losses_equal_their_references():
    x, y = toy(6, seed=2)
    crf_tagger = make(True, char_vocab_size=0)
    emissions = crf_tagger(x)
    mask = x["words"] != 0
    want = -np.mean(numpy(crf_tagger.crf_layer.log_likelihood(emissions, y, mask)))
    got = crf_tagger.compute_loss(x, y, emissions)
    assert float(got) == pytest.approx(want, abs=1e-5)
    soft = make(False, char_vocab_size=0)
    logits = numpy(soft(x))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    token = -np.take_along_axis(log_p, y[..., None], -1)[..., 0]
    assert float(soft.compute_loss(x, y, soft(x))) == pytest.approx(token[mask].mean(), abs=1e-5)


@pytest.mark.parametrize("char_encoder", ["lstm", "cnn"])
def test_padding_does_not_change_the_tags(char_encoder):
    x, _ = toy(8, seed=3)
    tagger = make(True, char_encoder=char_encoder, bigram_vocab_size=30, bigram_dim=3)
    x["bigrams"] = np.where(x["words"] > 0, x["words"] + 1, 0).astype("int32")
    wider = {k: np.concatenate([v, np.zeros_like(v[:, :4])], axis=1) for k, v in x.items()}
    a, b = tagger(x), tagger(wider)
    mask = x["words"] != 0
    np.testing.assert_allclose(numpy(a)[mask], numpy(b)[:, :10][mask], atol=1e-5)
    assert [t.tolist() for t in tagger.tag(x)] == [t.tolist() for t in tagger.tag(wider)]


def test_save_and_reload(tmp_path):
    x, y = toy(40)
    tagger = make(True)
    tagger.compile(optimizer="adam")
    tagger.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "tagger.keras"
    tagger.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(numpy(again(x)), numpy(tagger(x)), atol=1e-6)
    np.testing.assert_array_equal(numpy(again.crf_layer.transitions),
                                  numpy(tagger.crf_layer.transitions))  # fmt: skip
    assert [t.tolist() for t in again.tag(x)] == [t.tolist() for t in tagger.tag(x)]


def test_mixed_bfloat16_keeps_scores_in_float32():
    x, y = toy(40)
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        tagger = make(True)
        emissions = tagger(x)
        assert keras.backend.standardize_dtype(emissions.dtype) == "float32"
        tagger.compile(optimizer="adam")
        history = tagger.fit(x, y, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][-1])
        assert numpy(tagger.crf_layer.transitions).dtype == np.float64  # read as float32 above
        assert keras.backend.standardize_dtype(tagger.crf_layer.transitions.dtype) == "float32"
    finally:
        keras.config.set_dtype_policy(policy)


def test_word_vectors_and_names():
    tagger = make(True, char_vocab_size=0)
    matrix = np.random.default_rng(0).normal(size=(20, 16)).astype("float32")
    set_word_vectors(tagger, matrix)
    np.testing.assert_array_equal(numpy(tagger.word_embedding.embeddings), matrix)
    with pytest.raises(ValueError, match=r"shape \(20, 16\)"):
        set_word_vectors(tagger, matrix[:, :8])
    assert tag_names([np.array([1, 2, 0])], TAGS) == [["B-X", "I-X", "O"]]


def test_errors():
    with pytest.raises(ValueError, match="char_encoder must be"):
        make(True, char_encoder="gru")
    with pytest.raises(ValueError, match="num_tags"):
        make(True, num_tags=0)
    tagger = make(True)
    with pytest.raises(ValueError, match='reads "chars"'):
        tagger({"words": np.ones((1, 3), "int32")})
    with pytest.raises(ValueError, match='"words" must be'):
        tagger({"words": np.ones((3,), "int32"), "chars": np.ones((3, 2), "int32")})
