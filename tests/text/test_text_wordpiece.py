"""WordPiece: learned vocabulary, FastWordpiece against tf-text's BertTokenizer, round trips."""

import pytest
import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text import WordPieceTokenizer, normalize


def reference_ids(tokenizer, texts):
    """tf-text's BertTokenizer (its BasicTokenizer, then the classic WordpieceTokenizer) on the
    text normalised as ours does it (BERT's normalisation as Hugging Face runs it, which is not
    tf-text's: that one case-folds, and keeps control and private-use characters)."""
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(tokenizer.vocabulary), tf.range(tokenizer.vocab_size, dtype=tf.int64)
        ),
        default_value=-1,
    )
    bert = tf_text.BertTokenizer(
        table, token_out_type=tf.int64, lower_case=False, normalization_form=None
    )
    normalized = WordPieceTokenizer._normalize(tf.constant(texts), tokenizer.lower_case)
    return bert.tokenize(normalized).merge_dims(1, 2).to_list()


def test_learned_vocabulary(wordpiece):
    vocab = wordpiece.vocabulary
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert wordpiece.pad_id == 0 and wordpiece.token_to_id("[UNK]") == 1
    assert len(set(vocab)) == len(vocab)
    assert {"the", "##s", "##ing", "company"} <= set(vocab)
    assert {"很", "##很"} <= set(vocab)  # Chinese characters learned alone and as continuation
    assert all(token == token.lower() for token in vocab[5:])  # lower_case=True


def test_fast_wordpiece_equals_bert_tokenizer_reference(wordpiece, ptb_lines, zh_lines, varied):
    texts = ptb_lines[1000:1400] + zh_lines[500:600] + varied
    got = wordpiece.encode(texts)
    assert got.to_list() == reference_ids(wordpiece, texts)
    # unseen text is mostly known pieces, not [UNK]
    unknown = tf.reduce_mean(tf.cast(got.flat_values == 1, tf.float32))
    assert float(unknown) < 0.05  # rare Chinese characters of the held-out reviews


def test_cased_tokenizer_equals_its_reference(ptb_lines):
    cased = WordPieceTokenizer.train(
        ["The Cat sat on the Mat, in Zürich."] * 20 + ptb_lines[:100],
        vocab_size=500,
        lower_case=False,
    )
    texts = ["The Cat in Zürich", "the cat", "Cafe\u0301 Ｔｈｅ"]
    assert cased.encode(texts).to_list() == reference_ids(cased, texts)
    assert cased.tokenize("The Cat").numpy().tolist() == [b"The", b"Cat"]


def test_documented_splits(wordpiece):
    pieces = [p.decode() for p in wordpiece.tokenize("Café, 很好!").numpy()]
    assert pieces[-4:] == [",", "很", "好", "!"]  # punctuation and each Han character alone
    assert "".join(pieces[:-4]).replace("##", "") == "cafe"  # folded, accent removed
    assert all(p.startswith("##") for p in pieces[1:-4])


def test_round_trip_on_normalised_text_without_punctuation(wordpiece, ptb_lines):
    # PTB is lower case with single spaces; drop the lines with punctuation or [UNK] pieces
    lines = [
        line
        for line in ptb_lines[1000:1500]
        if line.replace(" ", "").isalnum() and line == line.lower()
    ]
    ids = wordpiece.encode(lines)
    known = [line for line, row in zip(lines, ids.to_list(), strict=True) if 1 not in row]
    assert len(known) > 50
    decoded = wordpiece.decode(wordpiece.encode(known)).numpy()
    assert [d.decode() for d in decoded] == known


def test_encode_decode_encode_is_stable(wordpiece, ptb_lines, zh_lines):
    texts = ptb_lines[1500:1700] + zh_lines[600:650] + ["Hello, World! (It's 3.14.)"]
    ids = wordpiece.encode(texts)
    known = tf.ragged.boolean_mask(ids, tf.reduce_all(ids != 1, axis=1))
    again = wordpiece.encode(wordpiece.decode(known))
    assert again.to_list() == known.to_list()
    text = "Hello, World! (It's 3.14.)"
    assert wordpiece.decode(wordpiece.encode(text)).numpy().decode() == (
        "hello , world ! ( it ' s 3 . 14 . )"
    )


def test_decode_matches_normalised_words(wordpiece):
    text = "  The   QUICK\tfox\u3000jumps  "
    assert wordpiece.decode(wordpiece.encode(text)).numpy() == normalize(text).numpy()


def test_train_errors():
    with pytest.raises(ValueError, match="No text"):
        WordPieceTokenizer.train(["", "  "], vocab_size=100)
    with pytest.raises(ValueError, match=r"\[UNK\]"):
        WordPieceTokenizer.train(["some text"], vocab_size=100, specials=("[PAD]",))
    with pytest.raises(TypeError, match="int"):
        WordPieceTokenizer.train([1, 2], vocab_size=100)


def test_constructor_errors():
    with pytest.raises(ValueError, match="unknown_token"):
        WordPieceTokenizer(["a", "b"])
    with pytest.raises(ValueError, match="twice"):
        WordPieceTokenizer(["[UNK]", "a", "a"])


def test_train_accepts_a_dataset(ptb_lines):
    lines = ptb_lines[:100]
    from_list = WordPieceTokenizer.train(lines, vocab_size=400)
    from_dataset = WordPieceTokenizer.train(
        tf.data.Dataset.from_tensor_slices(lines).batch(64), vocab_size=400
    )
    assert from_list.vocabulary == from_dataset.vocabulary


def test_saved_vocabulary_is_bert_vocab_txt(wordpiece, tmp_path):
    path = tmp_path / "vocab.txt"
    wordpiece.save(path)
    assert path.read_text(encoding="utf-8").split("\n")[:-1] == wordpiece.vocabulary
    loaded = WordPieceTokenizer.load(path, lower_case=True)
    assert loaded.vocabulary == wordpiece.vocabulary
