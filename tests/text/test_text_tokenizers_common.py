"""What every tokenizer must do: bad input, odd text, eager == tf.function == Dataset.map."""

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.text import (
    ByteTokenizer,
    CharTokenizer,
    CJKCharTokenizer,
    SubwordTokenizer,
    UnicodeScriptTokenizer,
    WhitespaceTokenizer,
)

NAMES = [
    "whitespace",
    "script",
    "char",
    "cjk_char",
    "jieba",
    "wordpiece",
    "sentencepiece",
    "byte",
]

# Tokenizers whose pieces, joined, give back the text without its whitespace.
LOSSLESS_PIECES = {"whitespace", "script", "char", "cjk_char", "jieba", "byte"}

ODD_TEXTS = [
    "",
    "NLP很有趣! Привет мир 🤖",
    "👩\u200d💻 🇨🇳 ❤\ufe0f 👍🏽",
    "cafe\u0301 n\u0303 A\u030a",
    "  \t\n\u3000 ",
    "1 2 ! ? 3.14",
]


SUBWORD_NAMES = ["wordpiece", "sentencepiece", "byte", "byte_with_specials"]


def make(name, request):
    if name in ("wordpiece", "sentencepiece", "jieba"):
        return request.getfixturevalue(f"{name}_tokenizer" if name == "jieba" else name)
    return {
        "whitespace": WhitespaceTokenizer,
        "script": UnicodeScriptTokenizer,
        "char": CharTokenizer,
        "cjk_char": CJKCharTokenizer,
        "byte": ByteTokenizer,
        "byte_with_specials": lambda: ByteTokenizer(["[PAD]", "[BOS]", "[EOS]"]),
    }[name]()


@pytest.fixture(params=NAMES)
def name(request):
    return request.param


@pytest.fixture
def tokenizer(name, request):
    return make(name, request)


@pytest.fixture(params=SUBWORD_NAMES)
def subword(request):
    return make(request.param, request)


def rows(ragged):
    return [[bytes(p) for p in row] for row in ragged.to_list()]


def test_empty_text_gives_no_pieces(tokenizer):
    single = tokenizer.tokenize("")
    assert isinstance(single, tf.Tensor) and single.dtype == tf.string
    assert single.shape == (0,)
    batch = tokenizer.tokenize(["", "a b", ""])
    assert isinstance(batch, tf.RaggedTensor) and batch.shape.as_list() == [3, None]
    lengths = batch.row_lengths().numpy().tolist()
    assert lengths[0] == lengths[2] == 0 and lengths[1] > 0
    empty_batch = tokenizer.tokenize([])
    assert empty_batch.shape.as_list() == [0, None]


def test_scalar_equals_first_row_of_batch(tokenizer):
    text = "NLP很有趣! Привет"
    assert tokenizer.tokenize(text).numpy().tolist() == rows(tokenizer.tokenize([text]))[0]


def test_invalid_utf8_is_replaced_then_tokenized(tokenizer):
    raw = [b"caf\xe9 ok", b"\xff\xfe", b"\xe4\xbd"]
    repaired = [r.decode("utf-8", errors="replace") for r in raw]
    assert rows(tokenizer.tokenize(raw)) == rows(tokenizer.tokenize(repaired))
    for piece in tokenizer.tokenize(raw).flat_values.numpy():
        if not isinstance(tokenizer, ByteTokenizer):  # single bytes are not text
            piece.decode("utf-8")  # every piece is valid UTF-8


def test_odd_text_does_not_crash_and_keeps_content(name, tokenizer):
    pieces = tokenizer.tokenize(ODD_TEXTS)
    assert pieces.shape.as_list() == [len(ODD_TEXTS), None]
    if name in LOSSLESS_PIECES:
        joined = [b"".join(row).decode("utf-8") for row in rows(pieces)]
        assert joined == ["".join(t.split()) for t in ODD_TEXTS] or name == "byte"
        if name == "byte":
            assert joined == ODD_TEXTS


def test_very_long_text(name, tokenizer):
    text = "NLP很有趣! Привет мир 🤖 the quick brown fox. " * 17_000  # about 1 MB
    assert len(text.encode()) > 1_000_000
    pieces = tokenizer.tokenize(text)
    assert pieces.shape[0] > 100_000
    if name in LOSSLESS_PIECES:
        assert b"".join(pieces.numpy().tolist()).decode() == (
            text if name == "byte" else "".join(text.split())
        )


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        (7, TypeError, "int"),
        ([b"ok", 3], TypeError, "int"),
        (np.array([1.5]), TypeError, "float64"),
        (tf.constant([1, 2]), TypeError, "int32"),
        (tf.constant([["a", "b"]]), ValueError, r"rank 0 .* or 1 .*\(1, 2\)"),
        (tf.ragged.constant([["a"], []]), TypeError, "RaggedTensor"),
        (None, TypeError, "NoneType"),
    ],
)
def test_wrong_input_raises_naming_it(tokenizer, texts, error, message):
    with pytest.raises(error, match=message):
        tokenizer.tokenize(texts)
    if isinstance(tokenizer, SubwordTokenizer):
        with pytest.raises(error, match=message):
            tokenizer.encode(texts)


