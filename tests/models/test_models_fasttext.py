"""FastText's hash, n-grams and vectors equal gensim's; the model trains skip-gram style."""

import keras
import numpy as np
import pytest
from gensim.models import FastText
from gensim.models.fasttext import ft_hash_bytes, ft_ngram_hashes

from nlpbook.models.fasttext import (
    FastTextSkipGram,
    char_ngrams,
    fasttext_hash,
    ngram_buckets,
    subword_table,
)
from nlpbook.pipelines import word2vec_dataset

WORDS = ["where", "here", "a", "", "日本語", "naïve", "aaaaaa", "x" * 12]


@pytest.mark.parametrize("piece", ["<wh", "her", "é", "日本", "<naïve>", "", "\x7f\x80"])
def test_hash_equals_fasttexts(piece):
    assert fasttext_hash(piece) == ft_hash_bytes(piece.encode("utf-8"))


def test_ngrams_of_where():
    assert char_ngrams("where", 3, 3) == ["<wh", "whe", "her", "ere", "re>"]
    assert "<here>" in char_ngrams("here")  # the whole word is one of its n-grams if short
    assert "<where>" not in char_ngrams("where")  # 7 characters: longer than max_n
    assert char_ngrams("a", 1, 2) == ["<a", "a", "a>"]  # "<" and ">" alone are not n-grams


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize("min_n,max_n", [(3, 6), (2, 4)])
def test_bucket_ids_equal_gensims(word, min_n, max_n):
    assert ngram_buckets(word, min_n, max_n, 1000) == ft_ngram_hashes(word, min_n, max_n, 1000)


def test_vectors_equal_gensims_with_the_same_weights():
    rng = np.random.default_rng(0)
    vocab = ["the", "cat", "sat", "on", "mat", "where", "here", "there", "日本語"]
    sentences = [rng.choice(vocab, 8).tolist() for _ in range(50)]
    ref = FastText(sentences, vector_size=8, min_count=1, bucket=500, epochs=1, workers=1,
                   seed=0)  # fmt: skip
    words = ["", *ref.wv.index_to_key]  # id 0 pads
    table = subword_table(words, buckets=500)
    ours = FastTextSkipGram(len(words), dim=8, buckets=500, max_ngrams=table.shape[1])
    ours.set_subwords(table)
    ours.words.embeddings.assign(np.r_[np.zeros((1, 8)), ref.wv.vectors_vocab].astype("float32"))
    ours.ngrams.embeddings.assign(ref.wv.vectors_ngrams.astype("float32"))
    np.testing.assert_allclose(ours.vectors[1:], ref.wv.vectors, rtol=1e-5, atol=1e-6)
    for oov in ("wherever", "catt", "日本"):
        assert oov not in ref.wv.key_to_index
        np.testing.assert_allclose(ours.oov_vector(oov), ref.wv[oov], rtol=1e-5, atol=1e-6)


def test_training_gives_misspellings_nearby_vectors():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    topics = [["running", "runner", "runs", "jogging"], ["banana", "bananas", "fruit", "apple"]]
    words = ["", *topics[0], *topics[1]]
    ids = {w: i for i, w in enumerate(words)}
    sentences = [[ids[w] for w in rng.choice(topics[k % 2], 10)] for k in range(400)]
    table = subword_table(words, buckets=2000)
    model = FastTextSkipGram(len(words), dim=16, buckets=2000, max_ngrams=table.shape[1])
    model.set_subwords(table)
    model.compile(keras.optimizers.Adam(0.02), keras.losses.BinaryCrossentropy(from_logits=True))
    ds = word2vec_dataset(sentences, np.r_[0, np.ones(8)], window=3, sample=None, batch_size=256)
    model.fit(ds, epochs=3, verbose=0)

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    typo = model.oov_vector("bananna")  # never seen: built from n-grams alone
    v = model.vectors
    assert cos(typo, v[ids["banana"]]) > cos(typo, v[ids["running"]]) + 0.3


