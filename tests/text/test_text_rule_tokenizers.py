"""Whitespace, script, character and Chinese tokenizers against Python references."""

import unicodedata

import jieba
import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text import (
    CharTokenizer,
    CJKCharTokenizer,
    JiebaTokenizer,
    UnicodeScriptTokenizer,
    WhitespaceTokenizer,
)


def decoded(ragged):
    return [[p.decode("utf-8") for p in row] for row in ragged.to_list()]


def test_whitespace_equals_str_split(ptb_lines, varied):
    lines = ptb_lines[:500] + ["  a\tb\n\nc\r\x0bd\x0ce  ", "x"]
    assert decoded(WhitespaceTokenizer().tokenize(lines)) == [line.split() for line in lines]
    # beyond ASCII as well: U+3000, U+00A0, U+2028, U+0085, U+001C...
    assert decoded(WhitespaceTokenizer().tokenize(varied)) == [t.split() for t in varied]


def test_whitespace_works_around_the_tf_text_multibyte_space_bug():
    text = "a\u3000b\u00a0c\u2003d"
    raw = tf_text.WhitespaceTokenizer().tokenize([text])  # what tf-text 2.21 gives alone
    fixed = WhitespaceTokenizer().tokenize([text])
    assert decoded(fixed) == [["a", "b", "c", "d"]]
    assert raw.to_list() != fixed.to_list(), "tf-text fixed its bug: drop the workaround"


def test_script_tokenizer_splits_scripts_and_punctuation():
    tok = UnicodeScriptTokenizer()
    assert decoded(tok.tokenize(["NLP很有趣! Привет мир", "don't 3.14", "1 2 ! ?"])) == [
        ["NLP", "很有趣", "!", "Привет", "мир"],
        ["don", "'", "t", "3.14"],
        ["1", "2", "!", "?"],  # tf-text alone glues these into "12" and "!?"
    ]
    spaced = UnicodeScriptTokenizer(keep_whitespace=True).tokenize(["a\u3000 b c"])
    assert decoded(spaced) == [["a", "\u3000 ", "b", " ", "c"]]


def test_script_tokenizer_pieces_are_single_script(zh_lines, ptb_lines):
    # every piece of letters is one script: check with the Unicode character names' prefixes
    for piece in UnicodeScriptTokenizer().tokenize(zh_lines[:200] + ptb_lines[:200]).flat_values:
        text = piece.numpy().decode()
        letters = [c for c in text if unicodedata.category(c).startswith("L")]
        scripts = {unicodedata.name(c).split()[0] for c in letters}
        assert len(scripts) <= 1, text


def test_char_tokenizer_equals_list_of_characters(varied):
    got = CharTokenizer().tokenize(varied)
    assert decoded(got) == [[c for c in t if not c.isspace()] for t in varied]
    got = CharTokenizer(keep_whitespace=True).tokenize(varied)
    assert decoded(got) == [list(t) for t in varied]


def is_han(char):
    """Python reference for RE2's \\p{Han} on the characters of our corpora."""
    name = unicodedata.name(char, "")
    return name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")) or char in (
        "〇々〆"
    )


def cjk_reference(text):
    """BERT's basic split, in Python: Han characters and punctuation alone, other runs kept."""
    pieces, current = [], ""
    for char in text:
        if char.isspace() or is_han(char) or unicodedata.category(char).startswith("P"):
            if current:
                pieces.append(current)
            current = ""
            if not char.isspace():
                pieces.append(char)
        else:
            current += char
    return pieces + ([current] if current else [])


def test_cjk_char_tokenizer_equals_python_reference(zh_lines, varied):
    texts = zh_lines[:300] + varied
    assert decoded(CJKCharTokenizer().tokenize(texts)) == [cjk_reference(t) for t in texts]
    assert decoded(CJKCharTokenizer().tokenize(["我爱NLP！"])) == [["我", "爱", "NLP", "！"]]
    assert decoded(CJKCharTokenizer(split_punctuation=False).tokenize(["我爱NLP！ ok"])) == [
        ["我", "爱", "NLP！", "ok"]
    ]


def test_jieba_equals_jieba_library(jieba_tokenizer, zh_lines):
    texts = zh_lines[:200]
    expected = [[w for w in jieba.lcut(t) if w.strip()] for t in texts]
    assert decoded(jieba_tokenizer.tokenize(texts)) == expected
    assert jieba_tokenizer.segment("自然语言处理很有趣") == ["自然语言", "处理", "很", "有趣"]


def test_jieba_options_change_the_segmentation(jieba_tokenizer):
    text = "小明硕士毕业于中国科学院计算所"
    default = jieba_tokenizer.segment(text)
    assert JiebaTokenizer(hmm=False).segment(text) == jieba.lcut(text, HMM=False) != default
    with_word = JiebaTokenizer(user_words=["中国科学院计算所"]).segment(text)
    assert "中国科学院计算所" in with_word and "中国科学院计算所" not in default
    # our user word did not leak into jieba's global dictionary
    assert "中国科学院计算所" not in jieba.lcut(text)


def test_jieba_finds_words_longer_than_characters(jieba_tokenizer, zh_lines):
    """Segmentation makes sequences shorter than characters (a measured floor)."""
    words = jieba_tokenizer.tokenize(zh_lines[:300])
    chars = CJKCharTokenizer().tokenize(zh_lines[:300])
    ratio = int(tf.size(words.flat_values)) / int(tf.size(chars.flat_values))
    assert 0.4 < ratio < 0.8
