"""WordPieceTokenizer on a checkpoint's vocab.txt gives the ids of the checkpoint's tokenizer.

The checkpoint is sentence-transformers/all-MiniLM-L6-v2 (uncased BERT vocabulary of 30,522,
registry dataset ``all-minilm-l6-v2``); the reference is its ``tokenizer.json`` run by the
Hugging Face ``tokenizers`` library. Without the data (or the library) the tests skip, and fail
under ``CI=true``.
"""

import json
import random
import tarfile
import unicodedata

import pytest
import tensorflow as tf

from nlpbook.datasets import require, skip_unavailable
from nlpbook.text import WordPieceTokenizer

try:
    import tokenizers
except ImportError as error:  # a dependency of keras-hub, so normally there
    tokenizers = None
    TOKENIZERS_MISSING = f"the tokenizers library is not installed: {error}"

FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

CASES = {
    "english": [
        "Hello, world! It's 3.14 - not 42.",
        "The movie cost $1,000,000 (approx.) & earned 50%... wow!!!",
        "e-mail: john.doe@example.com, see https://example.com/a?b=c#d",
        "I can't believe it's not butter; 1st, 2nd & 3rd place (1999-2001).",
        "Numbers: 0 7 12 365 2024 3,141.59 1e-9 0xFF 10:30pm",
    ],
    "mixed case": ["HeLLo WoRLD", "iPhone McDonald's NASA", "ALL CAPS SHOUTING!", "ǅemal ǈ"],
    "accents and other scripts": [
        "café naïve Zürich résumé",
        "Ångström Crème Brûlée façade São Paulo",
        "Dvořák Łódź İstanbul Iğdır ıslak",
        "cafe\u0301 (a decomposed accent) vs café",
        "Straße STRASSE groß",
        "ΟΔΥΣΣΕΥΣ Σίσυφος ς σ Σ",  # Σ is σ everywhere, even at the end of a word
        "ﬁne ﬂow ǆ ① ² ½",  # ligatures and compatibility forms are not NFKC'd
        "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ１２３，ｏｋ？",
        "Привет, мир! Ελληνικά",
        "العربية עברית हिन्दी ภาษาไทย",
    ],
    "chinese": [
        "中文分词很有意思。",
        "我爱北京天安门！",
        "NLP很有趣，really有趣",
        "《红楼梦》「引号」【括号】、顿号…省略——破折号",
        "𠀀𪚥 extension B",
        "𫠡𫠫 extension E, not CJK for tokenizers",
        "丽 compatibility ideographs 丽",
    ],
    "japanese and korean": [
        "ひらがなとカタカナ",
        "東京は日本の首都です。",
        "ｶﾀｶﾅ half-width",
        "한국어 자연어 처리",
        "안녕하세요! 감사합니다.",
    ],
    "emoji": [
        "I love it 🤗!",
        "👍🏽 thumbs up",
        "family 👨\u200d👩\u200d👧\u200d👦 here",
        "❤️ heart with a variation selector",
        "🇨🇳 flag",
        "hi🤗there",
    ],
    "symbols": [
        "$ % ^ ` ~ | < > « » “curly” ‘quotes’ — em dash – en dash …",
        "€ £ ¥ © ® ™ ° ± × ÷ → ∞ ≠ § ¶ • @ # & * + = \\ / _",
        "a$b a%b a^b a`b a~b a|b a<b a>b a«b»c a—b a€b a©b",
    ],
    "control and zero-width": [
        "tab\tseparated\tvalues",
        "zero\u200bwidth space",
        "zero\u200dwidth joiner",
        "\ufeffbyte order mark",
        "nul\x00char and\x00more",
        "bell\x07 del\x7f esc\x1b",
        "soft\u00adhyphen",
        "next\x85line vertical\x0btab form\x0cfeed",
        "private\ue000use \U000f0000",
        "left\u200eto\u200fright marks",
        "the \ufffd replacement character",
    ],
    "whitespace": [
        "no\u00a0break",
        "ideographic\u3000space",
        "line\u2028separator paragraph\u2029separator",
        "thin\u2009em\u2003ogham\u1680narrow\u202fspaces",
        "windows\r\nline\rends\n",
        "  lots   of   spaces  ",
    ],
    "long words": [
        "a" * 100,  # 100 characters: cut into pieces
        "a" * 101,  # 101: [UNK] as a whole
        "supercalifragilisticexpialidocious" * 3,  # 102 characters
        "x" * 99 + "é",  # 100 characters once the accent is removed
        "é" * 101,
        "привет" * 16,  # 96 characters, 192 bytes: not [UNK]
        "привет" * 17,  # 102 characters
        "한" * 40,  # NFD: 120 jamo, so [UNK]
        "한" * 33,  # 99 jamo
        "word " + "ab" * 60 + " next",
    ],
    "not in the vocabulary": [
        "xqzvbnmw blorptastic",
        "floccinaucinihilipilification antidisestablishmentarianism",
        "🦜🦩 ꙮ",
    ],
    "empty": ["", " ", "\t\n", "\u3000\u00a0", "\u200b", "\x00", "\ufeff\u200d"],
    "special tokens in the text": [
        "[CLS] hello [SEP]",
        "x[MASK]y",
        "[cls] lower case is not special",
        "[UNK] [PAD][PAD]",
        "[unused0] is not special",
        "[CLS half [SEP",
        "[[SEP]]",
        "\x00[SEP]\x00",
        "[MASK]\u200b[MASK]",
    ],
    "imdb-like": [
        "This movie was terrible.<br /><br />I mean, REALLY terrible!!! 1/10",
        "I've seen \"The Godfather\" 5 times - it's a masterpiece.<br />Brando's best.",
        "Not bad... but not great either. The plot (if you can call it that) drags.<br /><br />",
        "A must-see!!! 10/10 would watch again :-) <br/>Highly recommended.",
        "Worst. Film. Ever. $20 wasted & 2 hours of my life I'll never get back.",
        "The cinematography was stunning;<br /><br />however, the acting felt wooden & forced.",
    ],
}
ALL = [text for texts in CASES.values() for text in texts]


