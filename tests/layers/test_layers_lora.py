"""LoRA: the wrapper against Keras' own ``enable_lora`` with the same A and B, the adapters
inside the book's layers against the merged-kernel equation, merging, freezing, saving."""

import keras
import numpy as np
import pytest

from nlpbook.layers import (
    GatedFeedForward,
    GroupedQueryAttention,
    LoRA,
    LoRAAdapter,
    MultiHeadAttention,
    enable_lora,
    lora_parameter_counts,
    merge_lora,
)
from nlpbook.models.bert import BertClassifier, BertConfig
from nlpbook.models.llama import Llama, LlamaConfig
from nlpbook.testing import run_layer_test


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def randomize(adapter, rng):
    """B starts at zero (ΔW = 0); give it values so that the update shows."""
    adapter.lora_a.assign(rng.normal(size=adapter.lora_a.shape).astype("float32"))
    adapter.lora_b.assign(rng.normal(size=adapter.lora_b.shape).astype("float32") * 0.2)


def keras_lora(layer, input_shape, rank, alpha, a, b, weights):
    layer.build(input_shape)
    layer.set_weights(weights)
    layer.enable_lora(rank, lora_alpha=alpha)
    layer.lora_kernel_a.assign(a)
    layer.lora_kernel_b.assign(b)
    return layer


@pytest.mark.parametrize("alpha", [None, 8, 0.5])
def test_dense_wrapper_equals_keras_enable_lora(alpha):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 8)).astype("float32")
    ours = LoRA(keras.layers.Dense(6, activation="gelu"), rank=3, alpha=alpha)
    ours(x)
    randomize(ours.adapter, rng)
    ours.layer.set_weights([w + rng.normal(size=w.shape).astype("float32")
                            for w in ours.layer.get_weights()])  # fmt: skip
    ref = keras_lora(keras.layers.Dense(6, activation="gelu"), (None, 4, 8), 3,
                     alpha or 3, ours.adapter.lora_a.numpy(), ours.adapter.lora_b.numpy(),
                     ours.layer.get_weights())  # fmt: skip
    np.testing.assert_allclose(numpy(ours(x)), numpy(ref(x)), atol=1e-5)
    merged = ours.merged()
    np.testing.assert_allclose(numpy(merged(x)), numpy(ours(x)), atol=1e-5)
    np.testing.assert_allclose(numpy(merged.kernel), numpy(ref.kernel), atol=1e-6)  # W + ΔW


def test_einsum_dense_wrapper_equals_keras_enable_lora():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    make = lambda: keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d")  # noqa: E731
    ours = LoRA(make(), rank=2, alpha=4)
    ours(x)
    randomize(ours.adapter, rng)
    ref = keras_lora(make(), x.shape, 2, 4, ours.adapter.lora_a.numpy(),
                     ours.adapter.lora_b.numpy(), ours.layer.get_weights())  # fmt: skip
    np.testing.assert_allclose(numpy(ours(x)), numpy(ref(x)), atol=1e-5)
    np.testing.assert_allclose(numpy(ours.merged()(x)), numpy(ours(x)), atol=1e-5)


