"""Our word-vector evaluators return gensim's numbers on the same vectors."""

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec
from scipy import stats

from nlpbook import datasets
from nlpbook.embeddings import (
    analogy_accuracy,
    nearest_neighbours,
    read_analogies,
    read_word_pairs,
    word_pair_correlation,
)

# the registry finds the test sets in the gensim package and checks their sha256
FILES = datasets.fetch("word-similarity")
WS353, SIMLEX, QUESTIONS = (
    FILES[name] for name in ("wordsim353.tsv", "simlex999.txt", "questions-words.txt")
)


@pytest.fixture(scope="module")
def vectors():
    """gensim skip-gram vectors from PTB (one epoch, a few seconds), plus mixed-case twins."""
    sentences = [line.split() for line in datasets.load_ptb()["train"]]
    # a few capitalised copies of common words exercise the case-insensitive matching
    sentences += [["Paris", "France", "King", "Man", "the"]] * 3
    model = Word2Vec(sentences, vector_size=32, window=5, min_count=3, sg=1, epochs=1,
                     workers=1, seed=0)  # fmt: skip
    return model.wv


@pytest.fixture(scope="module")
def vectors64(vectors):
    """The same vectors in float64, on both sides of every comparison with gensim.

    In float32 the two sides compute the same cosines through different kernels (gensim:
    BLAS nrm2 and scal; ours: NumPy), which round differently from one CPU to another. Two
    cosines closer than that rounding (~1e-7) can then swap order, and one swap in SimLex-999
    moved Spearman's rho by 1.7e-5 on an AMD EPYC (OpenBLAS's Zen kernels; reproduced here
    with OPENBLAS_CORETYPE=Zen). In float64 the rounding is ~1e-16, and the chance that two of
    ~1,000 cosines lie that close is about 1e-10, so the same protocol must give the same
    numbers to 1e-9 on any CPU.
    """
    kv = KeyedVectors(vectors.vector_size, dtype=np.float64)
    kv.add_vectors(vectors.index_to_key, vectors.vectors.astype(np.float64))
    return kv


def test_read_files():
    ws = read_word_pairs(WS353)
    assert len(ws) == 353 and ws[0] == ("love", "sex", 6.77)
    assert len(read_word_pairs(SIMLEX)) == 999
    sections = read_analogies(QUESTIONS)
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544


@pytest.mark.parametrize("path", [WS353, SIMLEX])
@pytest.mark.parametrize("restrict", [300_000, 2_000])
def test_word_pairs_match_gensim(vectors64, path, restrict, monkeypatch):
    kv = vectors64
    # gensim computes each listed pair's cosine anew with np.dot, whose last bit depends on
    # its operands' memory alignment, so a pair listed twice ("money cash" in WordSim-353) or
    # both ways round ("bank money", "money bank") may come out an ulp apart, and Spearman
    # ranks that as a difference where there is a tie (rho moved by 7e-6 here). The
    # reference computes each distinct pair once; ours gives equal pairs equal cosines.
    cosines, similarity = {}, kv.similarity
    monkeypatch.setattr(
        kv, "similarity", lambda a, b: cosines.setdefault(frozenset((a, b)), similarity(a, b))
    )
    pearson, spearman, oov = kv.evaluate_word_pairs(path, restrict_vocab=restrict)
    assert cosines  # the reference went through the memo
    ours = word_pair_correlation(
        kv.index_to_key, kv.vectors, read_word_pairs(path), restrict_vocab=restrict
    )
    assert ours["pearson"] == pytest.approx(pearson.statistic, abs=1e-9)
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-9)
    assert 100 * ours["oov_ratio"] == pytest.approx(oov)


def test_a_repeated_or_reversed_pair_is_a_tie():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(6)]
    v = rng.normal(size=(6, 50)).astype(np.float32)
    pairs = [("w0", "w1", 3.0), ("w1", "w0", 5.0), ("w0", "w1", 4.0), ("w2", "w3", 1.0),
             ("w2", "w4", 2.0), ("w3", "w5", 6.0), ("w1", "w2", 7.0)]  # fmt: skip
    unit = v.astype(np.float64) / np.linalg.norm(v.astype(np.float64), axis=1, keepdims=True)
    cos = {frozenset((a, b)): unit[int(a[1])] @ unit[int(b[1])] for a, b, _ in pairs}
    want = stats.spearmanr([g for *_, g in pairs], [cos[frozenset((a, b))] for a, b, _ in pairs])
    ours = word_pair_correlation(words, v, pairs)
    # the three w0-w1 judgements share one rank; breaking that tie by an ulp moves rho by 0.04
    assert ours["spearman"] == pytest.approx(want.statistic, abs=1e-12)