@pytest.fixture(scope="module")
def paths():
    if tokenizers is None:
        skip_unavailable(TOKENIZERS_MISSING)
    return require("all-minilm-l6-v2", FILES)


@pytest.fixture(scope="module")
def reference(paths):
    """The checkpoint's own tokenizer, without its padding and truncation to 128."""
    tok = tokenizers.Tokenizer.from_file(str(paths["tokenizer.json"]))
    tok.no_padding()
    tok.no_truncation()
    return tok


@pytest.fixture(scope="module")
def ours(paths):
    config = json.loads(paths["tokenizer_config.json"].read_text(encoding="utf-8"))
    return WordPieceTokenizer.load(paths["vocab.txt"], lower_case=config["do_lower_case"])


def reference_ids(reference, texts, special=False):
    return [e.ids for e in reference.encode_batch(texts, add_special_tokens=special)]


def assert_same_ids(ours, reference, texts):
    got = ours.encode(texts).to_list()
    want = reference_ids(reference, texts)
    bad = [(t, w, g) for t, w, g in zip(texts, want, got, strict=True) if w != g]
    assert not bad, f"{len(bad)} of {len(texts)} texts differ:\n" + "\n".join(
        _difference(ours, *b) for b in bad[:10]
    )


def _difference(ours, text, want, got):
    """One line: the text (cut) and the pieces from the first one that differs."""
    at = next(
        (i for i, (w, g) in enumerate(zip(want, got, strict=False)) if w != g),
        min(len(want), len(got)),
    )

    def pieces(ids):
        return [ours.id_to_token(i) for i in ids[at : at + 8]]

    return f"{text[:80]!r}: from piece {at}, tokenizers {pieces(want)}, ours {pieces(got)}"


