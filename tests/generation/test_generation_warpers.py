"""Logits warpers against naive per-row, per-token loops written from their formulas."""

import doctest
import math

import numpy as np
import pytest

from nlpbook.generation import (
    frequency_penalty,
    min_p_filter,
    presence_penalty,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
    warpers,
)

PAD = 0


def random_case(seed, n=4, vocab=7, t=9):
    """Random logits, a padded context array and the same context as per-row lists."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, vocab)) * 3
    logits[0, :3] = [0.0, 2.0, -2.0]  # a zero, and both signs
    array = rng.integers(0, vocab, size=(n, t))
    array[rng.random((n, t)) < 0.3] = PAD  # padding anywhere, and token 0 never counts
    array[1] = [5, 5, 5, 2, 2, PAD, PAD, PAD, PAD][:t]  # duplicates
    array[2] = PAD  # an empty row
    lists = [[int(x) for x in row if x != PAD] for row in array]
    return logits, array, lists


# --- naive transcriptions of the formulas -------------------------------------------------


def naive_repetition(logits, lists, penalty):
    out = [list(row) for row in logits]
    for i, row in enumerate(lists):
        for j in set(row):  # every token present in the context, once
            x = logits[i][j]
            out[i][j] = x / penalty if x > 0 else x * penalty
    return np.array(out)


def naive_presence(logits, lists, penalty):
    out = [list(row) for row in logits]
    for i, row in enumerate(lists):
        for j in range(len(out[i])):
            if j in row:
                out[i][j] -= penalty
    return np.array(out)


def naive_frequency(logits, lists, penalty):
    out = [list(row) for row in logits]
    for i, row in enumerate(lists):
        for j in range(len(out[i])):
            out[i][j] -= penalty * row.count(j)
    return np.array(out)


def ranking(row):
    """Token ids best first, ties broken by the lower id."""
    return sorted(range(len(row)), key=lambda j: (-row[j], j))


def naive_top_k(logp, k):
    out = np.full_like(logp, -np.inf)
    for i, row in enumerate(logp):
        for j in ranking(row)[:k]:
            out[i][j] = row[j]
    return out


def naive_top_p(logp, top_p):
    out = np.full_like(logp, -np.inf)
    for i, row in enumerate(logp):
        mass = 0.0  # of the tokens ranked above
        for j in ranking(row):
            if mass < top_p:
                out[i][j] = row[j]
            mass += math.exp(row[j])
    return out


def naive_min_p(logits, min_p):
    out = np.full_like(logits, -np.inf)
    for i, row in enumerate(logits):
        total = sum(math.exp(x) for x in row)
        p = [math.exp(x) / total for x in row]
        for j in range(len(row)):
            if p[j] >= min_p * max(p):
                out[i][j] = row[j]
    return out


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


# --- penalties --------------------------------------------------------------------------


PENALTIES = [
    (repetition_penalty, naive_repetition, [1.3, 2.0, 0.5]),
    (presence_penalty, naive_presence, [0.7, -1.5, 2.0]),
    (frequency_penalty, naive_frequency, [0.7, -1.5, 2.0]),
]


@pytest.mark.parametrize("warper,naive,values", PENALTIES, ids=lambda x: getattr(x, "__name__", ""))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_penalties_match_a_naive_loop(warper, naive, values, seed):
    logits, array, lists = random_case(seed)
    before = logits.copy()
    for penalty in values:
        expected = naive(logits, lists, penalty)
        from_array = warper(logits, array, penalty, pad_id=PAD)
        from_lists = warper(logits, lists, penalty)
        np.testing.assert_allclose(from_array, expected, rtol=1e-13, atol=0)
        assert np.array_equal(from_array, from_lists)
        assert from_array.dtype == np.float64
    assert np.array_equal(logits, before)  # pure: the input is untouched


@pytest.mark.parametrize("warper,identity", [
    (repetition_penalty, 1.0), (presence_penalty, 0.0), (frequency_penalty, 0.0),
])  # fmt: skip
def test_neutral_penalties_and_empty_contexts_change_nothing(warper, identity):
    logits, array, lists = random_case(3)
    assert np.array_equal(warper(logits, array, identity), logits)
    assert np.array_equal(warper(logits, lists, identity), logits)
    empty = np.zeros((len(logits), 0), "int64")
    assert np.array_equal(warper(logits, empty, 1.7), logits)
    assert np.array_equal(warper(logits, [[]] * len(logits), 1.7), logits)
    assert np.array_equal(warper(logits, None, 1.7), logits)
    all_pad = np.full((len(logits), 3), PAD)
    assert np.array_equal(warper(logits, all_pad, 1.7, pad_id=PAD), logits)


def test_presence_counts_duplicates_once_and_frequency_counts_each():
    logits = np.array([[1.0, -1.0, 0.5, 3.0]])
    context = [[3, 3, 3, 1]]
    assert presence_penalty(logits, context, 0.5).tolist() == [[1.0, -1.5, 0.5, 2.5]]
    assert frequency_penalty(logits, context, 0.5).tolist() == [[1.0, -1.5, 0.5, 1.5]]
    assert repetition_penalty(logits, context, 2.0).tolist() == [[1.0, -2.0, 0.5, 1.5]]


def test_pad_id_none_counts_every_entry_of_an_array():
    logits = np.zeros((1, 3)) + 1.0
    context = np.array([[0, 0, 2]])
    assert presence_penalty(logits, context, 1.0).tolist() == [[1.0, 1.0, 0.0]]  # 0 is pad
    assert presence_penalty(logits, context, 1.0, pad_id=None).tolist() == [[0.0, 1.0, 0.0]]
    assert frequency_penalty(logits, context, 1.0, pad_id=None).tolist() == [[-1.0, 1.0, 0.0]]


def test_token_counts():
    assert warpers.token_counts(np.array([[2, 2, 1, 0]]), 1, 4).tolist() == [[0, 1, 2, 0]]
    assert warpers.token_counts([[0, 0], []], 2, 3).tolist() == [[2, 0, 0], [0, 0, 0]]
    assert warpers.token_counts(None, 2, 2).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("warper", [repetition_penalty, presence_penalty, frequency_penalty])
def test_penalties_reject_bad_arguments(warper):
    logits = np.zeros((2, 4))
    with pytest.raises(ValueError, match="context ids must lie in"):
        warper(logits, [[1], [4]], 1.5)
    with pytest.raises(ValueError, match="context ids must lie in"):
        warper(logits, np.array([[1], [-1]]), 1.5)
    with pytest.raises(ValueError, match="context must have 2 rows"):
        warper(logits, np.array([[1, 2]]), 1.5)
    with pytest.raises(ValueError, match="context must have 2 rows"):
        warper(logits, [[1]], 1.5)
    with pytest.raises(ValueError, match="context must be an int array"):
        warper(logits, np.array([[0.5], [1.0]]), 1.5)
    with pytest.raises(ValueError, match="context given as a list"):
        warper(logits, [[1], [[2]]], 1.5)
    with pytest.raises(ValueError, match="logits must have shape"):
        warper(np.zeros(4), [[1]], 1.5)
    with pytest.raises(ValueError, match="penalty"):
        warper(logits, [[1], [2]], float("nan"))
    with pytest.raises(ValueError, match="penalty"):
        warper(logits, [[1], [2]], "2")


def test_repetition_penalty_must_be_positive():
    for bad in [0, 0.0, -1.2, True]:
        with pytest.raises(ValueError, match="penalty must be a number > 0"):
            repetition_penalty(np.zeros((1, 3)), [[1]], bad)


# --- filters ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_filters_match_a_naive_loop(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(5, 9)) * 2
    logits[1, [2, 5, 7]] = logits[1].max() + 1  # a three-way tie at the top
    logits[2, [0, 3]] = -1.0  # ties in the middle
    logp = log_softmax(logits)
    for k in [1, 2, 3, 9, 20]:
        assert np.array_equal(top_k_filter(logp, k), naive_top_k(logp, k))
    for p in [1e-9, 0.3, 0.5, 0.9, 0.999, 1.0]:
        assert np.array_equal(top_p_filter(logp, p), naive_top_p(logp, p))
    for m in [0.0, 0.05, 0.2, 0.5, 0.9, 1.0]:
        assert np.array_equal(min_p_filter(logits, m), naive_min_p(logits, m))  # raw logits
        assert np.array_equal(min_p_filter(logp, m), naive_min_p(logp, m))  # log-probabilities


def test_top_p_after_top_k_measures_the_nucleus_in_the_full_distribution():
    """The semantics of sample(top_k=..., top_p=...): a token is kept when both keep it."""
    rng = np.random.default_rng(4)
    logp = log_softmax(rng.normal(size=(6, 10)))
    for k in [1, 3, 6]:
        for p in [0.2, 0.6, 0.95]:
            both = np.isfinite(naive_top_k(logp, k)) & np.isfinite(naive_top_p(logp, p))
            expected = np.where(both, logp, -np.inf)
            assert np.array_equal(top_p_filter(top_k_filter(logp, k), p), expected)


def test_filter_edge_cases():
    logp = np.log([[0.4, 0.4, 0.15, 0.05]])
    assert np.isfinite(top_k_filter(logp, 1)).tolist() == [[True, False, False, False]]  # ties
    assert np.isfinite(min_p_filter(logp, 1.0)).tolist() == [[True, True, False, False]]
    assert np.array_equal(min_p_filter(logp, 0.0), logp)  # keeps everything
    assert np.array_equal(top_p_filter(logp, 1.0), logp)
    assert np.isfinite(top_p_filter(logp, 0.4)).tolist() == [[True, False, False, False]]
    assert np.isfinite(top_p_filter(logp, 0.41)).tolist() == [[True, True, False, False]]
    # -inf scores stay -inf and never count; the best token always survives
    masked = np.array([[-np.inf, -1.0, -np.inf, -3.0]])
    assert np.isfinite(min_p_filter(masked, 0.5)).tolist() == [[False, True, False, False]]
    assert np.isfinite(top_k_filter(masked, 3)).tolist() == [[False, True, False, True]]
    assert np.array_equal(top_p_filter(masked, 1.0), masked)


@pytest.mark.parametrize("call,match", [
    (lambda x: top_k_filter(x, 0), "top_k must be an int >= 1"),
    (lambda x: top_k_filter(x, 2.0), "top_k"),
    (lambda x: top_p_filter(x, 0.0), r"top_p must be a number in \(0, 1\]"),
    (lambda x: top_p_filter(x, 1.5), "top_p"),
    (lambda x: min_p_filter(x, -0.1), r"min_p must be a number in \[0, 1\]"),
    (lambda x: min_p_filter(x, 1.1), "min_p"),
    (lambda x: min_p_filter(x, None), "min_p"),
    (lambda x: min_p_filter(x[0], 0.1), "logp must have shape"),
])  # fmt: skip
def test_filters_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.zeros((2, 3)))


def test_docstring_examples():
    assert doctest.testmod(warpers, extraglobs={"np": np}).failed == 0
