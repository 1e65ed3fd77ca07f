"""The examples in the docstrings run and print what they say."""

import doctest

import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import (
    bucketing,
    classification,
    cooccurrence,
    language_model,
    pretraining,
    seq2seq,
    tagging,
    throughput,
    word2vec,
)


@pytest.mark.parametrize(
    "module",
    [
        bucketing,
        classification,
        cooccurrence,
        language_model,
        pretraining,
        seq2seq,
        tagging,
        throughput,
        word2vec,
    ],  # fmt: skip
)
def test_docstring_examples(module):
    result = doctest.testmod(module, extraglobs={"keras": keras, "np": np, "tf": tf})
    assert result.attempted > 0
    assert result.failed == 0