def test_multi_axis_kernel_is_factored_as_a_matrix():
    """``(d, heads, head_dim)``: ΔW = (α/r) A B with A (d, r), B (r, heads·head_dim)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    ours = LoRA(keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 3, 4)), rank=2,
                alpha=6)  # fmt: skip
    ours(x)
    randomize(ours.adapter, rng)
    a, b, w = (numpy(v) for v in (ours.adapter.lora_a, ours.adapter.lora_b, ours.layer.kernel))
    assert a.shape == (8, 2) and b.shape == (2, 12)
    expected = np.einsum("abc,cde->abde", x, w + 3.0 * (a @ b).reshape(8, 3, 4))
    np.testing.assert_allclose(numpy(ours(x)), expected, atol=1e-5)


def test_wrapper_trains_only_a_and_b_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 8)).astype("float32")
    y = rng.normal(size=(16, 6)).astype("float32")
    inputs = keras.Input((8,))
    lora = LoRA(keras.layers.Dense(6, name="base"), rank=2, dropout=0.1)
    model = keras.Model(inputs, lora(inputs))
    assert [v.path for v in model.trainable_weights] == ["base_lora/adapter/lora_a",
                                                         "base_lora/adapter/lora_b"]  # fmt: skip
    kernel, bias = (numpy(v) for v in lora.layer.weights)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_array_equal(numpy(lora.layer.kernel), kernel)
    np.testing.assert_array_equal(numpy(lora.layer.bias), bias)
    assert np.abs(numpy(lora.adapter.lora_b)).max() > 0  # B moved off zero
    path = tmp_path / "lora.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), atol=1e-6)
    assert len(loaded.trainable_weights) == 2


def test_dropout_acts_on_the_adapter_only_while_training():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 8)).astype("float32")
    lora = LoRA(keras.layers.Dense(6), rank=2, dropout=0.5)
    lora(x)
    np.testing.assert_allclose(numpy(lora(x, training=True)), numpy(lora.layer(x)), atol=1e-6)
    randomize(lora.adapter, rng)  # with ΔW ≠ 0 dropout shows, and only in training
    assert np.abs(numpy(lora(x, training=True)) - numpy(lora(x))).max() > 1e-3
    np.testing.assert_array_equal(numpy(lora(x)), numpy(lora(x)))


def mha_reference(x, layer):
    """Our attention with every kernel replaced by W + ΔW, in NumPy float64."""
    w = {n: numpy(getattr(layer, f"{n}_kernel")) for n in ("query", "key", "value", "output")}
    for n, adapter in layer.lora_adapters().items():
        w[n] = w[n] + numpy(adapter.delta())
    q, k, v = (np.einsum("btd,dhk->bthk", x, w[n]) + numpy(getattr(layer, f"{n}_bias"))
               for n in ("query", "key", "value"))  # fmt: skip
    s = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(q.shape[-1])
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    heads = np.einsum("bhts,bshk->bthk", p, v)
    return np.einsum("bthk,hko->bto", heads, w["output"]) + numpy(layer.output_bias)


@pytest.mark.parametrize("targets", [("query", "value"), ("key",), ("output",), None])
def test_attention_adapters_equal_the_merged_kernel_equation(targets):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    before = numpy(layer(x, x))
    layer.enable_lora(rank=3, alpha=6, targets=targets)
    assert sorted(layer.lora_adapters()) == sorted(targets or ("query", "key", "value", "output"))
    np.testing.assert_array_equal(numpy(layer(x, x)), before)  # B = 0: the pretrained model
    for adapter in layer.lora_adapters().values():
        randomize(adapter, rng)
    out = numpy(layer(x, x))
    assert np.abs(out - before).max() > 1e-2
    np.testing.assert_allclose(out, mha_reference(x, layer), atol=1e-4)
    n_weights = len(layer.weights)
    layer.merge_lora()
    np.testing.assert_allclose(numpy(layer(x, x)), out, rtol=1e-5, atol=1e-5)
    assert layer.lora is None and layer.get_config()["lora"] is None
    assert len(layer.weights) == n_weights - 2 * len(targets or range(4)) == 8


def test_attention_query_adapter_equals_keras_dense_lora():
    """The query projection with an adapter is Keras' LoRA Dense on the flattened kernel."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    layer(x, x)
    layer.enable_lora(rank=2, alpha=5, targets=("query",))
    randomize(layer.query_lora, rng)
    dense = keras_lora(keras.layers.Dense(8), (None, 5, 8), 2, 5, layer.query_lora.lora_a.numpy(),
                       layer.query_lora.lora_b.numpy(),
                       [numpy(layer.query_kernel).reshape(8, 8).astype("float32"),
                        numpy(layer.query_bias).reshape(8).astype("float32")])  # fmt: skip
    ours = numpy(layer._project(x, "query")).reshape(2, 5, 8)
    np.testing.assert_allclose(ours, numpy(dense(x)), atol=1e-5)


def test_grouped_query_attention_and_gated_ffn_merge_to_the_same_outputs():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 6, 16)).astype("float32")
    gqa = GroupedQueryAttention(4, 2, rope_base=1e4)
    ffn = GatedFeedForward(24)
    for layer, call in ((gqa, lambda: gqa(x, use_causal_mask=True)), (ffn, lambda: ffn(x))):
        call()
        layer.enable_lora(rank=2)
        for adapter in layer.lora_adapters().values():
            randomize(adapter, rng)
        out = numpy(call())
        layer.merge_lora()
        np.testing.assert_allclose(numpy(call()), out, atol=1e-4)
    # the gated network in NumPy with W + ΔW is checked through the merge above; here directly
    ffn.enable_lora(rank=2, targets="up")
    randomize(ffn.up_lora, rng)
    g, u, d = (numpy(getattr(ffn, f"{n}_kernel")) for n in ("gate", "up", "down"))
    u = u + numpy(ffn.up_lora.delta())
    gate = x @ g
    expected = (gate / (1 + np.exp(-gate)) * (x @ u)) @ d
    np.testing.assert_allclose(numpy(ffn(x)), expected, atol=1e-4)


