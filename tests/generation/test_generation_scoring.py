"""continuation_nll against scoring each row alone, token by token."""

import keras
import numpy as np
import pytest

from nlpbook.generation import continuation_nll
from nlpbook.models.gpt import GPT, GPTConfig


def test_equals_row_by_row_scoring():
    keras.utils.set_random_seed(0)
    model = GPT(GPTConfig.tiny(20, dropout=0.0, attention_dropout=0.0))
    prompts = [[1, 2, 3], [4], [5, 6]]
    continuations = [[7, 8], [9, 10, 11, 12], [13]]
    got = continuation_nll(lambda ids, mask: model(ids, padding_mask=mask), prompts,
                           continuations)  # fmt: skip
    for i, (p, c) in enumerate(zip(prompts, continuations, strict=True)):
        total = 0.0
        for t, token in enumerate(c):
            prefix = np.array([p + c[:t]], "int32")
            logits = np.asarray(keras.ops.convert_to_numpy(model(prefix)), np.float64)[0, -1]
            logp = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
            total -= logp[token]
        assert got[i] == pytest.approx(total / len(c), abs=1e-4)
    in_pairs = continuation_nll(lambda ids, mask: model(ids, padding_mask=mask), prompts,
                                continuations, batch_size=2)  # fmt: skip
    np.testing.assert_allclose(in_pairs, got, atol=1e-6)


def test_errors():
    fn = lambda ids, mask: np.zeros((*ids.shape, 5))  # noqa: E731
    with pytest.raises(ValueError, match="one prompt per continuation"):
        continuation_nll(fn, [[1]], [[1], [2]])
    with pytest.raises(ValueError, match="at least one token"):
        continuation_nll(fn, [[1]], [[]])
    # a uniform model: log 5 nats per token
    assert continuation_nll(fn, [[1]], [[2, 3]])[0] == pytest.approx(np.log(5))


def test_generate_docstring_example():
    import doctest
    import importlib

    module = importlib.import_module("nlpbook.generation.generate")  # the name is the function's

    result = doctest.testmod(module, extraglobs={"np": np, "keras": keras})
    assert result.failed == 0 and result.attempted > 0
