"""Our corpus BLEU equals sacreBLEU's on the same tokens."""

import doctest

import numpy as np
import pytest
import sacrebleu

from nlpbook.metrics import bleu, corpus_bleu


def reference(hyps, refs):
    return sacrebleu.corpus_bleu(hyps, refs, tokenize="none", smooth_method="none", force=True)


def random_corpus(seed, sentences=40, num_refs=2, vocab=12):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocab)]

    def sentence(base=None):
        if base is not None and rng.random() < 0.8:  # a noisy copy: shares many n-grams
            out = [w if rng.random() < 0.8 else rng.choice(words) for w in base]
            return out[: rng.integers(max(1, len(out) - 3), len(out) + 1)]
        return list(rng.choice(words, rng.integers(1, 15)))

    refs = [[sentence() for _ in range(sentences)]]
    hyps = [sentence(r) for r in refs[0]]
    for _ in range(num_refs - 1):
        refs.append([sentence(r) for r in refs[0]])
    return [" ".join(h) for h in hyps], [[" ".join(r) for r in rs] for rs in refs]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("num_refs", [1, 3])
def test_equals_sacrebleu(seed, num_refs):
    hyps, refs = random_corpus(seed, num_refs=num_refs)
    ours, theirs = corpus_bleu(hyps, refs), reference(hyps, refs)
    assert ours["score"] == pytest.approx(theirs.score, abs=1e-9)
    np.testing.assert_allclose(ours["precisions"], theirs.precisions, atol=1e-9)
    assert ours["bp"] == pytest.approx(theirs.bp, abs=1e-12)
    assert (ours["hyp_len"], ours["ref_len"]) == (theirs.sys_len, theirs.ref_len)


def test_brevity_penalty_and_zero_precision():
    short = corpus_bleu(["the cat"], [["the cat sat on the mat"]])
    assert short["bp"] == pytest.approx(np.exp(1 - 6 / 2))
    assert short["score"] == 0.0  # no 3-gram: an unsmoothed zero, as sacreBLEU's
    assert reference(["the cat"], [["the cat sat on the mat"]]).score == 0.0
    perfect = corpus_bleu(["a b c d e"], [["a b c d e"]])
    assert perfect["score"] == pytest.approx(100.0) and perfect["bp"] == 1.0


def test_corpus_bleu_is_not_the_mean_of_sentence_bleus():
    hyps, refs = random_corpus(9, sentences=10, num_refs=1)
    corpus = corpus_bleu(hyps, refs)["score"]
    sentence_mean = np.mean(
        [corpus_bleu([h], [[r]])["score"] for h, r in zip(hyps, refs[0], strict=True)]
    )
    assert corpus != pytest.approx(sentence_mean, abs=1.0)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="hypotheses"):
        corpus_bleu([], [[]])
    with pytest.raises(ValueError, match="reference lists"):
        corpus_bleu(["a b"], ["a b"])
    with pytest.raises(ValueError, match="one sentence per hypothesis"):
        corpus_bleu(["a b", "c"], [["a b"]])


def test_docstring_example():
    assert doctest.testmod(bleu).failed == 0
