import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import padded_batches, padding_fraction, quantile_boundaries


def dataset(lengths):
    lengths = tf.constant(lengths, tf.int32)
    return tf.data.Dataset.range(len(lengths)).map(lambda i: (tf.fill([lengths[i]], 7), i))


def test_padding_fraction_counts_zeros_over_all_positions():
    ds = tf.data.Dataset.from_tensor_slices(tf.constant([[[1, 0], [2, 3]], [[4, 5], [6, 7]]]))
    assert padding_fraction(ds) == pytest.approx(1 / 8)
    assert padding_fraction(ds.map(lambda x: (x, 0))) == pytest.approx(1 / 8)


def test_padding_fraction_of_empty_dataset_is_an_error():
    with pytest.raises(ValueError, match="no tokens"):
        padding_fraction(tf.data.Dataset.from_tensor_slices(tf.zeros([0, 2, 3], tf.int32)))


def test_plain_padding_matches_a_hand_count():
    lengths = [1, 9, 2, 8]
    ds = padded_batches(dataset(lengths), batch_size=2)
    # batches [1, 9] and [2, 8] are padded to 9 and 8: (8 + 6) pads in 18 + 16 positions
    assert padding_fraction(ds) == pytest.approx(14 / 34)
    bucketed = padded_batches(dataset(lengths), batch_size=2, bucket_boundaries=[5])
    # buckets {1, 2} and {9, 8}: (1 + 1) pads in 4 + 18 positions
    assert padding_fraction(bucketed) == pytest.approx(2 / 22)


def test_bucketing_emits_every_example_once_including_part_filled_buckets():
    lengths = np.random.default_rng(1).integers(1, 40, size=101)
    ds = padded_batches(dataset(lengths), batch_size=8, bucket_boundaries=[10, 20, 30])
    seen = np.concatenate([y.numpy() for _, y in ds])
    np.testing.assert_array_equal(np.sort(seen), np.arange(101))


def test_quantile_boundaries():
    assert quantile_boundaries(range(1, 9), num_buckets=4) == [3, 5, 7]
    assert quantile_boundaries([4] * 10, num_buckets=4) == []  # one length: one bucket
    lengths = np.random.default_rng(2).integers(1, 200, size=10_000)
    b = quantile_boundaries(lengths, num_buckets=5)
    counts = np.bincount(np.searchsorted(b, lengths, side="right"))
    assert len(b) == 4 and counts.min() > 0.18 * len(lengths)
    with pytest.raises(ValueError, match="empty"):
        quantile_boundaries([], 3)
    with pytest.raises(ValueError, match="num_buckets=0"):
        quantile_boundaries([1, 2], 0)
