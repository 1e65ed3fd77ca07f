"""The KV cache of our decoders (GPT, Llama): cached decoding equals recomputing the prefix.

The reference is the uncached model itself: at every step the logits of the cached path
must equal those of running the whole prefix again (within 1e-4), and greedy decoding must
give the same tokens, for a batch of prompts of different lengths (padded on either side),
with and without XLA.
"""

import keras
import numpy as np
import pytest

from nlpbook.generation import beam_search, greedy_search, prefix_step
from nlpbook.models._decoding import left_align
from nlpbook.models.gpt import GPT, GPTConfig
from nlpbook.models.llama import Llama, LlamaConfig

VOCAB = 40


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def make(kind):
    keras.utils.set_random_seed(0)
    if kind == "gpt":
        return GPT(GPTConfig.tiny(VOCAB, dropout=0.0, attention_dropout=0.0))
    return Llama(LlamaConfig.tiny(VOCAB))


def prompts_batch(side="right"):
    rng = np.random.default_rng(3)
    prompts = [rng.integers(1, VOCAB, 6), rng.integers(1, VOCAB, 2), rng.integers(1, VOCAB, 4)]
    ids = np.zeros((3, 6), "int32")
    mask = np.zeros((3, 6), bool)
    for i, p in enumerate(prompts):
        if side == "right":
            ids[i, : len(p)], mask[i, : len(p)] = p, True
        else:
            ids[i, 6 - len(p) :], mask[i, 6 - len(p) :] = p, True
    return prompts, ids, mask


@pytest.mark.parametrize("kind", ["gpt", "llama"])
@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_cached_greedy_equals_recomputing_the_prefix(kind, jit, side):
    model = make(kind)
    model.decoding_jit_compile = jit
    prompts, ids, mask = prompts_batch(side)
    logits, state = model.prefill(ids, mask, max_length=6 + 8)
    sequences = [list(p) for p in prompts]
    worst = 0.0
    for _ in range(8):
        got = numpy(logits)
        for row, seq in enumerate(sequences):
            want = numpy(model(np.array([seq], "int32")))[0, -1]
            worst = max(worst, np.abs(got[row] - want).max())
            assert int(got[row].argmax()) == int(want.argmax())
        tokens = got.argmax(axis=1).astype("int32")
        for row, token in enumerate(tokens):
            sequences[row].append(int(token))
        logits, state = model.decode_step(tokens, state)
    assert worst < 1e-4, worst


@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_decode_step_is_a_generation_step_function(kind):
    """greedy_search and beam_search over decode_step equal the uncached prefix_step."""
    model = make(kind)
    prompt = np.array([[5, 9, 2, 7]], "int32")

    def cached(prompt, n):
        logits, state = model.prefill(prompt[:, :-1], max_length=prompt.shape[1] + n)
        return state

    uncached = prefix_step(lambda prefix: model(prefix))
    a = greedy_search(model.decode_step, cached(prompt, 6), prompt[:, -1], max_length=6)
    b = greedy_search(uncached, prompt[:, :-1], prompt[:, -1], max_length=6)
    np.testing.assert_array_equal(a, b)
    sa, score_a = beam_search(model.decode_step, cached(prompt, 5), prompt[:, -1],
                              beam_width=3, max_length=5)  # fmt: skip
    sb, score_b = beam_search(uncached, prompt[:, :-1], prompt[:, -1], beam_width=3, max_length=5)
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_allclose(score_a, score_b, atol=1e-4)


def test_left_align_moves_real_tokens_to_the_right_end():
    ids = np.array([[1, 2, 0, 0], [0, 3, 0, 4]])
    mask = np.array([[1, 1, 0, 0], [0, 1, 0, 1]], bool)
    out, out_mask, lengths = left_align(ids, mask)
    assert out.tolist() == [[0, 0, 1, 2], [0, 0, 3, 4]]
    assert out_mask.tolist() == [[False, False, True, True]] * 2
    assert lengths.tolist() == [2, 2]


def test_errors():
    model = make("gpt")
    with pytest.raises(ValueError, match="at least one real token"):
        model.prefill(np.array([[1, 2]]), np.array([[False, False]]))
    with pytest.raises(ValueError, match="room for at least one new token"):
        model.prefill(np.array([[1, 2]]), max_length=2)
    with pytest.raises(ValueError, match="exceeds the model's 64 positions"):
        model.prefill(np.array([[1, 2]]), max_length=65)
    with pytest.raises(ValueError, match="padding_mask must have the shape"):
        model.prefill(np.array([[1, 2]]), np.array([[True]]))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        model.prefill(np.array([1, 2]))
    _, state = model.prefill(np.array([[1, 2]]), max_length=3)
    _, state = model.decode_step(np.array([3], "int32"), state)
    with pytest.raises(ValueError, match="the cache is full"):
        model.decode_step(np.array([3], "int32"), state)


