r"""Transformer encoder and decoder blocks, from our :class:`MultiHeadAttention`.

Each block is a stack of sub-layers (self-attention, cross-attention in a decoder, and a
position-wise feed-forward network ``FFN(x) = act(x W_1 + b_1) W_2 + b_2``), each wrapped in
a residual connection and layer normalisation, in one of two orders (:math:`f` is the
sub-layer, :math:`\mathrm{D}` dropout):

* post-LN, the paper's: :math:`x \leftarrow \mathrm{LN}(x + \mathrm{D}(f(x)))`;
* pre-LN (GPT-2 and most models since): :math:`x \leftarrow x + \mathrm{D}(f(\mathrm{LN}(x)))`,
  which trains deep stacks without a learning-rate warm-up; a pre-LN stack needs one more
  ``LayerNormalization`` after its last block (GPT-2's ``ln_f``), which is not part of the block.

Each attention uses ``key_dim = d_model // num_heads``, so ``d_model`` (the input's last axis)
must be a multiple of ``num_heads``. ``dropout`` is the paper's residual dropout, on each
sub-layer's output; ``attention_dropout`` drops attention weights. Position information is
not added here (see :mod:`nlpbook.layers.positional`).
"""

from __future__ import annotations

import keras
import numpy as np

from nlpbook._checks import check_bool, check_heads, check_int, check_rate
from nlpbook.layers._cell import get_activation
from nlpbook.layers.attention import MultiHeadAttention


