"""GPT: the contract, the causal prefix property, padding, and keras-hub's GPT-2 as reference."""

import dataclasses

import keras
import numpy as np
import pytest

from nlpbook.models.gpt import GPT, GPTConfig, count_parameters
from nlpbook.testing import run_layer_test

TINY = GPTConfig.tiny(vocab_size=30, dropout=0.0, attention_dropout=0.0)


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def ids(rng, n=2, t=12, vocab=30):
    return rng.integers(1, vocab, size=(n, t)).astype("int32")


def test_config_checks_and_round_trip():
    with pytest.raises(ValueError, match="hidden_size must be a multiple of num_heads"):
        GPTConfig(hidden_size=100, num_heads=12)
    with pytest.raises(ValueError, match="attention_dropout"):
        GPTConfig(attention_dropout=-0.1)
    assert GPTConfig.from_dict(TINY.to_dict()) == TINY


def test_parameter_counts():
    # GPT-2 small's published size, from the formula (building it would take 0.5 GB)
    assert count_parameters(GPTConfig.gpt2()) == 124_439_808
    for config in (TINY, GPTConfig.char_shakespeare()):
        model = GPT(config)
        model(np.ones((1, 4), "int32"))
        assert model.count_params() == count_parameters(config)
    assert count_parameters(TINY, embeddings=False) == count_parameters(TINY) - 30 * 64 - 64 * 64


def test_layer_contract():
    run_layer_test(
        GPT, {"config": TINY}, ids(np.random.default_rng(0)), expected_output_shape=(2, 12, 30),
        mixed_output_dtype="float32", bfloat16_atol=0.1,
    )  # fmt: skip


def test_causal_prefix_property():
    """Logits at position t do not change when tokens after t change."""
    model = GPT(TINY)
    rng = np.random.default_rng(1)
    a = ids(rng)
    b = a.copy()
    b[:, 7:] = ids(rng, t=5)
    la, lb = numpy(model(a)), numpy(model(b))
    np.testing.assert_allclose(la[:, :7], lb[:, :7], atol=1e-5)
    assert np.abs(la[:, 7:] - lb[:, 7:]).max() > 1e-3  # and later positions do see them
    # a prefix alone gives the same logits as inside the longer sequence
    np.testing.assert_allclose(numpy(model(a[:, :5])), la[:, :5], atol=1e-5)


def test_padding_changes_nothing_at_real_positions():
    model = GPT(TINY)
    x = ids(np.random.default_rng(2), t=6)
    padded = np.pad(x, ((0, 0), (0, 5)))
    mask = padded != 0
    np.testing.assert_allclose(
        numpy(model(padded, padding_mask=mask))[:, :6], numpy(model(x)), atol=1e-5
    )


def test_initialisation_scales_the_residual_projections():
    model = GPT(GPTConfig.tiny(vocab_size=30, num_layers=8))
    model(np.ones((1, 2), "int32"))
    std = model.config.initializer_range
    block = model.blocks[0]
    assert numpy(block.ffn_inner.kernel).std() == pytest.approx(std * 0.88, rel=0.1)
    # truncated at 2 std: the std of the truncated normal is 0.88 of the nominal one
    assert numpy(block.ffn_output.kernel).std() == pytest.approx(std * 0.88 / 4, rel=0.1)


def keras_hub_gpt2(config):
    keras_hub = pytest.importorskip("keras_hub")
    return keras_hub.models.GPT2Backbone(
        vocabulary_size=config.vocab_size, num_layers=config.num_layers,
        num_heads=config.num_heads, hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size, dropout=config.dropout,
        max_sequence_length=config.max_length,
    )  # fmt: skip


def test_equals_keras_hub_gpt2_with_the_same_weights():
    config = dataclasses.replace(TINY, num_layers=3)
    model = GPT(config)
    x = ids(np.random.default_rng(3), n=3, t=20)
    model(x)
    # random weights everywhere, biases and norms too, so no term hides as 0 or 1
    rng = np.random.default_rng(4)
    model.set_weights(
        [(rng.normal(size=w.shape) * 0.2 + (w == 1)).astype("float32") for w in model.get_weights()]
    )
    reference = keras_hub_gpt2(config)
    # our variables are created in keras-hub's order (embeddings, then per block: q, k, v,
    # output, norm, feed-forward in and out, norm; the final norm), with the same shapes
    assert [tuple(w.shape) for w in reference.weights] == [tuple(w.shape) for w in model.weights]
    reference.set_weights(model.get_weights())
    mask = np.ones_like(x)
    mask[1, 15:] = 0
    hidden = reference({"token_ids": x, "padding_mask": mask})
    logits = reference.token_embedding(hidden, reverse=True)
    real = mask.astype(bool)
    np.testing.assert_allclose(
        numpy(model.hidden_states(x, padding_mask=real))[real], numpy(hidden)[real], atol=1e-4
    )
    np.testing.assert_allclose(
        numpy(model(x, padding_mask=real))[real], numpy(logits)[real], atol=1e-4
    )


def test_bad_input_shape():
    model = GPT(TINY)
    with pytest.raises(ValueError, match="token_ids must be"):
        model(np.ones((2, 3, 4), "int32"))
    with pytest.raises(ValueError, match="max_length"):
        model(np.ones((1, TINY.max_length + 1), "int32"))
