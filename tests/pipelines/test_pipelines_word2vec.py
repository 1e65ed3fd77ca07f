"""word2vec_dataset: windows, subsampling and negatives checked against their definitions."""

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import keep_probabilities, noise_distribution, word2vec_dataset


def collect(ds):
    inputs, candidates, labels = [], [], []
    for (x, c), y in ds:
        inputs.append(x.numpy())
        candidates.append(c.numpy())
        labels.append(y.numpy())
    return np.concatenate(inputs), np.concatenate(candidates), np.concatenate(labels)


@pytest.fixture(scope="module")
def unique_sentences():
    """Sentences whose ids are all different, so an id tells its sentence and position."""
    lengths = [7, 1, 12, 3, 20, 9]
    starts = np.cumsum([1, *lengths[:-1]])
    sentences = [list(range(s, s + n)) for s, n in zip(starts, lengths, strict=True)]
    counts = np.ones(sum(lengths) + 1)
    counts[0] = 0
    where = {t: (i, p) for i, s in enumerate(sentences) for p, t in enumerate(s)}
    return sentences, counts, where


def test_skipgram_pairs_lie_within_the_window_of_one_sentence(unique_sentences):
    sentences, counts, where = unique_sentences
    ds = word2vec_dataset(sentences, counts, window=3, sample=None, batch_size=64)
    centres, candidates, labels = collect(ds)
    distances = []
    for c, o in zip(centres, candidates[:, 0], strict=True):
        (sc, pc), (so, po) = where[int(c)], where[int(o)]
        assert sc == so  # never across a sentence boundary
        distances.append(abs(pc - po))
    assert 1 <= min(distances) and max(distances) <= 3
    assert np.all(labels[:, 0] == 1) and np.all(labels[:, 1:] == 0)
    assert candidates.shape[1] == 1 + 5 and candidates.dtype == np.int32


def test_dynamic_window_uses_distance_d_with_probability_w_minus_d_plus_1_over_w():
    sentence = list(range(1, 401))
    counts = np.ones(401)
    ds = word2vec_dataset([sentence] * 20, counts, window=4, sample=None, batch_size=4096)
    centres, candidates, _ = collect(ds)
    d = np.abs(centres - candidates[:, 0])
    # pairs at distance d available in a 400-word sentence: 2 * (400 - d) per sentence
    rate = np.array([(d == k).sum() / (20 * 2 * (400 - k)) for k in range(1, 5)])
    np.testing.assert_allclose(rate, [4 / 4, 3 / 4, 2 / 4, 1 / 4], atol=0.02)


def test_full_window_gives_every_pair_once_per_epoch(unique_sentences):
    sentences, counts, _ = unique_sentences
    # with window 1 the reach is always 1: exactly the neighbour pairs, each once
    ds = word2vec_dataset(sentences, counts, window=1, sample=None, batch_size=7)
    for _ in range(2):
        centres, candidates, _ = collect(ds)
        got = sorted(zip(centres.tolist(), candidates[:, 0].tolist(), strict=True))
        expected = sorted(
            (s[i], s[j]) for s in sentences for i in range(len(s)) for j in (i - 1, i + 1)
            if 0 <= j < len(s)
        )  # fmt: skip
        assert got == expected


def test_cbow_examples_hold_the_contexts_of_their_centre(unique_sentences):
    sentences, counts, where = unique_sentences
    ds = word2vec_dataset(sentences, counts, mode="cbow", window=2, sample=None, batch_size=16)
    contexts, candidates, _ = collect(ds)
    assert contexts.shape[1] == 4
    centres = candidates[:, 0]
    assert sorted(centres.tolist()) == sorted(t for s in sentences if len(s) > 1 for t in s)
    for ctx, c in zip(contexts, centres, strict=True):
        sc, pc = where[int(c)]
        words = [int(t) for t in ctx if t]
        assert words and all(where[t][0] == sc and 1 <= abs(where[t][1] - pc) <= 2 for t in words)