def _check_epsilon(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value <= 0:
        raise ValueError(f"layer_norm_epsilon must be > 0. Received: layer_norm_epsilon={value!r}")
    return float(value)


class _Block(keras.layers.Layer):
    """What both blocks share: arguments, the FFN, and the residual + norm wrapping."""

    def __init__(
        self, num_heads, ff_dim, dropout=0.1, attention_dropout=0.0, norm_first=False,
        activation="relu", layer_norm_epsilon=1e-5, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads, 1)
        self.ff_dim = check_int("ff_dim", ff_dim, 1)
        self.dropout = check_rate("dropout", dropout)
        self.attention_dropout = check_rate("attention_dropout", attention_dropout)
        self.norm_first = check_bool("norm_first", norm_first)
        self.activation = get_activation("activation", activation)
        self.layer_norm_epsilon = _check_epsilon(layer_norm_epsilon)
        self.supports_masking = True

    def _d_model(self, x_shape) -> int:
        d_model = x_shape[-1]
        if len(x_shape) != 3 or d_model is None:
            raise ValueError(
                f"{type(self).__name__} expects inputs (batch, time, d_model) with a known "
                f"d_model. Received shape {tuple(x_shape)}"
            )
        check_heads("d_model", d_model, self.num_heads)  # d_model: the inputs' last axis
        return d_model

    def _attention(self, name, d_model, query_shape, value_shape):
        layer = MultiHeadAttention(
            self.num_heads, d_model // self.num_heads, dropout=self.attention_dropout,
            dtype=self.dtype_policy, name=name,
        )  # fmt: skip
        layer.build(query_shape, value_shape)
        return layer

    def _norm(self, name, x_shape):
        layer = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        layer.build(x_shape)
        return layer

    def _build_ffn(self, x_shape, d_model):
        self.ffn_inner = keras.layers.Dense(
            self.ff_dim, activation=self.activation, dtype=self.dtype_policy, name="ffn_inner"
        )
        self.ffn_inner.build(x_shape)
        self.ffn_output = keras.layers.Dense(d_model, dtype=self.dtype_policy, name="ffn_output")
        self.ffn_output.build((*x_shape[:-1], self.ff_dim))
        self.ffn_norm = self._norm("ffn_norm", x_shape)
        self.residual_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _residual(self, x, norm, sublayer, training):
        """Post-LN ``LN(x + D(f(x)))`` or pre-LN ``x + D(f(LN(x)))``; ``f`` returns (y, extra)."""
        y, extra = sublayer(norm(x) if self.norm_first else x)
        x = x + self.residual_dropout(y, training=training)
        return (x if self.norm_first else norm(x)), extra

    def _ffn(self, x, training):
        def ffn(h):
            return self.ffn_output(self.ffn_inner(h)), None

        return self._residual(x, self.ffn_norm, ffn, training)[0]

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "norm_first": self.norm_first,
            "activation": keras.activations.serialize(self.activation),
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class TransformerEncoderBlock(_Block):
    """One Transformer encoder layer: self-attention and a feed-forward network.

    Args:
        num_heads: number of attention heads; ``d_model`` must be a multiple of it.
        ff_dim: width of the feed-forward network's hidden layer (``d_ff``, 2048 in the paper).
        dropout: residual dropout rate on each sub-layer's output while training.
        attention_dropout: dropout rate on the attention weights while training.
        norm_first: ``False`` for post-LN (the paper), ``True`` for pre-LN (GPT-2).
        activation: activation of the feed-forward hidden layer (``"relu"``, ``"gelu"``…).
        layer_norm_epsilon: the ``ε`` of both layer normalisations.

    Call arguments:
        x: ``(batch, time, d_model)``.
        padding_mask: ``(batch, time)`` booleans, True at real tokens; no position attends
            to a padded one. Default: the Keras mask of ``x``, if any (``mask``).
        attention_mask: ``(batch, time, time)`` booleans, True where a query may attend.
        return_attention_scores: also return ``{"self_attention": (batch, heads, T, T)}``.
        training: whether dropout is active.

    Returns:
        ``(batch, time, d_model)``, or ``(output, weights)`` with ``return_attention_scores``.
        Outputs at padded positions are computed but meaningless.

    Example:
        >>> block = TransformerEncoderBlock(num_heads=2, ff_dim=16)
        >>> x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
        >>> y, w = block(x, padding_mask=np.array([[1, 1, 1, 0, 0]] * 2, bool),
        ...              return_attention_scores=True)
        >>> tuple(y.shape), tuple(w["self_attention"].shape)
        ((2, 5, 8), (2, 2, 5, 5))

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS, §3.1;
        Xiong et al. (2020), *On Layer Normalization in the Transformer Architecture*, ICML.
    """

    def build(self, x_shape):
        d_model = self._d_model(x_shape)
        self.self_attn = self._attention("self_attn", d_model, x_shape, x_shape)
        self.self_attn_norm = self._norm("self_attn_norm", x_shape)
        self._build_ffn(x_shape, d_model)

    def call(
        self, x, padding_mask=None, attention_mask=None, return_attention_scores=False,
        training=None, mask=None,
    ):  # fmt: skip
        padding_mask = mask if padding_mask is None else padding_mask

        def attend(h):
            return self.self_attn(
                h, h, value_mask=padding_mask, attention_mask=attention_mask,
                return_attention_scores=True, training=training,
            )  # fmt: skip

        x, weights = self._residual(x, self.self_attn_norm, attend, training)
        x = self._ffn(x, training)
        return (x, {"self_attention": weights}) if return_attention_scores else x


@keras.saving.register_keras_serializable(package="nlpbook")
class TransformerDecoderBlock(_Block):
    """One Transformer decoder layer: causal self-attention, cross-attention, feed-forward.

    With ``cross_attention=False`` it is a decoder-only (GPT) block: causal self-attention and
    the feed-forward network, no ``memory``.

    Args:
        num_heads, ff_dim, dropout, attention_dropout, norm_first, activation,
        layer_norm_epsilon: as in :class:`TransformerEncoderBlock`.
        cross_attention: whether the block attends over encoder outputs (``memory``).

    Call arguments:
        x: ``(batch, T, d_model)`` decoder inputs.
        memory: ``(batch, S, d_memory)`` encoder outputs; required exactly when
            ``cross_attention`` is True.
        decoder_padding_mask: ``(batch, T)`` booleans, True at real tokens (default: the Keras
            mask of ``x``, if any).
        memory_padding_mask: ``(batch, S)`` booleans, True at real memory positions.
        return_attention_scores: also return a dict of attention weights,
            ``"self_attention"`` ``(batch, heads, T, T)`` and ``"cross_attention"``
            ``(batch, heads, T, S)``.
        self_attention_cache: optional ``(batch, 2, S, heads, d_model // heads)`` keys and
            values of the earlier positions (incremental decoding): the new ones are written
            at ``cache_index`` and self-attention runs over the cache as
            ``self_attention_mask`` ``(batch, T, S)`` allows (see
            :func:`nlpbook.layers.cache_attention_mask`).
        cache_index, self_attention_mask: with ``self_attention_cache``.
        training: whether dropout is active.

    Returns:
        ``(batch, T, d_model)``, or ``(output, weights)`` with ``return_attention_scores``;
        with a cache, ``(output, cache)`` (or ``(output, weights, cache)``).
        Position ``t`` depends on ``x[:, :t+1]`` only.

    Example:
        >>> block = TransformerDecoderBlock(num_heads=2, ff_dim=16)
        >>> x = np.zeros((1, 4, 8), "float32")
        >>> memory = np.ones((1, 6, 8), "float32")
        >>> y, w = block(x, memory, return_attention_scores=True)
        >>> tuple(y.shape), tuple(w["cross_attention"].shape)
        ((1, 4, 8), (1, 2, 4, 6))
        >>> gpt = TransformerDecoderBlock(num_heads=2, ff_dim=16, cross_attention=False)
        >>> tuple(gpt(x).shape)
        (1, 4, 8)

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS, §3.1;
        Radford et al. (2019), *Language Models are Unsupervised Multitask Learners* (GPT-2).
    """

    def __init__(self, num_heads, ff_dim, cross_attention=True, **kwargs):
        super().__init__(num_heads, ff_dim, **kwargs)
        self.cross_attention = check_bool("cross_attention", cross_attention)

    def build(self, x_shape, memory_shape=None):
        d_model = self._d_model(x_shape)
        self.self_attn = self._attention("self_attn", d_model, x_shape, x_shape)
        self.self_attn_norm = self._norm("self_attn_norm", x_shape)
        if self.cross_attention:
            # without a memory shape (building from x alone) assume memory of width d_model
            memory_shape = (x_shape[0], None, d_model) if memory_shape is None else memory_shape
            self.cross_attn = self._attention("cross_attn", d_model, x_shape, memory_shape)
            self.cross_attn_norm = self._norm("cross_attn_norm", x_shape)
        self._build_ffn(x_shape, d_model)

    def call(
        self, x, memory=None, decoder_padding_mask=None, memory_padding_mask=None,
        return_attention_scores=False, self_attention_cache=None, cache_index=None,
        self_attention_mask=None, training=None, mask=None,
    ):  # fmt: skip
        if self.cross_attention and memory is None:
            raise ValueError(
                "TransformerDecoderBlock(cross_attention=True) needs memory (encoder outputs); "
                "make the block with cross_attention=False for a decoder-only model"
            )
        if not self.cross_attention and memory is not None:
            raise ValueError("memory was given to a TransformerDecoderBlock(cross_attention=False)")
        decoder_padding_mask = mask if decoder_padding_mask is None else decoder_padding_mask

        cache = [self_attention_cache]

        def attend_self(h):
            if cache[0] is None:
                return self.self_attn(
                    h, h, value_mask=decoder_padding_mask, use_causal_mask=True,
                    return_attention_scores=True, training=training,
                )  # fmt: skip
            if self_attention_mask is None or cache_index is None:
                raise ValueError("self_attention_cache needs cache_index and self_attention_mask")
            y, w, cache[0] = self.self_attn(
                h, h, attention_mask=self_attention_mask, cache=cache[0],
                cache_index=cache_index, return_attention_scores=True, training=training,
            )  # fmt: skip
            return y, w

        def attend_memory(h):
            return self.cross_attn(
                h, memory, value_mask=memory_padding_mask, return_attention_scores=True,
                training=training,
            )  # fmt: skip

        weights = {}
        x, weights["self_attention"] = self._residual(x, self.self_attn_norm, attend_self, training)
        if self.cross_attention:
            x, weights["cross_attention"] = self._residual(
                x, self.cross_attn_norm, attend_memory, training
            )
        x = self._ffn(x, training)
        result = (x, weights) if return_attention_scores else (x,)
        if self_attention_cache is not None:
            result = (*result, cache[0])
        return result if len(result) > 1 else x

    def get_config(self):
        return {**super().get_config(), "cross_attention": self.cross_attention}