def test_checkpoint_is_the_bert_pipeline_we_implement(paths, ours):
    config = json.loads(paths["tokenizer_config.json"].read_text(encoding="utf-8"))
    assert config["do_lower_case"] is True and config["tokenize_chinese_chars"] is True
    assert config["strip_accents"] is None  # follows do_lower_case: accents are removed
    spec = json.loads(paths["tokenizer.json"].read_text(encoding="utf-8"))
    assert spec["normalizer"] == {
        "type": "BertNormalizer",
        "clean_text": True,
        "handle_chinese_chars": True,
        "strip_accents": None,
        "lowercase": True,
    }
    assert spec["pre_tokenizer"] == {"type": "BertPreTokenizer"}
    model = spec["model"]
    assert model["type"] == "WordPiece" and model["max_input_chars_per_word"] == 100
    assert model["unk_token"] == ours.unknown_token == "[UNK]"
    assert model["continuing_subword_prefix"] == ours.suffix_indicator == "##"
    assert sorted(model["vocab"], key=model["vocab"].get) == ours.vocabulary
    assert ours.vocab_size == 30522
    added = {t["content"]: t["id"] for t in spec["added_tokens"]}
    assert added == {t: ours.token_to_id(t) for t in ours.special_tokens}
    assert ours.special_tokens == SPECIALS
    assert [ours.token_to_id(t) for t in SPECIALS] == [0, 100, 101, 102, 103]
    assert ours.pad_id == 0


@pytest.mark.parametrize("case", list(CASES))
def test_same_ids_as_the_checkpoint_tokenizer(ours, reference, case):
    assert_same_ids(ours, reference, CASES[case])


def test_one_text_gives_the_row_of_the_batch(ours):
    batch = ours.encode(ALL).to_list()
    one_by_one = [ours.encode(text) for text in ALL]
    assert all(isinstance(ids, tf.Tensor) and ids.shape.rank == 1 for ids in one_by_one)
    assert [ids.numpy().tolist() for ids in one_by_one] == batch
    assert ours.encode(tf.constant(ALL)).to_list() == batch
    assert ours.encode([]).to_list() == [] and ours.encode([""]).to_list() == [[]]
    pieces = ours.tokenize(ALL[0]).numpy().tolist()
    assert pieces == [ours.id_to_token(i).encode() for i in batch[0]]


def test_same_ids_inside_tf_data_and_tf_function(ours):
    texts = CASES["imdb-like"] + CASES["special tokens in the text"] + CASES["empty"]
    eager = ours.encode(texts).to_list()
    mapped = tf.data.Dataset.from_tensor_slices(texts).batch(4).map(ours.encode)
    assert [row for batch in mapped for row in batch.to_list()] == eager
    assert tf.function(ours.encode)(tf.constant(texts)).to_list() == eager


def test_documented_examples(ours):
    def pieces(text):
        return [p.decode() for p in ours.tokenize(text).numpy()]

    assert pieces("Café, Zürich!") == ["cafe", ",", "zurich", "!"]
    assert pieces("中文有人") == ["中", "文", "有", "人"]  # each Han character alone
    assert pieces("a\u200bb c\u00a0d") == ["ab", "c", "d"]  # removed, or a space
    assert pieces("[CLS] [cls]") == ["[CLS]", "[", "cl", "##s", "]"]
    assert pieces("a" * 101) == ["[UNK]"]
    assert pieces("ΟΔΥΣΣΕΥΣ")[-1].endswith("σ")  # not the final form ς
    assert ours.encode("").numpy().tolist() == ours.encode(" \u3000 ").numpy().tolist() == []


def test_with_cls_and_sep_the_checkpoint_adds_them_around_the_pieces(ours, reference):
    # our tokenizer gives the pieces only; a model loader adds [CLS] ... [SEP] as here
    cls, sep = ours.token_to_id("[CLS]"), ours.token_to_id("[SEP]")
    texts = CASES["english"] + CASES["imdb-like"] + ["", "[SEP] inside"]
    with_specials = reference_ids(reference, texts, special=True)
    assert with_specials == [[cls, *row, sep] for row in ours.encode(texts).to_list()]


