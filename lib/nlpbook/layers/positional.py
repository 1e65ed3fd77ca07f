r"""Position information for attention: sinusoidal, learned and rotary.

Self-attention is blind to order (permuting the tokens permutes its outputs), so the position
of each token has to be put into the vectors. Three ways:

* **sinusoidal** (Vaswani et al. 2017), added to the token embeddings,

  .. math::
      PE_{pos, 2i} = \sin\big(pos / b^{2i/d}\big), \qquad
      PE_{pos, 2i+1} = \cos\big(pos / b^{2i/d}\big), \qquad b = 10000,

  sine and cosine interleaved, one wavelength per pair of columns, from :math:`2\pi` to
  :math:`2\pi b`. It is a fixed function of the position with no weights: seed 001 §3.3.3
  calls it "a one-dimensional convolution" that lets the model "learn" positions, but
  nothing in it is a convolution and nothing in it is learned. An odd ``d`` is allowed: the
  last column is the sine of a pair whose cosine would fall outside.
* **learned** (BERT, GPT-2): a trainable table of ``max_length`` rows, added the same way;
  it cannot represent positions beyond ``max_length``.
* **rotary**, RoPE (Su et al. 2021): queries and keys are rotated, pair of dimensions by pair,
  by the angle :math:`pos\cdot\theta_i`, :math:`\theta_i = b^{-2i/d}`; then
  :math:`\langle R_m q, R_n k\rangle` depends on :math:`m - n` only, so attention scores
  see relative positions. :func:`apply_rotary` pairs dimension ``i`` with ``i + d/2``
  ("rotate half", as GPT-NeoX and LLaMA do); Su et al. pair ``2i`` with ``2i + 1``. The two
  are the same rotation up to a fixed permutation of the dimensions, which the learned
  projections absorb, but weights trained with one convention need that permutation to be
  used with the other.

Example:
    >>> pe = keras.ops.convert_to_numpy(sinusoidal_positions(4, 6))
    >>> pe.shape, pe[0].tolist()
    ((4, 6), [0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from nlpbook._checks import check_int


def _check_base(base) -> float:
    if isinstance(base, bool) or not isinstance(base, (int, float, np.number)) or base <= 1:
        raise ValueError(f"base must be a number > 1. Received: base={base!r}")
    return float(base)


def _check_sequence(name, x):
    if len(x.shape) != 3 or x.shape[-1] is None:
        raise ValueError(
            f"{name} expects inputs (batch, time, features) with a known feature size. "
            f"Received shape {tuple(x.shape)}"
        )


def _sinusoids(positions, dim: int, base: float):
    """``(len(positions), dim)`` float32 table for float positions (any start, any step)."""
    column = np.arange(dim)
    # columns 2i and 2i+1 share the frequency base^(-2i/d)
    inverse_frequency = base ** (-(column - column % 2) / dim)  # (dim,), NumPy: a constant
    angles = ops.multiply(
        ops.cast(positions, "float32")[:, None], inverse_frequency.astype("float32")
    )
    return ops.where(column % 2 == 0, ops.sin(angles), ops.cos(angles))


def sinusoidal_positions(length, dim, base=10000.0):
    """The sinusoidal position table of Vaswani et al. (2017), sine and cosine interleaved.

    Args:
        length: number of positions (rows), ``0 … length - 1``.
        dim: size of each position vector; odd sizes end with a sine column.
        base: the ``10000`` of the formula; the longest wavelength is ``2π·base``.

    Returns:
        float32 tensor ``(length, dim)``, ``PE[pos, 2i] = sin(pos / base^(2i/dim))``,
        ``PE[pos, 2i+1] = cos(pos / base^(2i/dim))``.

    Example:
        >>> pe = keras.ops.convert_to_numpy(sinusoidal_positions(50, 16))
        >>> bool(abs(pe[7, 2] - np.sin(7 / 10000 ** (2 / 16))) < 1e-6)
        True
    """
    length = check_int("length", length, 1)
    dim = check_int("dim", dim, 1)
    return _sinusoids(ops.arange(length), dim, _check_base(base))


@keras.saving.register_keras_serializable(package="nlpbook")
class SinusoidalPositionEmbedding(keras.layers.Layer):
    """Adds the fixed sinusoidal position table to a sequence of embeddings.

    Args:
        base: the ``10000`` of the formula (see :func:`sinusoidal_positions`).

    Call arguments:
        inputs: ``(batch, time, d)`` token embeddings.
        start_index: position of the first token (an int or a scalar tensor), for
            incremental decoding where one new token at position ``t`` is fed at a time.

    Returns:
        ``inputs + PE[start_index : start_index + time]``, shape ``(batch, time, d)``. The layer
        has no weights and passes a Keras mask through unchanged.

    Example:
        >>> x = np.zeros((2, 3, 4), "float32")
        >>> y = keras.ops.convert_to_numpy(SinusoidalPositionEmbedding()(x, start_index=1))
        >>> bool(np.allclose(y[0], keras.ops.convert_to_numpy(sinusoidal_positions(4, 4))[1:]))
        True

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS, §3.5.
    """

    def __init__(self, base=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.base = _check_base(base)
        self.supports_masking = True

    def call(self, inputs, start_index=0):
        _check_sequence(type(self).__name__, inputs)
        length = ops.shape(inputs)[1]
        positions = ops.arange(length) + start_index
        table = _sinusoids(positions, inputs.shape[-1], self.base)  # (time, d)
        return inputs + ops.cast(table, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "base": self.base}


@keras.saving.register_keras_serializable(package="nlpbook")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned position vector, one trainable row per position, to embeddings.

    Args:
        max_length: number of rows; sequences (plus ``start_index``) may not be longer.
        initializer: initializer of the ``(max_length, d)`` table.

    Call arguments:
        inputs: ``(batch, time, d)`` token embeddings.
        start_index: position of the first token (an int or a scalar tensor).
        positions: optional int positions ``(batch, time)`` (or ``(time,)``) instead of
            ``start_index …``: each row its own (left-padded prompts, a KV cache).

    Returns:
        ``inputs + table[start_index : start_index + time]``, shape ``(batch, time, d)``. A
        sequence that would run past ``max_length`` raises ``ValueError`` when its length
        and ``start_index`` are known at call time (always eagerly; a traced ``start_index``
        cannot be checked and is clamped by some backends).

    Example:
        >>> layer = PositionEmbedding(max_length=8)
        >>> tuple(layer(np.zeros((2, 5, 4), "float32")).shape), tuple(layer.embeddings.shape)
        ((2, 5, 4), (8, 4))

    References:
        Devlin et al. (2019), *BERT*, NAACL; Radford et al. (2019), *GPT-2*.
    """

    def __init__(self, max_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = check_int("max_length", max_length, 1)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )

    def call(self, inputs, start_index=0, positions=None):
        _check_sequence(type(self).__name__, inputs)
        if positions is not None:
            table = ops.take(self.embeddings, ops.cast(positions, "int32"), axis=0)
            return inputs + ops.cast(table, inputs.dtype)
        length = inputs.shape[1]
        if isinstance(length, int) and isinstance(start_index, (int, np.integer)):
            if start_index < 0 or start_index + length > self.max_length:
                raise ValueError(
                    f"{type(self).__name__} has max_length={self.max_length} positions. "
                    f"Received a sequence of length {length} starting at {start_index}"
                )
        positions = ops.arange(ops.shape(inputs)[1]) + start_index
        table = ops.take(self.embeddings, positions, axis=0)  # (time, d)
        return inputs + ops.cast(table, inputs.dtype)[None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_length": self.max_length,
            "initializer": keras.initializers.serialize(self.initializer),
        }


