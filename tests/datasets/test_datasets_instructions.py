"""The instruction set: disjoint training and held-out sources, balanced labels, answers that
come from the data, and each task's score (SQuAD's normalisation, sacreBLEU's chrF)."""

import pytest
import sacrebleu

from nlpbook.datasets import require
from nlpbook.datasets.instructions import (
    TASKS,
    _people,
    instruction_set,
    score_answer,
    squad_normalize,
)


@pytest.fixture(scope="module")
def examples():
    for name in ("rt-polarity", "chnsenticorp", "tatoeba", "conll2003", "squad-v1.1"):
        require(name)  # skips (fails under CI=true) when a dataset is missing
    return instruction_set(6, 4, seed=1)


def test_counts_order_and_fields(examples):
    assert len(examples["train"]) == 6 * len(TASKS) and len(examples["heldout"]) == 4 * len(TASKS)
    assert [e["task"] for e in examples["train"][: len(TASKS)]] == list(TASKS)
    for e in examples["train"] + examples["heldout"]:
        assert set(e) == {"task", "prompt", "response", "answers"}
        assert e["response"] == e["answers"][0] and e["prompt"].strip()


def test_sentiment_is_balanced_and_labelled(examples):
    for task, words in (
        ("sentiment-en", {"positive", "negative"}),
        ("sentiment-zh", {"正面", "负面"}),
    ):
        got = [e["response"] for e in examples["train"] if e["task"] == task]
        assert set(got) == words and got.count(sorted(words)[0]) == 3


def test_heldout_prompts_are_new(examples):
    train = {e["prompt"] for e in examples["train"]}
    assert not train & {e["prompt"] for e in examples["heldout"]}


def test_answers_come_from_the_sources(examples):
    for e in examples["train"] + examples["heldout"]:
        if e["task"] == "qa-en":
            passage = e["prompt"].split("Passage: ", 1)[1].split("\nQuestion: ")[0]
            assert all(a in passage for a in e["answers"])
        if e["task"] == "people-en" and e["response"] != "none":
            sentence = e["prompt"].split("Sentence: ", 1)[1]
            assert all(name in sentence for name in e["response"].split(", "))


def test_same_seed_same_set():
    for name in ("rt-polarity", "chnsenticorp", "tatoeba", "conll2003", "squad-v1.1"):
        require(name)
    assert instruction_set(2, 1, seed=5) == instruction_set(2, 1, seed=5)


def test_people_follows_iob2():
    s = [
        ("John", "B-PER"),
        ("Smith", "I-PER"),
        ("met", "O"),
        ("Ann", "B-PER"),
        ("Lee", "B-PER"),
        ("in", "O"),
        ("Paris", "B-LOC"),
    ]
    assert _people([(t, "x", "x", tag) for t, tag in s]) == ["John Smith", "Ann", "Lee"]
    assert _people([("a", "x", "x", "O")]) == []


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("The Denver Broncos!", "denver broncos"),
        ("  an  apple, a day ", "apple day"),
        ("Theatre", "theatre"),
    ],
)
def test_squad_normalize(text, normal):
    assert squad_normalize(text) == normal


def test_scores():
    assert score_answer("sentiment-en", "Positive.", ["positive"]) == 1.0
    assert score_answer("sentiment-en", "The review is positive", ["positive"]) == 0.0
    assert score_answer("sentiment-zh", "负面。", ["负面"]) == 1.0
    assert score_answer("people-en", "john smith ,Ann", ["John Smith, Ann"]) == 1.0
    assert score_answer("people-en", "Ann, John Smith", ["John Smith, Ann"]) == 0.0
    assert score_answer("people-en", "None.", ["none"]) == 1.0
    assert score_answer("qa-en", "the Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    hyp, ref = "I like this film.", "I like this movie."
    assert score_answer("translate-zh", hyp, [ref]) == pytest.approx(
        sacrebleu.sentence_chrf(hyp, [ref]).score / 100
    )
    with pytest.raises(ValueError, match="unknown task"):
        score_answer("poetry", "x", ["y"])