@pytest.mark.slow
def test_every_code_point(ours, reference):
    """Each Unicode scalar value between two letters: removed, a space, a word of its own,
    an accent stripped, lower-cased, or a letter of the word (mostly [UNK])."""
    texts = [f"a{chr(c)}b" for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    batch = 100_000
    for start in range(0, len(texts), batch):
        assert_same_ids(ours, reference, texts[start : start + batch])


def test_random_mixtures(ours, reference):
    """Random strings over the characters of the cases and some hard ones, so that
    neighbours interact (combining marks, sigma, jamo, specials, long words)."""
    alphabet = sorted(set("".join(ALL)) | set("\u0301\u0308\u0327ΣςİIıß한글가"))
    alphabet += ["[CLS]", "[SEP]", "[MASK]", "<br />", " " * 3, "a" * 60]
    rng = random.Random(1234)
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(3000)]
    assert_same_ids(ours, reference, texts)


def test_real_imdb_reviews(ours, reference):
    path = require("imdb")["aclImdb"]
    reviews = []
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".txt") and "/unsup/" not in member.name:
                if "/pos/" in member.name or "/neg/" in member.name:
                    reviews.append(tar.extractfile(member).read().decode("utf-8"))
            if len(reviews) == 500:
                break
    assert len(reviews) == 500
    assert_same_ids(ours, reference, reviews)


def test_invalid_utf8_is_replaced_as_everywhere(ours, reference):
    # not an error in nlpbook.text: U+FFFD replaces it, and BERT removes U+FFFD
    raw = [b"caf\xe9 ok", b"\xff\xfe", b"ok \xe4\xbd", b"good\x80bye"]
    decoded = [r.decode("utf-8", errors="replace") for r in raw]
    assert ours.encode(raw).to_list() == reference_ids(reference, decoded)
    assert ours.encode(raw[0]).numpy().tolist() == reference_ids(reference, decoded[:1])[0]
    assert ours.encode([b"\xff\xfe"]).to_list() == [[]]


@pytest.mark.parametrize(
    "bad, error",
    [
        (None, TypeError),
        (42, TypeError),
        ([b"ok", 3], TypeError),
        (tf.constant([["a"]]), ValueError),
    ],
)
def test_input_that_is_not_text_raises(ours, bad, error):
    with pytest.raises(error, match="texts"):
        ours.encode(bad)


def test_the_one_known_difference_never_changes_ids(ours, reference):
    # Lower-casing (Rust's tables) and NFD (TensorFlow's ICU) of some characters of Unicode
    # 14 to 16 differ from ours; none is in the vocabulary, so the word is [UNK] either way.
    vithkuqi_a, kirat_rai_ai = "\U00010570", "\U00016d68"
    normalizer = reference.normalizer
    for char in (vithkuqi_a, kirat_rai_ai):
        ours_normalized = WordPieceTokenizer._normalize(char, True).numpy().decode().strip()
        assert normalizer.normalize_str(char) != ours_normalized, unicodedata.name(char, "?")
        for form in (char, ours_normalized, normalizer.normalize_str(char)):
            assert form not in ours.vocabulary and "##" + form not in ours.vocabulary
    assert normalizer.normalize_str(vithkuqi_a) == "\U00010597"  # lower case
    assert WordPieceTokenizer._normalize(kirat_rai_ai, True).numpy().decode().strip() == (
        "\U00016d67\U00016d67"  # ICU decomposes it, tokenizers does not
    )
    unk = ours.token_to_id("[UNK]")
    texts = [f"x{vithkuqi_a}y", f"x{kirat_rai_ai}y", vithkuqi_a * 3]
    assert ours.encode(texts).to_list() == reference_ids(reference, texts) == [[unk]] * 3


def test_cased_tokenizer_is_bert_cased(ours):
    """lower_case=False against tokenizers' BertNormalizer(lowercase=False), same vocabulary:
    no accent removal, no lower-casing, no NFC."""
    if tokenizers is None:
        skip_unavailable(TOKENIZERS_MISSING)
    from tokenizers import models, normalizers, pre_tokenizers

    vocab = {token: i for i, token in enumerate(ours.vocabulary)}
    reference = tokenizers.Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    reference.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=None)
    reference.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    reference.add_special_tokens(SPECIALS)
    cased = WordPieceTokenizer(ours.vocabulary, lower_case=False)
    assert_same_ids(cased, reference, ALL + ["hello café ÉCOLE", "e\u0301 é"])
    bmp = [f"a{chr(c)}b" for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    assert_same_ids(cased, reference, bmp)
