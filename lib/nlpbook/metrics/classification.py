r"""Scores of a classifier from its predicted labels: confusion matrix and macro-F1.

``keras.metrics.F1Score(average="macro")`` computes the same macro-F1 but wants one-hot
``y_true`` and scores per class; these NumPy functions take the integer labels a
classifier's ``argmax`` gives, once, over a whole test set.

.. math::
    P_c = \frac{TP_c}{TP_c + FP_c}, \quad R_c = \frac{TP_c}{TP_c + FN_c}, \quad
    F1_c = \frac{2 P_c R_c}{P_c + R_c}, \quad
    \text{macro-F1} = \frac{1}{C} \sum_c F1_c

A ratio with a zero denominator counts as 0 (as in ``keras.metrics.F1Score``), so a class that
is never predicted scores F1 = 0: always answering the majority class of a balanced binary
task gives accuracy 0.5 but macro-F1 about 0.33.
"""

from __future__ import annotations

import numpy as np


def _labels(name: str, values) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class ids. Received shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(array.dtype, np.integer) or array.min() < 0:
        raise ValueError(f"{name} must hold integer class ids >= 0. Received dtype {array.dtype}")
    return array.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """Counts ``C[i, j]`` of examples of true class ``i`` predicted as class ``j``.

    Args:
        y_true: true class ids, 1-D.
        y_pred: predicted class ids, same length.
        num_classes: number of classes; ``None`` takes ``max(y_true, y_pred) + 1``.

    Returns:
        An int64 array ``(num_classes, num_classes)``: rows true, columns predicted.

    Example:
        >>> confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1]).tolist()
        [[1, 1], [0, 2]]
    """
    y_true, y_pred = _labels("y_true", y_true), _labels("y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} and {len(y_pred)}")
    largest = int(max(y_true.max(), y_pred.max()))
    if num_classes is None:
        num_classes = largest + 1
    if largest >= num_classes:
        raise ValueError(f"class id {largest} is out of range for num_classes={num_classes}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def classification_scores(y_true, y_pred, num_classes: int | None = None) -> dict:
    """Accuracy, per-class precision/recall/F1 and macro-F1.

    Args:
        y_true, y_pred, num_classes: as for :func:`confusion_matrix`.

    Returns:
        ``{"accuracy": float, "macro_f1": float, "precision": [...], "recall": [...],
        "f1": [...], "support": [...]}`` (lists indexed by class id).

    Example:
        >>> s = classification_scores([0, 0, 1, 1], [0, 1, 1, 1])
        >>> round(s["accuracy"], 3), [round(f, 3) for f in s["f1"]], round(s["macro_f1"], 3)
        (0.75, [0.667, 0.8], 0.733)
    """
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(matrix).astype(np.float64)
    precision = _ratio(tp, matrix.sum(axis=0))
    recall = _ratio(tp, matrix.sum(axis=1))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "accuracy": float(tp.sum() / matrix.sum()),
        "macro_f1": float(f1.mean()),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": matrix.sum(axis=1).tolist(),
    }


def macro_f1(y_true, y_pred, num_classes: int | None = None) -> float:
    """The unweighted mean of the per-class F1 scores (see :func:`classification_scores`).

    Example:
        >>> round(macro_f1([0, 0, 1, 1], [0, 0, 0, 0]), 3)  # class 1 never predicted
        0.333
    """
    return classification_scores(y_true, y_pred, num_classes)["macro_f1"]
