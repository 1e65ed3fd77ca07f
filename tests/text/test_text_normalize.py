"""normalize() against a pure-Python (unicodedata) reference, and its documented cases."""

import itertools
import unicodedata

import pytest
import tensorflow as tf

from nlpbook.text import normalize
from nlpbook.text.normalize import CJK_TO_ASCII_PUNCT

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), which NFKC_Casefold removes.
DEFAULT_IGNORABLE = [
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]  # fmt: skip


def nfkc_casefold(text):
    """Python transcription of ICU's NFKC_Casefold: NFKC, full case folding, no ignorables."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(c for c in folded if not any(lo <= ord(c) <= hi for lo, hi in DEFAULT_IGNORABLE))
    return unicodedata.normalize("NFKC", kept)


def reference(text, form="NFKC", lowercase=True, collapse_whitespace=True, cjk_punct="keep"):
    if lowercase in (True, "fold"):
        text = nfkc_casefold(text)
    elif lowercase == "lower":
        text = text.lower()
    if form is not None:
        text = unicodedata.normalize(form, text)
    if cjk_punct == "ascii":
        table = {ord(c): a for a, chars in CJK_TO_ASCII_PUNCT.items() for c in chars}
        text = text.translate(table)
    if collapse_whitespace:
        text = " ".join(text.split())  # str.split() splits on exactly str.isspace()
    return text


def decoded(tensor):
    return [t.decode("utf-8") for t in tensor.numpy()]


OPTIONS = list(
    itertools.product(
        ["NFKC", "NFC", "NFD", "NFKD", None],
        [True, "lower", False],
        [True, False],
        ["keep", "ascii"],
    )
)


@pytest.mark.parametrize(("form", "lowercase", "collapse", "cjk_punct"), OPTIONS)
def test_equals_unicodedata_reference(varied, form, lowercase, collapse, cjk_punct):
    got = decoded(
        normalize(
            varied,
            form=form,
            lowercase=lowercase,
            collapse_whitespace=collapse,
            cjk_punct=cjk_punct,
        )
    )
    assert got == [reference(t, form, lowercase, collapse, cjk_punct) for t in varied]


def test_every_python_whitespace_character_collapses():
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    text = f"a{spaces}b{spaces[::-1]}c"
    assert normalize(text, form=None, lowercase=False).numpy().decode() == "a b c"
    # and nothing that Python does not call whitespace collapses
    assert normalize("a\u200bb", form=None, lowercase=False).numpy().decode() == "a\u200bb"


def test_documented_examples():
    assert decoded(normalize(["  Straße\u3000ＮＬＰ，很有趣。 "])) == ["strasse nlp,很有趣。"]
    assert normalize("很有趣。", cjk_punct="ascii").numpy().decode() == "很有趣."
    cjk = "「引号」《书名》【括号】、顿号。"
    assert normalize(cjk, cjk_punct="ascii").numpy().decode() == '"引号"<书名>[括号],顿号.'
    assert normalize(cjk).numpy().decode() == cjk
    # form="NFC" without case folding (which implies NFKC) keeps even the forms NFKC maps
    assert (
        normalize("你好，世界！A", form="NFC", lowercase="lower").numpy().decode()
        == "你好，世界！a"
    )
    assert normalize("你好，世界！A", form="NFC").numpy().decode() == "你好,世界!a"


def test_case_folding_versus_lowercasing():
    def run(text, lowercase):
        return normalize(text, lowercase=lowercase).numpy().decode()

    assert run("Straße", True) == "strasse"
    assert run("Straße", "lower") == "straße"
    assert run("İ", True) == run("İ", "lower") == "i\u0307"  # not Turkish-aware
    assert run("I", True) == "i"  # a Turk expects ı
    assert run("ΣΟΦΟΣ", True) == "σοφοσ"
    # NFKC_Casefold removes the zero-width joiner and variation selectors; lower keeps them
    assert run("👩\u200d💻 ❤\ufe0f", True) == "👩💻 ❤"
    assert run("👩\u200d💻 ❤\ufe0f", "lower") == "👩\u200d💻 ❤\ufe0f"
    assert run("Ab", False) == "Ab"


def test_invalid_utf8_is_replaced_not_an_error():
    raw = [b"caf\xe9", b"\xff\xfe", b"ok \xe4\xbd", b""]
    assert decoded(normalize(raw)) == [reference(r.decode("utf-8", "replace")) for r in raw]
    assert decoded(normalize(raw))[0] == "caf\ufffd"


def test_shapes_and_empty_input():
    assert normalize("A").shape == ()
    assert normalize(["A", "B"]).shape == (2,)
    assert normalize([]).shape == (0,)
    assert normalize("").numpy() == b""
    assert normalize(" \t\u3000 ").numpy() == b""


def test_same_in_dataset_map_and_tf_function(varied):
    eager = decoded(normalize(varied))
    mapped = [t.numpy().decode() for t in tf.data.Dataset.from_tensor_slices(varied).map(normalize)]
    assert mapped == eager
    traced = tf.function(normalize, input_signature=[tf.TensorSpec([None], tf.string)])
    assert decoded(traced(tf.constant(varied))) == eager


def test_very_long_text():
    text = "Ｌｏｎｇ  TEXT\u3000很长。 " * 60_000  # about 1.3 MB
    out = normalize(text).numpy().decode()
    assert out == reference(text)
    assert len(out.encode()) > 1_000_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"form": "NFX"}, "form="),
        ({"lowercase": "upper"}, "lowercase="),
        ({"cjk_punct": "fullwidth"}, "cjk_punct="),
    ],
)
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        normalize("text", **kwargs)


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        (42, TypeError, "int"),
        (["a", 1], TypeError, "int"),
        (tf.constant([1, 2]), TypeError, "int32"),
        (tf.constant([["a"]]), ValueError, r"rank.*\(1, 1\)"),
        (None, TypeError, "NoneType"),
    ],
)
def test_bad_input_is_named(texts, error, message):
    with pytest.raises(error, match=message):
        normalize(texts)


@pytest.mark.parametrize("lowercase", [True, "lower", False])
def test_normalizing_twice_changes_nothing(varied, zh_lines, lowercase):
    once = normalize(varied + zh_lines[:200], lowercase=lowercase, cjk_punct="ascii")
    twice = normalize(once, lowercase=lowercase, cjk_punct="ascii")
    assert twice.numpy().tolist() == once.numpy().tolist()