def test_float32_vectors_give_float32_cosines_close_to_float64(vectors, vectors64):
    """float32 in, float32 arithmetic (gensim's numbers); the correlations move only by
    rounding: Pearson by ~1e-7, Spearman by a few near-tied swaps (< 1e-3 of rho)."""
    pairs = read_word_pairs(SIMLEX)
    single = word_pair_correlation(vectors.index_to_key, vectors.vectors, pairs)
    double = word_pair_correlation(vectors64.index_to_key, vectors64.vectors, pairs)
    assert single["pairs"] == double["pairs"] > 500  # PTB's vocabulary knows 574 of 999
    assert single["pearson"] == pytest.approx(double["pearson"], abs=1e-5)
    assert single["spearman"] == pytest.approx(double["spearman"], abs=1e-3)


@pytest.mark.parametrize("restrict", [300_000, 3_000])
def test_analogies_match_gensim(vectors64, restrict):
    # float64 on both sides (see vectors64): a near-tie for first place cannot flip an answer
    kv = vectors64
    score, sections = kv.evaluate_word_analogies(QUESTIONS, restrict_vocab=restrict)
    ours = analogy_accuracy(
        kv.index_to_key, kv.vectors, read_analogies(QUESTIONS), restrict_vocab=restrict
    )
    total = sections[-1]
    assert total["section"] == "Total accuracy"
    assert ours["correct"] == len(total["correct"]) > 0
    assert ours["questions"] == len(total["correct"]) + len(total["incorrect"])
    assert ours["accuracy"] == pytest.approx(score)
    for s in sections[:-1]:
        n = len(s["correct"]) + len(s["incorrect"])
        if n:
            assert ours["sections"][s["section"]] == pytest.approx(len(s["correct"]) / n)


def test_a_planted_analogy_is_found():
    words = ["the", "king", "man", "woman", "queen", "apple"]
    v = np.array(
        [[1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 0], [0, 0.1, 0, 1], [0, 0.1, 1, 1], [1, 1, 1, 1]],
        "float32",
    )
    result = analogy_accuracy(words, v, {"royal": [("man", "king", "woman", "queen")]})
    assert result["accuracy"] == 1.0 and result["oov_ratio"] == 0.0
    kv = KeyedVectors(4)
    kv.add_vectors(words, v)
    assert kv.most_similar(positive=["king", "woman"], negative=["man"])[0][0] == "queen"


def test_nearest_neighbours_match_gensim(vectors64):
    # gensim rounds the query to float32 (scores off by ~1e-8); the five neighbours' cosines
    # are ~1e-3 apart, so their order cannot depend on it
    ours = nearest_neighbours(vectors64.index_to_key, vectors64.vectors, "stock", k=5)
    theirs = vectors64.most_similar("stock", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match="one vector per word"):
        word_pair_correlation(["a", "b"], np.zeros((3, 2)), [("a", "b", 1.0)])
    with pytest.raises(ValueError, match="no pair"):
        word_pair_correlation(["a", "b"], np.eye(2), [("x", "y", 1.0)])
    bad = tmp_path / "q.txt"
    bad.write_text("a b c d\n")
    with pytest.raises(ValueError, match="before the first"):
        read_analogies(bad)
    with pytest.raises(KeyError, match="zebra"):
        nearest_neighbours(["a"], np.ones((1, 2)), "zebra")


def test_top5_equals_a_full_stable_sort():
    from nlpbook.embeddings.evaluation import _top5

    rng = np.random.default_rng(3)
    scores = rng.normal(size=(64, 300)).astype(np.float32)
    scores[:, 7] = -np.inf  # excluded question words
    scores[:, :3] = scores[:, [10]]  # ties inside the top 5 when row 10 is among them
    scores[0, 100:103] = 50.0  # a row whose best three are tied
    np.testing.assert_array_equal(_top5(scores), np.argsort(-scores, axis=1, kind="stable")[:, :5])
    small = scores[:, :4]
    np.testing.assert_array_equal(_top5(small), np.argsort(-small, axis=1, kind="stable"))
