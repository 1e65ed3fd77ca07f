"""Word-level (or character-level) ids: a rule-based tokenizer plus a :class:`Vocabulary`."""

from __future__ import annotations

import os

import tensorflow as tf

from nlpbook.text.base import SubwordTokenizer, Tokenizer
from nlpbook.text.inputs import iter_texts
from nlpbook.text.vocab import SPECIALS, Vocabulary


class WordLevelTokenizer(SubwordTokenizer):
    """Pieces from a rule-based tokenizer, ids from a vocabulary; unknown pieces share one id.

    This is the classic word-level front end (and, with a character tokenizer, the
    character-level one): unlike WordPiece or SentencePiece it cannot spell a word it has not
    seen, so every rare or new word becomes ``[UNK]`` (id 1) and ``decode`` cannot give it back.

    Args:
        tokenizer: a :class:`Tokenizer` that splits text into pieces (whitespace, script,
            characters, jieba, ...).
        vocabulary: the :class:`Vocabulary` of pieces (id 0 pads, id 1 is unknown).
        joiner: what ``decode`` puts between pieces: ``" "`` for words, ``""`` for characters.

    Example:
        >>> from nlpbook.text import WhitespaceTokenizer
        >>> tok = WordLevelTokenizer.train(WhitespaceTokenizer(), ["the cat sat", "the mat"])
        >>> tok.vocabulary.tokens  # by count, ties by token
        ['[PAD]', '[UNK]', 'the', 'cat', 'mat', 'sat']
        >>> tok.encode(["the dog sat"]).to_list()
        [[2, 1, 5]]
        >>> tok.decode([2, 3, 5]).numpy().decode()
        'the cat sat'
    """

    pad_id = Vocabulary.pad_id

    def __init__(self, tokenizer: Tokenizer, vocabulary: Vocabulary, *, joiner: str = " "):
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"tokenizer must be an nlpbook Tokenizer. Received: {tokenizer!r}")
        if not isinstance(vocabulary, Vocabulary):
            raise TypeError(f"vocabulary must be a Vocabulary. Received: {vocabulary!r}")
        self.tokenizer, self.vocabulary, self.joiner = tokenizer, vocabulary, joiner
        self.unk_id = vocabulary.unk_id

    @classmethod
    def train(
        cls,
        tokenizer: Tokenizer,
        texts,
        *,
        min_count: int = 1,
        max_size: int | None = None,
        specials=SPECIALS,
        joiner: str = " ",
    ) -> WordLevelTokenizer:
        """Build the vocabulary from ``texts`` split by ``tokenizer``.

        Args:
            tokenizer: the rule-based tokenizer.
            texts: training texts (a list, a string tensor or a ``tf.data.Dataset``).
            min_count, max_size, specials: as for :meth:`Vocabulary.build`.
            joiner: as for the constructor.
        """
        texts = list(iter_texts(texts))
        if not texts:
            raise ValueError("texts is empty: a vocabulary needs a training corpus")
        pieces = tokenizer.tokenize(texts)
        vocab = Vocabulary.build(pieces, min_count=min_count, max_size=max_size, specials=specials)
        return cls(tokenizer, vocab, joiner=joiner)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def id_to_token(self, id_: int) -> str:
        return self.vocabulary.id_to_token(id_)

    def token_to_id(self, token: str) -> int:
        return self.vocabulary.token_to_id(token)

    def _tokenize(self, texts):
        return self.tokenizer.tokenize(texts)

    def _encode(self, texts):
        return self.vocabulary.lookup(self.tokenizer.tokenize(texts))

    def _decode(self, ids):
        pieces = self.vocabulary.to_tokens(ids)
        return tf.strings.reduce_join(pieces, axis=-1, separator=self.joiner)

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary (one token per line); the rule tokenizer is code, not data."""
        self.vocabulary.save(path)

    @classmethod
    def load(cls, path: str | os.PathLike, tokenizer: Tokenizer, *, joiner: str = " "):
        """Read a vocabulary written by :meth:`save`, to be used with ``tokenizer``."""
        return cls(tokenizer, Vocabulary.load(path), joiner=joiner)