def apply_rotary(x, positions=None, base=10000.0):
    r"""Rotary position embedding (RoPE) of queries or keys, "rotate half" convention.

    Dimension ``i`` and ``i + d/2`` of each head form a pair that is rotated by the angle
    ``pos·θ_i``, ``θ_i = base^(-2i/d)``:

    .. math::
        y_i = x_i \cos(pos\,\theta_i) - x_{i+d/2} \sin(pos\,\theta_i), \quad
        y_{i+d/2} = x_{i+d/2} \cos(pos\,\theta_i) + x_i \sin(pos\,\theta_i).

    Apply it to the queries and keys (not the values) after their projections; the dot
    product of a query at ``m`` and a key at ``n`` then depends on ``m - n`` only.

    Args:
        x: ``(batch, time, heads, d_head)``, ``d_head`` even.
        positions: integer positions ``(time,)`` or ``(batch, time)``; default
            ``0 … time - 1``.
        base: the ``10000`` of the frequencies.

    Returns:
        A tensor of the shape and dtype of ``x``; every pair keeps its norm.

    Example:
        >>> q = np.ones((1, 3, 2, 4), "float32")
        >>> y = keras.ops.convert_to_numpy(apply_rotary(q))
        >>> y.shape, bool(np.allclose(y[0, 0], 1.0)), bool(np.allclose(y[0, 2], 1.0))
        ((1, 3, 2, 4), True, False)

    References:
        Su et al. (2021), *RoFormer: Enhanced Transformer with Rotary Position Embedding*.
    """
    x = ops.convert_to_tensor(x)
    if len(x.shape) != 4:
        raise ValueError(f"x must be (batch, time, heads, d_head). Received shape {x.shape}")
    d_head = x.shape[-1]
    if d_head is None or d_head % 2:
        raise ValueError(f"apply_rotary needs an even d_head. Received: d_head={d_head}")
    base = _check_base(base)
    if positions is None:
        positions = ops.arange(ops.shape(x)[1])
    half = d_head // 2
    inverse_frequency = (base ** (-np.arange(half) * 2 / d_head)).astype("float32")
    angles = ops.multiply(ops.cast(positions, "float32")[..., None], inverse_frequency)
    angles = ops.expand_dims(angles, -2)  # (…, time, 1, d/2): the same for every head
    cos = ops.cast(ops.cos(angles), x.dtype)
    sin = ops.cast(ops.sin(angles), x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return ops.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
