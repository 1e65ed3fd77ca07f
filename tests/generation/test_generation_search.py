"""Greedy search, sampling and beam search against brute force on a known Markov chain."""

import doctest
import itertools

import keras
import numpy as np
import pytest

from nlpbook import generation
from nlpbook.generation import beam_search, greedy_search, length_penalty, prefix_step, sample
from nlpbook.models import RecurrentLM
from nlpbook.testing import jittered

EOS = 3


def markov(seed=0, vocab=5):
    """A random next-token table: logits[t] scores the token after token t."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(vocab, vocab)) * 2

    def step(tokens, state):
        tokens = np.asarray(keras.ops.convert_to_numpy(tokens))
        # the state counts steps, to check that beams carry their own state along
        return logits[tokens], keras.ops.add(state, 1)

    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return step, logp


def brute_force(logp, start, max_length, alpha):
    """Score every sequence: those ending at their first EOS, or of length max_length."""
    best = []
    for length in range(1, max_length + 1):
        for seq in itertools.product(range(logp.shape[0]), repeat=length):
            if EOS in seq[:-1] or (seq[-1] != EOS and length < max_length):
                continue
            prev = (start, *seq[:-1])
            total = sum(logp[a, b] for a, b in zip(prev, seq, strict=True))
            best.append((total / length_penalty(length, alpha), seq))
    return sorted(best, key=lambda x: -x[0])


def unpad(row):
    row = list(row)
    return tuple(row[: row.index(EOS) + 1]) if EOS in row else tuple(row)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 2.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_wide_beam_is_exhaustive_search(seed, alpha):
    step, logp = markov(seed)
    expected = brute_force(logp, start=1, max_length=4, alpha=alpha)
    seqs, scores = beam_search(
        step, np.zeros(1), [1], beam_width=5**4, max_length=4, eos_id=EOS, alpha=alpha,
        num_return=10,
    )  # fmt: skip
    np.testing.assert_allclose(scores[0], [s for s, _ in expected[:10]], rtol=1e-12)
    # the same sequences; paths through the same transitions in another order tie exactly
    ours = sorted((round(float(s), 9), unpad(r)) for s, r in zip(scores[0], seqs[0], strict=True))
    theirs = sorted((round(float(s), 9), seq) for s, seq in expected[:10])
    if theirs[0][0] != round(float(expected[10][0]), 9):  # no tie across the cut at 10
        assert ours == theirs
    assert np.all(np.diff(scores[0]) <= 0)  # best first


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_beam_width_one_is_greedy(seed):
    step, _ = markov(seed)
    starts = [0, 1, 2, 4]
    greedy = greedy_search(step, np.zeros(4), starts, max_length=6, eos_id=EOS)
    beam, _ = beam_search(step, np.zeros(4), starts, beam_width=1, max_length=6, eos_id=EOS)
    width = greedy.shape[1]
    assert np.array_equal(beam[:, 0, :width], greedy)
    assert np.all(beam[:, 0, width:] == 0)


def test_greedy_follows_the_argmax_and_pads_after_eos():
    step, logp = markov(4)
    out = greedy_search(step, np.zeros(1), [0], max_length=8, eos_id=EOS, pad_id=0)[0]
    token = 0
    for i, got in enumerate(out):
        if token == EOS:
            assert got == 0  # padding after the first EOS
            continue
        assert got == logp[token].argmax(), i
        token = got


def test_batched_beam_search_equals_one_sequence_at_a_time():
    step, _ = markov(5)
    starts = [0, 2, 4]
    batch, batch_scores = beam_search(
        step, np.zeros(3), starts, beam_width=3, max_length=5, eos_id=EOS, alpha=0.6
    )
    for i, s in enumerate(starts):
        one, one_scores = beam_search(
            step, np.zeros(1), [s], beam_width=3, max_length=5, eos_id=EOS, alpha=0.6
        )
        width = one.shape[2]
        assert np.array_equal(batch[i, :, :width], one[0])
        np.testing.assert_allclose(batch_scores[i], one_scores[0])


def test_beam_search_reorders_a_real_models_state():
    """A recurrent LM's state follows its beams: scores equal the model's own log-prob."""
    keras.utils.set_random_seed(0)
    lm = RecurrentLM(7, embedding_dim=4, hidden_dim=8, num_layers=2)

    def step(tokens, states):
        tokens = keras.ops.reshape(keras.ops.convert_to_tensor(tokens), (-1, 1))
        logits, states = lm(tokens, initial_state=states, return_state=True)
        return logits[:, 0], states

    zeros = [[np.zeros((2, 8), "float32")] * 2 for _ in range(2)]
    seqs, scores = beam_search(step, zeros, [1, 2], beam_width=4, max_length=5, eos_id=None)
    for b, start in enumerate([1, 2]):
        for seq, score in zip(seqs[b], scores[b], strict=True):
            logits = keras.ops.convert_to_numpy(lm(np.array([[start, *seq[:-1]]], "int32")))[0]
            logits = logits.astype(np.float64)
            logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
            assert score == pytest.approx(logp[np.arange(5), seq].sum(), abs=1e-5)
    # and the prefix_step wrapper (no state at all) finds the same beams, jittered by 1e-5
    # (~10x float32 error) so that no beam rests on a near-tie one CPU's rounding could flip
    seqs2, scores2 = beam_search(
        jittered(prefix_step(lambda p: lm(p))), np.array([[1], [2]], "int32")[:, :0], [1, 2],
        beam_width=4, max_length=5,
    )  # fmt: skip
    assert np.array_equal(seqs, seqs2)
    # ±1e-5 on each logit moves a log-prob by up to 2e-5 a step, over 5 steps
    np.testing.assert_allclose(scores, scores2, atol=1e-4)


def test_length_penalty_prefers_longer_outputs():
    # EOS is likely at once; the longer path is less probable in total but better per token
    logits = np.log(
        np.array(
            [
                [1e-9, 0.45, 1e-9, 0.55],  # from 0: EOS 0.55, token 1 0.45
                [1e-9, 1e-9, 0.99, 0.01],  # from 1: token 2
                [1e-9, 1e-9, 1e-9, 1.0],  # from 2: EOS
                [0.25, 0.25, 0.25, 0.25],
            ]
        )
    )
    step = lambda tokens, state: (logits[np.asarray(tokens)], state)  # noqa: E731
    short, _ = beam_search(step, np.zeros(1), [0], beam_width=2, max_length=4, eos_id=EOS)
    long, _ = beam_search(step, np.zeros(1), [0], beam_width=2, max_length=4, eos_id=EOS, alpha=3.0)
    assert unpad(short[0, 0]) == (3,)
    assert unpad(long[0, 0]) == (1, 2, 3)


def test_top_k_and_top_p_sampling_follow_the_filtered_distribution():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    step = lambda tokens, state: (np.log(np.tile(p, (len(tokens), 1))), state)  # noqa: E731
    starts = np.zeros(4000, "int32")
    counts = lambda out: np.bincount(out[:, 0], minlength=4) / len(out)  # noqa: E731
    plain = counts(sample(step, None, starts, max_length=1, seed=0))
    np.testing.assert_allclose(plain, p, atol=0.03)
    top2 = counts(sample(step, None, starts, max_length=1, top_k=2, seed=1))
    np.testing.assert_allclose(top2, [0.625, 0.375, 0, 0], atol=0.03)
    nucleus = counts(sample(step, None, starts, max_length=1, top_p=0.85, seed=2))
    # 0.5 + 0.3 < 0.85: the third token is needed to reach the mass; the fourth is not
    np.testing.assert_allclose(nucleus, np.array([0.5, 0.3, 0.15, 0]) / 0.95, atol=0.03)
    cold = counts(sample(step, None, starts, max_length=1, temperature=0.5, seed=3))
    np.testing.assert_allclose(cold, p**2 / (p**2).sum(), atol=0.03)
    assert sample(step, None, starts[:5], max_length=3, temperature=0).tolist() == [[0] * 3] * 5


def test_sampling_is_reproducible_and_stops_at_eos():
    step, _ = markov(6)
    a = sample(step, np.zeros(8), np.arange(8) % 5, max_length=20, eos_id=EOS, seed=7)
    b = sample(step, np.zeros(8), np.arange(8) % 5, max_length=20, eos_id=EOS, seed=7)
    assert np.array_equal(a, b)
    for row in a:
        if EOS in row.tolist():
            assert np.all(row[row.tolist().index(EOS) + 1 :] == 0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"beam_width": 0}, "beam_width"),
        ({"beam_width": 2, "num_return": 3}, "num_return"),
        ({"beam_width": 2, "alpha": -1.0}, "alpha"),
        ({"beam_width": 2, "max_length": 0}, "max_length"),
    ],
)
def test_beam_search_rejects_bad_arguments(kwargs, match):
    step, _ = markov(0)
    kwargs = {"max_length": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        beam_search(step, np.zeros(1), [0], **kwargs)


def test_bad_inputs_are_named():
    step, _ = markov(0)
    with pytest.raises(ValueError, match="start_tokens"):
        greedy_search(step, np.zeros(1), [], max_length=3)
    with pytest.raises(ValueError, match="start_tokens"):
        greedy_search(step, np.zeros(1), [[0]], max_length=3)
    with pytest.raises(ValueError, match="top_p"):
        sample(step, np.zeros(1), [0], max_length=3, top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        sample(step, np.zeros(1), [0], max_length=3, temperature=-0.5)
    with pytest.raises(ValueError, match="logits of shape"):
        greedy_search(lambda t, s: (np.zeros((5, 4)), s), None, [0, 1], max_length=2)


def test_docstring_examples():
    assert doctest.testmod(generation.search, extraglobs={"np": np}).failed == 0
