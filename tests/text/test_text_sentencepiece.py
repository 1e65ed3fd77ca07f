"""SentencePiece: tf-text ids equal the sentencepiece library's; the round-trip promise."""

import pytest
import sentencepiece as spm
import tensorflow as tf

from nlpbook.text import SentencePieceTokenizer, normalize


def test_ids_equal_the_sentencepiece_library(sentencepiece, ptb_lines, zh_lines, varied):
    texts = ptb_lines[:300] + zh_lines[300:400] + varied
    library = spm.SentencePieceProcessor(model_proto=sentencepiece.model_proto)
    assert sentencepiece.encode(texts).to_list() == library.encode(texts)
    pieces = [[p.decode() for p in row] for row in sentencepiece.tokenize(texts[:50]).to_list()]
    assert pieces == library.encode(texts[:50], out_type=str)
    assert sentencepiece.decode(library.encode(texts)).numpy().tolist() == [
        t.encode() for t in library.decode(library.encode(texts))
    ]


def test_special_ids():
    tok = SentencePieceTokenizer.train(["the cat sat on the mat"] * 30, vocab_size=270)
    assert [tok.id_to_token(i) for i in range(4)] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert tok.pad_id == 0
    assert tok.token_to_id("<0x41>") == tok.token_to_id("<0x00>") + 0x41  # byte fallback
    with pytest.raises(KeyError, match="not a piece"):
        tok.token_to_id("no such piece")
    framed = SentencePieceTokenizer(tok.model_proto, add_bos=True, add_eos=True)
    ids = framed.encode("the cat").numpy().tolist()
    assert ids[0] == 2 and ids[-1] == 3 and ids[1:-1] == tok.encode("the cat").numpy().tolist()
    assert framed.decode(ids).numpy() == b"the cat"


def test_round_trip_is_exact_after_nfkc_and_whitespace(sentencepiece, ptb_lines, zh_lines, varied):
    texts = ptb_lines[:300] + zh_lines[300:500] + varied + ["Unseen: 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 龘 🦜 ©"]
    decoded = sentencepiece.decode(sentencepiece.encode(texts))
    expected = normalize(texts, form="NFKC", lowercase=False)
    assert decoded.numpy().tolist() == expected.numpy().tolist()


def test_what_the_promise_leaves_out(sentencepiece):
    """Control characters are removed, U+200B and U+FFFD (invalid UTF-8) become spaces."""
    texts = ["a\x07b", "a\u200bb", b"a\xffb"]
    assert sentencepiece.decode(sentencepiece.encode(texts)).numpy().tolist() == [
        b"ab",
        b"a b",
        b"a b",
    ]


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_training_is_reproducible_and_sized(ptb_lines, model_type):
    first = SentencePieceTokenizer.train(ptb_lines[:500], vocab_size=600, model_type=model_type)
    second = SentencePieceTokenizer.train(ptb_lines[:500], vocab_size=600, model_type=model_type)
    assert first.vocab_size == 600
    assert first.model_proto == second.model_proto
    ids = first.encode(ptb_lines[500:600])
    # subwords compress: far fewer pieces than characters on unseen text
    chars = sum(len(line.replace(" ", "")) for line in ptb_lines[500:600])
    assert int(tf.size(ids.flat_values)) < 0.75 * chars


def test_bpe_and_unigram_differ(ptb_lines):
    unigram = SentencePieceTokenizer.train(ptb_lines[:500], vocab_size=600)
    bpe = SentencePieceTokenizer.train(ptb_lines[:500], vocab_size=600, model_type="bpe")
    assert unigram.encode(ptb_lines[600:700]).to_list() != bpe.encode(ptb_lines[600:700]).to_list()


def test_user_defined_symbols_stay_whole(ptb_lines):
    tok = SentencePieceTokenizer.train(
        ptb_lines[:300], vocab_size=500, user_defined_symbols=("[MASK]",)
    )
    assert "[MASK]" in [p.decode() for p in tok.tokenize("the [MASK] rose").numpy()]


def test_train_errors(ptb_lines):
    with pytest.raises(ValueError, match="model_type"):
        SentencePieceTokenizer.train(ptb_lines[:10], vocab_size=300, model_type="word2vec")
    with pytest.raises(ValueError, match="No text"):
        SentencePieceTokenizer.train(["", " "], vocab_size=300)
    with pytest.raises(ValueError, match="Vocabulary size"):
        SentencePieceTokenizer.train(ptb_lines[:5], vocab_size=5000)


def test_train_accepts_tensors_and_datasets(ptb_lines):
    lines = ptb_lines[:200]
    a = SentencePieceTokenizer.train(lines, vocab_size=400)
    b = SentencePieceTokenizer.train(tf.constant(lines), vocab_size=400)
    c = SentencePieceTokenizer.train(
        tf.data.Dataset.from_tensor_slices(lines).batch(32), vocab_size=400
    )
    assert a.model_proto == b.model_proto == c.model_proto


def test_saved_model_file_loads_in_the_library(sentencepiece, tmp_path):
    path = tmp_path / "zh_en.model"
    sentencepiece.save(path)
    library = spm.SentencePieceProcessor(model_file=str(path))
    assert (
        library.encode("自然语言处理 is fun")
        == sentencepiece.encode("自然语言处理 is fun").numpy().tolist()
    )
