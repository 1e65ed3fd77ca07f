"""Tokenizers for Chinese: one piece per Han character, or words segmented by jieba."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import jieba
import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text.base import Tokenizer
from nlpbook.text.normalize import WHITESPACE

HAN = r"\p{Han}"
PUNCTUATION = r"\p{P}"


class CJKCharTokenizer(Tokenizer):
    """Isolate each Han character, keep runs of other letters together (mixed Chinese/English).

    The approach of BERT's basic tokenizer: split on whitespace, make every Han (Chinese)
    character a piece of its own and, with ``split_punctuation``, every punctuation mark
    (Unicode category P) too; everything else (Latin or Cyrillic words, digits, emoji) stays
    in runs. ``"我爱NLP！"`` gives ``我 | 爱 | NLP | ！``. Uses ``tf_text.regex_split``, so it is
    a graph op. Joining the pieces gives the text without its whitespace.

    Args:
        split_punctuation: make each punctuation mark a piece.

    Example:
        >>> [t.decode() for t in CJKCharTokenizer().tokenize("我爱NLP！").numpy()]
        ['我', '爱', 'NLP', '！']
    """

    def __init__(self, split_punctuation: bool = True):
        self.split_punctuation = split_punctuation
        keep = [HAN, PUNCTUATION] if split_punctuation else [HAN]
        self._keep_pattern = "|".join(keep)
        self._split_pattern = "|".join([WHITESPACE + "+", *keep])

    def _tokenize(self, texts):
        return tf_text.regex_split(texts, self._split_pattern, self._keep_pattern)


class JiebaTokenizer(Tokenizer):
    """Chinese word segmentation with jieba (a Python library, run through ``tf.py_function``).

    jieba finds the most probable split of a sentence into words of its dictionary (a prefix
    dictionary and dynamic programming over word frequencies) and, with ``hmm=True``, guesses
    words missing from the dictionary with a hidden Markov model over character tags.
    ``"自然语言处理很有趣"`` gives ``自然语言 | 处理 | 很 | 有趣``. Whitespace pieces are dropped;
    Latin words and numbers are kept whole.

    This is **Python, not a TensorFlow op**: :meth:`tokenize` calls jieba through
    ``tf.py_function``, so it works eagerly, in ``tf.function`` and in ``Dataset.map``, but it
    holds the Python GIL (``num_parallel_calls`` gives no speed-up), cannot be saved in a
    SavedModel and cannot run on TPU or in TF Serving. For a model that must be exported,
    segment the corpus once in Python (:meth:`segment`) or use :class:`CJKCharTokenizer`.

    Args:
        hmm: let jieba's HMM join characters into words missing from the dictionary.
        user_words: extra words for the dictionary (domain terms, names).

    Example:
        >>> JiebaTokenizer().segment("自然语言处理很有趣")
        ['自然语言', '处理', '很', '有趣']
    """

    def __init__(self, hmm: bool = True, user_words: Iterable[str] = ()):
        self.hmm = hmm
        self.user_words = list(user_words)
        jieba.setLogLevel(logging.WARNING)  # it logs every dictionary load at INFO
        # our own instance: words added here do not leak into jieba's global tokenizer
        self._jieba = jieba.Tokenizer()
        for word in self.user_words:
            self._jieba.add_word(word)

    def segment(self, text: str) -> list[str]:
        """Segment one Python string into words, dropping whitespace (plain Python)."""
        return [w for w in self._jieba.cut(text, HMM=self.hmm) if w.strip()]

    def _segment_batch(self, texts):
        words = [self.segment(t.decode("utf-8")) for t in texts.numpy()]
        flat = [w for ws in words for w in ws]
        return (
            tf.constant(flat, tf.string, shape=[len(flat)]),
            tf.constant([len(ws) for ws in words], tf.int64, shape=[len(words)]),
        )

    def _tokenize(self, texts):
        flat, lengths = tf.py_function(self._segment_batch, [texts], [tf.string, tf.int64])
        flat.set_shape([None])
        lengths.set_shape(texts.shape)
        return tf.RaggedTensor.from_row_lengths(flat, lengths, validate=False)
