"""The examples in the nlpbook.text docstrings run and print what they say."""

import doctest
import importlib

import pytest
import tensorflow as tf

# by name: nlpbook.text.normalize is also the function's name
NAMES = ["base", "byte", "chinese", "inputs", "normalize", "sentencepiece"]
NAMES += ["tokenizers", "vocab", "wordlevel", "wordpiece", "bpe"]
MODULES = [importlib.import_module(f"nlpbook.text.{name}") for name in NAMES]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, extraglobs={"tf": tf}, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if not module.__name__.endswith(".base"):  # base holds the interface only
        assert result.attempted > 0
