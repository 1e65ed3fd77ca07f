"""WordPiece (BERT's subword tokenizer): vocabulary learned with tf-text, run with FastWordpiece."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset

from nlpbook.text.base import SubwordTokenizer
from nlpbook.text.inputs import iter_texts

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")

# BERT's character classes, as the Hugging Face ``tokenizers`` library has them
# (``BertNormalizer``, ``BertPreTokenizer``), written for RE2. Its Unicode categories come from
# older Unicode tables (about Unicode 8) than RE2's, so the characters added or recategorised
# since are listed apart (the _NOT_* and _ALSO_* tables below; they were found by comparing
# every code point with ``tokenizers`` 0.23, and tests/text/test_text_wordpiece_checkpoint.py
# does it again).
#
# Removed: NUL and the other control characters except tab, newline and carriage return
# (those are whitespace), format characters (Cf: zero-width space and joiners, BOM, soft
# hyphen), private-use characters (Co) and U+FFFD (what invalid UTF-8 became).
_NOT_REMOVED = r"\x{890}-\x{891}\x{8e2}\x{110cd}\x{13430}-\x{1343f}"
_NOT_SPLIT = (
    r"\x{61d}\x{9fd}\x{a76}\x{c77}\x{c84}\x{1b7d}-\x{1b7e}\x{2e43}-\x{2e4f}"
    r"\x{2e52}-\x{2e5d}\x{10ead}\x{10f55}-\x{10f59}\x{10f86}-\x{10f89}"
    r"\x{1144b}-\x{1144f}\x{1145a}-\x{1145b}\x{1145d}\x{11660}-\x{1166c}\x{116b9}"
    r"\x{1183b}\x{11944}-\x{11946}\x{119e2}\x{11a3f}-\x{11a46}\x{11a9a}-\x{11a9c}"
    r"\x{11a9e}-\x{11aa2}\x{11b00}-\x{11b09}\x{11c41}-\x{11c45}\x{11c70}-\x{11c71}"
    r"\x{11ef7}-\x{11ef8}\x{11f43}-\x{11f4f}\x{11fff}\x{12ff1}-\x{12ff2}"
    r"\x{16e97}-\x{16e9a}\x{16fe2}\x{1e95e}-\x{1e95f}"
)
_ALSO_SPLIT = r"\x{166d}\x{111c9}"
_NOT_STRIPPED = (
    r"\x{7fd}\x{898}-\x{89f}\x{8ca}-\x{8e1}\x{9fe}\x{afa}-\x{aff}\x{b55}\x{c04}\x{c3c}"
    r"\x{d00}\x{d3b}-\x{d3c}\x{d81}\x{eba}\x{ece}\x{180f}\x{1885}-\x{1886}"
    r"\x{1abf}-\x{1ace}\x{1df6}-\x{1dfb}\x{a82c}\x{a8c5}\x{a8ff}\x{a9bd}\x{105c9}"
    r"\x{105e4}\x{10d24}-\x{10d27}\x{10eab}-\x{10eac}\x{10efd}-\x{10eff}"
    r"\x{10f46}-\x{10f50}\x{10f82}-\x{10f85}\x{11070}\x{11073}-\x{11074}\x{110c2}"
    r"\x{111c9}\x{111cf}\x{1123e}\x{11241}\x{1133b}\x{11383}\x{11385}\x{1138e}\x{11391}"
    r"\x{113c5}\x{113c7}-\x{113c8}\x{11438}-\x{1143f}\x{11442}-\x{11444}\x{11446}"
    r"\x{1145e}\x{1182f}-\x{11837}\x{11839}-\x{1183a}\x{11938}\x{1193b}-\x{1193c}"
    r"\x{1193e}\x{11943}\x{119d4}-\x{119d7}\x{119da}-\x{119db}\x{119e0}"
    r"\x{11a01}-\x{11a0a}\x{11a33}-\x{11a38}\x{11a3b}-\x{11a3e}\x{11a47}"
    r"\x{11a51}-\x{11a56}\x{11a59}-\x{11a5b}\x{11a8a}-\x{11a96}\x{11a98}-\x{11a99}"
    r"\x{11c30}-\x{11c36}\x{11c38}-\x{11c3d}\x{11c3f}\x{11c92}-\x{11ca7}"
    r"\x{11caa}-\x{11cb0}\x{11cb2}-\x{11cb3}\x{11cb5}-\x{11cb6}\x{11d31}-\x{11d36}"
    r"\x{11d3a}\x{11d3c}-\x{11d3d}\x{11d3f}-\x{11d45}\x{11d47}\x{11d90}-\x{11d91}"
    r"\x{11d95}\x{11d97}\x{11ef3}-\x{11ef4}\x{11f00}-\x{11f01}\x{11f36}-\x{11f3a}"
    r"\x{11f40}\x{11f42}\x{13440}\x{13447}-\x{13455}\x{16121}-\x{16128}"
    r"\x{16d68}-\x{16d6a}\x{16f4f}\x{16fe4}\x{1cf00}-\x{1cf2d}\x{1cf30}-\x{1cf46}"
    r"\x{1e000}-\x{1e006}\x{1e008}-\x{1e018}\x{1e01b}-\x{1e021}\x{1e023}-\x{1e024}"
    r"\x{1e026}-\x{1e02a}\x{1e08f}\x{1e130}-\x{1e136}\x{1e2ae}\x{1e2ec}-\x{1e2ef}"
    r"\x{1e4ec}-\x{1e4ef}\x{1e944}-\x{1e94a}"
)
_ALSO_STRIPPED = r"\x{1734}"
_REMOVED = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\p{Co}\x{fffd}]|[^\P{Cf}" + _NOT_REMOVED + "]"
# Whitespace, made one ASCII space: what is left of Unicode's White_Space after the removal
# (U+00A0 no-break space, U+3000 ideographic space, U+2028 line separator, ...).
# (The ASCII space is left out of the pattern: replacing it by itself is slow.)
_SPACES = r"[\t\n\r\x{2028}\x{2029}]|[^\P{Zs} ]"
# Accents, removed after NFD when lower-casing: the non-spacing marks (Mn).
_ACCENTS = r"[^\P{Mn}" + _NOT_STRIPPED + "]|[" + _ALSO_STRIPPED + "]"
# Words of their own: ASCII punctuation and symbols ($ + < = > ^ ` | ~ included), Unicode
# punctuation (P: « » “ ” — 。 ...) and the CJK ideographs of BERT's _is_chinese_char (not
# kana, not hangul; ``tokenizers`` has 0x2B920 where BERT has 0x2B820, and we follow it).
_CJK = (
    r"\x{4e00}-\x{9fff}\x{3400}-\x{4dbf}\x{20000}-\x{2a6df}\x{2a700}-\x{2b73f}"
    r"\x{2b740}-\x{2b81f}\x{2b920}-\x{2ceaf}\x{f900}-\x{faff}\x{2f800}-\x{2fa1f}"
)
_SPLIT = r"([!-/:-@\[-`{-~" + _CJK + _ALSO_SPLIT + r"]|[^\P{P}" + _NOT_SPLIT + "])"
# A longer word (counted in characters after normalisation) is [UNK] as a whole.
MAX_WORD_CHARS = 100


class WordPieceTokenizer(SubwordTokenizer):
    """WordPiece: words split into the longest vocabulary pieces, left to right (BERT).

    Text goes through BERT's basic tokenization, then each word is cut greedily into the
    longest prefix in the vocabulary, then the longest continuation piece (written with the
    ``##`` prefix), and so on: ``"unaffable"`` gives ``un | ##aff | ##able``. A word that
    cannot be cut (a character missing from the vocabulary) or that is longer than 100
    characters (after normalisation) becomes ``[UNK]`` as a whole.

    Basic tokenization is BERT's as the Hugging Face ``tokenizers`` library runs it for a BERT
    checkpoint (``BertNormalizer``, ``BertPreTokenizer``), so that a checkpoint's ``vocab.txt``
    gives the ids of its ``tokenizer.json``; the tests check it with the uncased vocabulary of
    all-MiniLM-L6-v2 on every Unicode code point and on mixed text. In order:

    1. the ``special_tokens`` (``[CLS]``, ``[SEP]``, ...) are found as they are written
       (case-sensitive) in the raw text, and each gives its own id;
    2. NUL, U+FFFD (what invalid UTF-8 became), the control characters other than tab,
       newline and carriage return, the format characters (category Cf: zero-width space and
       joiner, BOM, soft hyphen) and the private-use characters are removed (``"a\\u200bb"``
       is the one word ``ab``), and whitespace (also U+00A0, U+3000, U+2028) becomes a space;
    3. with ``lower_case``: NFD, removal of the non-spacing marks (category Mn: ``"Café"``
       gives ``cafe``, ``"Ångström"`` gives ``angstrom``), then lower-casing character by
       character (not case folding: ``ß`` stays, full-width ``Ａ`` becomes ``ａ``, ``Σ`` is
       always ``σ``); without ``lower_case`` the text keeps its case and its normal form;
    4. a split on whitespace, and each ASCII punctuation or symbol character (``$ + < = > ^
       ` | ~`` too), each Unicode punctuation mark (category P: ``« » “ ” — 。``) and each CJK
       ideograph becomes a word of its own; kana, hangul, other symbols (``€ ©``) and emoji
       stay inside words.

    The one known difference: lower-casing and NFD of a few characters added in Unicode 14
    to 16 (Vithkuqi capitals, Kirat Rai vowels, ...), which TensorFlow (ICU) and ``tokenizers``
    (Rust) take from different Unicode versions. None of them is in the uncased BERT
    vocabulary, so a word holding one is ``[UNK]`` either way. The wordpieces are computed by
    ``tf_text.FastWordpieceTokenizer`` (linear time), checked in the tests against
    ``tf_text.BertTokenizer`` (the older ``WordpieceTokenizer``).

    Round trip: :meth:`decode` joins pieces back into words (dropping ``##``) and words with
    one space. So ``decode(encode(x))`` equals the basic-tokenized words of ``x`` joined by
    spaces, when no piece is ``[UNK]``: exactly ``x`` for text that is already normalised
    (lower case, no accents, single spaces) and has no punctuation; ``"Hello, world!"`` comes
    back as ``"hello , world !"``. Always, when no piece is ``[UNK]``,
    ``encode(decode(encode(x))) == encode(x)``.

    Invalid UTF-8 is not an error (as everywhere in :mod:`nlpbook.text`): it becomes U+FFFD,
    which step 2 removes, as ``tokenizers`` does with U+FFFD.

    Args:
        vocabulary: the tokens, one per id. Must contain ``unknown_token``; ``"[PAD]"``, if
            present, is the id :meth:`decode` drops.
        lower_case: basic tokenization with accent removal and lower-casing (must match how
            the vocabulary was learned: ``True`` for an uncased BERT checkpoint).
        unknown_token: the token for words that cannot be cut.
        suffix_indicator: the prefix of continuation pieces.
        special_tokens: tokens of the vocabulary, without whitespace, that are looked for in
            the raw text (step 1), as ``tokenizers`` does with a checkpoint's added tokens.
            ``None`` (default): those of ``[PAD] [UNK] [CLS] [SEP] [MASK]`` in the
            vocabulary; ``()`` for none.

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
        special_tokens: Sequence[str] | None = None,
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
        if special_tokens is None:
            special_tokens = [token for token in SPECIALS if token in self._ids]
        self.special_tokens = list(special_tokens)
        for token in self.special_tokens:
            if token not in self._ids or not token or any(c.isspace() for c in token):
                raise ValueError(
                    "special_tokens must be tokens of the vocabulary without whitespace. "
                    f"Received: {token!r}"
                )
        # longest first: RE2 takes the first alternative that matches, HF the longest
        specials = sorted(set(self.special_tokens), key=len, reverse=True)
        self._special_pattern = "|".join(re.escape(token) for token in specials) or None
        self._tokens = tf.constant(self.vocabulary)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            self.vocabulary,
            suffix_indicator=suffix_indicator,
            # the words longer than MAX_WORD_CHARS are [UNK] before; the rest fit in this
            max_bytes_per_word=4 * MAX_WORD_CHARS,
            unknown_token=unknown_token,
            token_out_type=tf.int32,
            no_pretokenization=True,  # the words are split by _words
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
            .map(lambda batch: cls._normalize(batch, lower_case))
        )
        vocabulary = bert_vocab_from_dataset.bert_vocab_from_dataset(
            dataset,
            vocab_size=vocab_size,
            reserved_tokens=list(specials),
            # the text is normalised and split already: the learner must only cut at spaces
            bert_tokenizer_params={"lower_case": False, "normalization_form": None},
            learn_params=learn_params,
        )
        return cls(vocabulary, lower_case=lower_case)

    @staticmethod
    def _normalize(texts, lower_case: bool):
        """BERT's normalisation (``BertNormalizer``), then spaces around each split character.

        Works on a string tensor of any shape; the words of the result are separated by one or
        more ASCII spaces.
        """
        texts = tf.strings.regex_replace(texts, _REMOVED, "")
        texts = tf.strings.regex_replace(texts, _SPACES, " ")
        if lower_case:
            texts = tf_text.normalize_utf8(texts, "NFD")
            texts = tf.strings.regex_replace(texts, _ACCENTS, "")
            # per character, as BERT does: ICU would give a final sigma its own form
            texts = tf.strings.regex_replace(texts, "\u03a3", "\u03c3")
            texts = tf.strings.lower(texts, encoding="utf-8")
        return tf.strings.regex_replace(texts, _SPLIT, r" \1 ")

    def _words(self, texts):
        """``(batch,)`` texts to the ``(batch, None)`` words to cut into pieces."""
        if self._special_pattern is None:
            segments = tf.RaggedTensor.from_tensor(texts[:, tf.newaxis])
        else:
            # the special tokens, found verbatim in the raw text, are words of their own
            # regex_split stops at a NUL byte; U+FFFD is removed by _normalize as NUL is
            texts = tf.strings.regex_replace(texts, r"\x00", "\ufffd")
            segments = tf_text.regex_split(texts, self._special_pattern, self._special_pattern)
        flat = segments.flat_values
        normalized = self._normalize(flat, self.lower_case)
        if self._special_pattern is not None:
            special = tf.strings.regex_full_match(flat, self._special_pattern)
            normalized = tf.where(special, flat, normalized)
        words = tf.strings.split(normalized)  # at runs of spaces, the only whitespace left
        # BERT's rule: a word longer than 100 characters is [UNK], whatever its pieces
        long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_WORD_CHARS
        words = words.with_flat_values(tf.where(long, self.unknown_token, words.flat_values))
        return segments.with_flat_values(words).merge_dims(1, 2)

    def _encode(self, texts):
        words = self._words(texts)
        pieces = self._wordpiece.tokenize(words.flat_values)
        return words.with_flat_values(pieces).merge_dims(1, 2)

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