def test_layer_contract_with_adapters():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    lora = {"rank": 2, "alpha": 4, "dropout": 0.0, "targets": ["query", "value"]}
    run_layer_test(MultiHeadAttention, {"num_heads": 2, "key_dim": 4, "lora": lora}, (x, x),
                   expected_output_shape=(2, 5, 8), expected_num_trainable_weights=12)  # fmt: skip
    run_layer_test(GroupedQueryAttention, {"num_query_heads": 2, "num_key_value_heads": 1,
                   "rope_base": 1e4, "lora": {"rank": 1, "targets": ["output"]}}, x,
                   expected_output_shape=(2, 5, 8), expected_num_trainable_weights=6)  # fmt: skip
    run_layer_test(GatedFeedForward, {"intermediate_size": 12, "lora": {"rank": 2}}, x,
                   expected_output_shape=(2, 5, 8), expected_num_trainable_weights=9)  # fmt: skip
    run_layer_test(LoRAAdapter, {"rank": 2, "alpha": 3, "kernel_shape": (8, 2, 3),
                                 "b_initializer": "glorot_uniform"}, x,
                   expected_output_shape=(2, 5, 2, 3), expected_num_trainable_weights=2)  # fmt: skip


def test_adapters_keep_float32_weights_under_mixed_precision():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    layer = MultiHeadAttention(2, 4, dtype="mixed_bfloat16")
    layer(x, x)
    layer.enable_lora(rank=2)
    for adapter in layer.lora_adapters().values():
        randomize(adapter, rng)
        assert adapter.lora_a.dtype == "float32" and adapter.compute_dtype == "bfloat16"
    out = layer(x, x)
    assert keras.backend.standardize_dtype(out.dtype) == "bfloat16"
    np.testing.assert_allclose(numpy(out), mha_reference(x, layer), atol=0.15)


TINY_BERT = BertConfig.small(vocab_size=40, hidden_size=16, num_layers=2, num_heads=2,
                             intermediate_size=32, max_length=16)  # fmt: skip


def bert_batch(rng, n=8, t=10):
    ids = rng.integers(4, 40, size=(n, t)).astype("int32")
    return {"token_ids": ids, "segment_ids": np.zeros_like(ids),
            "padding_mask": np.ones_like(ids, bool)}  # fmt: skip


