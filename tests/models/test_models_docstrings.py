"""The examples in the models' docstrings run and print what they say."""

import doctest

import keras
import numpy as np
import pytest

from nlpbook.models import (
    bert,
    classifiers,
    fasttext,
    glove,
    gpt,
    llama,
    ngram,
    nnlm,
    seq2seq,
    tagger,
    word2vec,
)

# raw-string models need TensorFlow's string tensors: their examples run on that backend only
TENSORFLOW_ONLY = {"nlpbook.models.classifiers.string_input_classifier"}


@pytest.mark.parametrize(
    "module",
    [bert, classifiers, fasttext, glove, gpt, llama, ngram, nnlm, seq2seq, tagger, word2vec],
)
def test_docstring_examples(module):
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(module, extraglobs={"keras": keras, "np": np}):
        if test.name in TENSORFLOW_ONLY and keras.config.backend() != "tensorflow":
            continue
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
