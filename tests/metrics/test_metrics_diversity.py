"""distinct-n and seq-rep-n against counts done by hand and by brute force."""

import doctest
import itertools

import numpy as np
import pytest

import nlpbook.metrics.diversity
from nlpbook.metrics import distinct_n, repetition_rate


def brute_distinct(sequences, n):
    grams = []
    for seq in sequences:
        for i in range(len(seq) - n + 1):
            grams.append(tuple(seq[i : i + n]))
    unique = []
    for g in grams:
        if g not in unique:
            unique.append(g)
    return len(unique) / len(grams) if grams else 0.0


def brute_repetition(sequences, n):
    rates = []
    for seq in sequences:
        grams = [tuple(seq[i : i + n]) for i in range(len(seq) - n + 1)]
        if not grams:
            continue
        repeats = sum(1 for i, g in enumerate(grams) if g in grams[:i])
        rates.append(repeats / len(grams))
    return float(np.mean(rates)) if rates else 0.0


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_equal_brute_force_on_random_sequences(n):
    rng = np.random.default_rng(n)
    sequences = [rng.integers(0, 4, size=rng.integers(0, 12)).tolist() for _ in range(20)]
    assert distinct_n(sequences, n) == pytest.approx(brute_distinct(sequences, n))
    assert repetition_rate(sequences, n) == pytest.approx(brute_repetition(sequences, n))


def test_extremes_and_strings():
    loop = [["the"] * 10]
    assert repetition_rate(loop, 4) == pytest.approx(1 - 1 / 7)
    assert distinct_n(loop, 1) == pytest.approx(0.1)
    unique = [list(range(10))]
    assert repetition_rate(unique, 2) == 0.0 and distinct_n(unique, 2) == 1.0
    assert distinct_n([[1, 2], [1, 2]], 2) == 0.5  # the same output twice: half as distinct
    assert distinct_n([], 2) == 0.0 and repetition_rate([[1]], 2) == 0.0
    words = list(itertools.chain("a b a b".split()))
    assert distinct_n([words], 2) == pytest.approx(2 / 3)


def test_bad_input():
    with pytest.raises(TypeError, match="list of token sequences"):
        distinct_n("abc", 1)
    with pytest.raises(ValueError, match="n"):
        repetition_rate([[1, 2]], 0)


def test_docstring_examples():
    assert doctest.testmod(nlpbook.metrics.diversity).failed == 0
