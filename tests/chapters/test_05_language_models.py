"""Chapter 5 runs in quick mode and its perplexities are those of working language models."""

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]


@pytest.fixture(scope="module")
def result(run_chapter):
    return run_chapter("05_language_models", needs=["ptb"])


def test_the_data_is_mikolovs_ptb(result):
    assert result["info"]["tokens"] == {"train": 929_589, "valid": 73_760, "test": 82_430}
    assert result["info"]["vocab_size"] == 10_001
    # about half the test trigrams never occur in training: why smoothing is needed
    assert 0.5 < result["metrics"]["test_trigrams_unseen"] < 0.6
    assert result["metrics"]["perplexity_metric_rel_error"] < 1e-5


def test_ngram_perplexities(result):
    m = result["metrics"]
    # the whole of PTB is used for counting in quick mode too: these are the real numbers
    assert m["kn1_test_ppl"] == pytest.approx(639.3, abs=0.5)
    assert m["kn3_valid_ppl"] < 400  # a floor no broken model reaches
    assert m["kn3_test_ppl"] == pytest.approx(150.6, abs=0.5)
    assert m["kn3_test_ppl"] < m["kn2_test_ppl"] < m["kn1_test_ppl"]
    assert m["addk_trigram_test_ppl"] > 2 * m["kn3_test_ppl"]


def test_neural_models_learn(result):
    m = result["metrics"]
    unigram = m["unigram_test_ppl"]
    # one epoch over 120k tokens: far from converged, but clearly better than no context
    assert m["nnlm_test_ppl"] < 0.8 * unigram
    assert m["lstm_test_ppl"] < 0.8 * unigram
    # each perplexity is over valid tokens, not the 10,001-way uniform guess
    assert m["lstm_valid_ppl"] < 1_000 and m["nnlm_valid_ppl"] < 1_000
    assert len(m["nnlm_val_ppl_by_epoch"]) == len(m["lstm_val_ppl_by_epoch"]) == 1


def test_samples_are_text(result):
    samples = result["info"]["samples"]
    assert len(samples) == 6
    for text in samples.values():
        words = text.split()
        assert words[:3] == ["the", "company", "said"] and len(words) == 28
