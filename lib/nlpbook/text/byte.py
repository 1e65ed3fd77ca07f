"""Byte-level tokenization: every text is its UTF-8 bytes (no unknown tokens, any language)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import tensorflow as tf

from nlpbook.text.base import SubwordTokenizer
from nlpbook.text.inputs import repair_utf8


class ByteTokenizer(SubwordTokenizer):
    """Text as UTF-8 bytes: 256 ids (plus specials), no training, no ``[UNK]``.

    Without specials the ids are the bytes themselves, ``encode("é") == [195, 169]`` as
    ``list("é".encode("utf-8"))``. With specials (e.g. ``("[PAD]", "[BOS]", "[EOS]")``), they
    take ids ``0..k-1`` and byte ``b`` gets id ``b + k`` (as in ByT5), so padding can keep
    id 0. A Chinese character is 3 bytes, an emoji 4, so sequences are long.

    Round trip: ``decode(encode(x)) == x`` exactly for valid UTF-8 ``x`` (invalid UTF-8 is
    replaced by U+FFFD before encoding). :meth:`decode` drops special ids and replaces byte
    sequences that are not UTF-8 (a model can generate them) by U+FFFD, so it always returns
    valid text.

    :meth:`tokenize` returns single bytes as strings (``b"\\xe4"``), which alone are not
    valid UTF-8; :meth:`id_to_token` returns ``bytes`` for byte ids and ``str`` for specials.

    Args:
        specials: special tokens, given the first ids.

    Example:
        >>> ByteTokenizer().encode("hé").numpy().tolist()
        [104, 195, 169]
    """

    def __init__(self, specials: Sequence[str] = ()):
        self.specials = list(specials)
        if len(set(self.specials)) != len(self.specials):
            raise ValueError(f"specials must be distinct. Received: specials={specials!r}")
        self.offset = len(self.specials)
        self.pad_id = self.specials.index("[PAD]") if "[PAD]" in self.specials else None
        self._bytes = tf.constant([bytes([b]) for b in range(256)])

    def _tokenize(self, texts):
        return tf.strings.bytes_split(texts)

    def _encode(self, texts):
        pieces = tf.strings.bytes_split(texts)
        # every piece is one byte, so decode_raw gives an (n, 1) array of them
        values = tf.reshape(tf.io.decode_raw(pieces.flat_values, tf.uint8), [-1])
        return pieces.with_flat_values(tf.cast(values, tf.int32) + self.offset)

    def _decode(self, ids):
        ids = tf.ragged.boolean_mask(ids, ids >= self.offset)
        return repair_utf8(tf.strings.reduce_join(tf.gather(self._bytes, ids - self.offset), -1))

    @property
    def vocab_size(self) -> int:
        return 256 + self.offset

    def id_to_token(self, id_: int) -> str | bytes:
        if not 0 <= id_ < self.vocab_size:
            raise KeyError(f"id {id_} is outside [0, {self.vocab_size})")
        return self.specials[id_] if id_ < self.offset else bytes([id_ - self.offset])

    def token_to_id(self, token: str | bytes) -> int:
        """The id of a special (``str``) or of one byte (``bytes`` of length 1)."""
        if isinstance(token, bytes) and len(token) == 1:
            return token[0] + self.offset
        if token in self.specials:
            return self.specials.index(token)
        raise KeyError(f"{token!r} is neither a special token nor a single byte")

    def save(self, path: str | os.PathLike) -> None:
        """Write the specials, one per line (the bytes need no file)."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(token + "\n" for token in self.specials)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ByteTokenizer:
        with open(path, encoding="utf-8", newline="\n") as f:
            return cls([line for line in f.read().split("\n") if line])
