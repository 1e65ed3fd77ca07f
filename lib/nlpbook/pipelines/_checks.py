"""Argument checks and the ``encode`` adapter shared by the pipeline builders."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf


def positive_int(name: str, value) -> int:
    """Returns ``value`` as an int, or raises ``ValueError`` naming ``name`` if it is not > 0."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def as_texts(texts) -> np.ndarray:
    """Checks a sequence of texts and returns it as a 1-D NumPy array of UTF-8 ``bytes``.

    Raises ``ValueError`` for an empty sequence, a text that is empty or only whitespace, or bytes
    that are not valid UTF-8, naming the index of the offending text.
    """
    if isinstance(texts, str | bytes):
        raise TypeError("`texts` must be a sequence of strings, not a single string.")
    if isinstance(texts, tf.Tensor):
        texts = texts.numpy()
    texts = list(texts)
    if not texts:
        raise ValueError("`texts` is empty: a pipeline needs at least one text.")
    encoded = []
    for i, t in enumerate(texts):
        if isinstance(t, bytes | np.bytes_):
            try:
                t = bytes(t).decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"texts[{i}] is not valid UTF-8: {e}") from None
        elif not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be str or bytes. Received: {type(t).__name__}")
        if not t.strip():
            raise ValueError(f"texts[{i}] is empty (or only whitespace): {t!r}")
        encoded.append(t.encode("utf-8"))
    return np.array(encoded, dtype=object)


def as_labels(labels, n: int) -> np.ndarray:
    """Checks that ``labels`` holds ``n`` integers and returns them as an int32 array."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(
            f"`labels` must have one label per text: got {n} texts and labels of shape "
            f"{labels.shape}."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"`labels` must be integers (class ids). Received dtype {labels.dtype}.")
    return labels.astype(np.int32)


def flat_ids(ids) -> tf.Tensor:
    """Turns what ``encode`` returned for one text into a 1-D int32 tensor.

    Tokenizers that split into words and then into word pieces return a ragged
    ``(words, pieces)`` tensor; its flat values are the token sequence in reading order.
    """
    if isinstance(ids, tf.RaggedTensor):
        ids = ids.flat_values
    ids = tf.reshape(ids, [-1])
    if not ids.dtype.is_integer:
        raise TypeError(f"`encode` must return integer token ids. It returned dtype {ids.dtype}.")
    return tf.cast(ids, tf.int32)


def encode_one(encode: Callable, text: tf.Tensor, max_length: int | None) -> tf.Tensor:
    """Encodes one scalar string with ``encode``, truncates to ``max_length`` and checks ids > 0."""
    ids = flat_ids(encode(text))
    if max_length is not None:
        ids = ids[:max_length]
    # 0 is the padding id: a tokenizer that emits it would make padding indistinguishable
    # from real tokens (masks, padding statistics and losses would all silently be wrong).
    tf.debugging.assert_positive(
        ids,
        message="`encode` returned token id 0 (or negative); 0 is reserved for padding. Return "
        "unpadded ids >= 1 (e.g. no `output_sequence_length` on a TextVectorization)",
    )
    return ids


def check_boundaries(bucket_boundaries: Sequence[int]) -> list[int]:
    """Checks that bucket boundaries are positive and strictly increasing."""
    b = [int(x) for x in bucket_boundaries]
    if not b or b[0] <= 0 or any(x >= y for x, y in zip(b, b[1:], strict=False)):
        raise ValueError(
            "`bucket_boundaries` must be a non-empty, strictly increasing list of positive "
            f"lengths. Received: {list(bucket_boundaries)!r}"
        )
    return b
