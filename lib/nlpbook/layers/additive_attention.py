r"""Additive (Bahdanau) attention: a small network scores each source position.

.. math::
    e_{tj} = v^\top \tanh(W_q s_t + W_k h_j + b), \qquad
    \alpha_{tj} = \frac{\exp e_{tj}}{\sum_{k} \exp e_{tk}}, \qquad
    c_t = \sum_j \alpha_{tj} h_j

(Bahdanau, Cho, Bengio 2015, appendix A.1.2, with an optional bias ``b``). ``s_t`` is a
decoder state (the query), ``h_j`` the encoder output at source position ``j`` (the keys, which
are also the values), ``c_t`` the context vector. Unlike dot-product attention the query and
the keys may have different sizes: both are projected to ``units`` first. Padded source
positions are left out of the softmax and get weight exactly 0.
"""

from __future__ import annotations

import keras
from keras import ops

from nlpbook._checks import check_bool, check_int


@keras.saving.register_keras_serializable(package="nlpbook")
class AdditiveAttention(keras.layers.Layer):
    """Bahdanau's additive attention of decoder states over encoder outputs.

    Weights: ``query_kernel`` ``W_q`` ``(d_query, units)``, ``key_kernel`` ``W_k``
    ``(d_key, units)``, ``bias`` ``b`` ``(units,)`` (with ``use_bias``) and ``score_vector``
    ``v`` ``(units,)``.

    Args:
        units: size of the hidden layer of the scoring network.
        use_bias: add the bias ``b`` inside the ``tanh``.

    Call arguments:
        query: ``(batch, T, d_query)`` decoder states, or ``(batch, d_query)`` for one step.
        keys: ``(batch, S, d_key)`` encoder outputs (keys and values).
        mask: ``(batch, S)`` booleans, True at real (unpadded) source positions.

    Returns:
        ``(context, weights)``: ``(batch, T, d_key)`` and ``(batch, T, S)``, or ``(batch,
        d_key)`` and ``(batch, S)`` for a 2-D query. Each row of weights sums to 1 over the
        real positions and is 0 on padding (all 0, and a zero context, if no position is real).

    Example:
        >>> attention = AdditiveAttention(units=8)
        >>> s = np.ones((2, 3, 4), "float32")
        >>> h = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
        >>> context, weights = attention(s, h, mask=np.array([[1, 1, 1, 0, 0]] * 2, bool))
        >>> tuple(context.shape), tuple(weights.shape)
        ((2, 3, 6), (2, 3, 5))
        >>> w = keras.ops.convert_to_numpy(weights)
        >>> bool(np.allclose(w.sum(-1), 1)), float(w[0, 0, 4])
        (True, 0.0)

    References:
        Bahdanau, Cho, Bengio (2015), *Neural Machine Translation by Jointly Learning to Align
        and Translate*, ICLR.
    """

    def __init__(self, units, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units, 1)
        self.use_bias = check_bool("use_bias", use_bias)
        # Keras takes the ``mask`` argument for a mask on the query and warns when a layer
        # drops it; it is the keys' padding here, used in full, and the outputs carry none
        self.supports_masking = True

    def build(self, query_shape, keys_shape, mask_shape=None):
        if query_shape[-1] is None or keys_shape[-1] is None:
            raise ValueError(
                "AdditiveAttention needs known feature sizes (last axes). Received query "
                f"{tuple(query_shape)}, keys {tuple(keys_shape)}"
            )

        def weight(name, shape, initializer="glorot_uniform"):
            return self.add_weight(shape=shape, initializer=initializer, name=name)

        self.query_kernel = weight("query_kernel", (query_shape[-1], self.units))
        self.key_kernel = weight("key_kernel", (keys_shape[-1], self.units))
        self.bias = weight("bias", (self.units,), "zeros") if self.use_bias else None
        self.score_vector = weight("score_vector", (self.units,))

    def call(self, query, keys, mask=None):
        if len(keys.shape) != 3:
            raise ValueError(f"keys must be (batch, S, d_key). Received shape {tuple(keys.shape)}")
        if len(query.shape) not in (2, 3):
            raise ValueError(
                "query must be (batch, T, d_query) or (batch, d_query). "
                f"Received shape {tuple(query.shape)}"
            )
        if not _same(query.shape[0], keys.shape[0]):
            raise ValueError(
                f"query and keys must have the same batch size. Received query "
                f"{tuple(query.shape)}, keys {tuple(keys.shape)}"
            )
        if (query.shape[-1], keys.shape[-1]) != (
            self.query_kernel.shape[0],
            self.key_kernel.shape[0],
        ):
            raise ValueError(
                f"this layer was built for queries of size {self.query_kernel.shape[0]} and keys of "
                f"size {self.key_kernel.shape[0]}. Received query {tuple(query.shape)}, keys "
                f"{tuple(keys.shape)}"
            )
        single = len(query.shape) == 2
        if single:
            query = ops.expand_dims(query, 1)  # (B, 1, dq)
        if mask is not None:
            mask = ops.cast(mask, "bool")
            if len(mask.shape) != 2 or not _same(mask.shape[1], keys.shape[1]):
                raise ValueError(
                    f"mask must be (batch, S) = (batch, {keys.shape[1]}) like the keys. "
                    f"Received shape {tuple(mask.shape)}"
                )
        q = ops.matmul(query, ops.cast(self.query_kernel, query.dtype))  # (B, T, units)
        k = ops.matmul(keys, ops.cast(self.key_kernel, keys.dtype))  # (B, S, units)
        hidden = q[:, :, None, :] + k[:, None, :, :]  # (B, T, S, units)
        if self.bias is not None:
            hidden = hidden + ops.cast(self.bias, hidden.dtype)
        scores = ops.sum(ops.tanh(hidden) * ops.cast(self.score_vector, hidden.dtype), -1)
        if mask is not None:
            visible = mask[:, None, :]  # (B, 1, S)
            # the scores lie in [-|v|_1, |v|_1]; -1e9 (-3e4 in half precision) acts as -inf
            negative = -1e9 if keras.backend.standardize_dtype(scores.dtype) == "float32" else -3e4
            scores = ops.where(visible, scores, ops.cast(negative, scores.dtype))
        weights = ops.softmax(scores, axis=-1)  # (B, T, S)
        if mask is not None:
            weights = ops.where(visible, weights, ops.zeros_like(weights))
        context = ops.matmul(weights, ops.cast(keys, weights.dtype))  # (B, T, d_key)
        if single:
            return context[:, 0], weights[:, 0]
        return context, weights

    def compute_mask(self, query, previous_mask=None):
        return None

    def compute_output_shape(self, query_shape, keys_shape, mask_shape=None):
        prefix = tuple(query_shape[:-1])
        return (*prefix, keys_shape[-1]), (*prefix, keys_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias}


def _same(a, b) -> bool:
    """Two static sizes agree, an unknown (None) size agreeing with anything."""
    return a is None or b is None or a == b
