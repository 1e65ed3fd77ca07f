r"""A linear-chain conditional random field (CRF) over per-token tag scores.

For emissions :math:`e_t(y)` (the scores a tagger gives tag :math:`y` at position :math:`t`),
a transition matrix :math:`A_{ij}` (the score of tag :math:`j` right after tag :math:`i`) and
start and end scores :math:`s_y, f_y`, the score of a whole tag path :math:`y_1 \dots y_T` is

.. math::
    S(y) = s_{y_1} + \sum_{t=1}^{T} e_t(y_t) + \sum_{t=2}^{T} A_{y_{t-1} y_t} + f_{y_T},
    \qquad p(y \mid x) = \frac{\exp S(y)}{Z}, \quad Z = \sum_{y'} \exp S(y').

The sum over all :math:`K^T` paths in :math:`Z` is computed by the forward algorithm in log
space, :math:`\alpha_t(j) = e_t(j) + \log\sum_i \exp(\alpha_{t-1}(i) + A_{ij})`, in
:math:`O(TK^2)`; the best path by Viterbi, the same recursion with ``max`` for
``logsumexp`` and back-pointers. Lafferty, McCallum & Pereira (2001); on top of a BiLSTM,
Huang, Xu & Yu (2015) and Lample et al. (2016).

Masked positions (padding) are skipped: the chain joins the real positions of a row in
order, wherever the padding is (left, right, or between), and a row with no real position
has score 0, :math:`\log Z = 0` and all-zero tags.
"""

from __future__ import annotations

import keras
from keras import ops


def _time_major(x):
    return ops.moveaxis(x, 1, 0)


def _packed(*parts):
    """``(batch, time, …)`` float32 parts as one time-major tensor ``(time, batch, sum)``: the
    TensorFlow ``ops.scan`` of Keras 3 fails on several inputs whose time axis is unknown
    (``None`` under ``tf.function``), one input works."""
    parts = [ops.cast(p if len(p.shape) == 3 else p[..., None], "float32") for p in parts]
    return _time_major(ops.concatenate(parts, axis=-1))


def _check_emissions(emissions, num_tags=None):
    if len(emissions.shape) != 3:
        raise ValueError(
            f"emissions must be (batch, time, num_tags). Received shape {tuple(emissions.shape)}"
        )
    if num_tags is not None and emissions.shape[-1] is not None and emissions.shape[-1] != num_tags:
        raise ValueError(
            f"emissions have {emissions.shape[-1]} tags; this CRF was built for {num_tags}"
        )


