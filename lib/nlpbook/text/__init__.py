"""Text: normalisation, tokenizers (tensorflow-text wrappers) and vocabularies.

Every function here takes a ``str``, a list of them or a rank-0/1 ``tf.string`` tensor, checks
it (clear ``TypeError``/``ValueError``), replaces invalid UTF-8 by U+FFFD (:func:`as_text`,
the one place that does it), and works eagerly, in ``tf.function`` and in
``tf.data.Dataset.map``.

Tokenizers share one interface (:class:`Tokenizer`): ``tokenize(texts)`` gives string pieces,
a ``tf.RaggedTensor`` ``(batch, None)`` for a batch or a ``tf.Tensor`` ``(None,)`` for one text.
Those with a fixed vocabulary (:class:`SubwordTokenizer`: WordPiece, SentencePiece, bytes,
and word-level ids from :class:`WordLevelTokenizer`) add
``encode`` (int32 ids), ``decode``, ``vocab_size``, ``id_to_token``, ``token_to_id``,
``save``/``load``.

=========================  ===============================================================
``normalize``              NFKC, case folding, whitespace, CJK punctuation (TF ops)
``WhitespaceTokenizer``    split on whitespace, like ``str.split()``
``UnicodeScriptTokenizer`` split where the script changes (Latin | Han | punctuation)
``CharTokenizer``          one piece per code point
``CJKCharTokenizer``       one piece per Han character, Latin words kept whole
``JiebaTokenizer``         Chinese words by jieba (Python, via ``tf.py_function``)
``WordPieceTokenizer``     BERT's subwords, learned with tf-text, run by FastWordpiece
``SentencePieceTokenizer`` unigram/BPE subwords, trained with sentencepiece
``ByteTokenizer``          UTF-8 bytes, 256 ids, no unknowns
``Vocabulary``             word-level vocabulary: counts, ids, TF look-up table
``WordLevelTokenizer``     a rule-based tokenizer + a Vocabulary: encode/decode word ids
=========================  ===============================================================
"""

from nlpbook.text.base import SubwordTokenizer, Tokenizer
from nlpbook.text.byte import ByteTokenizer
from nlpbook.text.chinese import CJKCharTokenizer, JiebaTokenizer
from nlpbook.text.inputs import as_text, iter_texts, repair_utf8
from nlpbook.text.normalize import normalize
from nlpbook.text.sentencepiece import SentencePieceTokenizer
from nlpbook.text.tokenizers import CharTokenizer, UnicodeScriptTokenizer, WhitespaceTokenizer
from nlpbook.text.vocab import Vocabulary
from nlpbook.text.wordlevel import WordLevelTokenizer
from nlpbook.text.wordpiece import WordPieceTokenizer

__all__ = [
    "ByteTokenizer",
    "CJKCharTokenizer",
    "CharTokenizer",
    "JiebaTokenizer",
    "SentencePieceTokenizer",
    "SubwordTokenizer",
    "Tokenizer",
    "UnicodeScriptTokenizer",
    "Vocabulary",
    "WhitespaceTokenizer",
    "WordLevelTokenizer",
    "WordPieceTokenizer",
    "as_text",
    "iter_texts",
    "normalize",
    "repair_utf8",
]
