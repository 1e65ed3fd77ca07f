"""Sentence pairs for sequence-to-sequence training with teacher forcing.

The decoder learns ``P(y_t | y_<t, x)``: during training it reads the *true* previous target
tokens (teacher forcing), so its input is the target shifted right behind a start token and
its label the target followed by an end token::

    target           y1 y2 y3
    decoder input    BOS y1 y2 y3
    decoder label    y1  y2 y3 EOS

Sources and targets are padded separately, each to the longest of its side in the batch, so a
source of 7 tokens and a target of 12 never share a length; id 0 marks padding on both sides
(use it for the encoder's and decoder's masks and as the loss's ``ignore_class``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from nlpbook.pipelines._checks import as_texts, check_boundaries, encode_one, positive_int


def _token_id(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1 (0 is padding). Received: {name}={value!r}")
    return value


def translation_dataset(
    sources: Sequence[str],
    targets: Sequence[str],
    encode_source: Callable,
    encode_target: Callable,
    *,
    bos_id: int,
    eos_id: int,
    batch_size: int = 64,
    max_source_length: int | None = None,
    max_target_length: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    bucket_boundaries: Sequence[int] | None = None,
    pad_to_bucket_boundary: bool = False,
    cache: bool = True,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches ``((source, decoder_input), decoder_label)`` for teacher-forced training.

    The pipeline is ``pairs → encode both sides (parallel map) → [cache] → [shuffle] →
    padded batches or length buckets → prefetch``; every pair is seen once per epoch.

    Args:
        sources, targets: aligned texts (``targets[i]`` translates ``sources[i]``).
        encode_source, encode_target: the ``encode`` contract of
            ``text_classification_dataset``: one scalar string in, ids ``>= 1`` out.
        bos_id, eos_id: the target side's start and end tokens (``>= 1``).
        batch_size: pairs per batch.
        max_source_length: keep at most this many source tokens (``None``: all).
        max_target_length: keep at most this many target tokens, before BOS/EOS are added,
            so decoder sequences hold at most ``max_target_length + 1`` tokens.
        shuffle, seed: a new, reproducible order every epoch.
        bucket_boundaries: group pairs by the longer of their source and decoder lengths
            (see ``padded_batches``); ``None`` pads in arrival order.
        pad_to_bucket_boundary: pad both sides of every batch to its bucket's upper boundary
            minus one instead of to its longest sequence, so that batches come in a few fixed
            shapes (one per bucket, plus the smaller last batch of each): a step compiled
            with XLA (``jit_compile=True``) is then compiled once per shape, not once per new
            pair of lengths. Needs ``bucket_boundaries``, ``max_source_length`` and
            ``max_target_length``; a last boundary above every possible length
            (``max(max_source_length, max_target_length + 1) + 1``) is added when the given
            ones stop short of it.
        cache: cache the encoded pairs after the first epoch.
        drop_remainder: drop batches smaller than ``batch_size``.

    Returns:
        A ``tf.data.Dataset`` with ``element_spec``
        ``((TensorSpec((batch, None), int32),   # source ids, 0 = padding
        TensorSpec((batch, None), int32)),      # decoder input: BOS y1 … yn
        TensorSpec((batch, None), int32))``     # decoder label: y1 … yn EOS

    Raises:
        ValueError: empty or misaligned texts, invalid UTF-8, an empty text, non-positive
            sizes, ``bos_id``/``eos_id`` below 1, bad boundaries.

    Example:
        >>> lookup = keras.layers.StringLookup(vocabulary=["ein", "hund", "a", "dog"])
        >>> encode = lambda text: lookup(tf.strings.split(text))  # ids 1..4, 0 = unknown
        >>> ds = translation_dataset(["ein hund"], ["a dog"], encode, encode,
        ...                          bos_id=5, eos_id=6, batch_size=1, shuffle=False)
        >>> (src, dec_in), dec_out = next(iter(ds))
        >>> src.numpy().tolist(), dec_in.numpy().tolist(), dec_out.numpy().tolist()
        ([[1, 2]], [[5, 3, 4]], [[3, 4, 6]])
    """
    sources, targets = as_texts(sources), as_texts(targets)
    if len(sources) != len(targets):
        raise ValueError(
            f"sources and targets must be aligned: {len(sources)} sources, {len(targets)} targets"
        )
    bos = tf.constant([_token_id("bos_id", bos_id)], tf.int32)
    eos = tf.constant([_token_id("eos_id", eos_id)], tf.int32)
    batch_size = positive_int("batch_size", batch_size)
    if max_source_length is not None:
        max_source_length = positive_int("max_source_length", max_source_length)
    if max_target_length is not None:
        max_target_length = positive_int("max_target_length", max_target_length)

    def encode(source, target):
        src = encode_one(encode_source, source, max_source_length)
        tgt = encode_one(encode_target, target, max_target_length)
        return (src, tf.concat([bos, tgt], 0)), tf.concat([tgt, eos], 0)

    ds = tf.data.Dataset.from_tensor_slices((sources, targets))
    ds = ds.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(len(sources), seed=seed, reshuffle_each_iteration=True)
    if bucket_boundaries is None:
        if pad_to_bucket_boundary:
            raise ValueError("`pad_to_bucket_boundary=True` needs `bucket_boundaries`.")
        ds = ds.padded_batch(batch_size, drop_remainder=drop_remainder)
    else:
        boundaries = check_boundaries(bucket_boundaries)
        if pad_to_bucket_boundary:
            if max_source_length is None or max_target_length is None:
                raise ValueError(
                    "`pad_to_bucket_boundary=True` needs `max_source_length` and "
                    "`max_target_length`: every sequence must fit below the last boundary."
                )
            # the longest element: the source, or the decoder side (target + BOS or EOS)
            longest = max(max_source_length, max_target_length + 1)
            if boundaries[-1] <= longest:
                boundaries.append(longest + 1)
        ds = ds.bucket_by_sequence_length(
            element_length_func=lambda x, y: tf.maximum(tf.shape(x[0])[0], tf.shape(y)[0]),
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            pad_to_bucket_boundary=pad_to_bucket_boundary,
            drop_remainder=drop_remainder,
        )
    return ds.prefetch(tf.data.AUTOTUNE)