def test_subsampling_keeps_each_word_at_its_rate():
    rng = np.random.default_rng(0)
    counts = np.array([0, 50_000, 5_000, 500, 50], dtype=float)
    stream = rng.permutation(np.repeat(np.arange(5), counts.astype(int)))
    sentences = stream.reshape(-1, 5050).tolist()  # long: every kept word has a kept neighbour
    keep = keep_probabilities(counts, sample=1e-3)
    f = counts / counts.sum()
    np.testing.assert_allclose(keep[1:], np.minimum((np.sqrt(f[1:] / 1e-3) + 1) * 1e-3 / f[1:], 1))
    assert keep[1] < 0.2 and keep[4] == 1.0
    ds = word2vec_dataset(sentences, counts, mode="cbow", window=50, sample=1e-3, batch_size=4096)
    _, candidates, _ = collect(ds)
    seen = np.bincount(candidates[:, 0], minlength=5)[1:]
    # every kept word is a CBOW centre (its nearest kept neighbour is within reach): the
    # count of word w is Binomial(count(w), keep(w)); allow 4 standard deviations
    n, p = counts[1:], keep[1:]
    assert np.all(np.abs(seen - n * p) <= 4 * np.sqrt(n * p * (1 - p)) + 1), (seen, n * p)


def test_negatives_follow_the_unigram_distribution_to_the_three_quarters():
    counts = np.array([0, 1000, 300, 100, 10, 1], dtype=float)
    sentences = [[1, 2, 3, 4, 5] * 4] * 200
    ds = word2vec_dataset(sentences, counts, window=2, num_negatives=10, sample=None)
    _, candidates, _ = collect(ds)
    negatives = candidates[:, 1:].reshape(-1)
    freq = np.bincount(negatives, minlength=6) / negatives.size
    expected = noise_distribution(counts)
    assert expected[0] == 0 and freq[0] == 0  # padding is never drawn
    np.testing.assert_allclose(freq, expected, atol=0.005)
    np.testing.assert_allclose(expected[1:], counts[1:] ** 0.75 / (counts[1:] ** 0.75).sum())


def test_epochs_differ_and_seeds_reproduce(unique_sentences):
    sentences, counts, _ = unique_sentences
    ds = word2vec_dataset(sentences, counts, window=3, sample=None, batch_size=32, seed=5)
    a, b = collect(ds), collect(ds)
    assert not np.array_equal(a[1], b[1])
    again = collect(word2vec_dataset(sentences, counts, window=3, sample=None, batch_size=32,
                                     seed=5))  # fmt: skip
    assert np.array_equal(a[1], again[1])


def test_element_spec_and_ragged_input(unique_sentences):
    sentences, counts, _ = unique_sentences
    ds = word2vec_dataset(tf.ragged.constant(sentences), counts, num_negatives=3, batch_size=8)
    (x, c), y = ds.element_spec
    assert x.shape.as_list() == [None] and c.shape.as_list() == [None, 4]
    assert y.dtype == tf.float32
    cbow = word2vec_dataset(sentences, counts, mode="cbow", window=2, batch_size=8)
    assert cbow.element_spec[0][0].shape.as_list() == [None, 4]


def test_bad_inputs_are_named(unique_sentences):
    sentences, counts, _ = unique_sentences
    with pytest.raises(ValueError, match="mode"):
        word2vec_dataset(sentences, counts, mode="glove")
    with pytest.raises(ValueError, match=">= 1"):
        word2vec_dataset([[1, 0, 2]], counts)
    with pytest.raises(ValueError, match="len\\(counts\\)"):
        word2vec_dataset([[1, 99]], counts)
    with pytest.raises(ValueError, match="no tokens"):
        word2vec_dataset([[], []], counts)
    with pytest.raises(ValueError, match="sample"):
        keep_probabilities(counts, sample=2.0)
    with pytest.raises(ValueError, match="window"):
        word2vec_dataset(sentences, counts, window=0)
