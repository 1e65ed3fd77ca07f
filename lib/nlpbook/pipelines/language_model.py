"""tf.data pipeline for next-token language modelling: one token stream cut into windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from nlpbook.pipelines._checks import as_texts, flat_ids, positive_int


def token_stream(
    texts: Sequence[str],
    encode: Callable[[tf.Tensor], tf.Tensor | tf.RaggedTensor],
    eos_id: int,
    *,
    chunk_size: int = 4096,
) -> tf.Tensor:
    """Encodes documents and joins them into one stream, ``eos_id`` after every document.

    The end-of-sentence id marks where one document stops and the next starts, so a language
    model trained on the stream learns to end a text, and a window that spans a boundary still
    has a well-defined next token.

    Args:
        texts: the documents (sentences, lines, articles), in order.
        encode: called with a 1-D ``tf.string`` tensor of up to ``chunk_size`` texts, returns
            their ids as a ``RaggedTensor`` ``(texts, None)`` (deeper ragged nesting such as
            ``(texts, words, pieces)`` is flattened within each text) or as a dense
            ``(texts, time)`` tensor padded at the end with 0 (``TextVectorization``'s output),
            whose padding is dropped. Ids must be ``>= 1``.
        eos_id: id appended after each document; ``>= 1`` (0 is padding).
        chunk_size: texts encoded per call.

    Returns:
        A 1-D int32 tensor: ``ids(texts[0]) + [eos] + ids(texts[1]) + [eos] + ...``.

    Example:
        >>> lookup = keras.layers.StringLookup(vocabulary=["the", "cat", "sat"], mask_token="")
        >>> encode = lambda batch: lookup(tf.strings.split(batch))  # "" = 0, OOV = 1, "the" = 2
        >>> token_stream(["the cat", "sat"], encode, eos_id=9).numpy().tolist()
        [2, 3, 9, 4, 9]
    """
    texts = as_texts(texts)
    eos_id = positive_int("eos_id", eos_id)
    chunk_size = positive_int("chunk_size", chunk_size)
    pieces = []
    for start in range(0, len(texts), chunk_size):
        ids = encode(tf.constant(texts[start : start + chunk_size]))
        if not isinstance(ids, (tf.Tensor, tf.RaggedTensor)) and hasattr(ids, "__array__"):
            # Keras preprocessing layers called eagerly return the backend's arrays (JAX, torch)
            ids = tf.convert_to_tensor(np.asarray(ids))
        if isinstance(ids, tf.Tensor) and ids.shape.rank == 2:
            ids = tf.RaggedTensor.from_tensor(ids, padding=0)
        if not isinstance(ids, tf.RaggedTensor):
            raise TypeError(
                "`encode` must return a RaggedTensor (texts, None) or a 0-padded 2-D tensor "
                f"for a batch of texts. It returned {type(ids).__name__} of shape "
                f"{getattr(ids, 'shape', None)}."
            )
        while ids.ragged_rank > 1:  # (texts, words, pieces) -> (texts, pieces)
            ids = ids.merge_dims(1, 2)
        ids = tf.cast(ids, tf.int32)
        eos = tf.fill([ids.nrows(), 1], tf.constant(eos_id, tf.int32))
        pieces.append(tf.concat([ids, eos], axis=1).flat_values)
    stream = tf.concat(pieces, axis=0)
    tf.debugging.assert_positive(stream, message="token id 0 is reserved for padding")
    return stream


def language_model_dataset(
    token_ids=None,
    *,
    seq_len: int,
    batch_size: int,
    texts: Sequence[str] | None = None,
    encode: Callable | None = None,
    eos_id: int | None = None,
    stride: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """``(inputs, targets)`` windows for next-token prediction over one continuous stream.

    Window ``i`` starts at ``s = i * stride`` and covers the ``seq_len + 1`` tokens
    ``stream[s : s + seq_len + 1]``; its inputs are the first ``seq_len`` of them and its
    targets the last ``seq_len``, so ``targets[t]`` is the token after ``inputs[t]``. With the
    default ``stride = seq_len`` the windows' inputs tile ``stream[: k * seq_len]`` exactly and
    their targets tile ``stream[1 : k * seq_len + 1]``, with ``k = (len(stream) - 1) // seq_len``
    windows: every token is predicted exactly once per epoch and only the tail of fewer than
    ``seq_len`` tokens is left out. A smaller stride gives overlapping windows (more context per
    prediction, more compute).

    Only window start offsets are shuffled and the windows are sliced from the stream inside
    ``Dataset.map``, so no window is ever built in a Python loop and the stream is held once.

    Args:
        token_ids: the stream as a 1-D integer array (ids ``>= 1``). Give either this, or
            ``texts`` with ``encode`` and ``eos_id`` (joined by ``token_stream``: each document
            is followed by ``eos_id``).
        seq_len: tokens per window (positions per training example).
        batch_size: windows per batch.
        texts, encode, eos_id: documents to encode and join; see ``token_stream``.
        stride: tokens between the starts of consecutive windows; ``None`` means ``seq_len``.
        shuffle: shuffle the windows, with a new order every epoch.
        seed: shuffle seed; the same seed gives the same sequence of epoch orders.
        drop_remainder: drop the last, smaller batch (the default; gives static shapes).

    Returns:
        A ``tf.data.Dataset`` with ``element_spec``
        ``(TensorSpec(shape=(batch, seq_len), dtype=tf.int32),  # inputs
        TensorSpec(shape=(batch, seq_len), dtype=tf.int32))``  # targets
        where ``batch`` is ``batch_size`` if ``drop_remainder`` else ``None``.

    Raises:
        ValueError: both or neither of ``token_ids`` and ``texts``; non-positive ``seq_len``,
            ``batch_size`` or ``stride``; a stream shorter than ``seq_len + 1`` tokens, or one
            that yields no full batch with ``drop_remainder``.

    Example:
        >>> ds = language_model_dataset(np.arange(1, 12), seq_len=3, batch_size=2,
        ...                             shuffle=False, drop_remainder=False)
        >>> x, y = next(iter(ds))
        >>> x.numpy().tolist(), y.numpy().tolist()
        ([[1, 2, 3], [4, 5, 6]], [[2, 3, 4], [5, 6, 7]])
    """
    seq_len = positive_int("seq_len", seq_len)
    batch_size = positive_int("batch_size", batch_size)
    stride = seq_len if stride is None else positive_int("stride", stride)
    if (token_ids is None) == (texts is None):
        raise ValueError("Give exactly one of `token_ids` or `texts` (with `encode`, `eos_id`).")
    if texts is not None:
        if encode is None or eos_id is None:
            raise ValueError("`texts` needs `encode` and `eos_id` to build the token stream.")
        stream = token_stream(texts, encode, eos_id)
    else:
        stream = flat_ids(tf.convert_to_tensor(np.asarray(token_ids)))
        tf.debugging.assert_positive(stream, message="token id 0 is reserved for padding")

    n = int(tf.size(stream))
    if n < seq_len + 1:
        raise ValueError(
            f"The token stream has {n} tokens; a window needs seq_len + 1 = {seq_len + 1}."
        )
    num_windows = (n - seq_len - 1) // stride + 1
    if drop_remainder and num_windows < batch_size:
        raise ValueError(
            f"{num_windows} windows of seq_len={seq_len} fit in {n} tokens: fewer than one "
            f"full batch of {batch_size} (use a smaller batch or drop_remainder=False)."
        )

    # plain TF ops: AutoGraph has nothing to convert (and re-reading this file's source from a
    # long-lived kernel after an edit would make it warn)
    @tf.autograph.experimental.do_not_convert
    def window(start):
        w = stream[start : start + seq_len + 1]
        return tf.ensure_shape(w[:-1], [seq_len]), tf.ensure_shape(w[1:], [seq_len])

    ds = tf.data.Dataset.range(0, num_windows * stride, stride)
    if shuffle:
        ds = ds.shuffle(num_windows, seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(window, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
