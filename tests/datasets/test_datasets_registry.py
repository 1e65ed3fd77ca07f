"""The catalog is complete and consistent, and everything reachable here verifies."""

import re

import pytest

from nlpbook import datasets
from nlpbook.datasets import DATASETS

HEX64 = re.compile(r"[0-9a-f]{64}")


def test_names_are_unique_and_sorted():
    assert datasets.names() == sorted({d.name for d in DATASETS})
    assert len(datasets.names()) == len(DATASETS)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_every_entry_is_documented_and_has_hashed_sources(dataset):
    for field in ("description", "citation", "license", "homepage", "splits"):
        assert getattr(dataset, field).strip(), f"{dataset.name}: empty {field}"
    assert dataset.files
    assert len({f.name for f in dataset.files}) == len(dataset.files)
    for data_file in dataset.files:
        assert data_file.sources, f"{dataset.name}/{data_file.name} has no source"
        by_cache_name = {}
        for source in data_file.sources:
            assert source.kind in ("package", "mirror", "url")
            assert HEX64.fullmatch(source.sha256), source
            assert source.size is None or source.size > 0
            if source.kind == "package":
                dist, _, path = source.location.partition(":")
                assert dist and path and source.version, source
            else:
                # one cache file per name: sources that share it must share the bytes
                assert by_cache_name.setdefault(source.file_name, source.sha256) == source.sha256
            if source.kind == "url":
                assert source.location.startswith(("https://", "http://")), source


def test_required_datasets_are_registered():
    assert {
        "tinyshakespeare",
        "multi30k",
        "rt-polarity",
        "conll2003",
        "squad-v1.1",
        "ud-english-lines",
        "msra-ner",
        "chnsenticorp",
        "tatoeba",
        "ptb",
        "imdb",
        "chinese-reviews",
        "peoples-daily-1998",
    } <= set(datasets.names())
    assert len(datasets.get("multi30k").files) == 15


def test_mirror_sources_match_the_mirror_readme(data_env):
    """Each mirror source's hash and size equal the row of the mirror's README."""
    root = datasets.mirror_dir()
    if root is None or not (root / "README.md").is_file():
        datasets.skip_unavailable("no mirror (and its README) here")
    rows = dict(
        (m[1], (int(m[2].replace(",", "")), m[3]))
        for m in re.finditer(
            r"^\| (\S+) \| ([\d,]+) \| `([0-9a-f]{64})` \|$",
            (root / "README.md").read_text(encoding="utf-8"),
            re.M,
        )
    )
    mirrored = [s for d in DATASETS for f in d.files for s in f.sources if s.kind == "mirror"]
    assert {s.location for s in mirrored} == set(rows)
    for s in mirrored:
        assert (s.size, s.sha256) == rows[s.location], s.location


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_no_local_copy_has_other_bytes(data_env, dataset):
    checks = datasets.verify(dataset)
    assert [c for c in checks if c.status == "mismatch"] == []
    for f in dataset.files:
        assert any(c.file == f.name for c in checks)


# Datasets the book needs here: in the mirror or in a package the library depends on.
CORE = [
    "tinyshakespeare", "multi30k", "rt-polarity", "conll2003", "squad-v1.1",
    "ud-english-lines", "msra-ner", "chnsenticorp", "tatoeba", "ptb", "imdb",
    "chinese-reviews", "peoples-daily-1998",
]  # fmt: skip


@pytest.mark.parametrize("name", CORE)
def test_core_dataset_is_reachable_offline_and_verifies(data_env, name):
    paths = datasets.require(name)
    assert set(paths) == {f.name for f in datasets.get(name).files}
    checks = datasets.verify(name)
    for file_name, path in paths.items():
        assert any(c.file == file_name and c.path == path and c.status == "ok" for c in checks), (
            file_name,
            path,
        )
