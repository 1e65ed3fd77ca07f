r"""Scaled dot-product attention and multi-head attention, from the equations.

.. math::
    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big) V,
    \qquad
    \mathrm{head}_i = \mathrm{Attention}(X_q W^Q_i, X_v W^K_i, X_v W^V_i), \qquad
    \mathrm{MHA} = [\mathrm{head}_1; \dots; \mathrm{head}_h]\, W^O

(Vaswani et al. 2017). A boolean mask ``(batch, T, S)`` says which key each query may see;
masked scores are set to a large negative number before the softmax and their weights to 0
after it, so a query that may see nothing (a padded query) gets all-zero weights instead of
an average over padding. The weights are laid out as Keras' ``MultiHeadAttention`` lays them
out, so ``set_weights`` copies across and the tests compare the two.
"""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool, check_heads, check_int, check_rate
from nlpbook.layers.lora import LoRAMixin
from nlpbook.layers.positional import _check_base, apply_rotary


def causal_mask(query_length: int, key_length: int):
    """``(T, S)`` boolean: query ``i`` may see keys ``0 … i`` (keys beyond ``T`` never)."""
    return ops.cast(ops.tril(ops.ones((query_length, key_length))), "bool")


def combine_masks(query, value, *, query_mask=None, value_mask=None, attention_mask=None,
                  use_causal_mask=False):  # fmt: skip
    """One ``(batch, T, S)`` boolean mask (or ``None``) from padding, explicit and causal masks.

    Args:
        query: ``(batch, T, …)``; value: ``(batch, S, …)`` (for the shapes).
        query_mask: ``(batch, T)``, True at real (unpadded) queries.
        value_mask: ``(batch, S)``, True at real keys/values.
        attention_mask: ``(batch, T, S)``, True where a query may attend to a key.
        use_causal_mask: also forbid keys after the query's position.
    """
    mask = None

    def both(a, b):
        return b if a is None else ops.logical_and(a, b)

    if query_mask is not None:
        mask = both(mask, ops.expand_dims(ops.cast(query_mask, "bool"), -1))  # (B, T, 1)
    if value_mask is not None:
        mask = both(mask, ops.expand_dims(ops.cast(value_mask, "bool"), -2))  # (B, 1, S)
    if attention_mask is not None:
        mask = both(mask, ops.cast(attention_mask, "bool"))  # (B, T, S)
    if use_causal_mask:
        t, s = ops.shape(query)[1], ops.shape(value)[1]
        mask = both(mask, causal_mask(t, s)[None])  # (1, T, S)
    return mask


def update_cache(cache, key, value, index):
    """Write new keys and values into a preallocated cache; return the new cache.

    Args:
        cache: ``(batch, 2, S, heads, d)``: keys at ``[:, 0]``, values at ``[:, 1]``, ``S``
            the most positions the cache holds (a static shape, so XLA compiles one step).
        key, value: ``(batch, T, heads, d)`` of the ``T`` new positions.
        index: where the first new position goes (an int or a scalar int tensor); the
            caller keeps ``index + T <= S``.
    """
    update = ops.cast(ops.stack([key, value], axis=1), cache.dtype)  # (B, 2, T, H, d)
    index = ops.cast(index, "int32")
    zero = ops.zeros((), "int32")
    return ops.slice_update(cache, [zero, zero, index, zero, zero], update)


def cache_attention_mask(key_mask, index, query_length: int):
    """``(batch, T, S)``: the ``T`` queries written at ``index …`` see the real keys before them.

    Args:
        key_mask: ``(batch, S)`` booleans, True at cache positions that hold a real token
            (written now or before); left padding and unwritten positions are False.
        index: the cache position of the first query.
        query_length: ``T`` (an int or a scalar tensor).
    """
    key_mask = ops.cast(key_mask, "bool")
    keys = ops.arange(ops.shape(key_mask)[1])[None, :]  # (1, S)
    queries = ops.cast(index, "int32") + ops.arange(query_length)[:, None]  # (T, 1)
    causal = ops.less_equal(ops.cast(keys, "int32"), ops.cast(queries, "int32"))  # (T, S)
    return ops.logical_and(key_mask[:, None, :], causal[None])


