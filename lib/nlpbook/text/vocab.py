"""A word-level vocabulary: tokens counted, ranked, and looked up as int32 ids in TF ops."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import tensorflow as tf

from nlpbook.text.inputs import _describe

SPECIALS = ("[PAD]", "[UNK]")


class Vocabulary:
    """Tokens and their ids; id 0 is padding and id 1 the unknown token.

    Build one from a tokenized corpus with :meth:`build`; look tokens up with :meth:`lookup`,
    a ``tf.lookup.StaticHashTable``, so it works eagerly, in ``tf.function`` and inside
    ``tf.data.Dataset.map``. Given the same tokens after the first two,
    ``keras.layers.StringLookup`` and ``TextVectorization(standardize=None,
    split="whitespace")`` return the same ids (their own ``""`` mask and ``"[UNK]"`` take
    ids 0 and 1).

    Args:
        tokens: the tokens by id: ``tokens[0]`` is the padding token, ``tokens[1]`` the
            unknown token. Non-empty and distinct.
        counts: optional corpus counts of every token seen (kept for inspection).

    Attributes:
        tokens: the list of tokens. pad_id: 0. unk_id: 1.
        pad_token, unk_token: ``tokens[0]``, ``tokens[1]``.
        counts: the counts given to the constructor or seen by :meth:`build`, or ``None``.

    Example:
        >>> vocab = Vocabulary.build([["the", "cat"], ["the", "mat"]])
        >>> vocab.tokens
        ['[PAD]', '[UNK]', 'the', 'cat', 'mat']
        >>> vocab.lookup(tf.ragged.constant([["the", "dog"]])).to_list()
        [[2, 1]]
    """

    pad_id = 0
    unk_id = 1

    def __init__(self, tokens: Sequence[str], counts: dict[str, int] | None = None):
        self.tokens = [str(t) for t in tokens]
        if len(self.tokens) < 2:
            raise ValueError(
                f"A vocabulary needs at least a padding and an unknown token. "
                f"Received: tokens={self.tokens!r}"
            )
        if "" in self.tokens:
            raise ValueError("The empty string cannot be a token (it is Keras's mask value).")
        if len(set(self.tokens)) != len(self.tokens):
            twice = [t for t, n in Counter(self.tokens).items() if n > 1]
            raise ValueError(f"Tokens must be distinct. Received these twice: {twice[:10]}")
        self.counts = counts
        self.pad_token, self.unk_token = self.tokens[0], self.tokens[1]
        self._ids = {token: i for i, token in enumerate(self.tokens)}
        self._tokens = tf.constant(self.tokens)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                self._tokens, tf.range(len(self.tokens), dtype=tf.int32)
            ),
            default_value=self.unk_id,
        )

    @classmethod
    def build(
        cls,
        tokens,
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = SPECIALS,
    ) -> Vocabulary:
        """Count tokens and keep the most frequent.

        Args:
            tokens: the tokenized corpus: a ``tf.RaggedTensor`` or ``tf.Tensor`` of strings
                (any shape), a ``tf.data.Dataset`` of them, an iterable of token sequences
                (``[["the", "cat"], ...]``) or an iterable of tokens. Empty strings are not
                counted.
            min_count: keep tokens seen at least this often.
            max_size: the largest vocabulary, specials included (``None``: no limit).
            specials: tokens given the first ids; ``specials[0]`` pads (id 0),
                ``specials[1]`` is the unknown token (id 1). They are never counted.

        Returns:
            A :class:`Vocabulary`: specials, then tokens by decreasing count, ties broken by
            the token (code point order), so the result does not depend on the input order.

        Raises:
            ValueError: on ``min_count < 1``, ``max_size < len(specials)`` or fewer than two
                specials. TypeError: on tokens that are not strings.
        """
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1. Received: min_count={min_count}")
        if len(specials) < 2:
            raise ValueError(
                f"specials must name at least the padding and the unknown token. "
                f"Received: specials={specials!r}"
            )
        if max_size is not None and max_size < len(specials):
            raise ValueError(
                f"max_size must leave room for the {len(specials)} specials. "
                f"Received: max_size={max_size}"
            )
        counts = _count(tokens)
        counts.pop("", None)
        ranked = sorted(
            (item for item in counts.items() if item[0] not in specials and item[1] >= min_count),
            key=lambda item: (-item[1], item[0]),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        return cls([*specials, *(token for token, _ in ranked)], counts=dict(counts))

    def lookup(self, tokens):
        """Tokens to ids (``tf.int32``), unknown tokens to ``unk_id``; a TF op.

        Args:
            tokens: a ``str``, a list of them, or a ``tf.string`` ``Tensor``/``RaggedTensor``
                of any shape.

        Returns:
            ``tf.int32`` ids with the structure and shape of ``tokens``.

        Raises:
            TypeError: if ``tokens`` are not strings.
        """
        if isinstance(tokens, tf.RaggedTensor):
            if tokens.dtype != tf.string:
                raise TypeError(f"tokens must be strings. Received: {_describe(tokens)}")
            return tf.ragged.map_flat_values(self._table.lookup, tokens)
        if isinstance(tokens, str | bytes | list | tuple | np.ndarray):
            try:
                tokens = tf.constant(tokens, dtype=tf.string)
            except (TypeError, ValueError) as error:
                raise TypeError(f"tokens must be strings. Received: {_describe(tokens)}") from error
        if not isinstance(tokens, tf.Tensor) or tokens.dtype != tf.string:
            raise TypeError(f"tokens must be strings. Received: {_describe(tokens)}")
        return self._table.lookup(tokens)

    def to_tokens(self, ids):
        """Ids back to tokens (``tf.string``, same structure); the inverse of :meth:`lookup`."""
        if isinstance(ids, tf.RaggedTensor):
            return tf.ragged.map_flat_values(lambda flat: tf.gather(self._tokens, flat), ids)
        return tf.gather(self._tokens, ids)

    def token_to_id(self, token: str) -> int:
        """The id of one token; ``unk_id`` when it is not in the vocabulary."""
        return self._ids.get(token, self.unk_id)

    def id_to_token(self, id_: int) -> str:
        return self.tokens[id_]

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token) -> bool:
        return token in self._ids

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens: {self.tokens[:8]}...)"

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokens, one per line, in id order (UTF-8).

        A backslash, newline or carriage return inside a token is written ``\\\\``, ``\\n``,
        ``\\r`` so that every token stays on its line (character vocabularies hold ``"\\n"``).
        """
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(_escape(token) + "\n" for token in self.tokens)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a file written by :meth:`save` (counts are not saved)."""
        with open(path, encoding="utf-8", newline="\n") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls([_unescape(line) for line in lines])


def _escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(line: str) -> str:
    out, chars = [], iter(line)
    for char in chars:
        if char == "\\":
            char = {"n": "\n", "r": "\r", "\\": "\\"}[next(chars)]
        out.append(char)
    return "".join(out)


def _count(tokens) -> Counter:
    """Count the tokens of a corpus given in any of the forms :meth:`Vocabulary.build` takes."""
    counts: Counter = Counter()

    def add(values) -> None:
        if isinstance(values, tf.RaggedTensor):
            values = values.flat_values
        if isinstance(values, tf.Tensor):
            if values.dtype != tf.string:
                raise TypeError(f"tokens must be strings. Received: {_describe(values)}")
            values = tf.reshape(values, [-1]).numpy().tolist()
        if isinstance(values, np.ndarray):
            values = values.ravel().tolist()
        for token, n in Counter(values if isinstance(values, list) else list(values)).items():
            if isinstance(token, bytes):
                token = token.decode("utf-8", errors="replace")
            elif not isinstance(token, str):
                raise TypeError(f"tokens must be strings. Received an element {_describe(token)}")
            counts[token] += n

    if isinstance(tokens, tf.Tensor | tf.RaggedTensor):
        add(tokens)
    elif isinstance(tokens, Iterable) and not isinstance(tokens, str | bytes):
        for item in tokens:
            add([item] if isinstance(item, str | bytes) else item)
    else:
        raise TypeError(f"tokens must be a corpus of string tokens. Received: {_describe(tokens)}")
    return counts
