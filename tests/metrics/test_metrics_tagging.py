"""Entity-level scores equal seqeval's, in its default (conlleval) and strict IOB2 modes.

Random tag sequences, invalid ones included (``I-X`` after ``O``, type changes inside an
entity), so that every rule of chunk reading is exercised.
"""

import numpy as np
import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2

from nlpbook.metrics import entities, entity_scores, token_accuracy

TYPES = ("PER", "LOC", "ORG")


def random_tags(rng, n, prefixes=("B", "I")):
    labels = ["O"] + [f"{p}-{t}" for p in prefixes for t in TYPES]
    out = []
    for _ in range(n):
        length = int(rng.integers(1, 12))
        out.append([labels[i] for i in rng.integers(0, len(labels), length)])
    return out


def corrupt(rng, sequences, rate=0.3):
    labels = ["O"] + [f"{p}-{t}" for p in ("B", "I") for t in TYPES]
    return [[labels[rng.integers(len(labels))] if rng.random() < rate else tag for tag in seq]
            for seq in sequences]  # fmt: skip


@pytest.mark.parametrize("seed", range(5))
def test_entities_equal_seqeval(seed):
    rng = np.random.default_rng(seed)
    for prefixes in (("B", "I"), ("B", "I", "E", "S")):
        for tags in random_tags(rng, 200, prefixes):
            want = [(kind, start, end) for kind, start, end in get_entities(tags)]
            assert entities(tags) == want, tags


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("mode", ["conlleval", "strict"])
def test_scores_equal_seqeval(seed, mode):
    rng = np.random.default_rng(seed)
    true = random_tags(rng, 300)
    pred = corrupt(rng, true)
    options = {} if mode == "conlleval" else {"mode": "strict", "scheme": IOB2}
    got = entity_scores(true, pred, mode=mode)
    assert got["precision"] == pytest.approx(precision_score(true, pred, **options), abs=1e-12)
    assert got["recall"] == pytest.approx(recall_score(true, pred, **options), abs=1e-12)
    assert got["f1"] == pytest.approx(f1_score(true, pred, **options), abs=1e-12)
    report = classification_report(true, pred, output_dict=True, zero_division=0, **options)
    for kind in TYPES:
        for key, theirs in (("precision", "precision"), ("recall", "recall"),
                            ("f1", "f1-score"), ("support", "support")):  # fmt: skip
            assert got["per_type"][kind][key] == pytest.approx(report[kind][theirs], abs=1e-12)


def test_strict_mode_drops_invalid_entities():
    tags = ["O", "I-PER", "I-PER", "B-LOC", "I-ORG", "B-ORG", "I-ORG"]
    assert entities(tags) == [("PER", 1, 2), ("LOC", 3, 3), ("ORG", 4, 4), ("ORG", 5, 6)]
    assert entities(tags, mode="strict") == [("LOC", 3, 3), ("ORG", 5, 6)]
    with pytest.raises(ValueError, match="IOBES"):
        entities(["S-PER"], mode="strict")


def test_token_accuracy_and_errors():
    assert token_accuracy([["A", "B"], ["C"]], [["A", "C"], ["C"]]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="2 gold tags but 1 predicted"):
        token_accuracy([["A", "B"]], [["A"]])
    with pytest.raises(ValueError, match="no tokens"):
        token_accuracy([[]], [[]])
    with pytest.raises(ValueError, match="1 gold sequences but 2 predicted"):
        entity_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="is not 'O' or PREFIX-TYPE"):
        entities(["PER"])
    with pytest.raises(ValueError, match="mode must be"):
        entities(["O"], mode="iob1")
    with pytest.raises(TypeError, match="not one string"):
        entities("B-PER")
    perfect = entity_scores([["B-PER", "O"]], [["B-PER", "O"]])
    assert (perfect["precision"], perfect["recall"], perfect["f1"]) == (1.0, 1.0, 1.0)
    none = entity_scores([["O"]], [["O"]])
    assert none["f1"] == 0.0 and none["per_type"] == {}


def test_docstring_examples():
    import doctest

    import nlpbook.metrics.tagging

    result = doctest.testmod(nlpbook.metrics.tagging)
    assert result.failed == 0 and result.attempted > 0