def test_enable_lora_on_a_classifier_freezes_all_but_adapters_and_head():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(10)
    x = bert_batch(rng)
    y = rng.integers(0, 2, size=8).astype("int32")
    clf = BertClassifier(TINY_BERT, num_classes=2, dropout=0.0)
    before = numpy(clf(x))
    frozen = {v.path: numpy(v) for v in clf.weights if v.path.startswith("encoder")}
    assert enable_lora(clf, rank=4, alpha=8, targets=("query", "value"),
                       train=[clf.output_layer]) == 2  # fmt: skip
    np.testing.assert_array_equal(numpy(clf(x)), before)
    paths = [v.path for v in clf.trainable_weights]
    assert len(paths) == 2 * 2 * 2 + 2
    assert sorted(paths[-2:]) == ["bert_classifier/output/bias", "bert_classifier/output/kernel"]
    assert sorted(p.split("/", 1)[-1] for p in paths[:-2]) == sorted(
        f"encoder/{block}/self_attn/{t}_lora/lora_{m}"
        for t in ("query", "value")
        for m in "ab"
        for block in ("block_0", "block_1")
    )
    counts = lora_parameter_counts(clf)
    assert counts["adapters"] == 2 * 2 * (16 * 4 + 4 * 16)  # 2 blocks × (query, value)
    assert counts["trainable"] == counts["adapters"] + 16 * 2 + 2
    clf.compile(optimizer=keras.optimizers.Adam(1e-2),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    clf.fit(x, y, epochs=3, batch_size=4, verbose=0)
    for v in clf.weights:
        if v.path in frozen:
            np.testing.assert_array_equal(numpy(v), frozen[v.path], err_msg=v.path)
    trained = numpy(clf(x))
    assert np.abs(trained - before).max() > 1e-3
    assert merge_lora(clf) == 2
    assert not any("_lora" in v.path for v in clf.weights)
    np.testing.assert_allclose(numpy(clf(x)), trained, atol=1e-5)


def test_enable_lora_on_llama_and_the_merged_model_saves(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(11)
    config = LlamaConfig.tiny(vocab_size=30)
    model = Llama(config)
    tokens = rng.integers(1, 30, size=(2, 7)).astype("int32")
    before = numpy(model(tokens))
    assert enable_lora(model, rank=2, targets=("query", "value", "gate", "up", "down")) == (
        2 * config.num_layers
    )
    for layer in model._flatten_layers():
        for adapter in getattr(layer, "lora_adapters", dict)().values():
            randomize(adapter, rng)
    adapted = numpy(model(tokens))
    assert np.abs(adapted - before).max() > 1e-3
    merge_lora(model)
    np.testing.assert_allclose(numpy(model(tokens)), adapted, atol=1e-4)
    model.save(tmp_path / "merged.keras")
    loaded = keras.saving.load_model(tmp_path / "merged.keras", safe_mode=True)
    np.testing.assert_allclose(numpy(loaded(tokens)), adapted, atol=1e-4)


def test_errors():
    with pytest.raises(ValueError, match="rank"):
        LoRA(keras.layers.Dense(3), rank=0)
    with pytest.raises(ValueError, match="alpha"):
        LoRA(keras.layers.Dense(3), rank=2, alpha=-1)
    with pytest.raises(ValueError, match="dropout"):
        LoRA(keras.layers.Dense(3), rank=2, dropout=1.5)
    with pytest.raises(TypeError, match="Dense or EinsumDense"):
        LoRA(keras.layers.Conv1D(3, 2), rank=2)
    with pytest.raises(ValueError, match="last axis"):
        LoRA(keras.layers.EinsumDense("abc,bd->acd", output_shape=(None, 4)), rank=2)
    keras_lora_dense = keras.layers.Dense(3)
    keras_lora_dense.build((None, 4))
    keras_lora_dense.enable_lora(2)
    with pytest.raises(ValueError, match="already has Keras' LoRA"):
        LoRA(keras_lora_dense, rank=2)
    layer = MultiHeadAttention(2, 4)
    with pytest.raises(ValueError, match="build"):
        layer.enable_lora(2)
    x = np.ones((1, 3, 8), "float32")
    layer(x, x)
    with pytest.raises(ValueError, match="adapts the kernels"):
        layer.enable_lora(2, targets=("gate",))
    layer.enable_lora(2)
    with pytest.raises(ValueError, match="already enabled"):
        layer.enable_lora(2)
    with pytest.raises(ValueError, match="inputs ending in"):
        layer.query_lora(np.ones((1, 3, 5), "float32"))
    llama = Llama(LlamaConfig.tiny(vocab_size=30))
    llama(np.ones((1, 3), "int32"))
    with pytest.raises(ValueError, match="no layer of"):
        enable_lora(llama, 2, targets=("qkv",))
    assert not any("_lora" in v.path for v in llama.weights)
    with pytest.raises(ValueError, match="no layer that supports LoRA"):
        enable_lora(keras.Sequential([keras.layers.Dense(2)]), 2)


def test_cached_generation_sees_adapters_added_and_merged_after_a_first_call():
    """Compiled decoding functions are rebuilt when the variables change (enable/merge)."""
    from nlpbook.generation import generate

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(12)
    model = Llama(LlamaConfig.tiny(vocab_size=30))
    prompt = [[3, 7, 1, 4]]

    def reference(steps=6):  # greedy by full forward passes, no cache, no compiled function
        tokens = list(prompt[0])
        for _ in range(steps):
            tokens.append(int(np.argmax(numpy(model(np.array([tokens], "int32")))[0, -1])))
        return tokens[len(prompt[0]) :]

    for method in ("greedy", "sample"):
        options = {} if method == "greedy" else {"temperature": 0.0}
        assert generate(model, prompt, max_new_tokens=6, method=method, **options)[0] == reference()
    enable_lora(model, rank=2)
    for layer in model._flatten_layers():
        for adapter in getattr(layer, "lora_adapters", dict)().values():
            randomize(adapter, rng)
    adapted = reference()
    for method in ("greedy", "sample"):
        options = {} if method == "greedy" else {"temperature": 0.0}
        assert generate(model, prompt, max_new_tokens=6, method=method, **options)[0] == adapted
    merge_lora(model)
    assert generate(model, prompt, max_new_tokens=6, method="greedy")[0] == reference()
