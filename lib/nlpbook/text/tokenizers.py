"""Rule-based tokenizers: whitespace, Unicode script boundaries, characters (tf-text ops)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text.base import Tokenizer
from nlpbook.text.normalize import WHITESPACE


class WhitespaceTokenizer(Tokenizer):
    """Split on runs of whitespace (``tf_text.WhitespaceTokenizer``), like Python's ``str.split()``.

    Whitespace is Unicode whitespace (the characters of Python's ``str.isspace``: tabs,
    newlines, U+00A0, U+3000, ...). Punctuation stays attached to words (``"fun!"``) and
    Chinese, written without spaces, stays in one piece per run of characters: use
    :class:`nlpbook.text.CJKCharTokenizer` or :class:`nlpbook.text.JiebaTokenizer` there.

    tf-text 2.21's ``WhitespaceTokenizer`` mis-cuts tokens next to a *multi-byte* whitespace
    character: ``"a\\u3000b"`` gives ``[b"a\\xe3\\x80", b"b"]``, with two bytes of U+3000 glued
    to ``a``. So every whitespace character is first replaced by an ASCII space.

    Example:
        >>> WhitespaceTokenizer().tokenize(["NLP is  fun!", ""]).to_list()
        [[b'NLP', b'is', b'fun!'], []]
    """

    def __init__(self):
        self._tokenizer = tf_text.WhitespaceTokenizer()

    def _tokenize(self, texts):
        return self._tokenizer.tokenize(tf.strings.regex_replace(texts, WHITESPACE, " "))


class UnicodeScriptTokenizer(Tokenizer):
    """Split where the Unicode script changes, and on whitespace (``tf_text.UnicodeScriptTokenizer``).

    Each character has a script property (Latin, Han, Cyrillic, ...); punctuation, digits,
    symbols and emoji are "Common", combining marks and joiners "Inherited". A piece is a
    maximal run of one script, so ``"NLP很有趣!"`` gives ``NLP | 很有趣 | !``. Within Common,
    tf-text keeps runs of digits and ``.`` together (``"3.14"``) but cuts every punctuation
    mark off on its own (``"don't"`` gives ``don | ' | t``). Chinese runs are not segmented
    into words. A decomposed accent (``e`` + U+0301) or the zero-width joiner inside 👩‍💻 is
    a piece of its own (Inherited script): normalise to NFC first.

    tf-text 2.21 with ``keep_whitespace=False`` joins pieces of the Common script across
    whitespace: ``"1 2"`` gives ``"12"`` and ``"! ?"`` gives ``"!?"``. So we always ask it for
    the whitespace pieces, which it cuts correctly, and drop them ourselves.

    Args:
        keep_whitespace: also return the whitespace runs as pieces.

    Example:
        >>> [t.decode() for t in UnicodeScriptTokenizer().tokenize("NLP很有趣! 1 2").numpy()]
        ['NLP', '很有趣', '!', '1', '2']
    """

    def __init__(self, keep_whitespace: bool = False):
        self.keep_whitespace = keep_whitespace
        self._tokenizer = tf_text.UnicodeScriptTokenizer(keep_whitespace=True)

    def _tokenize(self, texts):
        pieces = self._tokenizer.tokenize(texts)
        if self.keep_whitespace:
            return pieces
        return tf.ragged.boolean_mask(
            pieces, ~tf.strings.regex_full_match(pieces, WHITESPACE + "+")
        )


class CharTokenizer(Tokenizer):
    """Split into Unicode code points (``tf.strings.unicode_split``): character-level models.

    A piece is one *code point*, not one user-perceived character: ``"é"`` written as ``e`` +
    U+0301 gives two pieces (normalise to NFC first to compose it), the emoji 👩‍💻 is three
    (woman, U+200D zero-width joiner, laptop) and the flag 🇨🇳 two regional indicators.
    Joining the pieces always gives the text back (without whitespace when it is dropped).

    Args:
        keep_whitespace: keep whitespace characters as pieces (for a character language model
            that must generate spaces); by default they are dropped.

    Example:
        >>> CharTokenizer().tokenize("很有趣 ok").numpy().tolist() == [
        ...     c.encode() for c in "很有趣ok"]
        True
    """

    def __init__(self, keep_whitespace: bool = False):
        self.keep_whitespace = keep_whitespace

    def _tokenize(self, texts):
        chars = tf.strings.unicode_split(texts, "UTF-8")
        if self.keep_whitespace:
            return chars
        return tf.ragged.boolean_mask(chars, ~tf.strings.regex_full_match(chars, WHITESPACE))
