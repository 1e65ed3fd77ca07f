r"""Llama: the decoder of Llama 2/3, Mistral, Qwen and SmolLM, and a loader for GGUF files.

.. math::
    x \leftarrow x + \mathrm{GQA}(\mathrm{RMSNorm}(x), \mathrm{RoPE}), \qquad
    x \leftarrow x + \mathrm{SwiGLU}(\mathrm{RMSNorm}(x)), \qquad
    \text{logits} = \mathrm{RMSNorm}(x)\, W_{\text{out}}

What changed since GPT-2 (Touvron et al. 2023): RMSNorm instead of LayerNorm (no mean, no
bias), rotary positions applied to queries and keys in every block instead of a learned
table added once, grouped-query attention (fewer key/value heads, a smaller KV cache), the
SwiGLU feed-forward network, and no biases anywhere. The layers are
:class:`nlpbook.layers.RMSNorm`, :class:`nlpbook.layers.GroupedQueryAttention` and
:class:`nlpbook.layers.GatedFeedForward`.

:func:`read_gguf` reads a GGUF file (llama.cpp's format: metadata and quantised tensors) with
the ``gguf`` package, dequantises every tensor to float32 and undoes the row permutation that
llama.cpp's converter applies to the query and key projections (it stores each head's rows
in the interleaved order that its rotary kernel expects; our rotary is rotate-half, the
order of the Hugging Face checkpoints). :func:`load_smollm2` builds the model and its
tokenizer from the registered SmolLM2-135M-Instruct file, converting it once and keeping the
float32 weights in the data cache under the file's sha256.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_int
from nlpbook.layers import (
    GatedFeedForward,
    GroupedQueryAttention,
    RMSNorm,
    cache_attention_mask,
)
from nlpbook.models import _config
from nlpbook.models._decoding import CachedDecoding


@dataclass(frozen=True)
class LlamaConfig:
    """The sizes of a Llama-architecture decoder; defaults are SmolLM2-135M.

    Named sizes: :meth:`smollm2_135m`, :meth:`tiny`; a GGUF file's own sizes come from
    :func:`read_gguf`.
    """

    vocab_size: int = 49152
    max_length: int = 8192  # the context the model was trained for (RoPE has no table)
    num_layers: int = 30
    num_heads: int = 9  # query heads
    num_kv_heads: int = 3  # key/value heads (grouped-query attention)
    hidden_size: int = 576
    intermediate_size: int = 1536  # SwiGLU's hidden width
    rope_base: float = 100000.0  # SmolLM2: 1e5 (Llama 2: 1e4, Llama 3: 5e5)
    rms_norm_epsilon: float = 1e-5
    tie_embeddings: bool = True  # output head = token embedding (small models)
    initializer_range: float = 0.02

    def __post_init__(self):
        for name in ("vocab_size", "max_length", "num_layers", "num_heads", "num_kv_heads",
                     "hidden_size", "intermediate_size"):  # fmt: skip
            check_int(name, getattr(self, name), 1)
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_heads "
                f"({self.num_heads})"
            )
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_kv_heads ({self.num_kv_heads}) must divide num_heads ({self.num_heads})"
            )
        if (self.hidden_size // self.num_heads) % 2:
            raise ValueError("rotary positions need an even head size (hidden_size / num_heads)")
        for name in ("rope_base", "rms_norm_epsilon", "initializer_range"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number > 0. Received: {value!r}")
        if not isinstance(self.tie_embeddings, bool):
            raise ValueError(f"tie_embeddings must be a bool. Received {self.tie_embeddings!r}")

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @classmethod
    def smollm2_135m(cls, **changes) -> LlamaConfig:
        """SmolLM2-135M: 30 blocks × 576, 9 query / 3 key-value heads of 64, SwiGLU 1,536."""
        return cls(**changes)

    @classmethod
    def tiny(cls, vocab_size: int, **changes) -> LlamaConfig:
        """For tests: 2 blocks × 64, 4 query / 2 key-value heads, context 128."""
        sizes = {"vocab_size": vocab_size, "max_length": 128, "num_layers": 2, "num_heads": 4,
                 "num_kv_heads": 2, "hidden_size": 64, "intermediate_size": 128,
                 "rope_base": 10000.0}  # fmt: skip
        return cls(**sizes | changes)

    def to_dict(self) -> dict:
        return _config.to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> LlamaConfig:
        return _config.from_dict(cls, values)


def count_parameters(config: LlamaConfig) -> int:
    """Parameters of a :class:`Llama` of this config, from the formula."""
    d, f, hd = config.hidden_size, config.intermediate_size, config.head_dim
    attention = d * config.num_heads * hd * 2 + d * config.num_kv_heads * hd * 2
    per_block = attention + 3 * d * f + 2 * d
    head = 0 if config.tie_embeddings else d * config.vocab_size
    return config.num_layers * per_block + config.vocab_size * d + d + head


@keras.saving.register_keras_serializable(package="nlpbook")
class LlamaBlock(keras.layers.Layer):
    """One Llama block: pre-RMSNorm grouped-query attention and pre-RMSNorm SwiGLU.

    Args:
        config: the model's :class:`LlamaConfig` (or its dict).

    Call arguments:
        x: ``(batch, T, hidden)``.
        padding_mask: ``(batch, T)``, True at real tokens (without a cache).
        positions: rotary positions ``(T,)`` or ``(batch, T)``.
        cache, cache_index, attention_mask: incremental decoding (see
            :class:`nlpbook.layers.GroupedQueryAttention`).

    Returns:
        ``(batch, T, hidden)``, and the updated cache when one is given.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = c = _config.as_config(LlamaConfig, config)
        policy = self.dtype_policy
        self.attention_norm = RMSNorm(c.rms_norm_epsilon, dtype=policy, name="attention_norm")
        self.attention = GroupedQueryAttention(
            c.num_heads, c.num_kv_heads, head_dim=c.head_dim, rope_base=c.rope_base,
            dtype=policy, name="attention",
        )  # fmt: skip
        self.ffn_norm = RMSNorm(c.rms_norm_epsilon, dtype=policy, name="ffn_norm")
        self.ffn = GatedFeedForward(c.intermediate_size, "silu", dtype=policy, name="ffn")

    def build(self, x_shape):
        self.attention_norm.build(x_shape)
        self.attention.build(x_shape)
        self.ffn_norm.build(x_shape)
        self.ffn.build(x_shape)

    def call(self, x, padding_mask=None, positions=None, cache=None, cache_index=None,
             attention_mask=None):  # fmt: skip
        h = self.attention_norm(x)
        if cache is None:
            a = self.attention(h, padding_mask=padding_mask, use_causal_mask=True,
                               positions=positions)  # fmt: skip
        else:
            a, cache = self.attention(
                h, attention_mask=attention_mask, positions=positions, cache=cache,
                cache_index=cache_index,
            )  # fmt: skip
        x = x + a
        x = x + self.ffn(self.ffn_norm(x))
        return x if cache is None else (x, cache)

    def compute_output_shape(self, x_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}