@keras.saving.register_keras_serializable(package="nlpbook")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: calling it decodes the best tag path (Viterbi).

    Its weights are ``transitions`` ``(K, K)`` (row: previous tag, column: next tag),
    ``start`` ``(K,)`` and ``end`` ``(K,)``; ``K`` comes from the emissions' last axis. All
    the arithmetic is float32 whatever the dtype policy (the layer's own default dtype is
    float32, as for a softmax head under ``mixed_bfloat16``; bfloat16 emissions are cast up).

    Training minimises :meth:`negative_log_likelihood`; a model calls it from its loss
    (:class:`nlpbook.models.tagger.Tagger` does).

    Args:
        initializer: for the three score tables (default zeros: every path equally likely,
            so the first gradients come from the emissions alone).

    Call arguments:
        emissions: ``(batch, time, K)`` float scores.
        mask: ``(batch, time)`` bool, True at real positions (default: all real; a Keras mask
            from an ``Embedding(mask_zero=True)`` is picked up).

    Returns:
        ``(batch, time)`` int32 best tags; 0 at masked positions.

    Example:
        >>> crf = CRF()
        >>> e = np.array([[[2.0, 0.0], [0.0, 1.0], [3.0, 0.0]]], "float32")
        >>> keras.ops.convert_to_numpy(crf(e)).tolist()  # zero transitions: per-token argmax
        [[0, 1, 0]]
        >>> _ = crf.transitions.assign([[0.0, -10.0], [0.0, 0.0]])  # forbid 0 → 1
        >>> keras.ops.convert_to_numpy(crf(e)).tolist()
        [[0, 0, 0]]
    """

    def __init__(self, initializer="zeros", **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)
        self._initializer_config = (
            initializer if isinstance(initializer, str)
            else keras.initializers.serialize(self.initializer)
        )  # fmt: skip
        self.supports_masking = True

    def build(self, input_shape):
        num_tags = input_shape[-1]
        if len(input_shape) != 3 or num_tags is None or num_tags < 1:
            raise ValueError(
                f"CRF needs (batch, time, num_tags) emissions with a known num_tags >= 1. "
                f"Received shape {tuple(input_shape)}"
            )
        self.num_tags = int(num_tags)
        self.transitions = self.add_weight(
            shape=(num_tags, num_tags), initializer=self.initializer, name="transitions"
        )
        self.start = self.add_weight(shape=(num_tags,), initializer=self.initializer, name="start")
        self.end = self.add_weight(shape=(num_tags,), initializer=self.initializer, name="end")

    # -- the three score tables in float32, and the inputs prepared -----------------------
    def _tables(self):
        return tuple(ops.cast(w.value, "float32") for w in (self.transitions, self.start, self.end))

    def _prepare(self, emissions, mask):
        emissions = ops.convert_to_tensor(emissions)
        _check_emissions(emissions, getattr(self, "num_tags", None))
        if not self.built:
            self.build(emissions.shape)
        emissions = ops.cast(emissions, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(emissions)[:2], "bool")
        else:
            mask = ops.cast(ops.convert_to_tensor(mask), "bool")
            if len(mask.shape) != 2:
                raise ValueError(f"mask must be (batch, time). Received shape {tuple(mask.shape)}")
        return emissions, mask

    # -- scores ----------------------------------------------------------------------------
    def path_score(self, emissions, tags, mask=None):
        """``S(y)`` of the given ``(batch, time)`` tags: ``(batch,)`` float32 (0 for a row
        with no real position)."""
        emissions, mask = self._prepare(emissions, mask)
        transitions, start, end = self._tables()
        tags = ops.cast(ops.convert_to_tensor(tags), "int32")
        k = self.num_tags
        n = ops.shape(emissions)[0]
        emitted = ops.take_along_axis(emissions, tags[..., None], axis=-1)[..., 0]  # (n, T)

        def step(carry, inputs):
            score, previous, started = carry
            emit, tag, real = inputs[:, 0], ops.cast(inputs[:, 1], "int32"), inputs[:, 2] > 0.5
            link = ops.where(
                started, ops.take(ops.reshape(transitions, (-1,)), previous * k + tag),
                ops.take(start, tag),
            )  # fmt: skip
            score = score + ops.where(real, emit + link, 0.0)
            previous = ops.where(real, tag, previous)
            carry = (score, previous, ops.logical_or(started, real))
            return carry, carry  # TensorFlow's ops.scan: outputs shaped as the carry

        init = (ops.zeros((n,), "float32"), ops.zeros((n,), "int32"), ops.zeros((n,), "bool"))
        (score, last, started), _ = ops.scan(step, init, _packed(emitted, tags, mask))
        return score + ops.where(started, ops.take(end, last), 0.0)

    def log_partition(self, emissions, mask=None):
        """``log Z`` by the forward algorithm: ``(batch,)`` float32 (0 for an empty row)."""
        emissions, mask = self._prepare(emissions, mask)
        transitions, start, end = self._tables()
        n = ops.shape(emissions)[0]

        def step(carry, inputs):
            alpha, started = carry
            emit, real = inputs[:, :-1], inputs[:, -1] > 0.5
            moved = ops.logsumexp(alpha[:, :, None] + transitions[None], axis=1) + emit
            new = ops.where(started[:, None], moved, start[None] + emit)
            alpha = ops.where(real[:, None], new, alpha)
            carry = (alpha, ops.logical_or(started, real))
            return carry, carry

        init = (ops.zeros((n, self.num_tags), "float32"), ops.zeros((n,), "bool"))
        (alpha, started), _ = ops.scan(step, init, _packed(emissions, mask))
        return ops.where(started, ops.logsumexp(alpha + end[None], axis=-1), 0.0)

    def log_likelihood(self, emissions, tags, mask=None):
        """``log p(tags | x) = S(tags) − log Z``: ``(batch,)`` float32, ≤ 0."""
        return self.path_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def negative_log_likelihood(self, emissions, tags, mask=None):
        """The training loss: ``−log p(tags | x)`` averaged over the rows."""
        return -ops.mean(self.log_likelihood(emissions, tags, mask))

    def decode(self, emissions, mask=None):
        """Viterbi: ``(tags, score)``, the ``(batch, time)`` int32 best path (0 at masked
        positions) and its ``(batch,)`` float32 score ``S``."""
        emissions, mask = self._prepare(emissions, mask)
        transitions, start, end = self._tables()
        n = ops.shape(emissions)[0]
        k = self.num_tags
        identity = ops.broadcast_to(ops.arange(k, dtype="int32")[None], (n, k))

        def forward(carry, inputs):
            _, delta, started = carry
            emit, real = inputs[:, :-1], inputs[:, -1] > 0.5
            candidates = delta[:, :, None] + transitions[None]  # (n, from, to)
            moved = ops.max(candidates, axis=1) + emit
            pointer = ops.cast(ops.argmax(candidates, axis=1), "int32")
            new = ops.where(started[:, None], moved, start[None] + emit)
            continuing = ops.logical_and(real, started)
            delta = ops.where(real[:, None], new, delta)
            pointer = ops.where(continuing[:, None], pointer, identity)  # skip: stay
            carry = (pointer, delta, ops.logical_or(started, real))
            return carry, carry

        init = (identity, ops.zeros((n, k), "float32"), ops.zeros((n,), "bool"))
        (_, delta, started), (pointers, _, _) = ops.scan(
            forward, init, _packed(emissions, mask)
        )  # pointers: (T, n, k)
        final = delta + end[None]
        best = ops.cast(ops.argmax(final, axis=-1), "int32")
        score = ops.where(started, ops.max(final, axis=-1), 0.0)

        def backward(tag, pointer):
            # the tag at t is `tag`; the pointer of t gives the tag at t − 1
            earlier = ops.take_along_axis(pointer, tag[:, None], axis=1)[:, 0]
            return earlier, tag

        _, path = ops.scan(backward, best, pointers, reverse=True)  # path[t]: tag at t
        tags = ops.where(mask, ops.moveaxis(path, 0, 1), 0)
        return ops.cast(tags, "int32"), score

    def call(self, emissions, mask=None):
        return self.decode(emissions, mask)[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:2])

    def compute_output_spec(self, emissions, mask=None):
        return keras.KerasTensor(tuple(emissions.shape[:2]), dtype="int32")

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "initializer": self._initializer_config}
