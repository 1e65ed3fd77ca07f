"""Instruction data: the loss weights cover exactly the response (and its end-of-turn token)
in SmolLM2's own chat template, and the batches line inputs, targets and weights up."""

import re

import keras
import numpy as np
import pytest

from nlpbook.pipelines import chat_example, instruction_dataset


@pytest.fixture(scope="module")
def tokenizer():
    from nlpbook.datasets import require
    from nlpbook.models.llama import load_smollm2

    require("smollm2-135m")  # skips (fails under CI=true) when the package is missing
    return load_smollm2()[1]


PAIRS = [
    ("Is this review positive or negative? 'A gorgeous, witty film.'", "positive"),
    ("Translate to English: 我喜欢这部电影。", "I like this film."),
    ("What is the capital of France?", "Paris."),
    ("List two colours.", "Red and blue."),
    ("这句话的情感是什么？“太无聊了。”", "负面"),
]


@pytest.mark.parametrize("system", [None, "You are a careful annotator."])
@pytest.mark.parametrize(("prompt", "response"), PAIRS[:2] + PAIRS[4:])
def test_weights_cover_exactly_the_response_and_end_of_turn(tokenizer, prompt, response, system):
    ids, weights = chat_example(tokenizer, prompt, response, system=system)
    messages = [{"role": "user", "content": prompt}]
    if system:
        messages.insert(0, {"role": "system", "content": system})
    head = tokenizer.encode_ids(tokenizer.apply_chat_template(messages))
    assert ids[: len(head)].tolist() == head and not weights[: len(head)].any()
    counted = ids[weights == 1]
    assert tokenizer.decode_ids(counted) == response + "<|im_end|>"
    # the counted tokens are one run right after the generation prompt
    on = np.flatnonzero(weights)
    assert on[0] == len(head) and np.all(np.diff(on) == 1)
    assert tokenizer.decode_ids(ids[on[-1] + 1 :]).strip() == ""  # only the template's newline
    assert (system or "You are a helpful AI assistant") in tokenizer.decode_ids(ids[: len(head)])


def test_batches_line_up_and_cover_every_pair_once(tokenizer):
    ds, stats = instruction_dataset(tokenizer, PAIRS, max_length=128, batch_size=2, seed=3)
    assert int(ds.cardinality()) == 3  # 5 pairs in batches of 2
    examples = [chat_example(tokenizer, p, r) for p, r in PAIRS]
    assert stats == {"examples": 5, "tokens": sum(len(i) for i, _ in examples),
                     "response_tokens": int(sum(w.sum() for _, w in examples))}  # fmt: skip
    seen = []
    for inputs, targets, weights in ds:
        inputs, targets, weights = inputs.numpy(), targets.numpy(), weights.numpy()
        assert inputs.dtype == np.int32 and weights.dtype == np.float32
        assert inputs.shape == targets.shape == weights.shape and inputs.shape[0] <= 2
        for x, y, w in zip(inputs, targets, weights, strict=True):
            n = next(len(i) - 1 for i, _ in examples if np.array_equal(i[:-1], x[: len(i) - 1]))
            np.testing.assert_array_equal(x[1:n], y[: n - 1])  # targets are inputs shifted
            assert not w[n:].any() and not x[n:].any()  # padding: id 0, weight 0
            seen.append(tuple(x[:n]))
    assert sorted(seen) == sorted(tuple(i[:-1]) for i, _ in examples)
    order = [tuple(b[0].numpy().sum(1)) for b in ds]
    again = [tuple(b[0].numpy().sum(1)) for b in ds]
    assert order != again  # a new order every epoch (seeded)


def test_loss_counts_only_the_response(tokenizer):
    """Keras' weighted mean equals the mean -log p over response tokens; prompt logits do not
    matter."""
    ds, _ = instruction_dataset(tokenizer, PAIRS[:3], max_length=128, batch_size=3, shuffle=False)
    inputs, targets, weights = (t.numpy() for t in next(iter(ds)))
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(*targets.shape, 64)).astype("float32")
    small = np.where(targets < 64, targets, targets % 64)
    loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )
    value = float(loss(small, logits, sample_weight=weights))
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(logp, small[..., None], -1)[..., 0]
    assert value == pytest.approx(nll[weights == 1].mean(), rel=1e-5)
    changed = logits.copy()
    changed[weights == 0] = rng.normal(size=changed[weights == 0].shape) * 10
    assert float(loss(small, changed, sample_weight=weights)) == pytest.approx(value, rel=1e-5)


class _NoEnd:
    """A template that forgets the end-of-turn token."""

    opening = "<assistant>"

    def apply_chat_template(self, messages, add_generation_prompt=True):
        text = "".join(f"<{m['role']}>{m['content']}" for m in messages)
        return text + (self.opening if add_generation_prompt else "")

    def encode_ids(self, text):
        return [ord(c) for c in text]

    def token_to_id(self, token):
        return 7


def test_errors(tokenizer):
    with pytest.raises(ValueError, match="prompt is empty"):
        chat_example(tokenizer, "  ", "x")
    with pytest.raises(ValueError, match="response is empty"):
        chat_example(tokenizer, "x", "")
    with pytest.raises(TypeError, match="must be a str"):
        chat_example(tokenizer, b"bytes", "x")
    with pytest.raises(ValueError, match=re.escape("no '<|im_end|>' after the response")):
        chat_example(_NoEnd(), "q", "a")
    other = _NoEnd()
    other.opening = "<bot>"  # the prompt opens a turn the exchange does not
    with pytest.raises(ValueError, match="not a prefix"):
        chat_example(other, "q", "a")
    with pytest.raises(ValueError, match="over max_length=20"):
        instruction_dataset(tokenizer, PAIRS, max_length=20)
    with pytest.raises(ValueError, match="pairs is empty"):
        instruction_dataset(tokenizer, [])
    with pytest.raises(ValueError, match=r"pairs\[0\] must be"):
        instruction_dataset(tokenizer, [("only a prompt",)])