@keras.saving.register_keras_serializable(package="nlpbook")
class Llama(CachedDecoding, keras.Model):
    """A Llama-architecture decoder-only language model.

    Args:
        config: a :class:`LlamaConfig` (or its dict).

    Call arguments:
        token_ids: ``(batch, time)`` int ids.
        padding_mask: optional ``(batch, time)``, True at real tokens (pad on the right).

    Returns:
        Next-token logits ``(batch, time, vocab_size)``, float32.

    Decoding: ``prefill`` and ``decode_step`` as for :class:`nlpbook.models.GPT` (a static
    key/value cache of ``num_kv_heads`` heads per layer).

    Example:
        >>> model = Llama(LlamaConfig.tiny(vocab_size=30))
        >>> tuple(model(np.array([[1, 2, 3]])).shape)
        (1, 3, 30)

    References:
        Touvron et al. (2023), *LLaMA* and *Llama 2*; Allal et al. (2025), *SmolLM2*.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = c = _config.as_config(LlamaConfig, config)
        policy = self.dtype_policy
        init = _config.initializer(c)
        self.token_embedding = layers.Embedding(
            c.vocab_size, c.hidden_size, embeddings_initializer=init, dtype=policy,
            name="token_embedding",
        )  # fmt: skip
        self.blocks = [LlamaBlock(c, dtype=policy, name=f"block_{i}") for i in range(c.num_layers)]
        self.final_norm = RMSNorm(c.rms_norm_epsilon, dtype=policy, name="final_norm")
        self.lm_head = None
        if not c.tie_embeddings:
            self.lm_head = layers.Dense(c.vocab_size, use_bias=False, kernel_initializer=init,
                                        dtype=policy, name="lm_head")  # fmt: skip

    def build(self, input_shape=None):
        d = self.config.hidden_size
        self.token_embedding.build((None, None))
        for block in self.blocks:
            block.build((None, None, d))
        self.final_norm.build((None, None, d))
        if self.lm_head is not None:
            self.lm_head.build((None, None, d))
        self.built = True

    def _logits(self, x):
        if self.lm_head is not None:
            return ops.cast(self.lm_head(x), "float32")
        embeddings = ops.cast(self.token_embedding.embeddings, x.dtype)
        return ops.cast(ops.einsum("btd,vd->btv", x, embeddings), "float32")

    def hidden_states(self, token_ids, padding_mask=None):
        """The final-norm outputs ``(batch, time, hidden)`` that the head projects."""
        if len(token_ids.shape) != 2:
            raise ValueError(
                f"token_ids must be (batch, time) ids. Received shape {tuple(token_ids.shape)}"
            )
        x = self.token_embedding(token_ids)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask)
        return self.final_norm(x)

    def call(self, token_ids, padding_mask=None):
        return self._logits(self.hidden_states(token_ids, padding_mask))

    def _cache_layout(self):
        c = self.config
        return c.num_layers, c.num_kv_heads, c.head_dim

    def _cached_forward(self, token_ids, positions, cache, index, key_mask):
        x = self.token_embedding(token_ids)
        mask = cache_attention_mask(key_mask, index, ops.shape(token_ids)[1])
        new_cache = []
        for block, layer_cache in zip(self.blocks, cache, strict=True):
            x, layer_cache = block(x, positions=positions, cache=layer_cache, cache_index=index,
                                   attention_mask=mask)  # fmt: skip
            new_cache.append(layer_cache)
        return self._logits(self.final_norm(x)), new_cache

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def keras_hub_llama(model: Llama):
    """keras-hub's ``LlamaBackbone`` of ``model``'s sizes, holding ``model``'s weights.

    The reference our tests and benchmarks compare with: its logits are
    ``backbone.token_embedding(backbone(inputs), reverse=True)``.
    """
    from keras_hub.models import LlamaBackbone

    if not model.built:
        model.build()
    c = model.config
    if not c.tie_embeddings:
        raise ValueError("keras_hub_llama copies tied-embedding models only")
    hub = LlamaBackbone(
        vocabulary_size=c.vocab_size, num_layers=c.num_layers, num_query_heads=c.num_heads,
        hidden_dim=c.hidden_size, intermediate_dim=c.intermediate_size,
        num_key_value_heads=c.num_kv_heads, rope_max_wavelength=c.rope_base,
        layer_norm_epsilon=c.rms_norm_epsilon, tie_word_embeddings=True,
        dtype=model.dtype_policy,
    )  # fmt: skip
    hub.token_embedding.embeddings.assign(model.token_embedding.embeddings)
    for ours, theirs in zip(model.blocks, hub.transformer_layers, strict=True):
        att = theirs._self_attention_layer
        pairs = [
            (ours.attention_norm.scale, theirs._self_attention_layernorm.scale),
            (ours.attention.query_kernel, att._query_dense.kernel),
            (ours.attention.key_kernel, att._key_dense.kernel),
            (ours.attention.value_kernel, att._value_dense.kernel),
            (ours.attention.output_kernel, att._output_dense.kernel),
            (ours.ffn_norm.scale, theirs._feedforward_layernorm.scale),
            (ours.ffn.gate_kernel, theirs._feedforward_gate_dense.kernel),
            (ours.ffn.up_kernel, theirs._feedforward_intermediate_dense.kernel),
            (ours.ffn.down_kernel, theirs._feedforward_output_dense.kernel),
        ]
        for a, b in pairs:
            if tuple(a.shape) != tuple(b.shape):
                raise ValueError(f"{a.path} {tuple(a.shape)} != {b.path} {tuple(b.shape)}")
            b.assign(a)
    hub.layer_norm.scale.assign(model.final_norm.scale)
    return hub


# ---------------------------------------------------------------------------------- GGUF


def _field_value(field):
    value = field.contents()
    return value


def read_gguf_metadata(path) -> dict:
    """A GGUF file's metadata as a dict of Python values (no tensors are read)."""
    reader = _reader(path)
    return {name: _field_value(field) for name, field in reader.fields.items()}


