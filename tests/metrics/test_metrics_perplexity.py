"""Perplexity: the Keras metric and the NumPy function against a log-softmax written here.

The file runs on whichever Keras backend is active; ``test_other_backends`` re-runs it under
JAX and PyTorch in subprocesses (skipped where the backend is not installed).
"""

import keras
import numpy as np
import pytest

from nlpbook.metrics import Perplexity, perplexity_from_logits

VOCAB = 11
PAD = 0


def reference(batches):
    """exp(sum of -log softmax(logits)[label] / count) over all unmasked tokens."""
    total, count = 0.0, 0
    for labels, logits in batches:
        z = logits.astype(np.float64)
        log_softmax = z - np.log(np.exp(z).sum(-1, keepdims=True))
        picked = np.take_along_axis(log_softmax, labels[..., None], -1)[..., 0]
        keep = labels != PAD
        total -= picked[keep].sum()
        count += keep.sum()
    return np.exp(total / count)


def random_batches(seed=0, shapes=((4, 7), (1, 3), (6, 12), (2, 1))):
    """Uneven batches of labels with right padding, and logits of scale ~3."""
    rng = np.random.default_rng(seed)
    batches = []
    for batch, time in shapes:
        labels = rng.integers(1, VOCAB, size=(batch, time))
        lengths = rng.integers(1, time + 1, size=batch)
        labels[np.arange(time)[None, :] >= lengths[:, None]] = PAD
        batches.append((labels, rng.normal(0, 3, size=(batch, time, VOCAB)).astype("float32")))
    return batches


def test_accumulates_over_uneven_batches_with_padding():
    batches = random_batches()
    metric = Perplexity(mask_token_id=PAD)
    for labels, logits in batches:
        metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(reference(batches), rel=1e-5)


def test_probabilities_and_sample_weight():
    batches = random_batches(seed=1)
    probs = Perplexity(from_logits=False, mask_token_id=PAD)
    weighted = Perplexity()  # no mask id: the padding is dropped by a 0/1 sample_weight
    for labels, logits in batches:
        p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        probs.update_state(labels, p)
        weighted.update_state(labels, logits, sample_weight=(labels != PAD).astype("float32"))
    assert float(probs.result()) == pytest.approx(reference(batches), rel=1e-5)
    assert float(weighted.result()) == pytest.approx(reference(batches), rel=1e-5)


def test_mean_of_batch_perplexities_is_a_different_number():
    batches = random_batches(seed=2)
    metric = Perplexity(mask_token_id=PAD)
    per_batch = []
    for labels, logits in batches:
        metric.update_state(labels, logits)
        per_batch.append(reference([(labels, logits)]))
    right, wrong = reference(batches), float(np.mean(per_batch))
    assert float(metric.result()) == pytest.approx(right, rel=1e-5)
    assert abs(wrong - right) / right > 0.05, (wrong, right)


def test_reset_state():
    (labels, logits), *rest = random_batches(seed=3)
    metric = Perplexity(mask_token_id=PAD)
    assert float(metric.result()) == 1.0  # no token seen yet
    metric.update_state(*rest[0])
    metric.reset_state()
    assert float(metric.result()) == 1.0
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(reference([(labels, logits)]), rel=1e-5)


def test_config_round_trip():
    metric = Perplexity(from_logits=False, mask_token_id=3, name="ppl")
    config = metric.get_config()
    assert config["from_logits"] is False and config["mask_token_id"] == 3
    again = Perplexity.from_config(config)
    assert again.get_config() == config
    revived = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert isinstance(revived, Perplexity) and revived.get_config() == config


def test_compile_and_evaluate():
    keras.utils.set_random_seed(0)
    time = 9
    inputs = keras.Input((time,), dtype="int32")
    logits = keras.layers.Dense(VOCAB)(keras.layers.Embedding(VOCAB, 8)(inputs))
    model = keras.Model(inputs, logits)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[Perplexity(mask_token_id=PAD)],
    )
    rng = np.random.default_rng(4)
    x = rng.integers(1, VOCAB, size=(13, time))
    y = rng.integers(1, VOCAB, size=(13, time))
    y[:, 6:] = PAD  # padded targets
    y[3, 2:] = PAD
    result = model.evaluate(x, y, batch_size=5, return_dict=True, verbose=0)  # 5 + 5 + 3
    expected = reference([(y, model.predict(x, verbose=0))])
    assert result["perplexity"] == pytest.approx(expected, rel=1e-5)
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)  # the metric also runs in training


def test_numpy_function():
    batches = random_batches(seed=5)
    for labels, logits in batches:
        expected = reference([(labels, logits)])
        assert perplexity_from_logits(labels, logits, mask=labels != PAD) == pytest.approx(
            expected, rel=1e-12
        )
    labels, logits = batches[0]
    # log-softmax is shift invariant; a naive exp(1000) would overflow
    assert perplexity_from_logits(labels, logits.astype("float64") + 1000.0) == pytest.approx(
        perplexity_from_logits(labels, logits), rel=1e-9
    )
    unpadded = np.where(labels == PAD, 1, labels)  # no mask: every token counts
    assert perplexity_from_logits(unpadded, logits) == pytest.approx(
        reference([(unpadded, logits)]), rel=1e-12
    )
    with pytest.raises(ValueError, match="shape"):
        perplexity_from_logits(labels, logits[:, :-1])
    with pytest.raises(ValueError, match="mask is empty"):
        perplexity_from_logits(labels, logits, mask=np.zeros(labels.shape, bool))
    with pytest.raises(ValueError, match="label ids"):
        perplexity_from_logits(labels + VOCAB, logits)
    with pytest.raises(TypeError, match="integer"):
        perplexity_from_logits(labels.astype(float), logits)


def test_bad_arguments():
    with pytest.raises(ValueError, match="mask_token_id"):
        Perplexity(mask_token_id="0")
    with pytest.raises(ValueError, match="one more axis"):
        Perplexity().update_state(np.zeros((2, 3), "int32"), np.zeros((2, 3)))
