"""sample() with penalties, min-p, a prompt context, stop strings and a stream callback."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from nlpbook.generation import greedy_search, sample

EOS = 3


def markov(seed=0, vocab=6):
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(vocab, vocab)) * 2
    return (lambda tokens, state: (table[np.asarray(tokens)], state)), table


def naive_sample(table, starts, context, steps, *, seed, temperature, top_k, top_p, min_p,
                 rep, presence, frequency):  # fmt: skip
    """Row by row and token by token, in the documented order, with the same random stream."""
    rng = np.random.default_rng(seed)
    seen = [list(row) for row in context]
    tokens, out = list(starts), []
    for _ in range(steps):
        u = rng.random((len(tokens), 1))[:, 0]  # one draw per row and step, as sample does
        new = []
        for i, prev in enumerate(tokens):
            x = [float(v) for v in table[prev]]
            for j in range(len(x)):  # 1. penalties on the raw logits
                if j in seen[i]:
                    x[j] = x[j] / rep if x[j] > 0 else x[j] * rep
                x[j] -= presence * (j in seen[i]) + frequency * seen[i].count(j)
            total = sum(math.exp(v) for v in x)  # 2. log-softmax
            p = [math.exp(v) / total for v in x]
            order = sorted(range(len(p)), key=lambda j: (-p[j], j))
            keep, mass = set(), 0.0
            for r, j in enumerate(order):  # 3. top-k, top-p (full-distribution mass), min-p
                if r < top_k and mass < top_p and p[j] >= min_p * max(p):
                    keep.add(j)
                mass += p[j]
            if temperature == 0:  # greedy: the best token
                new.append(order[0])
                seen[i].append(order[0])
                continue
            weight = [p[j] ** (1 / temperature) if j in keep else 0.0 for j in range(len(p))]
            cum, choice = 0.0, None  # 4. temperature, then the inverse-CDF draw
            for j, w in enumerate(weight):
                cum += w / sum(weight)
                if cum > u[i] and choice is None:
                    choice = j
            new.append(choice)
            seen[i].append(choice)
        out.append(new)
        tokens = new
    return np.array(out).T


# two settings, between them every option changes some of the 4 seeds' tokens (checked by
# neutralising each option in the naive version, one at a time)
@pytest.mark.parametrize("top_k,top_p,min_p", [(4, 0.85, 0.25), (5, 0.9, 0.2)])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sampling_applies_every_option_in_the_documented_order(seed, top_k, top_p, min_p):
    step, table = markov(seed)
    starts = [0, 1, 2, 5]
    context = [[1, 1, 4], [], [2, 2, 2, 3, 0], [5]]
    options = dict(temperature=0.8, top_k=top_k, top_p=top_p, min_p=min_p)
    penalties = dict(repetition_penalty=1.4, presence_penalty=0.3, frequency_penalty=0.2)
    ours = sample(step, None, starts, max_length=12, seed=seed, context=context, **options,
                  **penalties)  # fmt: skip
    theirs = naive_sample(table, starts, context, 12, seed=seed, **options, rep=1.4,
                          presence=0.3, frequency=0.2)  # fmt: skip
    assert np.array_equal(ours, theirs)


def test_penalties_see_the_prompt_and_the_generated_tokens():
    step, table = markov(7)
    # the padded array form and the list form of the same prompts agree
    padded = np.array([[4, 4, 1, -1], [2, -1, -1, -1]])
    lists = [[4, 4, 1], [2]]
    kw = dict(max_length=10, frequency_penalty=0.8, repetition_penalty=1.3)
    a = greedy_search(step, None, [0, 3], pad_id=-1, context=padded, **kw)
    b = greedy_search(step, None, [0, 3], pad_id=-1, context=lists, **kw)
    assert np.array_equal(a, b)
    theirs = naive_sample(table, [0, 3], lists, 10, seed=0, temperature=0, top_k=99,
                          top_p=1.0, min_p=0.0, rep=1.3, presence=0.0, frequency=0.8)  # fmt: skip
    assert np.array_equal(a, theirs)
    assert not np.array_equal(a, greedy_search(step, None, [0, 3], max_length=10))


def test_default_options_change_nothing():
    step, _ = markov(8)
    kw = dict(max_length=15, eos_id=EOS, seed=3, top_k=4, top_p=0.9)
    plain = sample(step, None, np.arange(6) % 6, **kw)
    neutral = sample(step, None, np.arange(6) % 6, repetition_penalty=1.0, presence_penalty=0.0,
                     frequency_penalty=0.0, min_p=0.0, context=[[1, 2]] * 6, **kw)  # fmt: skip
    assert np.array_equal(plain, neutral)


def test_min_p_and_penalties_in_the_distribution():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    step = lambda tokens, state: (np.log(np.tile(p, (len(tokens), 1))), state)  # noqa: E731
    starts = np.zeros(4000, "int32")
    counts = lambda out: np.bincount(out[:, 0], minlength=4) / len(out)  # noqa: E731
    # min_p 0.5: p >= 0.25 is kept
    np.testing.assert_allclose(counts(sample(step, None, starts, max_length=1, min_p=0.5, seed=0)),
                               [0.625, 0.375, 0, 0], atol=0.03)  # fmt: skip
    # presence penalty log(2) on token 0 from the prompt: its weight halves
    context = np.zeros((4000, 1), "int32")
    got = counts(sample(step, None, starts, max_length=1, presence_penalty=math.log(2),
                        context=context, pad_id=-1, seed=1))  # fmt: skip
    q = p * [0.5, 1, 1, 1]
    np.testing.assert_allclose(got, q / q.sum(), atol=0.03)


def scripted(scripts, vocab, events=None):
    """Row i produces scripts[i][t] at step t (certainly: one logit far above the rest)."""

    def step(tokens, t):
        if events is not None:
            events.append(("step", t))
        logits = np.zeros((len(scripts), vocab))
        for i, script in enumerate(scripts):
            logits[i, script[t] if t < len(script) else 0] = 50.0
        return logits, t + 1

    return step


PIECES = ["<pad>", "Hel", "lo", "!\n", "\nBye", "Hi", " there", "\n\n", "x", "<eos>", "END"]


def decode_pieces(ids):
    return "".join(PIECES[i] for i in ids)


def test_stop_strings_cut_the_returned_tokens():
    events = []
    scripts = [
        [1, 2, 3, 4, 8, 8, 8, 8],  # "Hel" "lo" "!\n" "\nBye": the stop starts inside "!\n"
        [5, 6, 7, 8, 8, 8, 8, 8],  # "Hi" " there" "\n\n": the stop is one whole token
        [8, 8, 8, 8, 8, 8, 8, 8],  # never stops
        [8, 9, 8, 8, 8, 8, 8, 8],  # EOS
        [5, 10, 8, 8, 8, 8, 8, 8],  # "HiEND": the second stop string
    ]
    out = sample(
        scripted(scripts, len(PIECES), events), 0, [0] * 5, max_length=6, eos_id=9, pad_id=0,
        stop=["\n\n", "END"], decode=decode_pieces,
        stream=lambda tokens: events.append(("stream", tokens.tolist())), temperature=0,
    )  # fmt: skip
    assert out.dtype == np.int32 and out.shape == (5, 6)  # row 2 never stops: all 6 steps
    assert out.tolist() == [
        [1, 2, 0, 0, 0, 0],  # "Hello": "!\n" carries the stop's first "\n", so "!" goes too
        [5, 6, 0, 0, 0, 0],
        [8, 8, 8, 8, 8, 8],
        [8, 9, 0, 0, 0, 0],  # the EOS is kept
        [5, 0, 0, 0, 0, 0],
    ]
    # one stream call per step, before the next model call; finished rows get pad
    assert [kind for kind, _ in events] == ["step", "stream"] * 6
    streamed = np.array([tokens for kind, tokens in events if kind == "stream"]).T
    assert streamed.tolist() == [
        [1, 2, 3, 4, 0, 0],  # as drawn, up to the token that completed the stop string
        [5, 6, 7, 0, 0, 0],
        [8, 8, 8, 8, 8, 8],
        [8, 9, 0, 0, 0, 0],
        [5, 10, 0, 0, 0, 0],
    ]


def test_decoding_stops_when_every_row_has_stopped():
    scripts = [[1, 2, 3, 4, 8, 8], [5, 6, 7, 8, 8, 8]]
    out = greedy_search(scripted(scripts, len(PIECES)), 0, [0, 0], max_length=6, stop="\n\n",
                        decode=decode_pieces)  # fmt: skip
    assert out.tolist() == [[1, 2, 0, 0], [5, 6, 0, 0]]
    assert decode_pieces(out[0, :2]) == "Hello"


def test_the_stop_rule_with_byte_tokens():
    """With one token per byte, the kept text is exactly the text before the stop string."""
    text = "第一行。\n\n第二行"
    ids = list(text.encode("utf-8"))
    out = greedy_search(scripted([ids], 256), 0, [0], max_length=len(ids), stop="\n\n",
                        decode=lambda ids: bytes(ids).decode("utf-8", errors="replace"))  # fmt: skip
    kept = [t for t in out[0].tolist() if t]
    assert bytes(kept).decode("utf-8") == "第一行。"


def test_bad_stop_stream_and_context_are_named():
    step, _ = markov(0)
    with pytest.raises(ValueError, match="decode must be a callable"):
        sample(step, None, [0], max_length=3, stop="x")
    with pytest.raises(ValueError, match="stop must be"):
        sample(step, None, [0], max_length=3, stop=["x", ""], decode=str)
    with pytest.raises(ValueError, match="stop must be"):
        sample(step, None, [0], max_length=3, stop=[], decode=str)
    with pytest.raises(ValueError, match="stream must be callable"):
        sample(step, None, [0], max_length=3, stream=[])
    with pytest.raises(ValueError, match="context must have 1 rows"):
        sample(step, None, [0], max_length=3, context=[[1], [2]])
    with pytest.raises(ValueError, match="context ids must lie in"):
        sample(step, None, [0], max_length=3, context=[[6]], presence_penalty=1.0)
    for name, value in [("repetition_penalty", 0.0), ("presence_penalty", math.inf),
                        ("frequency_penalty", None), ("min_p", 2.0)]:  # fmt: skip
        with pytest.raises(ValueError, match=f"{name} must be"):
            sample(step, None, [0], max_length=3, **{name: value})


def test_seeded_sampling_is_reproducible_and_seed_dependent():
    step, _ = markov(9)
    kw = dict(max_length=20, temperature=1.3, top_p=0.95, min_p=0.02, frequency_penalty=0.5)
    a = sample(step, None, np.arange(6), seed=11, **kw)
    b = sample(step, None, np.arange(6), seed=11, **kw)
    c = sample(step, None, np.arange(6), seed=12, **kw)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


SCRIPT = """
import json, numpy as np
from nlpbook.generation import sample
rng = np.random.default_rng(9)
table = rng.normal(size=(6, 6)) * 2
step = lambda tokens, state: (table[np.asarray(tokens)], state)
out = sample(step, None, np.arange(6), seed=11, max_length=20, temperature=1.3, top_p=0.95,
             min_p=0.02, frequency_penalty=0.5)
print(json.dumps(out.tolist()))
"""


@pytest.mark.slow
def test_seeded_sampling_is_the_same_in_another_process():
    step, _ = markov(9)
    here = sample(step, None, np.arange(6), seed=11, max_length=20, temperature=1.3, top_p=0.95,
                  min_p=0.02, frequency_penalty=0.5)  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300, check=True)  # fmt: skip
    assert json.loads(run.stdout.strip().splitlines()[-1]) == here.tolist()
