r"""Sequence-labelling scores: entities (spans) from tags, entity-level P/R/F1, token accuracy.

Named-entity recognition is scored on *entities*, not tokens: a predicted entity counts
only if its type, first and last token all equal a gold entity's (CoNLL-2000's
``conlleval`` script, which CoNLL-2003 used). Precision is the share of predicted entities
that are right, recall the share of gold entities found, F1 their harmonic mean; all
micro-averaged over the entities of the whole test set.

Two ways to read a tag sequence into entities:

``"conlleval"`` (the default; ``seqeval``'s default mode)
    conlleval's rules: a chunk starts at ``B-``/``S-``, or at an ``I-``/``E-`` whose type
    differs from the tag before or that follows ``O``/``E-``/``S-``; it ends before a tag
    that starts a new chunk or an ``O``. So ``O I-PER I-PER`` is one PER entity: a model
    that never writes ``B-`` is not punished for it.
``"strict"`` (``seqeval``'s ``mode="strict", scheme=IOB2``)
    only well-formed IOB2 entities count: ``B-X`` followed by ``I-X``\*. An ``I-X`` that
    does not continue a ``B-X``/``I-X`` belongs to no entity, so the model is punished for
    invalid sequences (which a CRF learns never to produce, and a softmax tagger does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

MODES = ("conlleval", "strict")


def _split(tag: str) -> tuple[str, str]:
    """``"B-PER"`` → ``("B", "PER")``; ``"O"`` → ``("O", "")``."""
    if not isinstance(tag, str):
        raise TypeError(f"tags must be strings such as 'B-PER' or 'O'. Received {tag!r}")
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or prefix not in ("B", "I", "E", "S") or not kind:
        raise ValueError(
            f"tag {tag!r} is not 'O' or PREFIX-TYPE with PREFIX one of B, I, E, S "
            "(IOB1, IOB2 or IOBES)"
        )
    return prefix, kind


def _ends(prev: str, prev_kind: str, tag: str, kind: str) -> bool:
    """conlleval: does the chunk that holds the previous tag end before this one?"""
    if prev in ("E", "S"):
        return True
    if prev in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev != "O" and prev_kind != kind


def _starts(prev: str, prev_kind: str, tag: str, kind: str) -> bool:
    """conlleval: does a chunk start at this tag?"""
    if tag in ("B", "S"):
        return True
    if prev in ("E", "S", "O") and tag in ("I", "E"):
        return True
    return tag != "O" and prev_kind != kind


def _conlleval_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    found, start = [], None
    prev, prev_kind = "O", ""
    for i, tag in enumerate([*tags, "O"]):  # a final O closes the last chunk
        prefix, kind = _split(tag)
        if start is not None and _ends(prev, prev_kind, prefix, kind):
            found.append((prev_kind, start, i - 1))
            start = None
        if _starts(prev, prev_kind, prefix, kind):
            start = i
        prev, prev_kind = prefix, kind
    return found


def _strict_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    found, start, current = [], None, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = _split(tag)
        if prefix in ("E", "S"):
            raise ValueError(f"strict mode reads IOB2 tags; {tag!r} is IOBES")
        if prefix == "I" and start is not None and kind == current:
            continue  # the entity goes on
        if start is not None:
            found.append((current, start, i - 1))
            start = None
        if prefix == "B":
            start, current = i, kind
    return found


def entities(tags: Sequence[str], mode: str = "conlleval") -> list[tuple[str, int, int]]:
    """The entities of one tag sequence: ``(type, first, last)`` with inclusive positions.

    Example:
        >>> entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"])
        [('PER', 0, 1), ('LOC', 3, 3), ('LOC', 4, 4), ('ORG', 5, 5)]
        >>> entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG"], mode="strict")
        [('PER', 0, 1), ('LOC', 4, 4)]
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}. Received {mode!r}")
    if isinstance(tags, str):
        raise TypeError("tags must be a sequence of tag strings, not one string")
    tags = list(tags)
    return _conlleval_entities(tags) if mode == "conlleval" else _strict_entities(tags)


def _prf(correct: int, predicted: int, gold: int) -> dict:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": gold}


def _check_pairs(true: Sequence[Sequence], pred: Sequence[Sequence]) -> None:
    if len(true) != len(pred):
        raise ValueError(f"{len(true)} gold sequences but {len(pred)} predicted ones")
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        if len(t) != len(p):
            raise ValueError(f"sequence {i}: {len(t)} gold tags but {len(p)} predicted tags")


def entity_scores(
    true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], mode: str = "conlleval"
) -> dict:
    """Entity-level precision, recall and F1, micro-averaged, and per entity type.

    Args:
        true, pred: one tag sequence per sentence, as strings (``"B-PER"``, ``"O"``, …).
        mode: ``"conlleval"`` or ``"strict"`` (see the module).

    Returns:
        ``{"precision", "recall", "f1", "support", "per_type": {type: {same keys}}}``;
        ``support`` counts gold entities.

    Example:
        >>> s = entity_scores([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
        >>> s["precision"], s["recall"], round(s["f1"], 4)
        (1.0, 0.5, 0.6667)
    """
    _check_pairs(true, pred)
    gold, found = set(), set()
    for i, (t, p) in enumerate(zip(true, pred, strict=True)):
        gold.update((i, *e) for e in entities(t, mode))
        found.update((i, *e) for e in entities(p, mode))
    correct = gold & found
    out = _prf(len(correct), len(found), len(gold))
    count = {name: Counter(e[1] for e in group)
             for name, group in (("gold", gold), ("found", found), ("correct", correct))}  # fmt: skip
    out["per_type"] = {
        kind: _prf(count["correct"][kind], count["found"][kind], count["gold"][kind])
        for kind in sorted(set(count["gold"]) | set(count["found"]))
    }
    return out


def token_accuracy(true: Sequence[Sequence], pred: Sequence[Sequence]) -> float:
    """The share of tokens whose tag is right (POS tagging's measure), over all sentences.

    Example:
        >>> token_accuracy([["DET", "NOUN"], ["VERB"]], [["DET", "VERB"], ["VERB"]])
        0.6666666666666666
    """
    _check_pairs(true, pred)
    total = sum(len(t) for t in true)
    if total == 0:
        raise ValueError("no tokens to score")
    right = sum(a == b for t, p in zip(true, pred, strict=True) for a, b in zip(t, p, strict=True))
    return right / total
