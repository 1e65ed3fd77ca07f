"""Llama and SmolLM2-135M-Instruct: the contract, keras-hub's LlamaBackbone as reference, a
NumPy float64 transcription of the GGUF file's forward pass, the tokenizer against a plain
Python transcription of byte-level BPE, and the model's answer to a factual question.
"""

import dataclasses

import keras
import numpy as np
import pytest

from nlpbook.models.llama import (
    Llama,
    LlamaConfig,
    assign_weights,
    config_from_gguf,
    count_parameters,
    keras_hub_llama,
    read_gguf,
    unpermute_rotary_rows,
    weight_map,
)
from nlpbook.testing import run_layer_test

TINY = LlamaConfig.tiny(vocab_size=30)
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


# ------------------------------------------------------------------------------ the model


def test_config_checks_and_round_trip():
    with pytest.raises(ValueError, match="must divide num_heads"):
        LlamaConfig(num_heads=9, num_kv_heads=2)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        LlamaConfig(hidden_size=100, num_heads=9)
    with pytest.raises(ValueError, match="rope_base"):
        LlamaConfig(rope_base=0)
    assert LlamaConfig.from_dict(TINY.to_dict()) == TINY
    assert LlamaConfig.smollm2_135m().head_dim == 64


def test_parameter_counts():
    for config in (TINY, dataclasses.replace(TINY, tie_embeddings=False)):
        model = Llama(config)
        model(np.ones((1, 3), "int32"))
        assert model.count_params() == count_parameters(config)
    # SmolLM2-135M: 134,515,008 weights (the GGUF file's 272 tensors hold as many numbers)
    assert count_parameters(LlamaConfig.smollm2_135m()) == 134_515_008


def test_layer_contract():
    tokens = np.random.default_rng(0).integers(1, 30, size=(2, 7)).astype("int32")
    run_layer_test(Llama, {"config": TINY}, tokens, expected_output_shape=(2, 7, 30),
                   mixed_output_dtype="float32", bfloat16_atol=0.1)  # fmt: skip


def test_causal_and_padding():
    model = Llama(TINY)
    rng = np.random.default_rng(1)
    a = rng.integers(1, 30, size=(2, 9)).astype("int32")
    b = a.copy()
    b[:, 5:] = 3
    np.testing.assert_allclose(numpy(model(a))[:, :5], numpy(model(b))[:, :5], atol=1e-5)
    mask = np.ones_like(a, bool)
    mask[1, 6:] = False
    padded = numpy(model(np.where(mask, a, 0), padding_mask=mask))
    np.testing.assert_allclose(padded[1, :6], numpy(model(a[1:, :6]))[0], atol=1e-5)


def hub_logits(hub, tokens, mask=None):
    mask = np.ones_like(tokens) if mask is None else mask
    hidden = hub({"token_ids": tokens, "padding_mask": mask.astype("int32")})
    return numpy(hub.token_embedding(hidden, reverse=True))


def test_equals_keras_hub_llama_with_the_same_weights():
    model = Llama(TINY)
    model.build()
    rng = np.random.default_rng(2)
    for v in model.weights:  # random gains too, so the norms' weights are exercised
        if "scale" in v.path:
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
    tokens = rng.integers(1, 30, size=(2, 11)).astype("int32")
    hub = keras_hub_llama(model)
    np.testing.assert_allclose(numpy(model(tokens)), hub_logits(hub, tokens), atol=1e-4)


