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

from nlpbook._checks import check_bool, check_int, check_rate


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


@keras.saving.register_keras_serializable(package="nlpbook")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention with Keras' weight layout.

    Args:
        num_heads: number of heads ``h``.
        key_dim: size ``d_k`` of each head's queries and keys.
        value_dim: size of each head's values (default ``key_dim``).
        dropout: dropout rate on the attention weights while training.
        use_bias: biases in the four projections.
        output_dim: size of the output (default: the query's last dimension).

    Call arguments:
        query: ``(batch, T, d_query)``.
        value: ``(batch, S, d_value)``.
        key: ``(batch, S, d_key)``, default ``value``.
        query_mask, value_mask: ``(batch, T)`` / ``(batch, S)`` booleans, True = real token.
        attention_mask: ``(batch, T, S)`` booleans, True = may attend.
        use_causal_mask: forbid attending to later positions.
        return_attention_scores: also return the weights ``(batch, h, T, S)``.
        training: whether dropout is active.

    Returns:
        ``(batch, T, output_dim)``, or ``(output, weights)`` with ``return_attention_scores``.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> x = np.random.default_rng(0).normal(size=(1, 5, 8)).astype("float32")
        >>> out, w = mha(x, x, use_causal_mask=True, return_attention_scores=True)
        >>> tuple(out.shape), tuple(w.shape), float(keras.ops.convert_to_numpy(w)[0, 0, 0, 1])
        ((1, 5, 8), (1, 2, 5, 5), 0.0)

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS.
    """

    def __init__(
        self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_dim=None,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
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

    def _project(self, x, kernel, bias):
        y = ops.einsum("bsd,dhk->bshk", x, ops.cast(kernel, x.dtype))  # (B, S, H, k)
        return y if bias is None else y + ops.cast(bias, x.dtype)

    def call(
        self, query, value, key=None, query_mask=None, value_mask=None, attention_mask=None,
        use_causal_mask=False, return_attention_scores=False, training=None,
    ):  # fmt: skip
        key = value if key is None else key
        if len(query.shape) != 3 or len(value.shape) != 3 or len(key.shape) != 3:
            raise ValueError(
                "query, key and value must be (batch, time, features). Received "
                f"{query.shape}, {key.shape}, {value.shape}"
            )
        q = self._project(query, self.query_kernel, self.query_bias)  # (B, T, H, d_k)
        k = self._project(key, self.key_kernel, self.key_bias)  # (B, S, H, d_k)
        v = self._project(value, self.value_kernel, self.value_bias)  # (B, S, H, d_v)
        mask = combine_masks(
            query, value, query_mask=query_mask, value_mask=value_mask,
            attention_mask=attention_mask, use_causal_mask=use_causal_mask,
        )  # fmt: skip
        heads, weights = scaled_dot_product_attention(
            q, k, v, mask, self.attention_dropout, training
        )
        output = ops.einsum("bthv,hvo->bto", heads, ops.cast(self.output_kernel, heads.dtype))
        if self.output_bias is not None:
            output = output + ops.cast(self.output_bias, output.dtype)
        return (output, weights) if return_attention_scores else output

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
        }
