"""Confusion matrix and macro-F1 against a brute-force count and keras.metrics.F1Score."""

import keras
import numpy as np
import pytest

from nlpbook.metrics import classification_scores, confusion_matrix, macro_f1


@pytest.fixture
def labels():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 3, 200))
    return y_true, y_pred


def test_confusion_matrix_counts_every_pair(labels):
    y_true, y_pred = labels
    matrix = confusion_matrix(y_true, y_pred)
    expected = np.zeros((3, 3), int)
    for t, p in zip(y_true, y_pred, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(matrix, expected)
    assert confusion_matrix([1, 1], [1, 1], num_classes=4).shape == (4, 4)


def test_macro_f1_equals_keras_f1_score(labels):
    y_true, y_pred = labels
    reference = keras.metrics.F1Score(average="macro")
    reference.update_state(np.eye(3)[y_true], np.eye(3)[y_pred])
    assert macro_f1(y_true, y_pred) == pytest.approx(float(reference.result()), abs=1e-6)
    scores = classification_scores(y_true, y_pred)
    assert scores["accuracy"] == pytest.approx(np.mean(y_true == y_pred))
    assert scores["support"] == np.bincount(y_true).tolist()


def test_a_class_never_predicted_scores_zero():
    # the majority-class answer on a balanced binary task: accuracy 0.5, macro-F1 1/3
    scores = classification_scores([0, 1, 0, 1], [0, 0, 0, 0])
    assert scores["accuracy"] == 0.5
    assert scores["f1"] == pytest.approx([2 / 3, 0.0])
    assert scores["macro_f1"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, match",
    [
        ([], [], {}, "empty"),
        ([0, 1], [0], {}, "differ in length"),
        ([0, -1], [0, 1], {}, ">= 0"),
        ([0.5, 1], [0, 1], {}, "integer"),
        ([[0, 1]], [[0, 1]], {}, "1-D"),
        ([0, 3], [0, 1], {"num_classes": 2}, "out of range"),
    ],
)
def test_bad_labels_are_named(y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(y_true, y_pred, **kwargs)