def test_unpermute_inverts_llama_cpp_permutation():
    """llama.cpp's converter: rows of each head reordered (0, d/2, 1, d/2+1, …)."""
    heads, d, width = 3, 8, 5
    hf = np.arange(heads * d * width, dtype=np.float32).reshape(heads * d, width)
    permuted = np.empty_like(hf)
    for h in range(heads):
        for i in range(d // 2):  # interleave the two halves of each head
            permuted[h * d + 2 * i] = hf[h * d + i]
            permuted[h * d + 2 * i + 1] = hf[h * d + d // 2 + i]
    np.testing.assert_array_equal(unpermute_rotary_rows(permuted, heads), hf)


def test_weight_map_covers_every_variable():
    model = Llama(TINY)
    model.build()
    assert len(weight_map(TINY)) == len(model.weights)
    untied = dataclasses.replace(TINY, tie_embeddings=False)
    assert "output.weight" in weight_map(untied)


def tiny_gguf_shapes(c):
    """The GGUF (PyTorch-orientation) shape of every tensor of a config."""
    d, f, q, kv = c.hidden_size, c.intermediate_size, c.num_heads * c.head_dim, 0
    kv = c.num_kv_heads * c.head_dim
    shapes = {"token_embd.weight": (c.vocab_size, d), "output_norm.weight": (d,)}
    for i in range(c.num_layers):
        shapes.update({f"blk.{i}.attn_norm.weight": (d,), f"blk.{i}.attn_q.weight": (q, d),
                       f"blk.{i}.attn_k.weight": (kv, d), f"blk.{i}.attn_v.weight": (kv, d),
                       f"blk.{i}.attn_output.weight": (d, q), f"blk.{i}.ffn_norm.weight": (d,),
                       f"blk.{i}.ffn_gate.weight": (f, d), f"blk.{i}.ffn_up.weight": (f, d),
                       f"blk.{i}.ffn_down.weight": (d, f)})  # fmt: skip
    return shapes


def test_assign_weights_checks_every_shape_and_names_the_tensor():
    model = Llama(TINY)
    rng = np.random.default_rng(4)
    tensors = {k: rng.normal(size=s).astype(np.float32) for k, s in tiny_gguf_shapes(TINY).items()}
    assign_weights(model, tensors)
    np.testing.assert_array_equal(numpy(model.blocks[1].ffn.down_kernel),
                                  tensors["blk.1.ffn_down.weight"].T)  # fmt: skip
    q = tensors["blk.0.attn_q.weight"]  # (heads * head_dim, d) → (d, heads, head_dim)
    np.testing.assert_array_equal(numpy(model.blocks[0].attention.query_kernel)[:, 1, :],
                                  q[16:32].T)  # fmt: skip
    wrong = {**tensors, "blk.1.ffn_down.weight": tensors["blk.1.ffn_up.weight"]}
    with pytest.raises(ValueError, match=r"blk\.1\.ffn_down\.weight: shape \(128, 64\)"):
        assign_weights(model, wrong)
    with pytest.raises(KeyError, match="lacks 1 tensor"):
        assign_weights(model, {k: v for k, v in tensors.items() if k != "output_norm.weight"})
    with pytest.raises(KeyError, match="does not use"):
        assign_weights(model, {**tensors, "rope_freqs.weight": np.zeros(2, np.float32)})


def test_gguf_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        read_gguf(tmp_path / "missing.gguf")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(ValueError, match="not a readable GGUF file"):
        read_gguf(bad)
    with pytest.raises(ValueError, match="expected a 'llama' GGUF file"):
        config_from_gguf({"general.architecture": "gpt2"})


# ------------------------------------------------------------------------------ SmolLM2


@pytest.fixture(scope="module")
def smollm2():
    from nlpbook.datasets import require
    from nlpbook.models.llama import load_smollm2

    require("smollm2-135m")  # skips (fails under CI=true) when the package is missing
    return load_smollm2()


@pytest.fixture(scope="module")
def raw_gguf():
    """The file's tensors as stored: dequantised by the gguf package, rows NOT un-permuted."""
    import gguf

    from nlpbook.datasets import require

    path = require("smollm2-135m")[GGUF]
    reader = gguf.GGUFReader(str(path))
    tensors = {}
    for t in reader.tensors:
        shape = tuple(int(n) for n in t.shape[::-1])
        tensors[t.name] = gguf.quants.dequantize(t.data, t.tensor_type).reshape(shape)
    return tensors


def numpy_smollm2(tensors, tokens, layers=30, heads=9, kv_heads=3, base=1e5, eps=1e-5):
    """float64 forward pass of llama.cpp's graph on the stored tensors: RMSNorm, rotary on
    *adjacent* pairs (2i, 2i+1) as llama.cpp rotates them, grouped-query causal attention,
    SwiGLU, tied head."""
    w = {k: v.astype(np.float64) for k, v in tensors.items()}
    x = w["token_embd.weight"][tokens]  # (T, d)
    t, d = x.shape
    hd = d // heads

    def rms(v, g):
        return v / np.sqrt((v * v).mean(-1, keepdims=True) + eps) * g

    def rope(v):  # v (T, h, hd): pair (2i, 2i+1) turned by pos * base^(-2i/hd)
        out = v.copy()
        for pos in range(t):
            for i in range(hd // 2):
                a = pos * base ** (-2 * i / hd)
                c, s = np.cos(a), np.sin(a)
                x0, x1 = v[pos, :, 2 * i], v[pos, :, 2 * i + 1]
                out[pos, :, 2 * i], out[pos, :, 2 * i + 1] = x0 * c - x1 * s, x0 * s + x1 * c
        return out

    causal = np.tril(np.ones((t, t), bool))
    for i in range(layers):
        p = f"blk.{i}."
        h = rms(x, w[p + "attn_norm.weight"])
        q = rope((h @ w[p + "attn_q.weight"].T).reshape(t, heads, hd))
        k = rope((h @ w[p + "attn_k.weight"].T).reshape(t, kv_heads, hd))
        v = (h @ w[p + "attn_v.weight"].T).reshape(t, kv_heads, hd)
        out = np.zeros((t, heads, hd))
        for head in range(heads):
            g = head // (heads // kv_heads)
            scores = q[:, head] @ k[:, g].T / np.sqrt(hd)
            scores = np.where(causal, scores, -np.inf)
            p_att = np.exp(scores - scores.max(-1, keepdims=True))
            p_att /= p_att.sum(-1, keepdims=True)
            out[:, head] = p_att @ v[:, g]
        x = x + out.reshape(t, d) @ w[p + "attn_output.weight"].T
        h = rms(x, w[p + "ffn_norm.weight"])
        gate = h @ w[p + "ffn_gate.weight"].T
        x = (
            x
            + ((gate / (1 + np.exp(-gate))) * (h @ w[p + "ffn_up.weight"].T))
            @ w[p + "ffn_down.weight"].T
        )
    return rms(x, w["output_norm.weight"]) @ w["token_embd.weight"].T


def chat_ids(tokenizer, question):
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}])
    return tokenizer.encode_ids(prompt)


