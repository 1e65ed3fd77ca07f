r"""How varied and how repetitive generated text is.

``distinct_n`` (Li et al. 2016): the number of *different* n-grams over the number of
n-grams, pooled over all outputs, so it rewards a decoder whose outputs differ from one
another and from themselves: 1 means no n-gram occurs twice anywhere.

``repetition_rate`` (Welleck et al. 2019's seq-rep-n): for one output, the share of its
n-grams that repeat an n-gram seen earlier in the same output,
:math:`1 - |\mathrm{unique}(\text{n-grams})| / |\text{n-grams}|`, averaged over outputs;
greedy decoding of a small model loops ("the the the…") and scores near 1.

Both take token sequences (lists of ids or of strings); the chapter counts in the model's
own tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

from nlpbook._checks import check_int


def _ngrams(tokens: Sequence, n: int) -> list[tuple]:
    tokens = list(tokens)
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def _check(sequences, n):
    n = check_int("n", n, 1)
    if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Sequence):
        raise TypeError("sequences must be a list of token sequences (lists of ids or strings)")
    return n


def distinct_n(sequences: Sequence[Sequence], n: int = 2) -> float:
    """Distinct n-grams over all n-grams of all ``sequences`` (0 when there are none).

    Example:
        >>> distinct_n([[1, 2, 1, 2], [3, 4]], n=1)  # 4 different ids among 6
        0.6666666666666666
        >>> distinct_n([[1, 2, 1, 2], [3, 4]], n=2)  # (1,2) twice, (2,1), (3,4)
        0.75
    """
    n = _check(sequences, n)
    grams = [g for seq in sequences for g in _ngrams(seq, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition_rate(sequences: Sequence[Sequence], n: int = 4) -> float:
    """Mean over ``sequences`` of the share of n-grams that repeat an earlier one in the
    same sequence; sequences shorter than ``n`` are left out (0 when none is long enough).

    Example:
        >>> repetition_rate([[7, 7, 7, 7, 7]], n=2)  # 4 bigrams, 1 distinct
        0.75
        >>> round(repetition_rate([[1, 2, 3], [4, 5, 4, 5]], n=2), 4)  # mean of 0 and 1 - 2/3
        0.1667
    """
    n = _check(sequences, n)
    rates = []
    for seq in sequences:
        grams = _ngrams(seq, n)
        if grams:
            rates.append(1 - len(set(grams)) / len(grams))
    return sum(rates) / len(rates) if rates else 0.0
