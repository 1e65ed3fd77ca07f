"""The interface shared by every tokenizer of :mod:`nlpbook.text`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from nlpbook.text.inputs import _describe, as_text


class Tokenizer:
    """Splits text into string pieces.

    Subclasses implement ``_tokenize(texts)``: a ``(batch,)`` string tensor of valid UTF-8 in,
    a ``(batch, None)`` string ``tf.RaggedTensor`` out. This class does the rest: checking and
    converting the input and repairing invalid UTF-8 (:func:`nlpbook.text.as_text`), and
    handling a single text.

    Every tokenizer works eagerly, inside ``tf.function`` and inside ``tf.data.Dataset.map``.
    """

    def tokenize(self, texts):
        """Split text into pieces.

        Args:
            texts: a ``str``/``bytes``, a list of them, or a ``tf.string`` tensor of rank 0
                or 1. Invalid UTF-8 is replaced by U+FFFD.

        Returns:
            For a batch: a ``tf.RaggedTensor`` of ``tf.string``, shape ``(batch, None)``.
            For one text (rank 0): a ``tf.Tensor`` of ``tf.string``, shape ``(None,)``
            (TensorFlow has no rank-1 ragged tensor). An empty text gives zero pieces.

        Raises:
            TypeError: if ``texts`` is not text. ValueError: if its rank is 2 or more.
        """
        texts = as_text(texts)
        if texts.shape.rank == 0:
            return self._tokenize(texts[tf.newaxis])[0]
        return self._tokenize(texts)

    def __call__(self, texts):
        return self.tokenize(texts)

    def _tokenize(self, texts: tf.Tensor) -> tf.RaggedTensor:
        raise NotImplementedError


class SubwordTokenizer(Tokenizer):
    """A tokenizer with a fixed vocabulary of ids: adds ``encode``, ``decode`` and look-ups.

    Subclasses implement ``_encode`` (``(batch,)`` strings to ``(batch, None)`` int32 ids),
    ``_decode`` (``(batch, None)`` int32 ids to ``(batch,)`` strings), ``vocab_size``,
    ``id_to_token``, ``token_to_id``, ``save`` and ``load``.

    Attributes:
        pad_id: the id that ``decode`` drops (padding added by batching), or ``None``.
    """

    pad_id: int | None = None

    @property
    def vocab_size(self) -> int:
        """The number of ids: every id is in ``[0, vocab_size)``."""
        raise NotImplementedError

    def id_to_token(self, id_: int):
        """The token of one id (a Python ``int``)."""
        raise NotImplementedError

    def token_to_id(self, token) -> int:
        """The id of one token."""
        raise NotImplementedError

    def encode(self, texts):
        """Text to token ids.

        Args:
            texts: as for :meth:`tokenize`.

        Returns:
            ``tf.int32`` ids: a ``tf.RaggedTensor`` of shape ``(batch, None)`` for a batch, a
            ``tf.Tensor`` of shape ``(None,)`` for one text.
        """
        texts = as_text(texts)
        if texts.shape.rank == 0:
            return self._encode(texts[tf.newaxis])[0]
        return self._encode(texts)

    def decode(self, ids):
        """Token ids back to text (detokenize).

        Args:
            ids: integer ids: a list of ints or a 1-D tensor (one text); a list of lists, a
                2-D tensor (padded batch) or a 2-D ``tf.RaggedTensor`` (batch). Ids equal to
                ``pad_id`` are dropped, so padded batches decode like ragged ones.

        Returns:
            ``tf.string``: shape ``()`` for one sequence, ``(batch,)`` for a batch.

        Raises:
            TypeError: if ``ids`` is not integers. ValueError: if its rank is not 1 or 2.
            tf.errors.InvalidArgumentError: if an id is outside ``[0, vocab_size)``.
        """
        ids = _as_ids(ids)
        scalar = ids.shape.rank == 1
        if scalar:
            ids = ids[tf.newaxis]
        if not isinstance(ids, tf.RaggedTensor):
            ids = tf.RaggedTensor.from_tensor(ids)
        tf.debugging.assert_non_negative(ids.flat_values, message="decode: negative token id")
        tf.debugging.assert_less(
            ids.flat_values,
            tf.constant(self.vocab_size, tf.int32),
            message=f"decode: token id >= vocab_size={self.vocab_size}",
        )
        if self.pad_id is not None:
            ids = tf.ragged.boolean_mask(ids, ids != self.pad_id)
        texts = self._decode(ids)
        return texts[0] if scalar else texts

    def _encode(self, texts: tf.Tensor) -> tf.RaggedTensor:
        raise NotImplementedError

    def _decode(self, ids: tf.RaggedTensor) -> tf.Tensor:
        raise NotImplementedError


def _as_ids(ids) -> tf.Tensor | tf.RaggedTensor:
    """Integer ids of rank 1 or 2 as an int32 tensor or ragged tensor."""
    if isinstance(ids, list | tuple) and any(isinstance(row, list | tuple) for row in ids):
        ids = tf.ragged.constant(ids, dtype=tf.int64, ragged_rank=1)
    elif isinstance(ids, list | tuple | np.ndarray | int | np.integer):
        array = np.asarray(ids)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers. Received: {_describe(ids)}")
        ids = tf.constant(array.astype(np.int64))
    elif not isinstance(ids, tf.Tensor | tf.RaggedTensor):
        raise TypeError(f"ids must be integers. Received: {_describe(ids)}")
    if not ids.dtype.is_integer:
        raise TypeError(f"ids must be integers. Received: {_describe(ids)}")
    if ids.shape.rank not in (1, 2):
        raise ValueError(
            f"ids must have rank 1 (one sequence) or 2 (a batch). Received: {_describe(ids)}"
        )
    return tf.cast(ids, tf.int32)
