"""WordLevelTokenizer: ids equal a Python dict look-up; decode inverts encode on known words."""

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.text import (
    CJKCharTokenizer,
    Vocabulary,
    WhitespaceTokenizer,
    WordLevelTokenizer,
)


@pytest.fixture(scope="module")
def words(ptb_lines):
    return WordLevelTokenizer.train(WhitespaceTokenizer(), ptb_lines[:1000], min_count=2)


def test_ids_equal_a_python_reference(words, ptb_lines):
    counts = {}
    for line in ptb_lines[:1000]:
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1
    kept = sorted((w for w, n in counts.items() if n >= 2), key=lambda w: (-counts[w], w))
    ids = {w: i + 2 for i, w in enumerate(kept)}
    assert words.vocab_size == len(kept) + 2
    sample = ptb_lines[:50] + ["zzzunseen words here"]
    got = words.encode(sample).to_list()
    assert got == [[ids.get(w, 1) for w in line.split()] for line in sample]


def test_decode_inverts_encode_when_every_word_is_known(words, ptb_lines):
    known = [
        line
        for line in ptb_lines[:200]
        if all(words.token_to_id(w) != words.unk_id for w in line.split())
    ]
    assert len(known) > 20
    decoded = [s.decode() for s in words.decode(words.encode(known)).numpy()]
    assert decoded == [" ".join(line.split()) for line in known]
    padded = words.encode(known[:3]).to_tensor()  # padding (id 0) is dropped by decode
    assert [s.decode() for s in words.decode(padded).numpy()] == decoded[:3]


def test_characters_join_without_spaces():
    chars = WordLevelTokenizer.train(CJKCharTokenizer(), ["自然语言处理", "语言模型"], joiner="")
    assert chars.decode(chars.encode("语言处理")).numpy().decode() == "语言处理"
    assert chars.encode("语言很好").numpy().tolist()[2:] == [1, 1]


def test_same_in_dataset_map(words, ptb_lines):
    sample = ptb_lines[:64]
    eager = words.encode(sample).to_list()
    ds = tf.data.Dataset.from_tensor_slices(sample).map(words.encode)
    assert [row.numpy().tolist() for row in ds] == eager


def test_save_load_round_trip(words, tmp_path, ptb_lines):
    words.save(tmp_path / "vocab.txt")
    again = WordLevelTokenizer.load(tmp_path / "vocab.txt", WhitespaceTokenizer())
    np.testing.assert_array_equal(
        again.encode(ptb_lines[:20]).flat_values, words.encode(ptb_lines[:20]).flat_values
    )


def test_bad_arguments():
    with pytest.raises(TypeError, match="Tokenizer"):
        WordLevelTokenizer(str.split, Vocabulary(["[PAD]", "[UNK]"]))
    with pytest.raises(TypeError, match="Vocabulary"):
        WordLevelTokenizer(WhitespaceTokenizer(), ["[PAD]", "[UNK]"])
    with pytest.raises(ValueError, match="texts is empty"):
        WordLevelTokenizer.train(WhitespaceTokenizer(), [])
