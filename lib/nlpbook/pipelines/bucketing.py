"""Batching variable-length sequences: plain padding, length bucketing, and how much is padding.

A padded batch is as long as its longest sequence, so every shorter sequence in it is filled
with the padding id 0. Those positions cost compute and memory but carry nothing. Bucketing
groups sequences of similar length into the same batch (``Dataset.bucket_by_sequence_length``),
which cuts the padding without dropping or reordering anything within an epoch beyond what
shuffling already does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nlpbook.pipelines._checks import check_boundaries, positive_int


def padded_batches(
    dataset: tf.data.Dataset,
    batch_size: int,
    *,
    bucket_boundaries: Sequence[int] | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches ``(token_ids, label)`` elements, padding ``token_ids`` with 0.

    Args:
        dataset: elements ``(token_ids int32 (time,), label scalar)``.
        batch_size: examples per batch (every bucket uses the same size).
        bucket_boundaries: ``None`` pads each batch to its longest sequence, in arrival order.
            Otherwise a strictly increasing list of lengths ``[b1, b2, ...]``: a sequence of
            length ``L`` goes to the first bucket with ``L < b_i`` (or the last one), and a
            batch is emitted when a bucket holds ``batch_size`` sequences. At the end of the
            input the part-filled buckets are emitted too (unless ``drop_remainder``).
        drop_remainder: drop batches smaller than ``batch_size`` (one per bucket at most).

    Returns:
        A dataset with ``element_spec``
        ``(TensorSpec((batch, None), int32), TensorSpec((batch,), label dtype))`` where
        ``batch`` is ``batch_size`` if ``drop_remainder`` else ``None``.

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[5], [6, 7, 8]]))
        >>> ds = ds.map(lambda x: (x, 0))
        >>> [x.numpy().tolist() for x, _ in padded_batches(ds, 2)]
        [[[5, 0, 0], [6, 7, 8]]]
    """
    batch_size = positive_int("batch_size", batch_size)
    if bucket_boundaries is None:
        return dataset.padded_batch(batch_size, drop_remainder=drop_remainder)
    boundaries = check_boundaries(bucket_boundaries)
    return dataset.bucket_by_sequence_length(
        element_length_func=lambda ids, label: tf.shape(ids)[0],
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        drop_remainder=drop_remainder,
    )


def quantile_boundaries(lengths: Sequence[int], num_buckets: int) -> list[int]:
    """Bucket boundaries that put roughly equal numbers of sequences into each bucket.

    Args:
        lengths: sequence lengths (in tokens) of the training examples.
        num_buckets: how many buckets to aim for; fewer come back when quantiles coincide.

    Returns:
        A strictly increasing list of at most ``num_buckets - 1`` boundaries, suitable for
        ``bucket_boundaries``. An empty list means one bucket (plain padding).

    Example:
        >>> quantile_boundaries([1, 2, 3, 4, 5, 6, 7, 8], num_buckets=4)
        [3, 5, 7]
    """
    num_buckets = positive_int("num_buckets", num_buckets)
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        raise ValueError("`lengths` is empty.")
    qs = np.ceil(np.quantile(lengths, np.arange(1, num_buckets) / num_buckets))
    # A boundary b means "length < b"; one at or below the shortest length makes an empty bucket.
    return sorted({int(q) for q in qs if q > lengths.min()})


def padding_fraction(dataset: tf.data.Dataset, pad_id: int = 0) -> float:
    """The fraction of token positions in a padded dataset that are padding.

    Args:
        dataset: batches ``(token_ids (batch, time), ...)`` or just ``token_ids``.
        pad_id: the padding id (the pipelines here use 0 and forbid it as a real token).

    Returns:
        ``padded positions / all positions`` over one pass of ``dataset``, in ``[0, 1)``.

    Example:
        >>> ds = tf.data.Dataset.from_tensors(tf.constant([[5, 0, 0], [6, 7, 8]]))
        >>> round(padding_fraction(ds), 3)
        0.333
    """
    pads = total = 0
    for batch in dataset:
        ids = batch[0] if isinstance(batch, tuple) else batch
        pads += int(tf.reduce_sum(tf.cast(ids == pad_id, tf.int64)))
        total += int(tf.size(ids, out_type=tf.int64))
    if total == 0:
        raise ValueError("`dataset` yielded no tokens.")
    return pads / total
