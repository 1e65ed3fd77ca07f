"""Small, deterministic encoders and corpora for the pipeline tests."""

import numpy as np
import pytest
import tensorflow as tf


def _codepoints(text):
    return tf.strings.unicode_decode(text, "UTF-8")


@pytest.fixture(scope="session")
def codepoints():
    """A throwaway encoder: a text's Unicode code points (all >= 1 for text without NUL)."""
    return _codepoints


@pytest.fixture(scope="session")
def corpus():
    """60 texts of 1..30 words, lengths spread out so that bucketing has something to do."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away"]
    lengths = rng.integers(1, 31, size=60)
    return [" ".join(rng.choice(words, size=n)) for n in lengths]
