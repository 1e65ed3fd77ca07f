"""tf.data pipeline for text classification: texts and labels in, padded id batches out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from nlpbook.pipelines._checks import as_labels, as_texts, encode_one, positive_int
from nlpbook.pipelines.bucketing import padded_batches


def text_classification_dataset(
    texts: Sequence[str],
    labels: Sequence[int],
    encode: Callable[[tf.Tensor], tf.Tensor | tf.RaggedTensor],
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    bucket_boundaries: Sequence[int] | None = None,
    cache: bool = True,
    drop_remainder: bool = False,
    num_parallel_calls: int | None = tf.data.AUTOTUNE,
    shuffle_buffer: int | None = None,
) -> tf.data.Dataset:
    """Batches of padded token ids and labels for training a text classifier.

    The pipeline is ``texts → encode (parallel map) → [cache] → [shuffle] → padded batches or
    length buckets → prefetch``. Encoding happens before the cache, so with ``cache=True`` each
    text is tokenized once, in the first epoch; shuffling comes after the cache, so every epoch
    sees a new order. Each epoch yields every example exactly once (unless ``drop_remainder``
    drops a last, smaller batch).

    The ``encode`` contract: called inside ``Dataset.map`` (so in graph mode) with one scalar
    ``tf.string`` tensor, it returns the text's integer token ids as a 1-D tensor or a
    ``RaggedTensor`` (e.g. ``(words, pieces)`` from a WordPiece tokenizer: its flat values, in
    order, are taken as the sequence). Id 0 is reserved for padding: ``encode`` must return ids
    ``>= 1`` and the pipeline fails with an error naming this rule if it does not. A
    ``keras.layers.TextVectorization`` (which keeps 0 for padding and 1 for OOV) or a
    tokenizer from ``nlpbook.text`` fits the contract.

    Args:
        texts: the documents, ``str`` (or UTF-8 ``bytes``), none empty.
        labels: one integer class id per text.
        encode: text → ids, as above.
        batch_size: examples per batch.
        max_length: keep at most the first ``max_length`` tokens of each text; ``None`` keeps all.
        shuffle: shuffle the examples, with a new order every epoch.
        seed: shuffle seed; the same seed gives the same sequence of epoch orders.
        bucket_boundaries: ``None`` for plain padded batches, else length boundaries for
            ``bucket_by_sequence_length`` (see ``nlpbook.pipelines.padded_batches`` and
            ``quantile_boundaries``), which groups similar lengths to cut padding.
        cache: keep the encoded examples in memory after the first epoch.
        drop_remainder: drop batches smaller than ``batch_size`` (gives a static batch size).
        num_parallel_calls: parallelism of the encoding map; ``None`` encodes sequentially.
        shuffle_buffer: shuffle buffer size; ``None`` uses the whole data set (a uniform shuffle).

    Returns:
        A ``tf.data.Dataset`` with ``element_spec``
        ``(TensorSpec(shape=(batch, None), dtype=tf.int32),  # token ids, 0 = padding
        TensorSpec(shape=(batch,), dtype=tf.int32))``        # labels
        where ``batch`` is ``batch_size`` if ``drop_remainder`` else ``None``.

    Raises:
        ValueError: ``texts`` empty or containing an empty text or invalid UTF-8, ``labels`` of
            another length, non-positive ``batch_size``/``max_length``, bad boundaries.

    Example:
        >>> vectorize = keras.layers.TextVectorization()
        >>> vectorize.adapt(["a good film", "a bad film"])
        >>> ds = text_classification_dataset(
        ...     ["a good film", "bad"], [1, 0], vectorize, batch_size=2, shuffle=False)
        >>> ids, y = next(iter(ds))
        >>> ids.shape, y.numpy().tolist()
        (TensorShape([2, 3]), [1, 0])
    """
    texts = as_texts(texts)
    labels = as_labels(labels, len(texts))
    batch_size = positive_int("batch_size", batch_size)
    if max_length is not None:
        max_length = positive_int("max_length", max_length)

    ds = tf.data.Dataset.from_tensor_slices((texts, labels))
    ds = ds.map(
        lambda text, label: (encode_one(encode, text, max_length), label),
        num_parallel_calls=num_parallel_calls,
        # keep the input order with parallel calls (tf.data's default unless options say not)
        deterministic=None if num_parallel_calls is None else True,
    )
    if cache:
        ds = ds.cache()
    if shuffle:
        buffer = (
            len(texts) if shuffle_buffer is None else positive_int("shuffle_buffer", shuffle_buffer)
        )
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = padded_batches(
        ds, batch_size, bucket_boundaries=bucket_boundaries, drop_remainder=drop_remainder
    )
    return ds.prefetch(tf.data.AUTOTUNE)
