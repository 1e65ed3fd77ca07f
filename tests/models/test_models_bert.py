"""BERT: the contract, padding, and a real checkpoint (all-MiniLM-L6-v2) against references.

References: keras-hub's ``BertBackbone`` loaded from the same files (it uses GELU's tanh form,
so our model is built with ``activation="gelu_tanh"`` for that comparison); a NumPy float64
transcription of BERT with the exact GELU the checkpoint was trained with; sentence
embeddings recorded from sentence-transformers (see data/make_minilm_reference.py).
"""

import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from scipy.special import erf

from nlpbook.datasets.testing import require
from nlpbook.models.bert import (
    BertClassifier,
    BertConfig,
    BertEncoder,
    BertPretrainer,
    assign_weights,
    load_checkpoint,
    mean_pool,
)
from nlpbook.testing import run_layer_test

TINY = BertConfig.small(
    vocab_size=40, hidden_size=16, num_layers=2, num_heads=2, intermediate_size=32,
    max_length=12, dropout=0.0, attention_dropout=0.0,
)  # fmt: skip
REFERENCE = Path(__file__).with_name("data") / "minilm_reference.npz"


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def batch(rng, n=3, t=10, vocab=40):
    ids = rng.integers(5, vocab, size=(n, t)).astype("int32")
    mask = np.ones((n, t), bool)
    for i, length in enumerate(rng.integers(3, t + 1, size=n)):
        mask[i, length:] = False
    ids[~mask] = 0
    segments = np.zeros((n, t), "int32")
    segments[:, t // 2 :] = 1
    return ids, segments, mask


@pytest.fixture(scope="module")
def minilm():
    require("all-minilm-l6-v2")
    return load_checkpoint("all-minilm-l6-v2")


@pytest.fixture(scope="module")
def minilm_inputs():
    rng = np.random.default_rng(1)
    ids, segments, mask = batch(rng, n=3, t=16, vocab=30522)
    ids[:, 0] = 101  # [CLS]
    return ids, segments, mask


# --- config ---------------------------------------------------------------------------


def test_config_checks_name_the_field():
    with pytest.raises(ValueError, match="hidden_size must be a multiple of num_heads"):
        BertConfig(hidden_size=100, num_heads=12)
    with pytest.raises(ValueError, match="dropout"):
        BertConfig(dropout=1.5)
    with pytest.raises(ValueError, match="num_layers"):
        BertConfig(num_layers=0)
    with pytest.raises(ValueError, match="activation"):
        BertConfig(activation="swish")
    with pytest.raises(ValueError, match="no field"):
        BertConfig.from_dict({**TINY.to_dict(), "hidden": 3})
    assert BertConfig.from_dict(TINY.to_dict()) == TINY


def test_config_of_the_checkpoint(minilm):
    config, tensors = minilm
    assert config == BertConfig.minilm_l6_h384()
    encoder = BertEncoder(config)
    assign_weights(encoder, tensors)
    # every checkpoint array is used, except the position-id buffer PyTorch saves
    assert encoder.count_params() == sum(
        v.size for k, v in tensors.items() if k != "embeddings.position_ids"
    )
    assert encoder.count_params() == 22_713_216


# --- the contract -----------------------------------------------------------------------


def test_encoder_layer_contract():
    ids, segments, mask = batch(np.random.default_rng(0))
    run_layer_test(
        BertEncoder,
        {"config": TINY},
        (ids, segments, mask),
        expected_output_shape=[(3, 16), (3, 10, 16)],  # pooled, sequence (key order)
        bfloat16_atol=0.1,
    )


def test_pretrainer_and_classifier_save_and_load(tmp_path):
    ids, segments, mask = batch(np.random.default_rng(0))
    inputs = {"token_ids": ids, "segment_ids": segments, "padding_mask": mask}
    pre = BertPretrainer(TINY)
    out = pre({**inputs, "mask_positions": np.array([[1, 2], [0, 3], [2, 2]])})
    clf = BertClassifier(TINY, num_classes=3)
    logits = clf(inputs)
    assert tuple(out["mlm"].shape) == (3, 2, 40) and tuple(out["nsp"].shape) == (3, 2)
    assert (
        tuple(logits.shape) == (3, 3) and keras.backend.standardize_dtype(logits.dtype) == "float32"
    )
    for model, args in (
        (pre, {**inputs, "mask_positions": np.array([[1, 2], [0, 3], [2, 2]])}),
        (clf, inputs),
    ):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        again = keras.models.load_model(path, safe_mode=True)
        for a, b in zip(
            keras.tree.flatten(model(args)), keras.tree.flatten(again(args)), strict=True
        ):
            np.testing.assert_allclose(numpy(a), numpy(b), atol=1e-6)


def test_padding_changes_nothing_at_real_positions():
    encoder = BertEncoder(TINY)
    ids, segments, mask = batch(np.random.default_rng(2), t=8)
    padded = [np.pad(a, ((0, 0), (0, 4))) for a in (ids, segments, mask)]
    short = encoder(ids, segments, mask)["sequence_output"]
    long = encoder(*padded)["sequence_output"]
    np.testing.assert_allclose(numpy(long)[:, :8][mask], numpy(short)[mask], atol=1e-5)
    # the default padding mask is token_ids != pad_id
    default = encoder(ids, segments)["sequence_output"]
    np.testing.assert_allclose(numpy(default)[mask], numpy(short)[mask], atol=1e-6)


def test_masked_lm_head_is_tied_to_the_token_embedding():
    pre = BertPretrainer(TINY, next_sentence=False)
    ids, segments, mask = batch(np.random.default_rng(3))
    positions = np.array([[0, 4], [1, 1], [2, 0]])
    out = pre({"token_ids": ids, "segment_ids": segments, "padding_mask": mask,
               "mask_positions": positions})  # fmt: skip
    assert set(out) == {"mlm"}
    hidden = numpy(pre.encoder(ids, segments, mask)["sequence_output"])
    head = pre.mlm_head
    h = hidden[np.arange(3)[:, None], positions] @ numpy(head.transform.kernel)
    h = h + numpy(head.transform.bias)
    h = 0.5 * h * (1 + erf(h / np.sqrt(2)))  # exact GELU
    h = (h - h.mean(-1, keepdims=True)) / np.sqrt(h.var(-1, keepdims=True) + 1e-12)
    h = h * numpy(head.norm.gamma) + numpy(head.norm.beta)
    expected = h @ numpy(pre.encoder.token_embedding.embeddings).T + numpy(head.bias)
    np.testing.assert_allclose(numpy(out["mlm"]), expected, atol=1e-4)
    # the output matrix is the embedding: no second vocabulary-sized matrix
    assert sum(int(np.prod(w.shape)) == 40 * 16 for w in pre.weights) == 1


def test_pretrainer_trains_on_both_losses_with_weights():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    ids, segments, mask = batch(rng, n=8)
    features = {"token_ids": ids, "segment_ids": segments, "padding_mask": mask,
                "mask_positions": rng.integers(0, 3, size=(8, 3))}  # fmt: skip
    labels = {"mlm": rng.integers(5, 40, size=(8, 3)), "nsp": rng.integers(0, 2, size=8)}
    weights = {"mlm": np.array([[1, 1, 0]] * 8, "float32"), "nsp": np.ones(8, "float32")}
    pre = BertPretrainer(TINY)
    pre.compile_pretraining(keras.optimizers.Adam(1e-2))
    history = pre.fit(features, labels, sample_weight=weights, epochs=15, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < 0.5 * losses[0]
    assert {"mlm_accuracy", "nsp_accuracy"} <= set(history.history)
    alone = BertPretrainer(TINY, next_sentence=False)
    alone.compile_pretraining(keras.optimizers.Adam(1e-2))
    history = alone.fit(features, {"mlm": labels["mlm"]}, sample_weight={"mlm": weights["mlm"]},
                        epochs=2, verbose=0)  # fmt: skip
    assert "mlm_accuracy" in history.history and not alone.encoder.pooler.trainable


# --- the checkpoint ---------------------------------------------------------------------


def numpy_bert(tensors, config, ids, segments, mask):
    """BERT's forward pass in float64 NumPy, from the checkpoint's arrays (exact GELU)."""
    t = {k.removeprefix("bert."): np.asarray(v, np.float64) for k, v in tensors.items()}
    eps, heads = config.layer_norm_epsilon, config.num_heads

    def norm(x, p):
        x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
        return x * t[p + ".weight"] + t[p + ".bias"]

    def linear(x, p):
        return x @ t[p + ".weight"].T + t[p + ".bias"]

    x = (
        t["embeddings.word_embeddings.weight"][ids]
        + t["embeddings.token_type_embeddings.weight"][segments]
        + t["embeddings.position_embeddings.weight"][: ids.shape[1]][None]
    )
    x = norm(x, "embeddings.LayerNorm")
    b, n, d = x.shape
    for i in range(config.num_layers):
        p = f"encoder.layer.{i}."

        def split(y):
            return y.reshape(b, n, heads, d // heads).transpose(0, 2, 1, 3)

        q, k, v = (split(linear(x, p + "attention.self." + w)) for w in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads)
        scores = np.where(mask[:, None, None, :], scores, -np.inf)
        w = np.exp(scores - scores.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        att = (w @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = norm(x + linear(att, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
        x = norm(x + linear(h, p + "output.dense"), p + "output.LayerNorm")
    pooled = np.tanh(linear(x[:, 0], "pooler.dense"))
    return x, pooled


def test_minilm_equals_a_numpy_transcription(minilm, minilm_inputs):
    config, tensors = minilm
    ids, segments, mask = minilm_inputs
    encoder = BertEncoder(config)
    assign_weights(encoder, tensors)
    out = encoder(ids, segments, mask)
    sequence, pooled = numpy_bert(tensors, config, ids, segments, mask)
    np.testing.assert_allclose(numpy(out["sequence_output"])[mask], sequence[mask], atol=1e-4)
    np.testing.assert_allclose(numpy(out["pooled_output"]), pooled, atol=1e-4)


def test_minilm_equals_keras_hub(minilm, minilm_inputs):
    keras_hub = pytest.importorskip("keras_hub")
    config, tensors = minilm
    folder = require("all-minilm-l6-v2")["config.json"].parent
    reference = keras_hub.models.BertBackbone.from_preset(str(folder))
    ids, segments, mask = minilm_inputs
    theirs = reference(
        {"token_ids": ids, "segment_ids": segments, "padding_mask": mask.astype("int32")}
    )
    # keras-hub's BERT uses GELU's tanh form: the comparison needs the same function
    encoder = BertEncoder(dataclasses.replace(config, activation="gelu_tanh"))
    assign_weights(encoder, tensors)
    ours = encoder({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    np.testing.assert_allclose(
        numpy(ours["sequence_output"])[mask], numpy(theirs["sequence_output"])[mask], atol=1e-4
    )
    np.testing.assert_allclose(
        numpy(ours["pooled_output"]), numpy(theirs["pooled_output"]), atol=1e-4
    )
    np.testing.assert_allclose(
        numpy(mean_pool(ours["sequence_output"], mask)),
        numpy(mean_pool(theirs["sequence_output"], mask)),
        atol=1e-4,
    )


def test_minilm_sentence_embeddings_equal_sentence_transformers(minilm):
    config, tensors = minilm
    ref = np.load(REFERENCE)
    encoder = BertEncoder(config)
    assign_weights(encoder, tensors)
    mask = ref["padding_mask"].astype(bool)
    out = encoder(ref["token_ids"], np.zeros_like(ref["token_ids"]), mask)
    ours = numpy(mean_pool(out["sequence_output"], mask))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(ours, ref["embeddings"], atol=1e-5)
    # and so are the cosine similarities a semantic search ranks by
    assert ours @ ours.T == pytest.approx(ref["embeddings"] @ ref["embeddings"].T, abs=1e-5)


def test_mean_pool_ignores_padding_and_normalizes():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    got = numpy(mean_pool(x, mask, normalize=False))
    np.testing.assert_allclose(got, [x[0, :2].mean(0), x[1, 0]])
    unit = numpy(mean_pool(x, mask))
    np.testing.assert_allclose(unit, got / np.linalg.norm(got, axis=1, keepdims=True), rtol=1e-6)


# --- loader errors ----------------------------------------------------------------------


def test_missing_weight_is_named(minilm):
    config, tensors = minilm
    broken = {k: v for k, v in tensors.items() if k != "encoder.layer.3.attention.self.key.bias"}
    with pytest.raises(KeyError, match=r"encoder\.layer\.3\.attention\.self\.key\.bias"):
        assign_weights(BertEncoder(config), broken)


def test_wrong_shape_is_named(minilm):
    config, tensors = minilm
    broken = dict(tensors)
    broken["encoder.layer.2.intermediate.dense.weight"] = np.zeros((1000, 384), "float32")
    with pytest.raises(ValueError, match=r"encoder\.layer\.2\.intermediate\.dense\.weight.*1000"):
        assign_weights(BertEncoder(config), broken)
    # a config that does not match the weights: the first weight that disagrees is named
    with pytest.raises(ValueError, match="word_embeddings"):
        assign_weights(BertEncoder(dataclasses.replace(config, vocab_size=100)), tensors)


def test_checkpoint_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="not a BERT checkpoint"):
        load_checkpoint(tmp_path)


def test_mean_pooling_classifier_skips_padding_without_a_mask():
    clf = BertClassifier(TINY, num_classes=2, pooling="mean")
    ids, segments, mask = batch(np.random.default_rng(5))
    explicit = clf({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    implied = clf({"token_ids": ids, "segment_ids": segments})  # padding = [PAD] ids
    np.testing.assert_allclose(numpy(implied), numpy(explicit), atol=1e-6)
    sequence = numpy(clf.encoder(ids, segments, mask)["sequence_output"])
    pooled = (sequence * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    expected = pooled @ numpy(clf.output_layer.kernel) + numpy(clf.output_layer.bias)
    np.testing.assert_allclose(numpy(explicit), expected, atol=1e-5)
