r"""Corpus BLEU from its definition (Papineni et al. 2002), checked against sacreBLEU.

For hypotheses :math:`h` and references :math:`r` (already tokenized, compared as token
sequences), with clipped n-gram counts summed over the *whole corpus* before dividing:

.. math::
    p_n = \frac{\sum_{s} \sum_{g \in \text{n-grams}(h_s)} \min\big(c_{h_s}(g),
          \max_k c_{r_{s,k}}(g)\big)}{\sum_s |\text{n-grams}(h_s)|}, \qquad
    \mathrm{BP} = \min\big(1, e^{1 - R/H}\big), \qquad
    \mathrm{BLEU} = 100 \cdot \mathrm{BP} \cdot \exp\Big(\tfrac{1}{4}\sum_{n=1}^{4} \ln p_n\Big)

where :math:`H` is the total hypothesis length and :math:`R` the total of, per sentence, the
reference length closest to the hypothesis length (the shorter on a tie). Averaging sentence
BLEU scores is a different, smaller number. Scores to report in a paper come from sacreBLEU
itself with its signature (tokenizer, casing, smoothing), as chapter 10 does; this function
shows what sacreBLEU computes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4
) -> dict:
    """Corpus BLEU of whitespace-tokenized texts, without smoothing.

    Args:
        hypotheses: one system output per sentence, tokens separated by spaces.
        references: one or more reference lists, each aligned with ``hypotheses``
            (sacreBLEU's layout: ``references[k][s]`` is reference ``k`` of sentence ``s``).
        max_n: the longest n-gram (4 for BLEU-4).

    Returns:
        ``{"score", "precisions", "bp", "hyp_len", "ref_len"}``: BLEU in 0–100, the
        ``max_n`` n-gram precisions in percent, the brevity penalty and the two lengths;
        ``score`` is 0 when some precision is 0.

    Example:
        >>> r = corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]])
        >>> round(r["score"], 2), [round(p, 1) for p in r["precisions"]]
        (53.73, [83.3, 60.0, 50.0, 33.3])
    """
    if isinstance(hypotheses, str) or not hypotheses:
        raise ValueError("hypotheses must be a non-empty list of sentences")
    if isinstance(references, str) or not references or isinstance(references[0], str):
        raise ValueError("references must be a list of reference lists (one per reference set)")
    if any(len(refs) != len(hypotheses) for refs in references):
        raise ValueError("every reference list must have one sentence per hypothesis")
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for s, hyp in enumerate(hypotheses):
        h = hyp.split()
        refs = [r[s].split() for r in references]
        hyp_len += len(h)
        # the reference length closest to the hypothesis length; the shorter one on a tie
        ref_len += min((abs(len(r) - len(h)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = _ngrams(h, n)
            most = Counter()
            for r in refs:
                most |= _ngrams(r, n)  # per n-gram, the largest count in any reference
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            totals[n - 1] += max(len(h) - n + 1, 0)
    precisions = [100.0 * m / t if t else 0.0 for m, t in zip(matches, totals, strict=True)]
    bp = 1.0 if hyp_len > ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0)
    if min(matches) == 0:
        score = 0.0
    else:
        score = bp * math.exp(
            sum(math.log(m / t) for m, t in zip(matches, totals, strict=True)) / max_n
        )
        score *= 100.0
    return {
        "score": score,
        "precisions": precisions,
        "bp": bp,
        "hyp_len": hyp_len,
        "ref_len": ref_len,
    }
