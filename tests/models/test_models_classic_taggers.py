"""The classic taggers: the HMM is a proper probability model whose Viterbi path equals the
CRF layer's decoding with the HMM's log-probabilities as scores (and brute force); the
most-frequent-tag and feature-based CRF baselines learn what they should."""

import itertools

import keras
import numpy as np
import pytest

from nlpbook.layers import CRF
from nlpbook.models.classic_taggers import (
    HMMTagger,
    MostFrequentTagger,
    char_features,
    crfsuite_tagger,
    featurize,
    word_features,
)


def corpus(n=300, seed=0):
    """Toy POS: determiners before nouns, nouns before verbs; 'run' is ambiguous."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        det, noun = rng.choice(["the", "a"]), rng.choice(["dog", "cat", "run", "Mary"])
        verb = rng.choice(["runs", "sees", "run"])
        if rng.random() < 0.5:
            out.append(([det, noun, verb], ["DET", "NOUN", "VERB"]))
        else:
            out.append(([noun, verb, det, noun], ["NOUN", "VERB", "DET", "NOUN"]))
    return out


def test_hmm_is_normalised():
    hmm = HMMTagger(k=0.5).fit(corpus())
    np.testing.assert_allclose(np.exp(hmm.log_start).sum(), 1.0)
    out = np.exp(hmm.log_transitions).sum(1) + np.exp(hmm.log_end)
    np.testing.assert_allclose(out, 1.0)
    np.testing.assert_allclose(np.exp(hmm.log_emissions).sum(1), 1.0)


def test_hmm_viterbi_equals_the_crf_layer_and_brute_force():
    hmm = HMMTagger(k=0.5).fit(corpus())
    crf = CRF()
    crf.build((None, None, len(hmm.tags)))
    crf.transitions.assign(hmm.log_transitions.astype("float32"))
    crf.start.assign(hmm.log_start.astype("float32"))
    crf.end.assign(hmm.log_end.astype("float32"))
    for tokens in (["the", "run", "run"], ["run", "run", "a", "run"], ["Mary"], ["the", "zebra"]):
        emit = hmm.scores(tokens)
        path, _ = crf.decode(emit[None].astype("float32"))
        ours = hmm.viterbi(tokens)
        assert keras.ops.convert_to_numpy(path)[0].tolist() == ours

        def joint(p, emit=emit):
            s = hmm.log_start[p[0]] + hmm.log_end[p[-1]] + sum(emit[i, t] for i, t in enumerate(p))
            return s + sum(hmm.log_transitions[a, b] for a, b in itertools.pairwise(p))

        best = max(itertools.product(range(len(hmm.tags)), repeat=len(tokens)), key=joint)
        assert list(best) == ours
    # the ambiguous word is resolved by its neighbours
    assert hmm.predict([["the", "run", "run"]]) == [["DET", "NOUN", "VERB"]]


def test_baselines_learn_the_toy_task():
    train, test = corpus(), corpus(100, seed=1)
    gold = [g for _, g in test]
    tokens = [t for t, _ in test]

    def accuracy(pred):
        pairs = [(a, b) for p, g in zip(pred, gold, strict=True) for a, b in zip(p, g, strict=True)]
        return np.mean([a == b for a, b in pairs])

    frequent = accuracy(MostFrequentTagger().fit(train).predict(tokens))
    hmm = accuracy(HMMTagger().fit(train).predict(tokens))
    crf = accuracy(crfsuite_tagger(train, max_iterations=50).predict(featurize(tokens)))
    assert frequent < 0.95  # "run" is both
    assert hmm == 1.0 and crf == 1.0


def test_features():
    f = word_features(["U.S.", "stocks", "rose", "1996"], 0)
    assert f["shape"] == "X.X." and f["BOS"] and "-1:lower" not in f and f["2:lower"] == "rose"
    assert word_features(["U.S.", "stocks", "rose", "1996"], 3)["shape"] == "d"
    c = char_features(list("我爱北京"), 0)
    assert c["c"] == "我" and c["1:c"] == "爱" and c["bigram+1"] == "我爱" and "bigram-1" not in c


def test_errors():
    with pytest.raises(ValueError, match="no training sentences"):
        HMMTagger().fit([])
    with pytest.raises(ValueError, match="2 tokens and 1 tags"):
        MostFrequentTagger().fit([(["a", "b"], ["X"])])
    with pytest.raises(ValueError, match="k must be > 0"):
        HMMTagger(k=0)


def test_docstring_examples():
    import doctest

    import nlpbook.models.classic_taggers as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