def scaled_dot_product_attention(query, key, value, mask=None, dropout=None, training=None):
    """``softmax(Q Kᵀ / √d_k) V`` per head, with masking done right.

    Args:
        query: ``(batch, T, heads, d_k)``.
        key: ``(batch, S, heads, d_k)``.
        value: ``(batch, S, heads, d_v)``.
        mask: optional boolean, broadcastable to ``(batch, T, S)``; True = may attend.
        dropout: optional ``keras.layers.Dropout`` applied to the attention weights.
        training: passed to ``dropout``.

    Returns:
        ``(output (batch, T, heads, d_v), weights (batch, heads, T, S))``; the weights of a
        query that may attend to nothing are all 0.
    """
    d_k = ops.shape(query)[-1]
    scores = ops.einsum("bthd,bshd->bhts", query, key) / ops.cast(
        ops.sqrt(ops.cast(d_k, "float32")), query.dtype
    )  # (B, H, T, S)
    if mask is not None:
        mask = ops.expand_dims(ops.cast(mask, "bool"), 1)  # (B, 1, T, S)
        # -1e9 in float32 (-3e4 in half precision) is as good as -inf and never gives NaN
        negative = -1e9 if keras.backend.standardize_dtype(scores.dtype) == "float32" else -3e4
        scores = ops.where(mask, scores, ops.cast(negative, scores.dtype))
    # softmax written out: keras.ops.softmax warns on an axis of size 1, which is the normal
    # case for the first step of decoding (one key)
    e = ops.exp(scores - ops.stop_gradient(ops.max(scores, axis=-1, keepdims=True)))
    weights = e / ops.sum(e, axis=-1, keepdims=True)
    if mask is not None:
        weights = ops.where(mask, weights, ops.zeros_like(weights))
    if dropout is not None:
        weights = dropout(weights, training=training)
    return ops.einsum("bhts,bshd->bthd", weights, value), weights


def _attend_and_project(layer, q, k, v, mask, training, return_attention_scores, cache):
    """Attention over per-head ``q, k, v`` and the output projection of ``layer``; the
    result as the layers return it: ``output``, then the weights if asked, then the cache."""
    heads, weights = scaled_dot_product_attention(q, k, v, mask, layer.attention_dropout, training)
    output = ops.einsum("bthv,hvo->bto", heads, ops.cast(layer.output_kernel, heads.dtype))
    update = layer._lora_update("output", heads, training)
    if update is not None:
        output = output + ops.cast(update, output.dtype)
    if layer.output_bias is not None:
        output = output + ops.cast(layer.output_bias, output.dtype)
    result = (output, weights) if return_attention_scores else (output,)
    if cache is not None:
        result = (*result, cache)
    return result if len(result) > 1 else output


