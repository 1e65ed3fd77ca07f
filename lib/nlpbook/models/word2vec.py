r"""Word2vec with negative sampling: skip-gram and CBOW as Keras models.

Each word has two vectors: an input vector :math:`v_w` (the ``words`` embedding, the one kept
as "the" word vector) and an output vector :math:`u_w` (the ``contexts`` embedding). For an
example with true word :math:`o` and :math:`k` noise words :math:`n_1 \dots n_k` drawn from
the unigram distribution to the 3/4 (``nlpbook.pipelines.word2vec_dataset``), negative
sampling (Mikolov et al. 2013b, eq. 4) maximises

.. math::  \log\sigma(u_o^\top h) + \sum_{i=1}^{k} \log\sigma(-u_{n_i}^\top h)

where :math:`h = v_c` for skip-gram (the centre word predicts each context word) and
:math:`h` is the mean of the context words' input vectors for CBOW (the context predicts the
centre). The models return the :math:`1 + k` scores :math:`u^\top h`; binary cross-entropy
from logits against the labels ``[1, 0, …, 0]`` is the negated objective (Keras averages it
over the :math:`1 + k` candidates, which only rescales the learning rate).

Initialisation follows the word2vec C code: input vectors uniform in
:math:`\pm 0.5 / \text{dim}`, output vectors zero.

**Repeated rows and plain SGD.** word2vec applies plain SGD after every single example. A
batch computes all its examples' gradients at the same weights, and autodiff *sums* the
contributions that reach one row: a frequent word used :math:`n` times in a batch moves by
:math:`n` steps at once and overshoots (on IMDB, 16,384 pairs per batch at word2vec's rate
gave NaN). ``repeats="sqrt"`` (or ``"mean"``) divides the gradient that reaches a row by
:math:`\sqrt n` (or :math:`n`), :math:`n` counted in the batch, while training only; the
scores are unchanged. With it, plain ``keras.optimizers.SGD`` trains these models at large
batches, and on TensorFlow it updates only the rows a batch uses (the gradient of an
embedding lookup is ``tf.IndexedSlices``, which Keras' SGD applies with a scatter), instead
of every row of both tables as Adam does.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_int

REPEATS = ("sum", "sqrt", "mean")


def scale_repeated_rows(vectors, ids, num_rows: int, repeats: str, mask=None):
    r"""Looked-up ``vectors`` whose gradient is divided by how often each id occurs in ``ids``.

    The value is ``vectors`` exactly; only the gradient changes: a row looked up :math:`n`
    times in the batch receives the sum of its :math:`n` gradients divided by :math:`\sqrt n`
    (``repeats="sqrt"``) or :math:`n` (``"mean"``); ``"sum"`` returns ``vectors`` as they are.

    Args:
        vectors: ``ids.shape + (dim,)``, the rows looked up for ``ids``.
        ids: int ids, any shape.
        num_rows: rows of the table (ids are ``< num_rows``).
        repeats: ``"sum"``, ``"sqrt"`` or ``"mean"``.
        mask: optional, ``ids.shape``: only the lookups where it is true are counted (the
            others, padding, must get no gradient).
    """
    if repeats == "sum":
        return vectors
    flat = ops.reshape(ids, (-1,))
    ones = ops.ones(ops.shape(flat), dtype=vectors.dtype)
    if mask is not None:
        ones = ops.reshape(ops.cast(mask, vectors.dtype), (-1,))
    n = ops.segment_sum(ones, flat, num_rows)
    n = ops.maximum(ops.take(n, ids, axis=0), 1.0)  # occurrences of each looked-up id
    n = ops.expand_dims(n, -1)
    scale = ops.rsqrt(n) if repeats == "sqrt" else 1.0 / n
    fixed = ops.stop_gradient(vectors)
    return fixed + (vectors - fixed) * scale  # value: vectors; gradient: scale


class _Word2Vec(keras.Model):
    def __init__(self, vocab_size, dim=100, repeats="sum", **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.dim = check_int("dim", dim, 1)
        if repeats not in REPEATS:
            raise ValueError(f"repeats must be one of {REPEATS}. Received {repeats!r}")
        self.repeats = repeats
        limit = 0.5 / self.dim
        self.words = layers.Embedding(
            self.vocab_size,
            self.dim,
            embeddings_initializer=keras.initializers.RandomUniform(-limit, limit),
            dtype=self.dtype_policy,
            name="words",
        )
        self.contexts = layers.Embedding(
            self.vocab_size,
            self.dim,
            embeddings_initializer="zeros",
            dtype=self.dtype_policy,
            name="contexts",
        )

    def build(self, input_shape):
        self.words.build((None,))
        self.contexts.build((None,))

    def _lookup(self, table, ids, training, mask=None):
        """``table(ids)``, with the gradient scaled by ``repeats`` while training."""
        vectors = table(ids)
        if not training:
            return vectors
        return scale_repeated_rows(vectors, ids, table.input_dim, self.repeats, mask)

    def _scores(self, h, candidates, training=None):
        if len(candidates.shape) != 2:
            raise ValueError(f"candidates must be (batch, 1 + k) ids. Received {candidates.shape}")
        u = self._lookup(self.contexts, candidates, training)  # (batch, 1 + k, dim)
        return ops.einsum("bd,bkd->bk", h, u)  # (batch, 1 + k)

    @property
    def vectors(self) -> np.ndarray:
        """The word vectors (input embeddings), ``(vocab_size, dim)``, row 0 for padding."""
        return np.asarray(ops.convert_to_numpy(self.words.embeddings))

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "repeats": self.repeats,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class SkipGram(_Word2Vec):
    """Skip-gram with negative sampling: the centre word scores its context and noise words.

    Args:
        vocab_size: number of ids (id 0 pads and is never trained on).
        dim: vector size.
        repeats: how a row used several times in a batch gets its gradient while training:
            ``"sum"`` (autodiff's sum), ``"sqrt"`` or ``"mean"`` (the sum divided by the square
            root of the count or by the count; see the module's docstring).

    Call arguments:
        inputs: ``(centres, candidates)``: int ids ``(batch,)`` and ``(batch, 1 + k)``, the
            true context word first.

    Returns:
        Scores ``u_candidate · v_centre``, ``(batch, 1 + k)`` (logits of "is a real context").

    Example:
        >>> sg = SkipGram(vocab_size=10, dim=4)
        >>> tuple(sg((np.array([1, 2]), np.array([[3, 4, 5], [6, 7, 8]]))).shape)
        (2, 3)

    References:
        Mikolov, Sutskever, Chen, Corrado, Dean (2013), *Distributed Representations of
        Words and Phrases and their Compositionality*, NeurIPS.
    """

    def call(self, inputs, training=None):
        centres, candidates = inputs
        if len(centres.shape) != 1:
            raise ValueError(f"SkipGram centres must be (batch,) ids. Received {centres.shape}")
        v = self._lookup(self.words, centres, training)
        return self._scores(v, candidates, training)


@keras.saving.register_keras_serializable(package="nlpbook")
class CBOW(_Word2Vec):
    """Continuous bag of words with negative sampling: the mean context vector scores words.

    Args:
        vocab_size: number of ids (id 0 pads: padded context slots are left out of the mean).
        dim: vector size.
        repeats: how a row used several times in a batch gets its gradient while training:
            ``"sum"`` (autodiff's sum), ``"sqrt"`` or ``"mean"`` (the sum divided by the square
            root of the count or by the count; see the module's docstring).

    Call arguments:
        inputs: ``(contexts, candidates)``: int ids ``(batch, 2 * window)`` padded with 0, and
            ``(batch, 1 + k)`` with the true centre word first.

    Returns:
        Scores ``u_candidate · mean(v_context)``, ``(batch, 1 + k)``.

    Example:
        >>> cbow = CBOW(vocab_size=10, dim=4)
        >>> tuple(cbow((np.array([[1, 2, 0, 0]]), np.array([[3, 4, 5]]))).shape)
        (1, 3)
    """

    def call(self, inputs, training=None):
        contexts, candidates = inputs
        if len(contexts.shape) != 2:
            raise ValueError(f"CBOW contexts must be (batch, slots) ids. Received {contexts.shape}")
        mask = ops.cast(ops.not_equal(contexts, 0), self.compute_dtype)[..., None]
        v = self._lookup(self.words, contexts, training, mask=ops.not_equal(contexts, 0))
        total = ops.sum(v * mask, axis=1)
        h = total / ops.maximum(ops.sum(mask, axis=1), 1.0)  # (batch, dim)
        return self._scores(h, candidates, training)
