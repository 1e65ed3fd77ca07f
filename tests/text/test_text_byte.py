"""ByteTokenizer: ids are the UTF-8 bytes; exact round trip; specials shift the bytes."""

import tensorflow as tf

from nlpbook.text import ByteTokenizer


def test_ids_equal_python_utf8_bytes(varied, zh_lines):
    texts = varied + zh_lines[:100]
    ids = ByteTokenizer().encode(texts)
    assert ids.to_list() == [list(t.encode("utf-8")) for t in texts]
    pieces = ByteTokenizer().tokenize(texts[:20]).to_list()
    assert pieces == [[bytes([b]) for b in t.encode("utf-8")] for t in texts[:20]]


def test_round_trip_is_exact(varied, zh_lines):
    texts = varied + zh_lines[:100] + ["\x00 nul and \x7f del", "👩\u200d💻🇨🇳"]
    for tok in (ByteTokenizer(), ByteTokenizer(["[PAD]", "[BOS]", "[EOS]"])):
        decoded = tok.decode(tok.encode(texts)).numpy().tolist()
        assert decoded == [t.encode("utf-8") for t in texts]


def test_specials_take_the_first_ids():
    tok = ByteTokenizer(["[PAD]", "[BOS]", "[EOS]"])
    assert tok.vocab_size == 259 and tok.pad_id == 0
    assert tok.encode("hé").numpy().tolist() == [104 + 3, 195 + 3, 169 + 3]
    assert tok.id_to_token(1) == "[BOS]" and tok.id_to_token(3) == b"\x00"
    assert tok.token_to_id("[EOS]") == 2 and tok.token_to_id(b"h") == 107
    # specials are dropped by decode; padding too
    assert tok.decode([1, 107, 2, 0, 0]).numpy() == b"h"
    assert ByteTokenizer().pad_id is None


def test_decode_repairs_invalid_byte_sequences():
    tok = ByteTokenizer()
    # what a byte-level model may generate: a lone continuation byte, a truncated character
    ids = [[104, 0x80, 105], [0xE4, 0xBD], list("好".encode())]
    assert tok.decode(ids).numpy().tolist() == [
        b"h\xef\xbf\xbdi",
        "\ufffd".encode(),
        "好".encode(),
    ]


def test_invalid_input_is_encoded_as_replacement_characters():
    assert ByteTokenizer().encode(b"caf\xe9").numpy().tolist() == list("caf\ufffd".encode())


def test_save_and_load_keep_the_specials(tmp_path):
    tok = ByteTokenizer(["[PAD]", "[EOS]"])
    tok.save(tmp_path / "specials.txt")
    assert ByteTokenizer.load(tmp_path / "specials.txt").specials == ["[PAD]", "[EOS]"]


def test_encode_is_a_graph_op():
    encode = tf.function(ByteTokenizer().encode, input_signature=[tf.TensorSpec([], tf.string)])
    assert encode(tf.constant("ok")).numpy().tolist() == [111, 107]