@keras.saving.register_keras_serializable(package="nlpbook")
class MultiHeadAttention(LoRAMixin, keras.layers.Layer):
    """Multi-head attention with Keras' weight layout.

    Args:
        num_heads: number of heads ``h``.
        key_dim: size ``d_k`` of each head's queries and keys.
        value_dim: size of each head's values (default ``key_dim``).
        dropout: dropout rate on the attention weights while training.
        use_bias: biases in the four projections.
        output_dim: size of the output (default: the query's last dimension).
        lora: ``{"rank", "alpha", "dropout", "targets"}`` of LoRA adapters on the kernels
            ``"query"``, ``"key"``, ``"value"``, ``"output"`` (see :mod:`nlpbook.layers.lora`;
            set by ``enable_lora``), or None.

    Call arguments:
        query: ``(batch, T, d_query)``.
        value: ``(batch, S, d_value)``.
        key: ``(batch, S, d_key)``, default ``value``.
        query_mask, value_mask: ``(batch, T)`` / ``(batch, S)`` booleans, True = real token.
        attention_mask: ``(batch, T, S)`` booleans, True = may attend.
        use_causal_mask: forbid attending to later positions.
        return_attention_scores: also return the weights ``(batch, h, T, S)``.
        cache: optional ``(batch, 2, S, h, d_k)`` keys and values of earlier positions
            (incremental decoding, self-attention): the new keys and values are written at
            ``cache_index`` and the queries attend over the whole cache, as
            ``attention_mask`` allows (build it with :func:`cache_attention_mask`).
        cache_index: where the new positions go in ``cache``.
        training: whether dropout is active.

    Returns:
        ``(batch, T, output_dim)``, or ``(output, weights)`` with ``return_attention_scores``;
        with a ``cache``, the updated cache comes last: ``(output, cache)`` or
        ``(output, weights, cache)``.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.random.default_rng(0).normal(size=(1, 5, 8)).astype("float32")
        >>> out, w = mha(x, x, use_causal_mask=True, return_attention_scores=True)
        >>> tuple(out.shape), tuple(w.shape), float(keras.ops.convert_to_numpy(w)[0, 0, 0, 1])
        ((1, 5, 8), (1, 2, 5, 5), 0.0)

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS.
    """

    _lora_kernels = {"query": ("query_kernel", 1), "key": ("key_kernel", 1),
                     "value": ("value_kernel", 1), "output": ("output_kernel", 2)}  # fmt: skip

    def __init__(
        self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_dim=None,
        lora=None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self._init_lora(lora)
        self.num_heads = check_int("num_heads", num_heads, 1)
        self.key_dim = check_int("key_dim", key_dim, 1)
        self.value_dim = self.key_dim if value_dim is None else check_int("value_dim", value_dim, 1)
        self.dropout = check_rate("dropout", dropout)
        self.use_bias = check_bool("use_bias", use_bias)
        self.output_dim = None if output_dim is None else check_int("output_dim", output_dim, 1)
        # outputs line up with the queries, so a Keras mask on the query passes through
        self.supports_masking = True

    def build(self, query_shape, value_shape=None, key_shape=None):
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        h = self.num_heads
        out = self.output_dim or query_shape[-1]

        def projection(name, fan_in, size):
            kernel = self.add_weight(
                shape=(fan_in, h, size), initializer="glorot_uniform", name=f"{name}_kernel"
            )
            bias = (
                self.add_weight(shape=(h, size), initializer="zeros", name=f"{name}_bias")
                if self.use_bias
                else None
            )
            return kernel, bias

        self.query_kernel, self.query_bias = projection("query", query_shape[-1], self.key_dim)
        self.key_kernel, self.key_bias = projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = projection("value", value_shape[-1], self.value_dim)
        self.output_kernel = self.add_weight(
            shape=(h, self.value_dim, out), initializer="glorot_uniform", name="output_kernel"
        )
        self.output_bias = (
            self.add_weight(shape=(out,), initializer="zeros", name="output_bias")
            if self.use_bias
            else None
        )
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self._build_lora()

    def _project(self, x, name, training=None):
        y = ops.einsum("bsd,dhk->bshk", x, ops.cast(getattr(self, f"{name}_kernel"), x.dtype))
        update = self._lora_update(name, x, training)  # (B, S, H, k) like y, or None
        y = y if update is None else y + ops.cast(update, y.dtype)
        bias = getattr(self, f"{name}_bias")
        return y if bias is None else y + ops.cast(bias, x.dtype)

    def call(
        self, query, value, key=None, query_mask=None, value_mask=None, attention_mask=None,
        use_causal_mask=False, return_attention_scores=False, cache=None, cache_index=None,
        training=None,
    ):  # fmt: skip
        key = value if key is None else key
        if len(query.shape) != 3 or len(value.shape) != 3 or len(key.shape) != 3:
            raise ValueError(
                "query, key and value must be (batch, time, features). Received "
                f"{query.shape}, {key.shape}, {value.shape}"
            )
        q = self._project(query, "query", training)  # (B, T, H, d_k)
        k = self._project(key, "key", training)  # (B, S, H, d_k)
        v = self._project(value, "value", training)  # (B, S, H, d_v)
        if cache is not None:
            if cache_index is None or use_causal_mask or value_mask is not None:
                raise ValueError(
                    "with a cache, give cache_index and an attention_mask over the cache "
                    "(cache_attention_mask), not use_causal_mask or value_mask"
                )
            if self.key_dim != self.value_dim:
                raise ValueError("a cache needs value_dim == key_dim")
            cache = update_cache(cache, k, v, cache_index)
            k, v = ops.cast(cache[:, 0], q.dtype), ops.cast(cache[:, 1], q.dtype)
            value = k[:, :, 0]  # (B, S, d): only its shape is read below
        mask = combine_masks(
            query, value, query_mask=query_mask, value_mask=value_mask,
            attention_mask=attention_mask, use_causal_mask=use_causal_mask,
        )  # fmt: skip
        return _attend_and_project(self, q, k, v, mask, training, return_attention_scores, cache)

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return (*query_shape[:-1], self.output_dim or query_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_dim": self.output_dim,
            "lora": self.lora,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class GroupedQueryAttention(LoRAMixin, keras.layers.Layer):
    r"""Causal self-attention whose query heads share fewer key/value heads, with rotary positions.

    Grouped-query attention (Ainslie et al. 2023): ``num_query_heads`` query heads are split
    into ``num_key_value_heads`` groups; the heads of a group attend with the same keys and
    values, so the key/value projections and the KV cache shrink by the group size (Llama 2
    70B, Llama 3, SmolLM2: 9 query heads, 3 key/value heads). ``num_key_value_heads =
    num_query_heads`` is multi-head attention, ``1`` is multi-query attention (Shazeer 2019).
    Query head ``i`` uses key/value head ``i // (num_query_heads / num_key_value_heads)``.
    Queries and keys are rotated by :func:`nlpbook.layers.apply_rotary` (rotate-half RoPE)
    when ``rope_base`` is set. The kernels have the layout of
    ``keras.layers.GroupQueryAttention``, so ``set_weights`` copies across.

    Args:
        num_query_heads: query heads ``h_q``.
        num_key_value_heads: key/value heads ``h_kv``; must divide ``h_q``.
        head_dim: size of each head (default: ``d_model // h_q``).
        rope_base: the base of rotary position embedding (10,000 in RoFormer and Llama 2,
            100,000 in SmolLM2); ``None``: no rotation.
        use_bias: biases in the four projections (Llama: none).
        dropout: dropout rate on the attention weights while training.
        output_dim: size of the output (default ``d_model``).
        lora: LoRA adapters on ``"query"``, ``"key"``, ``"value"``, ``"output"`` (as in
            :class:`MultiHeadAttention`), or None.

    Call arguments:
        x: ``(batch, T, d_model)``; queries, keys and values all come from it.
        padding_mask: ``(batch, T)``, True at real tokens (keys at padding are hidden).
        attention_mask: ``(batch, T, S)``, True where a query may attend.
        use_causal_mask: forbid attending to later positions.
        positions: rotary positions ``(T,)`` or ``(batch, T)`` (default ``0 … T-1``).
        cache: optional ``(batch, 2, S, h_kv, head_dim)`` keys and values of earlier positions
            (rotated); the new ones are written at ``cache_index`` and the queries attend over
            the cache as ``attention_mask`` allows (see :func:`cache_attention_mask`).
        cache_index: where the new positions go in ``cache``.
        return_attention_scores: also return the weights ``(batch, h_q, T, S)``.
        training: whether dropout is active.

    Returns:
        ``(batch, T, output_dim)``; ``(output, weights)`` with ``return_attention_scores``;
        with a ``cache``, the updated cache comes last.

    Example:
        >>> gqa = GroupedQueryAttention(num_query_heads=4, num_key_value_heads=2, rope_base=1e4)
        >>> x = np.random.default_rng(0).normal(size=(1, 5, 16)).astype("float32")
        >>> tuple(gqa(x, use_causal_mask=True).shape), tuple(gqa.key_kernel.shape)
        ((1, 5, 16), (16, 2, 4))

    References:
        Ainslie et al. (2023), *GQA: Training Generalized Multi-Query Transformer Models from
        Multi-Head Checkpoints*, EMNLP; Su et al. (2021), *RoFormer*.
    """

    _lora_kernels = MultiHeadAttention._lora_kernels

    def __init__(
        self, num_query_heads, num_key_value_heads, head_dim=None, rope_base=None,
        use_bias=False, dropout=0.0, output_dim=None, lora=None, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self._init_lora(lora)
        self.num_query_heads = check_int("num_query_heads", num_query_heads, 1)
        self.num_key_value_heads = check_int("num_key_value_heads", num_key_value_heads, 1)
        if self.num_query_heads % self.num_key_value_heads:
            raise ValueError(
                "num_key_value_heads must divide num_query_heads. Received: "
                f"num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}"
            )
        self.head_dim = None if head_dim is None else check_int("head_dim", head_dim, 1)
        if rope_base is not None:
            rope_base = _check_base(rope_base)
            if self.head_dim is not None and self.head_dim % 2:
                raise ValueError(f"rotary positions need an even head_dim. Received {head_dim}")
        self.rope_base = rope_base
        self.use_bias = check_bool("use_bias", use_bias)
        self.dropout = check_rate("dropout", dropout)
        self.output_dim = None if output_dim is None else check_int("output_dim", output_dim, 1)

    def build(self, x_shape):
        d_model = x_shape[-1]
        if len(x_shape) != 3 or d_model is None:
            raise ValueError(f"x must be (batch, time, d_model). Received shape {x_shape}")
        if self.head_dim is None:
            check_heads("d_model", d_model, self.num_query_heads)
            self.head_dim = d_model // self.num_query_heads
        if self.rope_base is not None and self.head_dim % 2:
            raise ValueError(f"rotary positions need an even head_dim. Received {self.head_dim}")
        hq, hkv, hd = self.num_query_heads, self.num_key_value_heads, self.head_dim
        out = self.output_dim or d_model

        def weight(name, shape, initializer="glorot_uniform"):
            return self.add_weight(shape=shape, initializer=initializer, name=name)

        self.query_kernel = weight("query_kernel", (d_model, hq, hd))
        self.key_kernel = weight("key_kernel", (d_model, hkv, hd))
        self.value_kernel = weight("value_kernel", (d_model, hkv, hd))
        self.output_kernel = weight("output_kernel", (hq, hd, out))
        if self.use_bias:
            self.query_bias = weight("query_bias", (hq, hd), "zeros")
            self.key_bias = weight("key_bias", (hkv, hd), "zeros")
            self.value_bias = weight("value_bias", (hkv, hd), "zeros")
            self.output_bias = weight("output_bias", (out,), "zeros")
        else:
            self.query_bias = self.key_bias = self.value_bias = self.output_bias = None
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self._build_lora()

    _project = MultiHeadAttention._project

    def call(
        self, x, padding_mask=None, attention_mask=None, use_causal_mask=False, positions=None,
        cache=None, cache_index=None, return_attention_scores=False, training=None,
    ):  # fmt: skip
        if len(x.shape) != 3:
            raise ValueError(f"x must be (batch, time, d_model). Received shape {x.shape}")
        q = self._project(x, "query", training)  # (B, T, h_q, d)
        k = self._project(x, "key", training)  # (B, T, h_kv, d)
        v = self._project(x, "value", training)
        if self.rope_base is not None:
            q = apply_rotary(q, positions, self.rope_base)
            k = apply_rotary(k, positions, self.rope_base)
        if cache is not None:
            if cache_index is None or use_causal_mask or padding_mask is not None:
                raise ValueError(
                    "with a cache, give cache_index and an attention_mask over the cache "
                    "(cache_attention_mask), not use_causal_mask or padding_mask"
                )
            cache = update_cache(cache, k, v, cache_index)
            k, v = ops.cast(cache[:, 0], q.dtype), ops.cast(cache[:, 1], q.dtype)
        mask = combine_masks(
            q, k, value_mask=padding_mask, attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
        )  # fmt: skip
        group = self.num_query_heads // self.num_key_value_heads
        if group > 1:  # each key/value head serves `group` consecutive query heads
            k, v = ops.repeat(k, group, axis=2), ops.repeat(v, group, axis=2)
        return _attend_and_project(self, q, k, v, mask, training, return_attention_scores, cache)

    def compute_output_shape(self, x_shape):
        return (*x_shape[:-1], self.output_dim or x_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.head_dim,
            "rope_base": self.rope_base,
            "use_bias": self.use_bias,
            "dropout": self.dropout,
            "output_dim": self.output_dim,
            "lora": self.lora,
        }