def _reader(path):
    import gguf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF file at {path}")
    try:
        return gguf.GGUFReader(str(path))
    except Exception as err:  # the gguf package raises ValueError/struct errors on bad files
        raise ValueError(f"{path} is not a readable GGUF file: {err}") from err


def config_from_gguf(fields: dict) -> LlamaConfig:
    """The :class:`LlamaConfig` that a GGUF file's ``llama.*`` metadata describes."""
    arch = fields.get("general.architecture")
    if arch != "llama":
        raise ValueError(f"expected a 'llama' GGUF file. Received architecture {arch!r}")

    def need(key):
        if key not in fields:
            raise KeyError(f"the GGUF file has no {key!r} metadata")
        return fields[key]

    hidden = int(need("llama.embedding_length"))
    heads = int(need("llama.attention.head_count"))
    rope_dims = fields.get("llama.rope.dimension_count", hidden // heads)
    if rope_dims != hidden // heads:
        raise ValueError(f"partial rotary ({rope_dims} of {hidden // heads} dims) is not supported")
    vocab = fields.get("llama.vocab_size") or len(need("tokenizer.ggml.tokens"))

    def float32(value):  # GGUF stores float32: 1e-5 arrives as 9.99999975e-06
        return float(np.format_float_positional(np.float32(value), unique=True))

    return LlamaConfig(
        vocab_size=int(vocab),
        max_length=int(need("llama.context_length")),
        num_layers=int(need("llama.block_count")),
        num_heads=heads,
        num_kv_heads=int(fields.get("llama.attention.head_count_kv", heads)),
        hidden_size=hidden,
        intermediate_size=int(need("llama.feed_forward_length")),
        rope_base=float32(fields.get("llama.rope.freq_base", 10000.0)),
        rms_norm_epsilon=float32(need("llama.attention.layer_norm_rms_epsilon")),
        tie_embeddings="output.weight" not in fields.get("_tensor_names", ()),
    )


def unpermute_rotary_rows(weight: np.ndarray, num_heads: int) -> np.ndarray:
    """Undo llama.cpp's converter permutation of a query or key projection.

    ``weight`` is ``(num_heads * head_dim, d_model)``, rows of head ``h`` in the order
    ``0, d/2, 1, d/2 + 1, …`` (interleaved pairs, what llama.cpp's rotary kernel rotates);
    the result has them back in the order ``0 … d/2 - 1, d/2 … d - 1`` (pairs ``i`` and
    ``i + d/2``, what rotate-half rotary expects).
    """
    rows = weight.shape[0]
    if rows % (2 * num_heads):
        raise ValueError(f"{rows} rows do not split into {num_heads} heads of pairs")
    half = rows // num_heads // 2
    return weight.reshape(num_heads, half, 2, -1).swapaxes(1, 2).reshape(weight.shape)


def read_gguf(path) -> tuple[LlamaConfig, dict[str, np.ndarray], dict]:
    """Read a Llama GGUF file: its config, its float32 tensors and its metadata.

    Tensors keep their GGUF names (``token_embd.weight``, ``blk.0.attn_q.weight``…) in the
    PyTorch orientation ``(out, in)``, dequantised with the ``gguf`` package, the query and key
    rows un-permuted (:func:`unpermute_rotary_rows`).

    Raises:
        FileNotFoundError, ValueError (not GGUF, not Llama, an unknown quantisation).
    """
    from gguf import quants

    reader = _reader(path)
    fields = {name: _field_value(field) for name, field in reader.fields.items()}
    fields["_tensor_names"] = tuple(t.name for t in reader.tensors)
    config = config_from_gguf(fields)
    tensors = {}
    for tensor in reader.tensors:
        try:
            value = quants.dequantize(tensor.data, tensor.tensor_type)
        except NotImplementedError as err:
            raise ValueError(
                f"{tensor.name}: quantisation {tensor.tensor_type.name} cannot be dequantised"
            ) from err
        value = np.asarray(value, np.float32).reshape(tuple(int(n) for n in tensor.shape[::-1]))
        if tensor.name.endswith("attn_q.weight"):
            value = unpermute_rotary_rows(value, config.num_heads)
        elif tensor.name.endswith("attn_k.weight"):
            value = unpermute_rotary_rows(value, config.num_kv_heads)
        tensors[tensor.name] = value
    return config, tensors, fields


def weight_map(config: LlamaConfig) -> dict[str, tuple[str, object]]:
    """GGUF tensor name → (our variable path, how the array becomes the variable's value)."""
    d, hq, hkv, hd = config.hidden_size, config.num_heads, config.num_kv_heads, config.head_dim

    def same(a):
        return a

    def transpose(a):
        return a.T

    table = {"token_embd.weight": ("token_embedding/embeddings", same),
             "output_norm.weight": ("final_norm/scale", same)}  # fmt: skip
    if not config.tie_embeddings:
        table["output.weight"] = ("lm_head/kernel", transpose)
    for i in range(config.num_layers):
        b = f"block_{i}"
        table.update({
            f"blk.{i}.attn_norm.weight": (f"{b}/attention_norm/scale", same),
            f"blk.{i}.attn_q.weight": (f"{b}/attention/query_kernel",
                                       lambda a: a.T.reshape(d, hq, hd)),
            f"blk.{i}.attn_k.weight": (f"{b}/attention/key_kernel",
                                       lambda a: a.T.reshape(d, hkv, hd)),
            f"blk.{i}.attn_v.weight": (f"{b}/attention/value_kernel",
                                       lambda a: a.T.reshape(d, hkv, hd)),
            f"blk.{i}.attn_output.weight": (f"{b}/attention/output_kernel",
                                            lambda a: a.T.reshape(hq, hd, d)),
            f"blk.{i}.ffn_norm.weight": (f"{b}/ffn_norm/scale", same),
            f"blk.{i}.ffn_gate.weight": (f"{b}/ffn/gate_kernel", transpose),
            f"blk.{i}.ffn_up.weight": (f"{b}/ffn/up_kernel", transpose),
            f"blk.{i}.ffn_down.weight": (f"{b}/ffn/down_kernel", transpose),
        })  # fmt: skip
    return table


def _variables(model: Llama) -> dict[str, object]:
    """Our variables by path relative to the model (``block_0/attention/query_kernel``)."""
    if not model.built:
        model.build()
    out = {}
    for layer, prefix in [(model.token_embedding, "token_embedding"),
                          (model.final_norm, "final_norm")] + (
            [(model.lm_head, "lm_head")] if model.lm_head is not None else []):  # fmt: skip
        for v in layer.weights:
            out[f"{prefix}/{v.name}"] = v
    for i, block in enumerate(model.blocks):
        for sub in ("attention_norm", "attention", "ffn_norm", "ffn"):
            for v in getattr(block, sub).weights:
                out[f"block_{i}/{sub}/{v.name}"] = v
    return out


def assign_weights(model: Llama, tensors: dict[str, np.ndarray]) -> None:
    """Copy GGUF-named float32 tensors (from :func:`read_gguf`) into ``model``.

    Every variable must get exactly one tensor of the right shape; errors name the tensor.
    """
    variables = _variables(model)
    table = weight_map(model.config)
    missing = sorted(set(table) - set(tensors))
    if missing:
        raise KeyError(f"the checkpoint lacks {len(missing)} tensor(s): {missing[:5]}")
    unused = sorted(set(tensors) - set(table))
    if unused:
        raise KeyError(f"the checkpoint has tensor(s) the model does not use: {unused[:5]}")
    for name, (path, convert) in table.items():
        value = convert(tensors[name])
        variable = variables[path]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"{name}: shape {tuple(tensors[name].shape)} gives {tuple(value.shape)}, but "
                f"{path} is {tuple(variable.shape)}"
            )
        variable.assign(value.astype(variable.dtype))


