"""export_projector writes what the Embedding Projector reads, all or nothing."""

import doctest

import numpy as np
import pytest

import nlpbook.embeddings.projector as projector
from nlpbook.embeddings import export_projector


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 3))
    words = ["the", "film", "été", "電影", "can't"]
    paths = export_projector(words, vectors, tmp_path / "proj", digits=6)
    back = np.loadtxt(paths["vectors"], delimiter="\t")
    np.testing.assert_allclose(back, vectors, atol=5e-7)
    assert paths["metadata"].read_text(encoding="utf-8").splitlines() == words
    config = paths["config"].read_text()
    assert 'tensor_path: "vectors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert not list((tmp_path / "proj").glob(".*.tmp"))


@pytest.mark.parametrize(
    "words, vectors",
    [
        (["a", "b"], np.zeros((3, 2))),  # one vector too many
        ([], np.zeros((0, 2))),
        (["a\tb"], np.zeros((1, 2))),
        (["a\n"], np.zeros((1, 2))),
        ([""], np.zeros((1, 2))),
        (["a"], np.array([[np.nan, 0.0]])),
    ],
)
def test_bad_input_writes_nothing(tmp_path, words, vectors):
    with pytest.raises(ValueError):
        export_projector(words, vectors, tmp_path / "proj")
    assert not (tmp_path / "proj").exists()


def test_docstring_example():
    assert doctest.testmod(projector).failed == 0
