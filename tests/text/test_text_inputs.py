"""as_text / repair_utf8 / iter_texts: the one place where input is checked and repaired."""

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.text import as_text, iter_texts, repair_utf8

BROKEN = [
    b"caf\xe9",
    b"\xff\xfe",
    b"ok \xe4\xbd",
    b"\xed\xa0\x80 surrogate",
    b"\xc0\xaf overlong",
    b"",
]


def test_repair_equals_python_decode_replace():
    got = repair_utf8(tf.constant(BROKEN)).numpy().tolist()
    assert got == [b.decode("utf-8", errors="replace").encode() for b in BROKEN]


def test_valid_text_is_unchanged(varied):
    assert repair_utf8(tf.constant(varied)).numpy().tolist() == [t.encode() for t in varied]


@pytest.mark.parametrize(
    ("texts", "shape"),
    [
        ("one", ()),
        (b"one", ()),
        (["a", b"b"], (2,)),
        (("a",), (1,)),
        ([], (0,)),
        (np.array(["a", "b"]), (2,)),
        (np.array([b"a"], dtype=object), (1,)),
        (tf.constant("a"), ()),
        (tf.constant(["a", "b", "c"]), (3,)),
    ],
)
def test_accepted_forms(texts, shape):
    tensor = as_text(texts)
    assert tensor.dtype == tf.string and tuple(tensor.shape) == shape


def test_unknown_rank_is_rejected_when_traced():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.string)])
    def f(texts):
        return as_text(texts)

    with pytest.raises(ValueError, match="rank"):
        f(tf.constant("a"))


def test_iter_texts_forms():
    lines = ["a", b"b\xff", "c"]
    assert list(iter_texts(lines)) == ["a", "b\ufffd", "c"]
    assert list(iter_texts("one")) == ["one"]
    assert list(iter_texts(tf.constant(["a", "b"]))) == ["a", "b"]
    assert list(iter_texts(tf.data.Dataset.from_tensor_slices(["a", "b", "c"]).batch(2))) == [
        "a",
        "b",
        "c",
    ]
    assert list(iter_texts(tf.data.Dataset.from_tensor_slices(["a", "b"]))) == ["a", "b"]
    assert list(iter_texts(line for line in ["x", "y"])) == ["x", "y"]
    with pytest.raises(TypeError, match="int"):
        list(iter_texts(["a", 3]))
    with pytest.raises(TypeError, match="float"):
        list(iter_texts(2.5))
    with pytest.raises(ValueError, match="1-D"):
        list(iter_texts([tf.constant([["a"]])]))