@pytest.mark.parametrize(
    ("ids", "error", "message"),
    [
        ("abc", TypeError, "str"),
        ([1.5, 2.0], TypeError, "integers"),
        (tf.constant([[[1]]]), ValueError, "rank 1"),
        (tf.constant(["a"]), TypeError, "string"),
    ],
)
def test_wrong_ids_raise_naming_them(subword, ids, error, message):
    with pytest.raises(error, match=message):
        subword.decode(ids)


def test_out_of_range_ids_are_an_error(subword):
    tokenizer = subword
    with pytest.raises(tf.errors.InvalidArgumentError, match="vocab_size"):
        tokenizer.decode([0, tokenizer.vocab_size])
    with pytest.raises(tf.errors.InvalidArgumentError, match="negative"):
        tokenizer.decode([-1])


def test_eager_equals_tf_function_and_dataset_map(tokenizer):
    texts = ODD_TEXTS + ["The quick brown fox.", "自然语言处理很有趣"]
    eager = rows(tokenizer.tokenize(texts))

    traced = tf.function(tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)])
    assert rows(traced(tf.constant(texts))) == eager

    per_text = tf.data.Dataset.from_tensor_slices(texts).map(
        tokenizer.tokenize, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    assert [p.numpy().tolist() for p in per_text] == eager

    batched = tf.data.Dataset.from_tensor_slices(texts).batch(3).map(tokenizer.tokenize)
    assert [row for batch in batched for row in rows(batch)] == eager

    if isinstance(tokenizer, SubwordTokenizer):
        ids = tokenizer.encode(texts)
        assert ids.dtype == tf.int32
        encode = tf.function(tokenizer.encode, input_signature=[tf.TensorSpec([None], tf.string)])
        assert encode(tf.constant(texts)).to_list() == ids.to_list()
        mapped = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer.encode)
        assert [m.numpy().tolist() for m in mapped] == ids.to_list()

        decoded = tokenizer.decode(ids).numpy().tolist()
        decode = tf.function(
            tokenizer.decode, input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)]
        )
        assert decode(ids).numpy().tolist() == decoded
        unbatched = tf.data.Dataset.from_tensor_slices(ids).map(tokenizer.decode)
        assert [d.numpy() for d in unbatched] == decoded


def test_subword_encode_decode_shapes_and_padding(subword):
    tokenizer = subword
    assert isinstance(tokenizer, SubwordTokenizer)
    texts = ["the cat sat", "", "很有趣"]
    ids = tokenizer.encode(texts)
    assert ids.shape.as_list() == [3, None]
    assert tokenizer.encode("the cat").shape.rank == 1
    assert (
        0 <= int(tf.reduce_min(ids.flat_values))
        and int(tf.reduce_max(ids.flat_values)) < tokenizer.vocab_size
    )
    decoded = tokenizer.decode(ids)
    assert decoded.shape == (3,)
    assert tokenizer.decode(ids[0]).shape == ()
    assert tokenizer.decode(ids[0].numpy().tolist()).numpy() == decoded[0].numpy()
    assert tokenizer.decode(ids.to_list()).numpy().tolist() == decoded.numpy().tolist()
    if tokenizer.pad_id is not None:  # a padded batch decodes like the ragged one
        padded = ids.to_tensor(default_value=tokenizer.pad_id)
        assert tokenizer.decode(padded).numpy().tolist() == decoded.numpy().tolist()
    for i in range(min(tokenizer.vocab_size, 300)):
        assert tokenizer.token_to_id(tokenizer.id_to_token(i)) == i


def test_save_and_load_round_trip(subword, tmp_path):
    tokenizer = subword
    path = tmp_path / "tokenizer"
    tokenizer.save(path)
    loaded = type(tokenizer).load(path)
    texts = ["The quick brown fox.", "自然语言处理很有趣", ""]
    assert loaded.vocab_size == tokenizer.vocab_size
    assert loaded.encode(texts).to_list() == tokenizer.encode(texts).to_list()
