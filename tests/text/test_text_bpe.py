"""Byte-level BPE: our tokenizer (Hugging Face ``tokenizers`` built from the GGUF file's
vocabulary and merges) against a plain Python transcription of the algorithm as llama.cpp
runs it for ``tokenizer.ggml.pre = smollm``: special tokens matched first, then the text cut
by ``\\p{N}`` (each digit alone), then by GPT-2's expression, bytes mapped to GPT-2's
printable characters, and the lowest-ranked adjacent pair merged until none is left.
"""

import numpy as np
import pytest
import regex
import tensorflow as tf

from nlpbook.text.bpe import ByteLevelBPETokenizer

GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
TEXTS = [
    "The capital of France is Paris.",
    "In 2024, 366 days passed;   3.14159 is π.",
    "自然语言处理很有趣，我们一起学习大模型！",
    "Emoji: 🤗🎉👩‍💻 and naïve café, Ünïcödé.",
    "<|im_start|>user\nHello  there!\n\n<|im_end|>\n",
    "tabs\tand\r\nnewlines   and trailing spaces   ",
    "",
]


def bytes_to_unicode():
    """GPT-2's table: printable bytes stand for themselves, the rest get 256, 257, …"""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def split_keep(pattern, pieces):
    """Each piece cut into the pattern's matches and the text between them (both kept)."""
    out = []
    for piece in pieces:
        start = 0
        for m in regex.finditer(pattern, piece):
            if m.start() > start:
                out.append(piece[start : m.start()])
            out.append(m.group())
            start = m.end()
        if start < len(piece):
            out.append(piece[start:])
    return out


def reference_encode(text, tokens, merges, specials):
    ids = {t: i for i, t in enumerate(tokens)}
    rank = {tuple(m): r for r, m in enumerate(merges)}
    table = bytes_to_unicode()
    special_re = "(" + "|".join(regex.escape(s) for s in specials) + ")"
    out = []
    for chunk in regex.split(special_re, text):
        if chunk in specials:
            out.append(ids[chunk])
            continue
        for piece in split_keep(GPT2_SPLIT, split_keep(r"\p{N}", [chunk] if chunk else [])):
            symbols = [table[b] for b in piece.encode("utf-8")]
            while len(symbols) > 1:
                pairs = [(rank.get((a, b), np.inf), i)
                         for i, (a, b) in enumerate(zip(symbols, symbols[1:], strict=False))]  # fmt: skip
                best, _ = min(pairs)
                if best == np.inf:
                    break
                pair = merges[int(best)]
                merged, i = [], 0
                while i < len(symbols):  # merge every occurrence, left to right
                    if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == tuple(pair):
                        merged.append(symbols[i] + symbols[i + 1])
                        i += 2
                    else:
                        merged.append(symbols[i])
                        i += 1
                symbols = merged
            out.extend(ids[s] for s in symbols)
    return out


@pytest.fixture(scope="module")
def tok():
    from nlpbook.datasets import require
    from nlpbook.models.llama import read_gguf_metadata

    path = require("smollm2-135m")["SmolLM2-135M-Instruct.Q4_1.gguf"]
    return ByteLevelBPETokenizer.from_gguf(read_gguf_metadata(path))


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_the_reference_transcription(tok, text):
    want = reference_encode(text, tok.tokens, tok.merges, tok.special_tokens)
    assert tok.encode_ids(text) == want
    assert tok.decode_ids(want) == text  # byte-level BPE loses nothing


def test_digits_are_cut_one_by_one(tok):
    pieces = [tok.id_to_token(i) for i in tok.encode_ids("year 2024")]
    assert pieces == ["year", "Ġ", "2", "0", "2", "4"]


def test_tensorflow_interface_matches_python(tok):
    texts = TEXTS[:4]
    ragged = tok.encode(texts)
    assert ragged.to_list() == [tok.encode_ids(t) for t in texts]
    assert [t.decode() for t in tok.decode(ragged).numpy()] == texts
    pieces = tok.tokenize(texts[0]).numpy().tolist()
    assert [p.decode() for p in pieces] == [tok.id_to_token(i) for i in tok.encode_ids(texts[0])]
    ds = tf.data.Dataset.from_tensor_slices(texts).map(tok.encode)
    assert [row.numpy().tolist() for row in ds] == [tok.encode_ids(t) for t in texts]


def test_bad_input(tok):
    with pytest.raises(TypeError, match="must be a str"):
        tok.encode_ids(42)
    with pytest.raises(ValueError, match="not valid UTF-8"):
        tok.encode_ids(b"\xff\xfe")
    with pytest.raises(ValueError, match=r"ids must be in \[0, 49152\)"):
        tok.decode_ids([5, 49152])
    with pytest.raises(ValueError, match="messages is empty"):
        tok.apply_chat_template([])
    with pytest.raises(ValueError, match="'role' and 'content'"):
        tok.apply_chat_template([{"role": "user"}])
    assert tok.encode_ids("") == []
    assert tok.decode_ids([]) == ""


def test_small_vocabulary_and_errors():
    bpe = ByteLevelBPETokenizer(["a", "b", "Ġ", "ab", "Ġab"], ["a b", "Ġ ab"])
    assert bpe.encode_ids("ab ab") == [3, 4]
    with pytest.raises(ValueError, match="does not make a token"):
        ByteLevelBPETokenizer(["a", "b"], ["a b"])
    with pytest.raises(ValueError, match="pre_tokenizer must be one of"):
        ByteLevelBPETokenizer(["a"], [], pre_tokenizer="llama3")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        ByteLevelBPETokenizer(["a"], [], special_tokens=["<s>"])
    with pytest.raises(ValueError, match="pre-tokenizer 'qwen2' is not one of"):
        ByteLevelBPETokenizer.from_gguf({"tokenizer.ggml.model": "gpt2",
                                         "tokenizer.ggml.pre": "qwen2",
                                         "tokenizer.ggml.tokens": ["a"],
                                         "tokenizer.ggml.merges": []})  # fmt: skip