@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_generate_equals_recomputing_the_prefix(kind):
    """generation.generate over the cache equals greedy and beam search without one."""
    from nlpbook.generation import generate

    model = make(kind)
    prompts = [[5, 9, 2, 7], [3], [8, 8, 1]]
    uncached = prefix_step(lambda prefix: model(prefix))
    greedy = generate(model, prompts, max_new_tokens=6, temperature=0.0)
    beams = generate(model, prompts, max_new_tokens=5, method="beam", beam_width=3)
    for i, p in enumerate(prompts):
        prefix, last = np.array([p[:-1]], "int32"), np.array(p[-1:], "int32")
        want = greedy_search(uncached, prefix, last, max_length=6)[0].tolist()
        assert greedy[i] == want
        seqs, _ = beam_search(uncached, prefix, last, beam_width=3, max_length=5)
        assert beams[i] == seqs[0, 0].tolist()
    assert generate(model, prompts, max_new_tokens=6, method="greedy") == greedy
    with pytest.raises(ValueError, match="no sampling options"):
        generate(model, prompts, max_new_tokens=2, method="greedy", top_k=3)
    with pytest.raises(ValueError, match="method must be"):
        generate(model, prompts, max_new_tokens=2, method="contrastive")
    with pytest.raises(ValueError, match="at least one token"):
        generate(model, [[]], max_new_tokens=2)


def test_prompts_of_new_widths_reuse_the_compiled_prefill():
    """The compiled prefill is traced for any prompt width (TensorFlow relaxes the shape on
    the second width), and gives what a fresh eager run gives."""
    model = make("llama")
    model.decoding_jit_compile = True
    for width in (3, 5, 4):
        prompt = np.arange(1, width + 1)[None].astype("int32")
        logits, _ = model.prefill(prompt, max_length=width + 2)
        want = numpy(model(prompt))[:, -1]
        np.testing.assert_allclose(numpy(logits), want, atol=1e-4)


@pytest.mark.parametrize("kind", ["gpt", "llama"])
@pytest.mark.parametrize("jit", [False, True])
def test_greedy_decode_loop_equals_step_by_step(kind, jit):
    """The compiled greedy loop gives the tokens of decode_step driven from Python, stops
    rows at eos_id (repeating it) and the loop once every row has stopped."""
    model = make(kind)
    model.decoding_jit_compile = jit
    _, ids, mask = prompts_batch("right")
    logits, state = model.prefill(ids, mask, max_length=6 + 8)
    want = []
    for _ in range(8):
        tokens = numpy(logits).argmax(axis=1).astype("int32")
        want.append(tokens)
        logits, state = model.decode_step(tokens, state)
    want = np.stack(want, axis=1)
    logits, state = model.prefill(ids, mask, max_length=6 + 8)
    got, after = model.greedy_decode(logits, state, 8)
    np.testing.assert_array_equal(got, want)
    assert int(numpy(after["index"])[0]) == 6 + 7  # 7 cached steps after the prefill
    # eos: the first row's third token; that row then repeats it
    eos = int(want[0, 2])
    logits, state = model.prefill(ids, mask, max_length=6 + 8)
    got, _ = model.greedy_decode(logits, state, 8, eos_id=eos)
    for row, expected in zip(got, want, strict=True):
        hits = np.flatnonzero(expected == eos)
        stop = hits[0] if len(hits) else len(expected)
        np.testing.assert_array_equal(row[: stop + 1], expected[: stop + 1])
        assert (row[stop:] == eos).all() or stop == len(expected)
    # every row emits eos at once: the loop ends after one step
    logits, state = model.prefill(ids[:1], mask[:1], max_length=6 + 8)
    got, _ = model.greedy_decode(logits, state, 8, eos_id=int(want[0, 0]))
    assert got.shape == (1, 1)


def test_greedy_decode_errors():
    model = make("gpt")
    logits, state = model.prefill(np.array([[1, 2]]), max_length=5)
    with pytest.raises(ValueError, match="steps must be an int"):
        model.greedy_decode(logits, state, 0)
    with pytest.raises(ValueError, match="need 4 free cache slots; 3 of 5"):
        model.greedy_decode(logits, state, 5)
    tokens, _ = model.greedy_decode(logits, state, 4)  # fills the cache exactly
    assert tokens.shape == (1, 4)
