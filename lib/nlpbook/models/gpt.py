r"""GPT: a decoder-only Transformer pretrained by next-token prediction (causal LM).

.. math::
    x_t = E[w_t] + P[t], \qquad
    x \leftarrow \mathrm{Block}_l(x)\ (l = 1 \dots L), \qquad
    \text{logits}_t = \mathrm{LN}(x_t)\, E^\top

GPT-2's layout (Radford et al. 2019): learned positions, pre-LN blocks (chapter 7's
:class:`nlpbook.layers.TransformerDecoderBlock` without cross-attention, ``norm_first``),
one more layer normalisation after the last block, and an output layer tied to the token
embedding ``E``. Causal self-attention makes position ``t``'s logits depend on tokens
``0 … t`` only, so one forward pass over a block of ``T`` tokens trains ``T`` predictions.
Initial weights follow GPT-2: normal with std 0.02, the two projections that write into
the residual stream scaled by ``1/√(2L)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers, ops

from nlpbook.layers import PositionEmbedding, TransformerDecoderBlock, cache_attention_mask
from nlpbook.models import _config
from nlpbook.models._decoding import CachedDecoding


@dataclass(frozen=True)
class GPTConfig:
    """The sizes of a GPT; defaults are GPT-2 small (124M parameters).

    Named sizes: :meth:`gpt2` (124M), :meth:`char_shakespeare` (nanoGPT's character model;
    10.8M here, where every layer has biases), :meth:`tiny`; change any field with ``dataclasses.replace``.
    """

    vocab_size: int = 50257  # GPT-2's byte-level BPE
    max_length: int = 1024  # the context ("block size"): rows of the position table
    num_layers: int = 12
    num_heads: int = 12  # hidden_size must be a multiple
    hidden_size: int = 768
    intermediate_size: int = 3072  # 4 × hidden_size
    activation: str = "gelu_tanh"  # GPT-2's "gelu_new"
    dropout: float = 0.1  # embeddings, residual branches
    attention_dropout: float = 0.1  # attention weights
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02

    def __post_init__(self):
        _config.check_sizes(self, "hidden_size")

    @classmethod
    def gpt2(cls, **changes) -> GPTConfig:
        """GPT-2 small: 12 layers × 768, 12 heads, context 1024, 124M parameters."""
        return cls(**changes)

    @classmethod
    def char_shakespeare(cls, vocab_size: int = 65, **changes) -> GPTConfig:
        """nanoGPT's ``train_shakespeare_char``: 6 layers × 384, 6 heads, context 256,
        dropout 0.2 (validation loss 1.47 after 5,000 steps of batch 64 on an A100)."""
        sizes = {
            "vocab_size": vocab_size,
            "max_length": 256,
            "num_layers": 6,
            "num_heads": 6,
            "hidden_size": 384,
            "intermediate_size": 1536,
            "dropout": 0.2,
            "attention_dropout": 0.2,
        }
        return cls(**sizes | changes)

    @classmethod
    def tiny(cls, vocab_size: int, **changes) -> GPTConfig:
        """For tests and quick runs: 2 layers × 64, 4 heads, context 64."""
        sizes = {
            "vocab_size": vocab_size,
            "max_length": 64,
            "num_layers": 2,
            "num_heads": 4,
            "hidden_size": 64,
            "intermediate_size": 256,
        }
        return cls(**sizes | changes)

    def to_dict(self) -> dict:
        return _config.to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> GPTConfig:
        return _config.from_dict(cls, values)


def count_parameters(config: GPTConfig, embeddings: bool = True) -> int:
    """Parameters of a :class:`GPT` of this config, counted from the formula.

    Args:
        embeddings: include the token and position tables (Kaplan et al.'s scaling laws
            count without them).
    """
    d, f, n = config.hidden_size, config.intermediate_size, config.num_layers
    per_block = 4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d  # attention, FFN, two norms
    total = n * per_block + 2 * d  # + the final norm
    if embeddings:
        total += config.vocab_size * d + config.max_length * d
    return total


@keras.saving.register_keras_serializable(package="nlpbook")
class GPT(CachedDecoding, keras.Model):
    """A GPT-2-style decoder-only language model.

    Args:
        config: a :class:`GPTConfig` (or its dict).

    Call arguments:
        token_ids: ``(batch, time)`` int ids, ``time <= config.max_length``.
        padding_mask: optional ``(batch, time)``, True at real tokens; padded keys are
            hidden (pad on the right; padding then changes nothing at real positions).
        training: whether dropout is active.

    Returns:
        Next-token logits ``(batch, time, vocab_size)``, float32: row ``t`` scores the token
        after ``token_ids[:, t]``.

    Decoding: ``prefill(prompts, padding_mask, max_length)`` and ``decode_step(tokens,
    state)`` run the model with a key/value cache (see :mod:`nlpbook.models._decoding`);
    ``decode_step`` is a :mod:`nlpbook.generation` step function.

    Example:
        >>> gpt = GPT(GPTConfig.tiny(vocab_size=20))
        >>> tuple(gpt(np.array([[1, 5, 7]])).shape)
        (1, 3, 20)

    References:
        Radford et al. (2018), *Improving Language Understanding by Generative
        Pre-Training*; Radford et al. (2019), *Language Models are Unsupervised Multitask
        Learners*; Karpathy, nanoGPT.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = c = _config.as_config(GPTConfig, config)
        policy = self.dtype_policy
        init = _config.initializer(c)
        self.token_embedding = layers.Embedding(
            c.vocab_size, c.hidden_size, embeddings_initializer=init, dtype=policy,
            name="token_embedding",
        )  # fmt: skip
        self.position_embedding = PositionEmbedding(
            c.max_length, initializer=keras.initializers.TruncatedNormal(stddev=0.01),
            dtype=policy, name="position_embedding",
        )  # fmt: skip
        self.embeddings_dropout = layers.Dropout(c.dropout, dtype=policy, name="embeddings_dropout")
        self.blocks = [
            TransformerDecoderBlock(
                c.num_heads,
                c.intermediate_size,
                cross_attention=False,
                dropout=c.dropout,
                attention_dropout=c.attention_dropout,
                norm_first=True,
                activation=_config.activation(c.activation),
                layer_norm_epsilon=c.layer_norm_epsilon,
                dtype=policy,
                name=f"block_{i}",
            )  # fmt: skip
            for i in range(c.num_layers)
        ]
        self.final_norm = layers.LayerNormalization(
            epsilon=c.layer_norm_epsilon, dtype=policy, name="final_norm"
        )

    def build(self, input_shape=None):
        d = self.config.hidden_size
        self.token_embedding.build((None, None))
        self.position_embedding.build((None, None, d))
        for block in self.blocks:
            block.build((None, None, d))
        self.final_norm.build((None, None, d))
        _config.init_blocks(self.blocks, self.config, scale_residual=True)
        self.built = True

    def hidden_states(self, token_ids, padding_mask=None, training=None):
        """The final-norm outputs ``(batch, time, hidden)`` that the tied head projects."""
        if len(token_ids.shape) != 2:
            raise ValueError(
                f"token_ids must be (batch, time) ids. Received shape {tuple(token_ids.shape)}"
            )
        x = self.position_embedding(self.token_embedding(token_ids))
        x = self.embeddings_dropout(x, training=training)
        for block in self.blocks:
            x = block(x, decoder_padding_mask=padding_mask, training=training)
        return self.final_norm(x)

    def call(self, token_ids, padding_mask=None, training=None):
        x = self.hidden_states(token_ids, padding_mask, training)
        embeddings = ops.cast(self.token_embedding.embeddings, x.dtype)
        return ops.cast(ops.einsum("btd,vd->btv", x, embeddings), "float32")

    def _cache_layout(self):
        c = self.config
        return c.num_layers, c.num_heads, c.hidden_size // c.num_heads

    def _max_positions(self):
        return self.config.max_length

    def _cached_forward(self, token_ids, positions, cache, index, key_mask):
        x = self.position_embedding(self.token_embedding(token_ids), positions=positions)
        mask = cache_attention_mask(key_mask, index, ops.shape(token_ids)[1])
        new_cache = []
        for block, layer_cache in zip(self.blocks, cache, strict=True):
            x, layer_cache = block(
                x, self_attention_cache=layer_cache, cache_index=index,
                self_attention_mask=mask,
            )  # fmt: skip
            new_cache.append(layer_cache)
        x = self.final_norm(x)
        embeddings = ops.cast(self.token_embedding.embeddings, x.dtype)
        return ops.cast(ops.einsum("btd,vd->btv", x, embeddings), "float32"), new_cache

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


__all__ = ["GPT", "GPTConfig", "count_parameters"]
