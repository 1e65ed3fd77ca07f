"""Our word-vector evaluators return gensim's numbers on the same vectors."""

import numpy as np
import pytest
from gensim.models import KeyedVectors, Word2Vec

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


def test_read_files():
    ws = read_word_pairs(WS353)
    assert len(ws) == 353 and ws[0] == ("love", "sex", 6.77)
    assert len(read_word_pairs(SIMLEX)) == 999
    sections = read_analogies(QUESTIONS)
    assert len(sections) == 14 and sum(map(len, sections.values())) == 19_544


@pytest.mark.parametrize("path", [WS353, SIMLEX])
@pytest.mark.parametrize("restrict", [300_000, 2_000])
def test_word_pairs_match_gensim(vectors, path, restrict):
    pearson, spearman, oov = vectors.evaluate_word_pairs(path, restrict_vocab=restrict)
    ours = word_pair_correlation(
        vectors.index_to_key, vectors.vectors, read_word_pairs(path), restrict_vocab=restrict
    )
    assert ours["pearson"] == pytest.approx(pearson.statistic, abs=1e-6)
    assert ours["spearman"] == pytest.approx(spearman.statistic, abs=1e-6)
    assert 100 * ours["oov_ratio"] == pytest.approx(oov)


@pytest.mark.parametrize("restrict", [300_000, 3_000])
def test_analogies_match_gensim(vectors, restrict):
    score, sections = vectors.evaluate_word_analogies(QUESTIONS, restrict_vocab=restrict)
    ours = analogy_accuracy(
        vectors.index_to_key, vectors.vectors, read_analogies(QUESTIONS), restrict_vocab=restrict
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


def test_nearest_neighbours_match_gensim(vectors):
    ours = nearest_neighbours(vectors.index_to_key, vectors.vectors, "stock", k=5)
    theirs = vectors.most_similar("stock", topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


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
