"""The examples in the nlpbook.layers docstrings run and print what they say."""

import doctest
import importlib

import keras
import numpy as np
import pytest

NAMES = ["nlpbook.layers", "nlpbook.layers.simple_rnn_cell", "nlpbook.layers.lstm_cell"]
NAMES += ["nlpbook.layers.gru_cell", "nlpbook.layers.attention"]
NAMES += ["nlpbook.layers.positional", "nlpbook.layers.transformer"]
NAMES += ["nlpbook.layers.additive_attention", "nlpbook.layers.activations"]
NAMES += ["nlpbook.layers.feedforward", "nlpbook.layers.normalization", "nlpbook.layers.crf"]
MODULES = [importlib.import_module(name) for name in NAMES]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, extraglobs={"keras": keras, "np": np})
    assert result.failed == 0
    assert result.attempted > 0
