"""Turning whatever the caller passed into a valid UTF-8 string tensor.

Every function of :mod:`nlpbook.text` that takes text calls :func:`as_text` first, so the
checks on types and shapes and the repair of invalid UTF-8 happen in this one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import tensorflow as tf

REPLACEMENT_CHARACTER = "\ufffd"


def repair_utf8(texts: tf.Tensor) -> tf.Tensor:
    """Replace every invalid UTF-8 sequence by U+FFFD (``"\\ufffd"``), one per maximal bad run.

    TensorFlow strings are bytes: a file read with the wrong encoding, a truncated download or
    a byte-level model's output can hold sequences that are not UTF-8. Some tf-text kernels
    reject them, others pass them through and produce pieces that are not text, so we repair
    them before anything else sees them. The result equals Python's
    ``bytes.decode("utf-8", errors="replace")`` re-encoded (both follow the Unicode
    "maximal subpart" rule).

    Args:
        texts: a ``tf.string`` tensor of any shape.

    Returns:
        A ``tf.string`` tensor of the same shape holding valid UTF-8 only.

    Example:
        >>> repair_utf8(tf.constant([b"caf\\xe9"])).numpy()[0].decode()
        'caf\ufffd'
    """
    return tf.strings.unicode_transcode(
        texts,
        input_encoding="UTF-8",
        output_encoding="UTF-8",
        errors="replace",
        replacement_char=0xFFFD,
    )


def _describe(value) -> str:
    if isinstance(value, tf.RaggedTensor | tf.Tensor):
        return f"{type(value).__name__} of dtype {value.dtype.name} and shape {value.shape}"
    if isinstance(value, np.ndarray):
        return f"numpy array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {value!r:.60}"


def as_text(texts, name: str = "texts") -> tf.Tensor:
    """Check and convert text input to a rank-0 or rank-1 ``tf.string`` tensor of valid UTF-8.

    Args:
        texts: a ``str`` or ``bytes``; a list, tuple or 1-D NumPy array of them; or a
            ``tf.string`` tensor of rank 0 or 1 (eager or symbolic, e.g. inside
            ``tf.data.Dataset.map`` or ``tf.function``).
        name: the argument's name, used in error messages.

    Returns:
        A ``tf.string`` tensor of shape ``()`` or ``(batch,)`` in which invalid UTF-8 has been
        replaced by U+FFFD (see :func:`repair_utf8`).

    Raises:
        TypeError: if ``texts`` is not text (numbers, ``None``, a non-string tensor, a ragged
            tensor, a list holding non-strings).
        ValueError: if ``texts`` has rank 2 or more, or a rank unknown when traced.

    Example:
        >>> as_text(["a", b"caf\\xe9"]).numpy()
        array([b'a', b'caf\\xef\\xbf\\xbd'], dtype=object)
    """
    if isinstance(texts, tf.RaggedTensor):
        raise TypeError(
            f"{name} must be a string or a 1-D batch of strings, not a RaggedTensor. "
            f"Received: {_describe(texts)}"
        )
    if isinstance(texts, str | bytes):
        tensor = tf.constant(texts, dtype=tf.string)
    elif isinstance(texts, list | tuple):
        bad = [t for t in texts if not isinstance(t, str | bytes)]
        if bad:
            raise TypeError(
                f"{name} must hold only str or bytes. Received an element {_describe(bad[0])}"
            )
        tensor = tf.constant(list(texts), dtype=tf.string, shape=[len(texts)])
    elif isinstance(texts, np.ndarray):
        if texts.dtype.kind not in "USO":
            raise TypeError(f"{name} must hold strings. Received: {_describe(texts)}")
        if texts.dtype.kind == "O" and not all(isinstance(t, str | bytes) for t in texts.flat):
            raise TypeError(f"{name} must hold only str or bytes. Received: {_describe(texts)}")
        tensor = tf.constant(texts.tolist(), dtype=tf.string, shape=texts.shape)
    elif isinstance(texts, tf.Tensor | tf.Variable):
        if texts.dtype != tf.string:
            raise TypeError(f"{name} must be a tf.string tensor. Received: {_describe(texts)}")
        tensor = tf.convert_to_tensor(texts)
    else:
        raise TypeError(
            f"{name} must be a str, bytes, a list of them or a tf.string tensor. "
            f"Received: {_describe(texts)}"
        )
    if tensor.shape.rank is None or tensor.shape.rank > 1:
        raise ValueError(
            f"{name} must have rank 0 (one text) or 1 (a batch of texts). "
            f"Received: {_describe(tensor)}"
        )
    return repair_utf8(tensor)


def iter_texts(texts, name: str = "texts") -> Iterator[str]:
    """Iterate over training text as Python ``str``, repairing invalid UTF-8 (U+FFFD).

    Args:
        texts: a ``str``; an iterable of ``str``/``bytes`` (a list, a generator, a file
            object); a ``tf.string`` tensor of rank 0 or 1; or a ``tf.data.Dataset`` whose
            elements are such tensors (e.g. batched lines).
        name: the argument's name, used in error messages.

    Yields:
        One ``str`` per text.

    Raises:
        TypeError: on an element that is not text, naming it.

    Example:
        >>> list(iter_texts(tf.data.Dataset.from_tensor_slices(["a", "b"]).batch(2)))
        ['a', 'b']
    """
    if isinstance(texts, str | bytes | tf.Tensor | np.ndarray):
        texts = [texts]
    elif not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be an iterable of texts. Received: {_describe(texts)}")
    for item in texts:
        if isinstance(item, str):
            yield item
        elif isinstance(item, bytes):
            yield item.decode("utf-8", errors="replace")
        elif (isinstance(item, tf.Tensor) and item.dtype == tf.string) or (
            isinstance(item, np.ndarray) and item.dtype.kind in "USO"
        ):
            if len(item.shape) > 1:
                raise ValueError(
                    f"{name} must hold texts or 1-D batches of texts. Received: {_describe(item)}"
                )
            for text in np.atleast_1d(item.numpy() if isinstance(item, tf.Tensor) else item):
                yield text if isinstance(text, str) else text.decode("utf-8", errors="replace")
        else:
            raise TypeError(f"{name} must hold str or bytes. Received an element {_describe(item)}")
