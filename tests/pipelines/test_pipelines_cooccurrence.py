"""cooccurrence_matrix against a dictionary count; glove_dataset covers every entry once."""

from collections import defaultdict

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import cooccurrence_matrix, glove_dataset


def brute_force(sentences, window, weighted=True):
    counts = defaultdict(float)
    for s in sentences:
        for i, a in enumerate(s):
            for d in range(1, window + 1):
                if i + d < len(s):
                    w = 1.0 / d if weighted else 1.0
                    counts[a, s[i + d]] += w
                    counts[s[i + d], a] += w
    return counts


@pytest.fixture(scope="module")
def sentences():
    rng = np.random.default_rng(0)
    return [rng.integers(1, 30, rng.integers(0, 25)).tolist() for _ in range(80)]


@pytest.mark.parametrize("chunk_tokens", [1, 37, 1_000_000])
@pytest.mark.parametrize("weighted", [True, False])
def test_counts_equal_a_dictionary_count(sentences, chunk_tokens, weighted):
    X = cooccurrence_matrix(
        sentences, 30, window=4, distance_weighting=weighted, chunk_tokens=chunk_tokens
    )
    expected = brute_force(sentences, 4, weighted)
    dense = X.toarray()
    assert X.nnz == len(expected)
    for (a, b), value in expected.items():
        assert dense[a, b] == pytest.approx(value)
    np.testing.assert_allclose(dense, dense.T)
    assert dense[0].sum() == dense[:, 0].sum() == 0


def test_windows_stop_at_sentence_ends():
    X = cooccurrence_matrix([[1, 2], [3, 4]], 5, window=10).toarray()
    assert X[2, 3] == X[1, 4] == 0 and X[1, 2] == X[3, 4] == 1


def test_glove_dataset_visits_every_entry_once_per_epoch(sentences):
    X = cooccurrence_matrix(sentences, 30, window=3)
    ds = glove_dataset(X, batch_size=50, seed=1)
    (i_spec, j_spec), x_spec = ds.element_spec
    assert i_spec.dtype == tf.int32 and x_spec.dtype == tf.float32
    assert int(ds.cardinality()) == -(-X.nnz // 50)
    epochs = []
    for _ in range(2):
        entries = [
            (int(i), int(j), float(x))
            for (bi, bj), bx in ds
            for i, j, x in zip(bi.numpy(), bj.numpy(), bx.numpy(), strict=True)
        ]
        epochs.append(entries)
        assert len(entries) == X.nnz
        dense = X.toarray()
        assert all(x == pytest.approx(dense[i, j]) for i, j, x in entries)
        assert len({(i, j) for i, j, _ in entries}) == X.nnz
    assert epochs[0] != epochs[1]  # a new order every epoch
    plain = glove_dataset(X, batch_size=50, shuffle=False)
    assert sum(int(tf.shape(x)[0]) for _, x in plain) == X.nnz


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="sentence 1"):
        cooccurrence_matrix([[1, 2], [0, 3]], 5)
    with pytest.raises(ValueError, match="sentence 0"):
        cooccurrence_matrix([[1, 9]], 5)
    with pytest.raises(ValueError, match="window"):
        cooccurrence_matrix([[1, 2]], 5, window=0)
    with pytest.raises(ValueError, match="no non-zero"):
        glove_dataset(cooccurrence_matrix([[1]], 5))
