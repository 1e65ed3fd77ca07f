"""Chapter 01, the tour: run in quick mode, then check the numbers it recorded."""

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]

CHAPTER = "01_tour"
# every dataset the chapter reads: unreachable ones skip the tests (fail in CI) up front
NEEDS = (
    "rt-polarity",
    "chinese-reviews",
    "chnsenticorp",
    "conll2003",
    "peoples-daily-1998",
    "multi30k",
    "tatoeba",
    "tinyshakespeare",
    "ptb",
    "squad-v1.1",
)


def test_bag_of_ngrams_classifier_on_mr(run_chapter):
    r = run_chapter(CHAPTER, needs=NEEDS)
    metrics, sizes = r["metrics"], r["info"]["mr_sizes"]
    # load_mr_polarity(test_fold=0) documents 9,595 train / 1,067 test; 10 % of train validates
    assert sizes["train"] + sizes["validation"] == 9595
    assert sizes["validation"] == 959
    assert sizes["test"] == 1067
    assert 0.45 <= metrics["mr_majority_baseline"] <= 0.55  # MR is balanced
    accuracy = metrics["mr_bow_test_accuracy"]
    assert accuracy >= 0.70
    assert accuracy >= metrics["mr_majority_baseline"] + 0.15
    # A bag of n-grams does not reach what fine-tuned Transformers do: more means a leak.
    assert accuracy <= 0.85
    assert metrics["mr_bow_cv_folds"] == 1  # quick mode: fold 0 only
    assert metrics["mr_bow_cv_mean_accuracy"] == pytest.approx(accuracy)
    curve = metrics["mr_val_accuracy_by_epoch"]
    assert len(curve) == r["info"]["mr_epochs"]
    assert curve[-1] > curve[0]  # it learned something during training


def test_every_task_shown_on_real_data_with_its_check(run_chapter):
    r = run_chapter(CHAPTER, needs=NEEDS)
    metrics, info = r["metrics"], r["info"]
    shown = metrics["examples_shown"]
    for task in ("classification", "tagging", "translation", "language_modelling"):
        assert shown[task] >= 1, task
    assert shown["question_answering"] >= 1
    assert metrics["examples_shown_total"] == sum(shown.values())
    # classification: label counts as the loaders document them
    assert metrics["label_counts_match"] == 1
    assert info["label_counts"]["MR (en)"] == [5331, 5331]
    # tagging: CoNLL-2003 split sizes and a valid IOB2 encoding everywhere
    assert info["conll_sizes"] == {"train": 14041, "valid": 3250, "test": 3453}
    assert metrics["conll_iob2_violations"] == 0
    assert set(info["conll_entities"]) == {"PER", "ORG", "LOC", "MISC"}
    assert info["peoples_daily_sentences"] == 19484
    # translation: both sides of every split have the same number of lines
    assert metrics["translation_sides_aligned"] == 1
    assert info["multi30k_sizes"]["train"] == 29000
    assert info["tatoeba_cmn_pairs"] == 21116
    # language modelling: Mikolov's PTB has a 10k vocabulary (9,999 words + <eos>)
    assert metrics["ptb_train_vocabulary"] == 9999
    assert info["shakespeare_chars"] == 1_115_394
    # QA: every reference answer of SQuAD v1.1 dev sits at its character offset
    assert metrics["squad_spans_checked"] == 34726
    assert metrics["squad_span_mismatches"] == 0


def test_text_as_numbers_and_model_history(run_chapter):
    r = run_chapter(CHAPTER, needs=NEEDS)
    metrics, info = r["metrics"], r["info"]
    zh = info["zh_vocab"]
    assert zh["reviews"] == 2000  # quick mode
    assert zh["words"] > zh["chars"] > 1000  # jieba words outnumber characters
    # the parameter counts computed from hyperparameters agree with the published sizes
    assert metrics["param_count_max_relative_error"] < 0.02
    timeline = {m["model"]: m for m in info["model_timeline"]}
    assert timeline["BERT"]["family"] == "encoder-only"
    assert timeline["GPT-3"]["parameters"] == 175e9
    assert timeline["T5"]["organisation"] == "Google"


def test_quick_mode_budget(run_chapter):
    r = run_chapter(CHAPTER, needs=NEEDS)
    assert r["quick"] is True
    assert r["wall_time_s"] < 120  # quick mode must fit in 2 minutes on 2 CPU cores