def test_smollm2_config_and_tokenizer_facts(smollm2):
    model, tok = smollm2
    c = model.config
    assert (c.num_layers, c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim) == (
        30, 576, 9, 3, 64,
    )  # fmt: skip
    assert (c.intermediate_size, c.rope_base, c.rms_norm_epsilon) == (1536, 1e5, 1e-5)
    assert c.tie_embeddings and c.vocab_size == tok.vocab_size == 49152
    assert tok.token_to_id("<|im_start|>") == 1 and tok.eos_id == tok.token_to_id("<|im_end|>") == 2
    assert tok.pre_tokenizer == "smollm"
    prompt = tok.apply_chat_template([{"role": "user", "content": "Hi"}])
    assert prompt == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )
    ids = tok.encode_ids(prompt)
    assert ids[0] == 1 and ids.count(2) == 2  # the specials are single tokens


@pytest.mark.slow
def test_smollm2_equals_numpy_transcription_of_the_gguf_graph(smollm2, raw_gguf):
    model, tok = smollm2
    tokens = tok.encode_ids("The capital of France is")
    want = numpy_smollm2(raw_gguf, np.array(tokens))
    got = numpy(model(np.array([tokens], "int32")))[0]
    # float32 against float64 through 30 blocks, logits up to 27: 6.1e-5 measured
    np.testing.assert_allclose(got, want, atol=5e-4)
    assert (got.argmax(-1) == want.argmax(-1)).all()


@pytest.mark.slow
def test_smollm2_equals_keras_hub_llama(smollm2):
    model, tok = smollm2
    hub = keras_hub_llama(model)
    tokens = np.array([tok.encode_ids("Keras runs on TensorFlow, JAX and PyTorch.")], "int32")
    np.testing.assert_allclose(numpy(model(tokens)), hub_logits(hub, tokens), atol=5e-4)


@pytest.mark.slow
def test_smollm2_answers_factual_questions(smollm2):
    model, tok = smollm2
    for question, answer in [("What is the capital of France?", "Paris"),
                             ("What is the capital of Japan?", "Tokyo")]:  # fmt: skip
        ids = chat_ids(tok, question)
        logits, state = model.prefill(np.array([ids]), max_length=len(ids) + 16)
        out = []
        for _ in range(16):
            token = int(numpy(logits)[0].argmax())
            if token == tok.eos_id:
                break
            out.append(token)
            logits, state = model.decode_step(np.array([token], "int32"), state)
        assert answer in tok.decode_ids(out), tok.decode_ids(out)
