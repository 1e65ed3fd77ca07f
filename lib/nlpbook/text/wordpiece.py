"""WordPiece (BERT's subword tokenizer): vocabulary learned with tf-text, run with FastWordpiece."""

from __future__ import annotations

import os
from collections.abc import Sequence

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

from nlpbook.text.base import SubwordTokenizer
from nlpbook.text.inputs import iter_texts
from nlpbook.text.normalize import WHITESPACE

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


class WordPieceTokenizer(SubwordTokenizer):
    """WordPiece: words split into the longest vocabulary pieces, left to right (BERT).

    Text goes through BERT's basic tokenization, then each word is cut greedily into the
    longest prefix in the vocabulary, then the longest continuation piece (written with the
    ``##`` prefix), and so on: ``"unaffable"`` gives ``un | ##aff | ##able``. A word that
    cannot be cut (a character missing from the vocabulary) or that is longer than 100 bytes
    becomes ``[UNK]`` as a whole.

    Basic tokenization (as ``tf_text.BertTokenizer`` does it): with ``lower_case`` case
    folding, NFD and removal of accents (category Mn; ``"Café"`` gives ``cafe``), otherwise
    NFC; control and format characters (categories Cc, Cf: tabs, zero-width joiners) become
    spaces; then a split on whitespace (all Unicode whitespace, where BERT splits only on
    ASCII whitespace), each punctuation mark (category P and the ASCII
    symbols) and each CJK ideograph becomes its own word. The wordpieces are computed by
    ``tf_text.FastWordpieceTokenizer`` (linear time, splitting words itself), checked in the
    tests against ``tf_text.BertTokenizer`` (the older ``WordpieceTokenizer``).

    Round trip: :meth:`decode` joins pieces back into words (dropping ``##``) and words with
    one space. So ``decode(encode(x))`` equals the basic-tokenized words of ``x`` joined by
    spaces, when no piece is ``[UNK]``: exactly ``x`` for text that is already normalised
    (lower case, no accents, single spaces) and has no punctuation; ``"Hello, world!"`` comes
    back as ``"hello , world !"``. Always, when no piece is ``[UNK]``,
    ``encode(decode(encode(x))) == encode(x)``.

    Args:
        vocabulary: the tokens, one per id. Must contain ``unknown_token``; ``"[PAD]"``, if
            present, is the id :meth:`decode` drops.
        lower_case: basic tokenization with case folding and accent removal (must match how
            the vocabulary was learned).
        unknown_token: the token for words that cannot be cut.
        suffix_indicator: the prefix of continuation pieces.

    Example:
        >>> tok = WordPieceTokenizer.train(["The cat sat on the mat."] * 10, vocab_size=100)
        >>> tok.tokenize("The cats sat.").numpy()
        array([b'the', b'cat', b'##s', b'sat', b'.'], dtype=object)
        >>> tok.decode(tok.encode("The cat sat.")).numpy()
        b'the cat sat .'
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        *,
        lower_case: bool = True,
        unknown_token: str = "[UNK]",
        suffix_indicator: str = "##",
    ):
        self.vocabulary = list(vocabulary)
        if unknown_token not in self.vocabulary:
            raise ValueError(
                f"The vocabulary must contain unknown_token={unknown_token!r}. "
                f"Received {len(self.vocabulary)} tokens starting {self.vocabulary[:5]}"
            )
        if len(set(self.vocabulary)) != len(self.vocabulary):
            raise ValueError("The vocabulary holds a token twice.")
        self.lower_case = lower_case
        self.unknown_token = unknown_token
        self.suffix_indicator = suffix_indicator
        self._ids = {token: i for i, token in enumerate(self.vocabulary)}
        self.pad_id = self._ids.get("[PAD]")
        self._tokens = tf.constant(self.vocabulary)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            self.vocabulary,
            suffix_indicator=suffix_indicator,
            unknown_token=unknown_token,
            token_out_type=tf.int32,
            no_pretokenization=False,
            support_detokenization=True,
        )

    @classmethod
    def train(
        cls,
        texts,
        vocab_size: int,
        *,
        specials: Sequence[str] = SPECIALS,
        lower_case: bool = True,
        **learn_params,
    ) -> WordPieceTokenizer:
        """Learn a WordPiece vocabulary from texts with tf-text's BERT vocabulary builder.

        Uses ``tensorflow_text.tools.wordpiece_vocab.bert_vocab_from_dataset``: it counts the
        basic-tokenized words and picks, by a few rounds of greedy WordPiece tokenization of
        those words, the pieces that cover them best. ``vocab_size`` is a target, not a hard
        limit: every character of the corpus alphabet (up to 1000 by default) enters the
        vocabulary alone and as ``##`` continuation, so a Chinese corpus gives more tokens.

        Args:
            texts: an iterable of ``str``/``bytes``, a ``tf.string`` tensor of rank 0 or 1 or
                a ``tf.data.Dataset`` of strings (scalars or batches).
            vocab_size: the target vocabulary size.
            specials: reserved tokens put first (``[PAD]`` gets id 0 and ``[UNK]`` id 1 with
                the default); ``"[UNK]"`` must be among them.
            lower_case: as in the constructor.
            **learn_params: passed to tf-text's learner (``upper_thresh``, ``lower_thresh``,
                ``num_iterations``, ``max_input_tokens``, ``max_token_length``,
                ``max_unique_chars``, ``slack_ratio``, ``include_joiner_token``).

        Returns:
            A :class:`WordPieceTokenizer`.

        Raises:
            ValueError: if there is no text or ``"[UNK]"`` is not among ``specials``.
        """
        lines = list(iter_texts(texts))
        if not any(line.strip() for line in lines):
            raise ValueError(f"No text to learn a vocabulary from. Received {len(lines)} texts.")
        if "[UNK]" not in specials:
            raise ValueError(f"specials must contain '[UNK]'. Received: specials={specials!r}")
        dataset = (
            tf.data.Dataset.from_tensor_slices(tf.constant(lines, tf.string))
            .batch(1024)
            .map(lambda batch: tf.strings.regex_replace(batch, WHITESPACE, " "))
        )
        vocabulary = bert_vocab_from_dataset.bert_vocab_from_dataset(
            dataset,
            vocab_size=vocab_size,
            reserved_tokens=list(specials),
            bert_tokenizer_params=cls._basic_params(lower_case),
            learn_params=learn_params,
        )
        return cls(vocabulary, lower_case=lower_case)

    @staticmethod
    def _basic_params(lower_case: bool) -> dict:
        """How ``tf_text.BertTokenizer`` must be built to match this tokenizer."""
        return {"lower_case": lower_case, "normalization_form": None if lower_case else "NFC"}

    def _basic_normalize(self, texts):
        # the normalisation of tf_text's BertTokenizer (BasicTokenizer), done by hand because
        # FastWordpieceTokenizer splits words itself but does not normalise
        if self.lower_case:
            texts = tf_text.case_fold_utf8(texts)
            texts = tf_text.normalize_utf8(texts, "NFD")
            texts = tf.strings.regex_replace(texts, r"\p{Mn}", "")
        else:
            texts = tf_text.normalize_utf8(texts, "NFC")
        texts = tf.strings.regex_replace(texts, r"\p{Cc}|\p{Cf}", " ")
        # BERT splits on ASCII whitespace only; we split on all of it (U+3000, U+00A0, ...)
        return tf.strings.regex_replace(texts, WHITESPACE, " ")

    def _encode(self, texts):
        return self._wordpiece.tokenize(self._basic_normalize(texts))

    def _tokenize(self, texts):
        return tf.gather(self._tokens, self._encode(texts))

    def _decode(self, ids):
        return self._wordpiece.detokenize(ids)

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    def id_to_token(self, id_: int) -> str:
        return self.vocabulary[id_]

    def token_to_id(self, token: str) -> int:
        """The id of ``token``; raises ``KeyError`` naming it when it is not in the vocabulary."""
        if token not in self._ids:
            raise KeyError(f"{token!r} is not in the WordPiece vocabulary")
        return self._ids[token]

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary, one token per line (BERT's ``vocab.txt`` format)."""
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(token + "\n" for token in self.vocabulary)

    @classmethod
    def load(cls, path: str | os.PathLike, **kwargs) -> WordPieceTokenizer:
        """Read a vocabulary written by :meth:`save` (or a BERT ``vocab.txt``).

        Args:
            path: the file.
            **kwargs: constructor arguments (``lower_case``, ...), which the file does not hold.
        """
        with open(path, encoding="utf-8", newline="\n") as f:
            # not splitlines(): that would also cut at U+2028, U+0085, ... inside a token
            tokens = f.read().split("\n")
        return cls(tokens[:-1] if tokens[-1] == "" else tokens, **kwargs)
