"""NGramLM: normalisation, hand-computed probabilities, perplexity, generation, PTB."""

import math
import time
from fractions import Fraction as F

import numpy as np
import pytest

from nlpbook.models import NGramLM

# Three sentences, small enough to count by hand. Padded for order 2:
#   <s> a b </s>    <s> a c </s>    <s> b c </s>
# Vocabulary V = {</s>, <unk>, a, b, c}: |V| = 5 (<unk> is added, <s> is never predicted).
TINY = [["a", "b"], ["a", "c"], ["b", "c"]]
TRAIN = [
    s.split() for s in ["the cat sat on the mat", "the dog sat", "a cat saw the dog", "the cat"]
]


@pytest.mark.parametrize("smoothing", ["kneser-ney", "add-k"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_distributions_sum_to_one(order, smoothing):
    lm = NGramLM(order, smoothing=smoothing, k=0.3, discount=None).fit(TRAIN)
    rng = np.random.default_rng(order)
    contexts = [[], ["the"], ["the", "cat"], ["cat", "sat", "on"], ["zebra"], ["mat", "the"]]
    contexts += [list(rng.choice(lm.vocab + ["zebra"], size=3)) for _ in range(20)]
    for context in contexts:
        p = lm.distribution(context)
        assert p.shape == (len(lm.vocab),) and (p > 0).all()
        assert abs(p.sum() - 1) < 1e-9, context
        # the scalar path gives the same numbers as the vectorised one
        scalar = np.array([lm.prob(w, context) for w in lm.vocab])
        np.testing.assert_allclose(scalar, p, rtol=1e-12, atol=0)


def test_add_k_by_hand():
    lm = NGramLM(2, smoothing="add-k", k=1.0).fit(TINY)
    assert lm.vocab == ["</s>", "<unk>", "a", "b", "c"]
    # bigram counts: (<s> a)=2 (<s> b)=1 (a b)=1 (a c)=1 (b </s>)=1 (b c)=1 (c </s>)=2
    # c(<s> .)=3, c(a .)=2, c(b .)=2, c(c .)=2; P = (c(h w) + 1) / (c(h) + 5)
    assert lm.prob("a", []) == pytest.approx(3 / 8)  # (2 + 1) / (3 + 5)
    assert lm.prob("b", ["a"]) == pytest.approx(2 / 7)  # (1 + 1) / (2 + 5)
    assert lm.prob("</s>", ["a", "c"]) == pytest.approx(3 / 7)  # only the last word counts
    assert lm.prob("a", ["c"]) == pytest.approx(1 / 7)  # unseen bigram: (0 + 1) / 7
    assert lm.prob("zebra", ["a"]) == pytest.approx(1 / 7)  # read as <unk>
    assert lm.prob("a", ["zebra"]) == pytest.approx(1 / 5)  # unseen context: uniform
    k = NGramLM(2, smoothing="add-k", k=0.5).fit(TINY)
    assert k.prob("a", []) == pytest.approx(2.5 / 5.5)  # (2 + .5) / (3 + .5 * 5)


def test_interpolated_kneser_ney_bigram_by_hand():
    lm = NGramLM(2, discount=0.5).fit(TINY)
    # Unigram continuation counts N1+(. w), the distinct words before w in the bigram types:
    #   a: {<s>} = 1, b: {<s>, a} = 2, c: {a, b} = 2, </s>: {b, c} = 2, <unk>: 0; sum 7,
    #   4 of them positive. P1(w) = max(N - .5, 0) / 7 + (.5 * 4 / 7) / 5:
    #   P1(a) = 9/70, P1(b) = P1(c) = P1(</s>) = 19/70, P1(<unk>) = 4/70 (sum 70/70).
    p1 = {"a": F(9, 70), "b": F(19, 70), "c": F(19, 70), "</s>": F(19, 70), "<unk>": F(4, 70)}
    # P2(w|h) = max(c(h w) - .5, 0) / c(h) + .5 * N1+(h .) / c(h) * P1(w)
    #   P2(a|<s>)  = 1.5/3 + (.5*2/3) * 9/70  = 1/2 + 3/70   = 19/35
    #   P2(b|a)    = .5/2  + (.5*2/2) * 19/70 = 1/4 + 19/140 = 27/70
    #   P2(</s>|c) = 1.5/2 + (.5*1/2) * 19/70 = 3/4 + 19/280 = 229/280
    #   P2(a|c)    = 0     + (1/4) * 9/70                    = 9/280
    #   P2(<unk>|a)= 0     + (1/2) * 4/70                    = 1/35
    expected = [
        ("a", [], F(19, 35)),
        ("b", ["a"], F(27, 70)),
        ("</s>", ["c"], F(229, 280)),
        ("a", ["c"], F(9, 280)),
        ("<unk>", ["a"], F(1, 35)),
        ("zebra", ["a"], F(1, 35)),
        ("a", ["zebra"], p1["a"]),  # unseen context: the unigram level alone
    ]
    for word, context, p in expected:
        assert lm.prob(word, context) == pytest.approx(float(p), rel=1e-12), (word, context)
    for w, p in p1.items():
        assert lm.distribution(["zebra"])[lm.vocab.index(w)] == pytest.approx(float(p))
    # P(a b </s>) = P(a|<s>) P(b|a) P(</s>|b), P2(</s>|b) = .5/2 + (1/2) * 19/70 = 27/70
    assert lm.log_prob_sentence(["a", "b"]) == pytest.approx(
        math.log(19 / 35) + 2 * math.log(27 / 70), rel=1e-12
    )


def test_interpolated_kneser_ney_trigram_by_hand():
    lm = NGramLM(3, discount=0.5).fit(TINY)
    # Trigram counts: (<s> <s> a)=2 (<s> <s> b)=1 (<s> a b)=1 (<s> a c)=1 (<s> b c)=1
    #   (a b </s>)=1 (a c </s>)=1 (b c </s>)=1.
    # Bigram continuation counts (distinct left words of each bigram among trigram types):
    #   (<s> a)=1 (not its count 2), (<s> b)=1, (a b)=1, (a c)=1, (b c)=1, (b </s>)=1,
    #   (c </s>)=2 ({a, b}). Unigram level as in the bigram test: P1(a)=9/70, P1(b)=19/70.
    # P3(a|<s> <s>): P2(a|<s>) = .5/2 + (.5*2/2) * 9/70 = 1/4 + 9/140 = 11/35,
    #   P3 = 1.5/3 + (.5*2/3) * 11/35 = 1/2 + 11/105 = 127/210
    assert lm.prob("a", []) == pytest.approx(127 / 210, rel=1e-12)
    # P3(b|<s> a): P2(b|a) = .5/2 + (.5*2/2) * 19/70 = 27/70,
    #   P3 = .5/2 + (.5*2/2) * 27/70 = 1/4 + 27/140 = 31/70
    assert lm.prob("b", ["a"]) == pytest.approx(31 / 70, rel=1e-12)
    # P3(</s>|a c): P2(</s>|c) = 1.5/2 + (.5*1/2) * 19/70 = 229/280,
    #   P3 = .5/1 + (.5*1/1) * 229/280 = 509/560
    assert lm.prob("</s>", ["a", "c"]) == pytest.approx(509 / 560, rel=1e-12)


def test_estimated_discounts_by_hand():
    lm = NGramLM(2, discount=None).fit(TINY)
    # bigram counts 2,1,1,1,2,1,1: n1=5, n2=2 -> D2 = 5/(5+4); unigram continuation counts
    # 1,2,2,2: n1=1, n2=3 -> D1 = 1/(1+6)
    assert lm.discounts == pytest.approx([1 / 7, 5 / 9])


def test_perplexity_is_exp_of_mean_negative_log_prob():
    test = [["the", "cat", "sat"], ["a", "dog", "saw", "a", "zebra"], []]
    for lm in [NGramLM(3).fit(TRAIN), NGramLM(2, smoothing="add-k", k=0.1).fit(TRAIN)]:
        logs = []
        for s in test:
            words = s + ["</s>"]
            logs += [math.log(lm.prob(w, words[:i])) for i, w in enumerate(words)]
        assert len(logs) == (3 + 1) + (5 + 1) + (0 + 1)  # </s> counts, <s> does not
        assert lm.perplexity(test) == pytest.approx(math.exp(-sum(logs) / len(logs)), rel=1e-12)
    lm = NGramLM(2, smoothing="add-k").fit(TINY)
    # <s> a b </s> under add-1: 3/8 * 2/7 * 2/7 over 3 tokens
    assert lm.perplexity([["a", "b"]]) == pytest.approx((3 / 8 * 2 / 7 * 2 / 7) ** (-1 / 3))


def test_generation():
    lm = NGramLM(3).fit(TRAIN)
    rng = np.random.default_rng(0)
    samples = [lm.sample(rng, max_len=8) for _ in range(30)]
    assert all(len(s) <= 8 and set(s) <= set(lm.vocab) - {"</s>"} for s in samples)
    assert len({tuple(s) for s in samples}) > 5  # sampling varies
    # a near-zero temperature is greedy decoding
    assert lm.sample(rng, max_len=8, temperature=1e-4) == lm.greedy(max_len=8)
    best = lm.greedy(max_len=8, prefix=["the"])
    assert best[0] == lm.vocab[int(np.argmax(lm.distribution(["the"])))]
    assert lm.greedy(max_len=0) == []
    # a deterministic continuation: after "sat on", only "the" was seen
    assert NGramLM(3, discount=0.1).fit(TRAIN).greedy(max_len=2, prefix=["sat", "on"]) == [
        "the",
        "mat",
    ]


def test_bad_input():
    with pytest.raises(ValueError, match="order"):
        NGramLM(0)
    with pytest.raises(ValueError, match="smoothing"):
        NGramLM(2, smoothing="witten-bell")
    with pytest.raises(ValueError, match="k must be > 0"):
        NGramLM(2, smoothing="add-k", k=0)
    with pytest.raises(ValueError, match="discount"):
        NGramLM(2, discount=1.5)
    with pytest.raises(RuntimeError, match="not fitted"):
        NGramLM(2).prob("a", [])
    with pytest.raises(ValueError, match="non-empty"):
        NGramLM(2).fit([])
    with pytest.raises(TypeError, match="lists of words"):
        NGramLM(2).fit(["a b c"])
    with pytest.raises(ValueError, match="must not contain"):
        NGramLM(2).fit([["<s>", "a"]])
    lm = NGramLM(2).fit(TINY)
    with pytest.raises(ValueError, match="never predicted"):
        lm.prob("<s>", [])
    with pytest.raises(ValueError, match="temperature"):
        lm.sample(np.random.default_rng(0), temperature=0)


@pytest.fixture(scope="module")
def ptb():
    from nlpbook import datasets

    datasets.require("ptb")
    return {k: [line.split() for line in v] for k, v in datasets.load_ptb().items()}


def test_ptb_kneser_ney_trigram(ptb):
    start = time.perf_counter()
    kn = NGramLM(3).fit(ptb["train"])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    valid = kn.perplexity(ptb["valid"])
    eval_s = time.perf_counter() - start
    # Measured: 164.65 (D = 0.75; 161.4 with estimated discounts), fit ~2 s, eval ~0.3 s.
    assert len(kn.vocab) == 10_000  # PTB's 9,999 words (<unk> included) + </s>
    assert 150 < valid < 180, valid
    assert fit_s < 60 and eval_s < 60, (fit_s, eval_s)
    add_k = NGramLM(3, smoothing="add-k", k=0.01).fit(ptb["train"])
    assert add_k.perplexity(ptb["valid"]) > 2 * valid  # measured 1058
