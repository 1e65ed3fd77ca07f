"""Vocabulary: counting, ranking, look-up against Keras StringLookup and TextVectorization."""

from collections import Counter

import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.text import Vocabulary, WhitespaceTokenizer


@pytest.fixture(scope="module")
def ptb_tokens(ptb_lines):
    return WhitespaceTokenizer().tokenize(ptb_lines)


@pytest.fixture(scope="module")
def ptb_vocab(ptb_tokens):
    return Vocabulary.build(ptb_tokens, min_count=2)


def test_build_ranks_by_count_then_token(ptb_lines, ptb_vocab):
    counts = Counter(token for line in ptb_lines for token in line.split())
    expected = sorted((t for t, n in counts.items() if n >= 2), key=lambda t: (-counts[t], t))
    assert ptb_vocab.tokens == ["[PAD]", "[UNK]", *expected]
    assert ptb_vocab.counts == dict(counts)
    assert ptb_vocab.tokens[2:4] == ["<unk>", "the"]  # PTB's own unknown-word token is a word here


def test_ties_do_not_depend_on_input_order():
    a = Vocabulary.build([["b", "a", "c", "a"], ["c", "b"]])
    b = Vocabulary.build([["c", "b"], ["a", "c", "a", "b"]])
    assert a.tokens == b.tokens == ["[PAD]", "[UNK]", "a", "b", "c"]


def test_input_forms_agree(ptb_lines, ptb_tokens):
    from_ragged = Vocabulary.build(ptb_tokens)
    from_lists = Vocabulary.build([line.split() for line in ptb_lines])
    from_flat = Vocabulary.build(token for line in ptb_lines for token in line.split())
    from_dataset = Vocabulary.build(
        tf.data.Dataset.from_tensor_slices(ptb_lines).batch(100).map(WhitespaceTokenizer())
    )
    from_dense = Vocabulary.build(ptb_tokens.flat_values)
    assert from_ragged.tokens == from_lists.tokens == from_flat.tokens
    assert from_ragged.tokens == from_dataset.tokens == from_dense.tokens


def test_max_size_min_count_and_specials():
    corpus = [["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"] + ["[UNK]"] * 9 + [""]]
    assert Vocabulary.build(corpus, max_size=4).tokens == ["[PAD]", "[UNK]", "a", "b"]
    assert Vocabulary.build(corpus, min_count=2).tokens == ["[PAD]", "[UNK]", "a", "b", "c"]
    custom = Vocabulary.build(corpus, specials=("<pad>", "<unk>", "<s>"), max_size=4)
    assert custom.tokens == ["<pad>", "<unk>", "<s>", "[UNK]"]  # now an ordinary token
    assert custom.pad_token == "<pad>" and custom.unk_token == "<unk>"


def test_lookup_ids_and_unknowns(ptb_vocab):
    ids = ptb_vocab.lookup(tf.ragged.constant([["the", "zyzzyva"], []]))
    assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
    assert ids.to_list() == [[3, 1], []]
    assert ptb_vocab.lookup("the").numpy() == 3
    assert ptb_vocab.lookup([["the", "[PAD]"]]).numpy().tolist() == [[3, 0]]
    assert ptb_vocab.to_tokens(ids).to_list() == [[b"the", b"[UNK]"], []]
    assert ptb_vocab.token_to_id("the") == 3 and ptb_vocab.token_to_id("zyzzyva") == 1
    assert ptb_vocab.id_to_token(3) == "the"
    assert "the" in ptb_vocab and "zyzzyva" not in ptb_vocab
    assert len(ptb_vocab) == len(ptb_vocab.tokens)


def test_lookup_equals_keras_string_lookup(ptb_vocab, ptb_tokens):
    layer = keras.layers.StringLookup(vocabulary=ptb_vocab.tokens[2:], mask_token="")
    expected = layer(ptb_tokens.flat_values)
    assert ptb_vocab.lookup(ptb_tokens.flat_values).numpy().tolist() == (
        np.asarray(expected).tolist()
    )


def test_whitespace_pipeline_equals_text_vectorization(ptb_vocab, ptb_lines):
    lines = ptb_lines[:300] + ["unknownword the", ""]
    layer = keras.layers.TextVectorization(
        standardize=None, split="whitespace", vocabulary=ptb_vocab.tokens[2:]
    )
    expected = np.asarray(layer(tf.constant(lines)))
    ours = ptb_vocab.lookup(WhitespaceTokenizer().tokenize(lines))
    assert ours.to_tensor(default_value=0).numpy().tolist() == expected.tolist()


def test_lookup_in_dataset_map_and_tf_function(ptb_vocab, ptb_lines):
    tokenizer = WhitespaceTokenizer()
    eager = ptb_vocab.lookup(tokenizer.tokenize(ptb_lines[:50])).to_list()
    mapped = tf.data.Dataset.from_tensor_slices(ptb_lines[:50]).map(
        lambda line: ptb_vocab.lookup(tokenizer.tokenize(line)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    assert [ids.numpy().tolist() for ids in mapped] == eager
    traced = tf.function(
        lambda lines: ptb_vocab.lookup(tokenizer.tokenize(lines)),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    assert traced(tf.constant(ptb_lines[:50])).to_list() == eager


def test_save_and_load(ptb_vocab, tmp_path):
    ptb_vocab.save(tmp_path / "vocab.txt")
    lines = (tmp_path / "vocab.txt").read_text(encoding="utf-8").split("\n")
    assert lines[:4] == ["[PAD]", "[UNK]", "<unk>", "the"] and lines[-1] == ""
    assert Vocabulary.load(tmp_path / "vocab.txt").tokens == ptb_vocab.tokens


def test_save_and_load_characters_with_newlines(tmp_path):
    chars = Vocabulary.build([list("a\nb\\n\r c\u2028d")])
    chars.save(tmp_path / "chars.txt")
    assert len((tmp_path / "chars.txt").read_text(encoding="utf-8").split("\n")) == len(chars) + 1
    assert Vocabulary.load(tmp_path / "chars.txt").tokens == chars.tokens


@pytest.mark.parametrize(
    ("tokens", "error", "message"),
    [
        (["[PAD]"], ValueError, "at least"),
        (["[PAD]", "[UNK]", "a", "a"], ValueError, "twice.*'a'"),
        (["[PAD]", "[UNK]", ""], ValueError, "empty"),
    ],
)
def test_constructor_errors(tokens, error, message):
    with pytest.raises(error, match=message):
        Vocabulary(tokens)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_count": 0}, "min_count=0"),
        ({"max_size": 1}, "max_size=1"),
        ({"specials": ("[PAD]",)}, "specials="),
    ],
)
def test_build_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Vocabulary.build([["a"]], **kwargs)


@pytest.mark.parametrize("tokens", [5, [[1, 2]], tf.constant([1, 2])])
def test_build_rejects_non_strings(tokens):
    with pytest.raises(TypeError, match="strings|corpus"):
        Vocabulary.build(tokens)


def test_lookup_rejects_non_strings(ptb_vocab):
    for bad in (tf.constant([1, 2]), tf.ragged.constant([[1]]), 3.5):
        with pytest.raises(TypeError, match="strings"):
            ptb_vocab.lookup(bad)
