"""MaskedSequenceCrossentropy against Keras' own cross-entropies and a NumPy transcription."""

import doctest

import keras
import numpy as np
import pytest

from nlpbook.models import GRUSeq2Seq, MaskedSequenceCrossentropy, losses

K = 11


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def batch(seed=0, shape=(4, 6), pad_from=(6, 3, 1, 5)):
    """Random logits and labels, padded (id 0) from ``pad_from[i]`` on in row ``i``."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(*shape, K)).astype("float32")
    labels = rng.integers(1, K, size=shape)
    for row, start in enumerate(pad_from):
        labels[row, start:] = 0
    return labels, logits


def reference(labels, logits, eps, pad_id=0, weights=None):
    """The equation in NumPy (float64): smoothed targets times -log softmax, token mean."""
    z = logits.astype(np.float64)
    log_p = z - z.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    target = (1 - eps) * np.eye(K)[labels] + eps / K
    per_token = -(target * log_p).sum(-1)
    w = np.ones(labels.shape) if pad_id is None else (labels != pad_id).astype(float)
    if weights is not None:
        w = w * weights.reshape(weights.shape + (1,) * (labels.ndim - weights.ndim))
    return (per_token * w).sum() / w.sum()


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 0.9])
def test_equals_numpy_and_keras_categorical_crossentropy(eps):
    labels, logits = batch()
    loss = MaskedSequenceCrossentropy(label_smoothing=eps)
    value = float(loss(labels, logits))
    assert value == pytest.approx(reference(labels, logits, eps), rel=1e-5)
    # Keras' one-hot loss, per token, then the mean over the real tokens
    per_token = keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=eps, reduction=None
    )(np.eye(K)[labels], logits)
    mask = labels != 0
    assert value == pytest.approx(numpy(per_token)[mask].mean(), rel=1e-5)


def test_equals_sparse_crossentropy_with_ignore_class_without_smoothing():
    # Keras' ignore_class attaches a mask to the per-token losses and its default reduction
    # then divides by the number of unmasked tokens: the same token mean
    labels, logits = batch(seed=1)
    ours = float(MaskedSequenceCrossentropy()(labels, logits))
    keras_sparse = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    assert ours == pytest.approx(float(keras_sparse(labels, logits)), rel=1e-5)


def test_probabilities_pad_id_none_and_sample_weights():
    labels, logits = batch(seed=2)
    probs = numpy(keras.ops.softmax(logits))
    from_probs = MaskedSequenceCrossentropy(0.2, from_logits=False)(labels, probs)
    assert float(from_probs) == pytest.approx(reference(labels, logits, 0.2), rel=1e-4)
    every_position = MaskedSequenceCrossentropy(0.2, pad_id=None)(labels, logits)
    assert float(every_position) == pytest.approx(
        reference(labels, logits, 0.2, pad_id=None), rel=1e-5
    )
    per_sentence = np.array([1.0, 0.5, 2.0, 0.0])
    weighted = MaskedSequenceCrossentropy(0.1)(labels, logits, sample_weight=per_sentence)
    assert float(weighted) == pytest.approx(
        reference(labels, logits, 0.1, weights=per_sentence), rel=1e-5
    )
    per_token = numpy(MaskedSequenceCrossentropy(0.1, reduction=None)(labels, logits))
    assert per_token.shape == labels.shape and np.all(per_token[labels == 0] == 0)
    assert per_token[labels != 0].mean() == pytest.approx(reference(labels, logits, 0.1), 1e-5)


def test_only_padding_gives_zero_and_gradients_are_finite():
    loss = MaskedSequenceCrossentropy(label_smoothing=0.1)
    labels, logits = batch(seed=3)
    assert float(loss(np.zeros_like(labels), logits)) == 0.0
    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        for y in (labels, np.zeros_like(labels)):
            x = tf.Variable(logits)
            with tf.GradientTape() as tape:
                value = loss(y, x)
            grad = tape.gradient(value, x).numpy()
            assert np.all(np.isfinite(grad))
            assert np.all(grad[y == 0] == 0)  # padding gets no gradient
            if y.any():
                # d/dz of the token mean: (softmax - smoothed target) / number of real tokens
                target = 0.9 * np.eye(K)[y] + 0.1 / K
                expected = (numpy(keras.ops.softmax(logits)) - target) / (y != 0).sum()
                np.testing.assert_allclose(grad[y != 0], expected[y != 0], atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_logits_give_a_float32_loss(dtype):
    labels, logits = batch(seed=4)
    low = keras.ops.cast(logits, dtype)
    value = MaskedSequenceCrossentropy(0.1)(labels, low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    # the only error left is the rounding of the logits themselves
    rounded = numpy(low).astype("float32")
    assert float(value) == pytest.approx(reference(labels, rounded, 0.1), rel=1e-5)


def test_model_evaluate_reports_the_token_mean(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    source = rng.integers(1, 20, size=(5, 7))
    source[1, 4:] = 0
    decoder_input = rng.integers(1, K, size=(5, 6))
    labels = rng.integers(1, K, size=(5, 6))
    labels[0, 2:] = decoder_input[0, 2:] = 0
    labels[3, 5:] = decoder_input[3, 5:] = 0
    model = GRUSeq2Seq(src_vocab=20, tgt_vocab=K, embed_dim=8, units=16)
    model.compile(optimizer="adam", loss=MaskedSequenceCrossentropy(label_smoothing=0.1))
    reported = model.evaluate((source, decoder_input), labels, batch_size=5, verbose=0)
    logits = numpy(model((source, decoder_input)))
    assert reported == pytest.approx(reference(labels, logits, 0.1), rel=1e-5)
    # the compiled loss survives a .keras round trip
    path = tmp_path / "model.keras"
    model.optimizer.build(model.trainable_variables)  # saved with the model
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.loss, MaskedSequenceCrossentropy)
    assert loaded.loss.get_config() == model.loss.get_config()
    again = loaded.evaluate((source, decoder_input), labels, batch_size=5, verbose=0)
    assert again == pytest.approx(reported, rel=1e-6)


def test_config_round_trip_and_bad_arguments():
    loss = MaskedSequenceCrossentropy(label_smoothing=0.25, pad_id=None, name="xent")
    copy = MaskedSequenceCrossentropy.from_config(loss.get_config())
    assert (copy.label_smoothing, copy.pad_id, copy.from_logits, copy.name) == (
        0.25, None, True, "xent"
    )  # fmt: skip
    for bad in (1.0, -0.1, "0.1", True):
        with pytest.raises(ValueError, match="label_smoothing"):
            MaskedSequenceCrossentropy(label_smoothing=bad)
    for bad in (-1, 0.0, "0", True):
        with pytest.raises(ValueError, match="pad_id"):
            MaskedSequenceCrossentropy(pad_id=bad)
    with pytest.raises(ValueError, match="from_logits"):
        MaskedSequenceCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="padding included"):
        MaskedSequenceCrossentropy(reduction="sum_over_batch_size")
    labels, logits = batch()
    with pytest.raises(ValueError, match="labels .batch, time. and predictions"):
        MaskedSequenceCrossentropy()(labels, logits[..., 0])


def test_docstring_example():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(losses, extraglobs={"keras": keras, "np": np}):
        runner.run(test)
    assert runner.summarize(verbose=False).attempted > 0
    assert runner.summarize(verbose=False).failed == 0
