"""A small instruction set made from the book's own data, and the scores of its answers.

Five tasks, each a prompt with one checkable answer, in English and Chinese:

============== ====================================================== ======================
task           source (held-out prompts from a disjoint part)          score
============== ====================================================== ======================
sentiment-en   MR sentences (train folds / test fold 0)                 label accuracy
sentiment-zh   ChnSentiCorp reviews (train / test split)                label accuracy
translate-zh   Tatoeba Mandarin → English pairs (seeded split)          chrF (sacreBLEU)
people-en      CoNLL-2003 sentences → the PER entities (train / test)   exact set match
qa-en          SQuAD v1.1 dev, short passages (split by article)        SQuAD exact match
============== ====================================================== ======================

``instruction_set`` draws them; ``score_answer`` scores one answer as its task says;
``squad_normalize`` is the SQuAD evaluation script's answer normalisation.
"""

from __future__ import annotations

import re
import string

import numpy as np

TASKS = ("sentiment-en", "sentiment-zh", "translate-zh", "people-en", "qa-en")

_PROMPTS = {
    "sentiment-en": "Is the sentiment of this movie review positive or negative? Answer with one "
    "word.\nReview: {text}",
    "sentiment-zh": "这条酒店评论的情感是正面还是负面？只回答一个词。\n评论：{text}",
    "translate-zh": "Translate into English: {text}",
    "people-en": "List the names of people in this sentence, separated by commas, in the order "
    "they appear. If there are none, answer none.\nSentence: {text}",
    "qa-en": "Answer the question with a short span copied from the passage.\nPassage: {context}"
    "\nQuestion: {question}",
}


def _people(sentence):
    """The PER entities of a CoNLL sentence (IOB2), in order."""
    names, current = [], []
    for token, *_, tag in sentence:
        if tag == "B-PER" or (tag == "I-PER" and not current):
            if current:
                names.append(" ".join(current))
            current = [token]
        elif tag == "I-PER":
            current.append(token)
        else:
            if current:
                names.append(" ".join(current))
            current = []
    if current:
        names.append(" ".join(current))
    return names


def _balanced(texts, labels, n, rng, words):
    """``n`` examples, alternating the two labels, drawn without replacement."""
    labels = np.asarray(labels)
    by_label = [rng.permutation(np.flatnonzero(labels == k)) for k in (0, 1)]
    picked = [int(by_label[i % 2][i // 2]) for i in range(n)]
    return [(texts[i], words[int(labels[i])]) for i in picked]


def _draw(task, n, part, rng):
    """``n`` (fields, answers) of ``task`` from ``part`` ("train" or "heldout")."""
    from nlpbook import datasets

    if task == "sentiment-en":
        mr = datasets.load_mr_polarity(test_fold=0)["train" if part == "train" else "test"]
        rows = _balanced(list(mr["text"]), mr["label"], n, rng, ("negative", "positive"))
        return [({"text": t}, [w]) for t, w in rows]
    if task == "sentiment-zh":
        chn = datasets.load_chnsenticorp()["train" if part == "train" else "test"]
        short = [i for i, t in enumerate(chn["text"]) if len(t) <= 120]
        rows = _balanced([chn["text"][i] for i in short], np.asarray(chn["label"])[short], n, rng,
                         ("负面", "正面"))  # fmt: skip
        return [({"text": t}, [w]) for t, w in rows]
    if task == "translate-zh":
        pairs = datasets.load_tatoeba("cmn")
        order = np.random.default_rng(0).permutation(len(pairs))  # a fixed split, then draws
        pool = order[: len(order) // 2] if part == "train" else order[len(order) // 2 :]
        return [({"text": pairs[i][1]}, [pairs[i][0]]) for i in rng.choice(pool, n, replace=False)]
    if task == "people-en":
        sentences = datasets.load_conll2003()["train" if part == "train" else "test"]
        usable = [s for s in sentences if 6 <= len(s) <= 40]
        with_people = [s for s in usable if _people(s)]
        without = [s for s in usable if not _people(s)]
        rows = []
        for i in range(n):  # two in three have people, one in three none
            pool = without if i % 3 == 2 else with_people
            s = pool[int(rng.integers(len(pool)))]
            rows.append(({"text": " ".join(t[0] for t in s)}, [", ".join(_people(s)) or "none"]))
        return rows
    if task == "qa-en":
        questions = [q for q in datasets.load_squad_dev() if len(q["context"]) <= 700]
        titles = sorted({q["title"] for q in questions})
        split = set(np.random.default_rng(0).permutation(titles)[: len(titles) // 2])
        pool = [q for q in questions if (q["title"] in split) == (part == "train")]
        picked = [pool[i] for i in rng.choice(len(pool), n, replace=False)]
        return [({"context": q["context"], "question": q["question"]},
                 list(dict.fromkeys(a for a, _ in q["answers"]))) for q in picked]  # fmt: skip
    raise ValueError(f"unknown task {task!r}; known: {TASKS}")


def instruction_set(n_train: int, n_heldout: int, seed: int = 0, tasks=TASKS) -> dict:
    """Instruction examples for each task: training pairs and held-out prompts.

    Args:
        n_train, n_heldout: examples per task (held-out prompts come from data disjoint from
            the training prompts': another split, fold or set of articles).
        seed: of the draws.
        tasks: which of :data:`TASKS`.

    Returns:
        ``{"train": [...], "heldout": [...]}``, lists of ``{"task", "prompt", "response",
        "answers"}`` (``response`` is the first of ``answers``), interleaved by task.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", n_train), ("heldout", n_heldout)):
        per_task = {t: _draw(t, n, part, rng) for t in tasks}
        out[part] = [
            {"task": t, "prompt": _PROMPTS[t].format(**fields), "response": answers[0],
             "answers": answers}
            for i in range(n) for t in tasks for fields, answers in [per_task[t][i]]
        ]  # fmt: skip
    return out


def squad_normalize(text: str) -> str:
    """SQuAD v1.1's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def score_answer(task: str, answer: str, answers) -> float:
    """One answer's score in [0, 1], as its task is scored (chrF / 100 for translation)."""
    if task in ("sentiment-en", "sentiment-zh"):
        words = answer.strip().split()
        first = words[0].strip(string.punctuation + "。！，") if words else ""
        return float(first.lower() == answers[0].lower())
    if task == "translate-zh":
        import sacrebleu

        return sacrebleu.sentence_chrf(answer.strip(), list(answers)).score / 100
    if task == "people-en":

        def names(text):
            return [squad_normalize(n) for n in text.split(",") if squad_normalize(n)]

        return float(names(answer) == names(answers[0]))
    if task == "qa-en":
        return float(any(squad_normalize(answer) == squad_normalize(a) for a in answers))
    raise ValueError(f"unknown task {task!r}; known: {TASKS}")


__all__ = ["TASKS", "instruction_set", "score_answer", "squad_normalize"]