def test_config_round_trip_and_errors(tmp_path):
    words = ["", "where", "here"]
    table = subword_table(words, buckets=50)
    model = FastTextSkipGram(3, dim=4, buckets=50, max_ngrams=20)
    model.set_subwords(table)
    x = (np.array([1, 2]), np.array([[2, 1], [1, 2]]))
    path = tmp_path / "ft.keras"
    model(x)
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )
    np.testing.assert_array_equal(loaded.vectors, model.vectors)
    with pytest.raises(ValueError, match="subword table"):
        model.set_subwords(table[:2])
    with pytest.raises(ValueError, match="buckets"):
        model.set_subwords(np.full((3, 2), 50))
    with pytest.raises(ValueError, match="min_n"):
        char_ngrams("x", 4, 3)


def fasttext_gradients(table, x, seed, **kwargs):
    """Scores and the gradients of the words and n-gram tables (TensorFlow), random weights."""
    import tensorflow as tf

    labels = np.zeros(x[1].shape, "float32")
    labels[:, 0] = 1
    ft = FastTextSkipGram(len(table), dim=4, max_ngrams=table.shape[1], **kwargs)
    ft.set_subwords(table)
    ft(x)
    rng = np.random.default_rng(seed)
    for w in (ft.words.embeddings, ft.ngrams.embeddings, ft.contexts.embeddings):
        w.assign(rng.normal(size=w.shape).astype("float32"))
    with tf.GradientTape() as tape:
        scores = ft(x, training=True)
        loss = keras.losses.BinaryCrossentropy(from_logits=True)(labels, scores)
    np.testing.assert_array_equal(np.asarray(ft(x)), np.asarray(scores))  # training: same value
    grads = tape.gradient(loss, [ft.words.embeddings, ft.ngrams.embeddings])
    return (np.asarray(scores), *(np.asarray(tf.convert_to_tensor(g)) for g in grads))


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
def test_repeats_count_the_ngrams_each_word_really_has():
    # word 1 has buckets 0 and 2, word 2 has bucket 2 only: bucket 2 is used twice, bucket 0
    # once (the -1 slots of word 2 must not count as uses of bucket 0)
    table = np.array([[-1, -1], [0, 2], [2, -1]])
    x = (np.array([1, 2]), np.array([[2, 1], [1, 2]]))
    _, _, summed = fasttext_gradients(table, x, 0, buckets=3, repeats="sum")
    _, _, mean = fasttext_gradients(table, x, 0, buckets=3, repeats="mean")
    np.testing.assert_allclose(mean[2], summed[2] / 2, rtol=1e-5)
    np.testing.assert_allclose(mean[0], summed[0], rtol=1e-5)
    assert np.abs(summed[0]).max() > 1e-4


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="GradientTape")
def test_whole_row_gradient_gives_every_row_fasttexts_update():
    """fastText and gensim add the whole gradient of h to the word's row and to each of its
    n-gram rows; autodiff of the mean gives each 1 / (1 + n) of it."""
    table = np.array([[-1, -1, -1], [0, 2, 5], [2, -1, -1]])  # word 1: 3 n-grams, word 2: 1
    x = (np.array([1, 2]), np.array([[2, 1], [1, 2]]))
    scores_mean, words_mean, ngrams_mean = fasttext_gradients(table, x, 1, buckets=6)
    scores_whole, words_whole, ngrams_whole = fasttext_gradients(
        table, x, 1, buckets=6, row_gradient="whole"
    )
    np.testing.assert_array_equal(scores_whole, scores_mean)  # same scores
    np.testing.assert_allclose(words_whole[1], 4 * words_mean[1], rtol=1e-5)  # 1 + 3 rows
    np.testing.assert_allclose(words_whole[2], 2 * words_mean[2], rtol=1e-5)  # 1 + 1
    np.testing.assert_allclose(ngrams_whole[[0, 5]], 4 * ngrams_mean[[0, 5]], rtol=1e-5)
    # bucket 2 belongs to both words: each word's share scaled by its own 1 + n
    np.testing.assert_allclose(ngrams_whole[2], words_whole[1] + words_whole[2], rtol=1e-5)
    with pytest.raises(ValueError, match="row_gradient"):
        FastTextSkipGram(3, dim=4, buckets=6, row_gradient="sum")
