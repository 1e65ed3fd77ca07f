"""TextStreamer: new text only, never half a UTF-8 character, and stop strings held back."""

import doctest

import numpy as np
import pytest

from nlpbook.generation import TextStreamer, greedy_search, sample, streaming

TEXT = "你好，世界！Emoji: 🙂👋🏽 and 家族👨‍👩‍👧. Ça va? ok"
EOS = 256


def decode(ids):
    """A byte-level tokenizer: the ids are the UTF-8 bytes."""
    return bytes(ids).decode("utf-8", errors="replace")


def test_pieces_add_up_to_the_text_and_never_split_a_character():
    pieces = []
    streamer = TextStreamer(decode, pieces.append)
    ids = list(TEXT.encode("utf-8"))
    returned = [streamer.put(token) for token in ids]
    returned.append(streamer.end())
    assert "".join(pieces) == TEXT == streamer.text
    assert "".join(returned) == TEXT
    assert all(pieces) and not any("\ufffd" in piece for piece in pieces)
    assert len(pieces) > 10  # handed out as it goes, not all at the end
    # the first byte of 你 alone hands out nothing; its third byte completes it
    first = TextStreamer(decode, pieces.append)
    assert first.put(ids[0]) == "" and first.put(ids[1]) == "" and first.put(ids[2]) == "你"


@pytest.mark.parametrize("chunk", [2, 3, 5])
def test_several_ids_at_a_time(chunk):
    pieces = []
    ids = list(TEXT.encode("utf-8"))
    with TextStreamer(decode, pieces.append) as streamer:  # end() on exit
        for start in range(0, len(ids), chunk):
            streamer.put(np.array(ids[start : start + chunk], "int32"))
    assert "".join(pieces) == TEXT and not any("\ufffd" in piece for piece in pieces)


def test_an_unfinished_character_is_flushed_at_the_end():
    pieces = []
    streamer = TextStreamer(decode, pieces.append)
    streamer.put(list(b"ab") + [0xE4, 0xB8])  # the first two of 中's three bytes
    assert pieces == ["ab"]
    assert streamer.end() == "\ufffd"  # what decode makes of them: the sequence ended there
    assert streamer.end() == "" and streamer.put(65) == ""  # finished
    assert "".join(pieces) == decode(list(b"ab") + [0xE4, 0xB8])


def test_eos_finishes_the_text_and_is_not_decoded():
    pieces = []
    streamer = TextStreamer(decode, pieces.append, eos_id=EOS)
    streamer.put([*"hé".encode(), EOS, *b"more"])
    streamer.put(list(b"ignored"))
    assert "".join(pieces) == "hé" and streamer.done


def test_stop_strings_are_held_back_and_never_shown():
    pieces = []
    streamer = TextStreamer(decode, pieces.append, stop=["\n\n", "用户："])
    for token in "答：好的\n然后\n\n用户：再见".encode():
        streamer.put(token)
    streamer.end()
    assert "".join(pieces) == "答：好的\n然后"
    # a "\n" is held until the next character shows it does not begin "\n\n"
    pieces.clear()
    streamer = TextStreamer(decode, pieces.append, stop="\n\n")
    assert [streamer.put(t) for t in b"a\nb\n"] == ["a", "", "\nb", ""]
    assert streamer.end() == "\n"
    # the other stop string, begun inside a character's bytes and completed
    pieces.clear()
    streamer = TextStreamer(decode, pieces.append, stop="用户：")
    for token in "你好用户：x".encode():
        streamer.put(token)
    assert "".join(pieces) == "你好" and streamer.done


def test_as_the_stream_callback_of_sample():
    """Row 1 of a batch, through the decoder's stream callback, with EOS and a stop string."""
    texts = ["其他行 other row, longer than the rest of the batch........", TEXT, "短\n\nstop"]
    scripts = [list(t.encode("utf-8")) + [EOS] for t in texts]

    def step(tokens, t):
        logits = np.zeros((len(scripts), 257))
        for i, script in enumerate(scripts):
            logits[i, script[min(t, len(script) - 1)]] = 50.0
        return logits, t + 1

    pieces, streamers = [], []
    for row in range(3):
        streamers.append(TextStreamer(decode, pieces.append if row == 1 else lambda s: None,
                                      row=row, eos_id=EOS, stop="\n\n"))  # fmt: skip
    out = greedy_search(step, 0, [0, 0, 0], max_length=200, eos_id=EOS, stop="\n\n",
                        decode=decode, stream=lambda tokens: [s(tokens) for s in streamers])  # fmt: skip
    for s in streamers:
        s.end()
    assert "".join(pieces) == TEXT and not any("\ufffd" in piece for piece in pieces)
    assert [s.text for s in streamers] == [texts[0], texts[1], "短"]
    # what the decoder returns decodes to the same text
    for row, s in zip(out, streamers, strict=True):
        assert decode([t for t in row.tolist() if t not in (0, EOS)]) == s.text


def test_with_sampled_bytes_the_pieces_are_the_decode():
    """Random bytes (mostly invalid UTF-8): the pieces still add up to decode(ids)."""
    step = lambda tokens, state: (np.zeros((len(tokens), 256)), state)  # noqa: E731
    ids = sample(step, None, [0], max_length=300, seed=0)[0].tolist()
    pieces = []
    with TextStreamer(decode, pieces.append) as streamer:
        for token in ids:
            streamer(np.array([token]))
    assert "".join(pieces) == decode(ids)


def test_with_the_books_byte_tokenizer():
    """Its decode returns a tf.string scalar and drops specials; the streamer takes it as is."""
    from nlpbook.text.byte import ByteTokenizer

    tokenizer = ByteTokenizer(("[PAD]", "[BOS]", "[EOS]"))
    text = "你好，世界！🙂👋🏽"
    ids = tokenizer.encode(text + "\n\n后面").numpy().tolist()
    script = [*ids, 2]

    def step(tokens, t):
        logits = np.zeros((1, tokenizer.vocab_size))
        logits[0, script[min(t, len(script) - 1)]] = 50.0
        return logits, t + 1

    pieces = []
    with TextStreamer(tokenizer.decode, pieces.append, eos_id=2, stop="\n\n") as streamer:
        out = greedy_search(step, 0, [1], max_length=100, eos_id=2, stop="\n\n",
                            decode=tokenizer.decode, stream=streamer)  # fmt: skip
    assert "".join(pieces) == text and not any("\ufffd" in piece for piece in pieces)
    assert tokenizer.decode(out[0]).numpy().decode() == text  # pad (0) is dropped


def test_the_default_prints_without_newlines(capsys):
    with TextStreamer(decode) as streamer:
        for token in "行1\n行2".encode():
            streamer.put(token)
    assert capsys.readouterr().out == "行1\n行2"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="decode must be callable"):
        TextStreamer("utf-8")
    with pytest.raises(ValueError, match="on_text must be callable"):
        TextStreamer(decode, on_text=[])
    with pytest.raises(ValueError, match="row must be an int >= 0"):
        TextStreamer(decode, row=-1)
    with pytest.raises(ValueError, match="stop must be"):
        TextStreamer(decode, stop="")


def test_docstring_examples():
    assert doctest.testmod(streaming, extraglobs={"np": np}).failed == 0