# ------------------------------------------------------------------- SmolLM2 and the cache

_FORMAT = "nlpbook-llama-gguf-v1"


def _converted_path(source_sha256: str) -> Path:
    from nlpbook.datasets.registry import data_dir

    return data_dir() / "smollm2-135m" / f"converted-{source_sha256[:16]}.safetensors"


def converted_tensors(path, sha256: str) -> tuple[LlamaConfig, dict[str, np.ndarray], dict]:
    """:func:`read_gguf`, converted once: the float32 tensors are kept in the data cache as
    safetensors under the GGUF file's sha256 and read from there afterwards (~0.5 s instead
    of ~8 s). The metadata (config, tokenizer) is read from the GGUF file each time.
    """
    from safetensors.numpy import load_file, save_file

    target = _converted_path(sha256)
    fields = read_gguf_metadata(path)
    if target.is_file():
        from safetensors import safe_open

        with safe_open(str(target), "np") as f:
            meta = f.metadata() or {}
        if meta.get("format") == _FORMAT and meta.get("source_sha256") == sha256:
            tensors = load_file(str(target))
            fields["_tensor_names"] = tuple(sorted(tensors))
            return config_from_gguf(fields), tensors, fields
    config, tensors, fields = read_gguf(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    save_file(tensors, str(partial), metadata={"format": _FORMAT, "source_sha256": sha256})
    os.replace(partial, target)  # never a half-written file under the final name
    return config, tensors, fields


@functools.lru_cache(maxsize=2)
def _smollm2(dtype: str):
    from nlpbook.datasets import fetch, get
    from nlpbook.text.bpe import ByteLevelBPETokenizer

    name = "SmolLM2-135M-Instruct.Q4_1.gguf"
    path = fetch("smollm2-135m")[name]
    sha256 = next(f.sources[0].sha256 for f in get("smollm2-135m").files if f.name == name)
    config, tensors, fields = converted_tensors(path, sha256)
    model = Llama(config, dtype=dtype)
    assign_weights(model, tensors)
    tokenizer = ByteLevelBPETokenizer.from_gguf(fields)
    return model, tokenizer


def load_smollm2(dtype: str = "float32") -> tuple[Llama, object]:
    """SmolLM2-135M-Instruct (Q4_1 GGUF, dequantised) as our :class:`Llama` and its tokenizer.

    Loaded once per process (later calls return the same objects); the dequantised weights
    are converted once and cached (see :func:`converted_tensors`).

    Returns:
        ``(model, tokenizer)``: a :class:`Llama` and a
        :class:`nlpbook.text.bpe.ByteLevelBPETokenizer` with the chat template.
    """
    return _smollm2(dtype)


__all__ = [
    "Llama",
    "LlamaBlock",
    "LlamaConfig",
    "assign_weights",
    "config_from_gguf",
    "converted_tensors",
    "count_parameters",
    "keras_hub_llama",
    "load_smollm2",
    "read_gguf",
    "read_gguf_metadata",
    "unpermute_rotary_rows",
    "weight_map",
]
