"""The examples in the docstrings run and print what they say."""

import doctest

import pytest

import nlpbook.datasets
from nlpbook.datasets import catalog, loaders, require


@pytest.mark.parametrize("module", [nlpbook.datasets, catalog, loaders], ids=lambda m: m.__name__)
def test_docstring_examples(data_env, module):
    for name in ("ptb", "rt-polarity", "tinyshakespeare"):
        require(name)
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
