"""Chapter 08 runs in quick mode: the seed's errors show, every tagger clears the
most-frequent-tag floor widely, and the CRF writes valid IOB2 where the softmax may not."""

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]

NEEDS = ["conll2003", "ud-english-lines", "msra-ner", "peoples-daily-1998", "glove-6b-50d"]


@pytest.fixture(scope="module")
def result(run_chapter):
    return run_chapter("08_sequence_labelling", needs=NEEDS)


def test_the_seeds_errors_are_shown(result):
    m = result["metrics"]
    # a bag of letters: every feature the seed's CRF learned from is one character
    assert all(len(f) == 1 for f in result["info"]["seed_crf_features"])
    assert m["seed_crf_bag_of_letters_f1"] < m["conll_crfsuite_f1"] - 0.2
    assert m["seed_accuracy_formula"] > 1.0  # "accuracy" above 100 %


def test_classic_taggers(result):
    m = result["metrics"]
    assert m["lines_hmm"] > m["lines_most_frequent"] > 0.85
    assert m["pd_hmm"] > m["pd_most_frequent"] > 0.9
    assert m["conll_crfsuite_f1"] > 0.65  # quick: 2,000 training sentences
    assert m["msra_hmm"] > m["msra_most_frequent"] + 0.2


def test_bilstm_taggers_clear_the_floors(result):
    m = result["metrics"]
    for kind in ("softmax", "crf"):
        assert m[f"conll_{kind}_f1"] > m["conll_most_frequent"] + 0.2
    assert m["lines_crf_accuracy"] > m["lines_hmm"]  # quick: 3 epochs (0.915 vs 0.898)
    # quick: 3,000 sentences, 4 epochs (the HMM: 0.37; full-mode targets are >= 0.88)
    assert m["msra_crf_f1"] > m["msra_most_frequent"] + 0.2
    # the CRF learns to forbid O -> I-X and writes (almost) no invalid tag
    assert m["crf_mean_o_to_i"] < m["crf_mean_b_to_i"]
    assert m["conll_crf_invalid_tags"] <= m["conll_softmax_invalid_tags"]
    assert m["conll_crf_strict_f1"] >= m["conll_softmax_strict_f1"] - 0.02


def test_raw_text_tagger(result):
    assert result["metrics"]["text_tagger_reload_same"] is True
    examples = result["info"]["tagged_examples"]
    assert len(examples) == 4 and all(examples)
    assert [t for t, _ in examples[2]][:3] == ["李", "先", "生"]
