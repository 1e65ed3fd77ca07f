r"""Text classifiers: a bag of n-grams, Kim's CNN, a (Bi)LSTM/GRU and a small Transformer.

The four families take the same input, token ids ``(batch, time)`` with 0 for padding (what
:func:`nlpbook.pipelines.text_classification_dataset` yields), and return logits
``(batch, num_classes)`` in float32 (train with
``SparseCategoricalCrossentropy(from_logits=True)``). None of them lets padding change a
prediction: appending padding to a text gives the same logits.

:func:`string_input_classifier` wraps a ``TextVectorization`` and any of them into one model
that takes raw strings and saves as one ``.keras`` file (TensorFlow backend).
:func:`pretrained_embedding_matrix` turns word vectors (GloVe) into the initial embedding of
a :class:`KimCNN` ("CNN-static" / "CNN-non-static").
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_bool, check_heads, check_int, check_rate
from nlpbook.layers import (
    GRUCell,
    LSTMCell,
    PositionEmbedding,
    SimpleRNNCell,
    SinusoidalPositionEmbedding,
    TransformerEncoderBlock,
)
from nlpbook.models.nnlm import _check_ids

_NO_KEY = np.iinfo(np.int32).max  # fills unused bigram slots; no real key reaches it


def _padding_mask(inputs):
    return ops.not_equal(inputs, 0)  # (batch, time)


@keras.saving.register_keras_serializable(package="nlpbook")
class BagOfNgramsClassifier(keras.Model):
    r"""Logistic (softmax) regression on TF-IDF weighted unigrams and bigrams of token ids.

    .. math::
        x_g = \mathrm{count}(g, d)\,\mathrm{idf}(g), \quad
        \mathrm{idf}(g) = \log\Bigl(1 + \frac{N}{1 + \mathrm{df}(g)}\Bigr), \quad
        \hat x = x / \lVert x \rVert_2, \quad
        \text{logits} = W \hat x + b

    for each n-gram ``g`` of document ``d`` (``N`` training documents, ``df(g)`` of them contain
    ``g``; the idf formula is ``keras.layers.TextVectorization``'s). Unigram features are the ids
    themselves (features ``0 .. vocab_size - 1``); bigram features are the ``max_bigrams``
    pairs of adjacent ids found in most training documents (features ``vocab_size ..``), chosen
    by :meth:`adapt`. Pairs that touch padding are never counted, bigrams outside the list are
    dropped. The unit L2 norm puts a 5-word sentence and a 500-word review on one scale.

    A bigram ``(a, b)`` is the integer key ``a * vocab_size + b``, found among the sorted keys
    by binary search (``keras.ops.searchsorted``), so ``vocab_size ** 2`` must fit in int32
    when bigrams are used (``vocab_size <= 46,340``).

    Args:
        vocab_size: number of token ids (id 0 pads).
        num_classes: number of labels.
        max_bigrams: bigram features (0: unigrams only).
        dropout: dropout rate on the features while training.

    Call arguments:
        inputs: int ids ``(batch, time)``.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, num_classes)``, float32.

    Example:
        >>> model = BagOfNgramsClassifier(vocab_size=10, max_bigrams=4)
        >>> model.adapt(np.array([[2, 3, 4], [2, 3, 0]]))
        >>> model.feature_ngrams()[10:12]
        [(2, 3), (3, 4)]
        >>> tuple(model(np.array([[2, 3, 0]])).shape)
        (1, 2)

    References:
        Wang & Manning (2012), *Baselines and Bigrams: Simple, Good Sentiment and Topic
        Classification*, ACL. Joulin et al. (2017), *Bag of Tricks for Efficient Text
        Classification*, EACL.
    """

    def __init__(self, vocab_size, num_classes=2, max_bigrams=50_000, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.max_bigrams = check_int("max_bigrams", max_bigrams, 0)
        if self.max_bigrams and self.vocab_size**2 >= _NO_KEY:
            raise ValueError(
                "bigram keys vocab_size**2 must fit in int32: need vocab_size <= 46340 or "
                f"max_bigrams=0. Received: vocab_size={vocab_size}"
            )
        self.dropout = check_rate("dropout", dropout)
        self.num_features = self.vocab_size + self.max_bigrams
        self.feature_dropout = layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="feature_dropout"
        )
        self.output_layer = layers.Dense(self.num_classes, dtype="float32", name="output")

    def build(self, input_shape=None):
        # sorted bigram keys and the idf: data statistics set by adapt(), saved with the model
        self.bigram_keys = self.add_weight(
            shape=(max(self.max_bigrams, 1),),
            dtype="int32",
            initializer=keras.initializers.Constant(_NO_KEY),
            trainable=False,
            name="bigram_keys",
        )
        self.idf = self.add_weight(
            shape=(self.num_features,), initializer="ones", trainable=False, name="idf"
        )
        self.output_layer.build((None, self.num_features))
        self.built = True

    def adapt(self, data) -> None:
        """Choose the bigrams and compute the idf from training token ids.

        Args:
            data: an int array ``(documents, time)`` (0 pads), or a ``tf.data.Dataset`` /
                iterable of such batches or of ``(ids, labels)`` batches.
        """
        if not self.built:
            self.build()
        batches = [data] if isinstance(data, np.ndarray) else data
        n_docs, unigram_df, bigram_docs = 0, np.zeros(self.vocab_size, np.int64), []
        for batch in batches:
            ids = np.asarray(batch[0] if isinstance(batch, tuple) else batch).astype(np.int64)
            if ids.ndim != 2:
                raise ValueError(f"adapt expects id batches of rank 2. Received shape {ids.shape}")
            if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
                raise ValueError(f"token ids must be in [0, {self.vocab_size}).")
            rows = np.arange(len(ids))[:, None]
            # one (document, n-gram) pair per document that contains the n-gram
            doc_unigrams = np.unique((rows * self.vocab_size + ids)[ids > 0])
            unigram_df += np.bincount(doc_unigrams % self.vocab_size, minlength=self.vocab_size)
            pairs = (ids[:, :-1] > 0) & (ids[:, 1:] > 0)
            keys = ids[:, :-1] * self.vocab_size + ids[:, 1:]
            doc_keys = np.unique((rows * self.vocab_size**2 + keys)[pairs])
            bigram_docs.append(doc_keys % self.vocab_size**2)
            n_docs += len(ids)
        if n_docs == 0:
            raise ValueError("adapt received no documents")
        idf = np.log1p(n_docs / (1 + np.zeros(self.num_features)))  # for never-seen features
        idf[: self.vocab_size] = np.log1p(n_docs / (1 + unigram_df))
        if self.max_bigrams:
            keys, df = np.unique(np.concatenate(bigram_docs), return_counts=True)
            top = np.lexsort((keys, -df))[: self.max_bigrams]  # most documents first, then key
            chosen = np.sort(keys[top])
            df_of = dict(zip(keys[top].tolist(), df[top].tolist(), strict=True))
            table = np.full(self.max_bigrams, _NO_KEY, np.int64)
            table[: len(chosen)] = chosen
            self.bigram_keys.assign(table.astype(np.int32))
            found = np.array([df_of[k] for k in chosen.tolist()], np.float64)
            idf[self.vocab_size : self.vocab_size + len(chosen)] = np.log1p(n_docs / (1 + found))
        self.idf.assign(idf.astype(np.float32))

    def feature_ngrams(self) -> list[tuple[int, ...]]:
        """The n-gram of each feature, as token ids: ``(id,)`` or ``(id_a, id_b)``; ``()`` for
        an unused bigram slot. Index it with the rows of the output kernel."""
        keys = ops.convert_to_numpy(self.bigram_keys)[: self.max_bigrams].astype(np.int64)
        bigrams = [() if k == _NO_KEY else divmod(int(k), self.vocab_size) for k in keys]
        return [(i,) for i in range(self.vocab_size)] + bigrams

    def features(self, inputs):
        """The L2-normalised TF-IDF vectors ``(batch, num_features)`` of id batches."""
        ids = ops.cast(inputs, "int32")
        mask = ops.cast(_padding_mask(ids), "float32")
        batch = ops.shape(ids)[0]
        rows = ops.arange(batch, dtype="int32")[:, None] * self.num_features  # (batch, 1)
        feature, weight = ids, mask
        if self.max_bigrams:
            keys = ids[:, :-1] * self.vocab_size + ids[:, 1:]  # (batch, time - 1)
            flat = ops.reshape(keys, (-1,))
            slot = ops.minimum(ops.searchsorted(self.bigram_keys, flat), self.max_bigrams - 1)
            found = ops.cast(ops.equal(ops.take(self.bigram_keys, slot), flat), "float32")
            slot = ops.reshape(slot, ops.shape(keys))
            feature = ops.concatenate([ids, self.vocab_size + slot], axis=1)
            pair_weight = mask[:, :-1] * mask[:, 1:] * ops.reshape(found, ops.shape(keys))
            weight = ops.concatenate([mask, pair_weight], axis=1)
        # counts per (document, feature): a segment sum over row-offset feature ids
        counts = ops.segment_sum(
            ops.reshape(weight, (-1,)),
            ops.reshape(rows + feature, (-1,)),
            num_segments=batch * self.num_features,
        )
        tfidf = ops.reshape(counts, (batch, self.num_features)) * self.idf
        norm = ops.sqrt(ops.sum(ops.square(tfidf), axis=1, keepdims=True))
        return tfidf / ops.maximum(norm, 1e-12)

    def call(self, inputs, training=None):
        _check_ids(inputs, 2, "BagOfNgramsClassifier")
        x = self.feature_dropout(self.features(inputs), training=training)
        return self.output_layer(x)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "max_bigrams": self.max_bigrams,
            "dropout": self.dropout,
        }


def _load_embeddings(embedding, matrix, vocab_size, embedding_dim) -> None:
    """Assign ``matrix`` to an ``Embedding`` layer's table after checking its shape."""
    matrix = np.asarray(matrix, dtype="float32")
    if matrix.shape != (vocab_size, embedding_dim):
        raise ValueError(
            f"embedding matrix must have shape {(vocab_size, embedding_dim)}. "
            f"Received shape {matrix.shape}"
        )
    if not embedding.built:
        embedding.build((None, None))
    embedding.embeddings.assign(matrix)


@keras.saving.register_keras_serializable(package="nlpbook")
class KimCNN(keras.Model):
    r"""Kim's (2014) convolutional network for sentences.

    For each filter width :math:`h` (3, 4, 5) and each of ``num_filters`` filters,

    .. math::
        c_i = \mathrm{ReLU}(w \cdot x_{i:i+h-1} + b), \qquad \hat c = \max_i c_i

    over the word vectors :math:`x_1 \dots x_n` of a sentence (max-over-time pooling); the
    :math:`3 \times 100` pooled features go through dropout (0.5) to a softmax layer whose
    weight vectors are rescaled to an L2 norm of at most 3 (Kim's constraint, ``max_norm``).

    Padding: like Kim's code, which pads each sentence with ``h - 1`` zero vectors on both
    sides, the windows run over the sentence with ``h - 1`` zero vectors on each side, so a
    sentence shorter than ``h`` still has windows. Batch padding (id 0) embeds as the zero vector
    and windows holding no real token are left out of the max, so the padding of a batch
    never changes a sentence's features. ReLU is applied after the max (the same result,
    since ReLU is monotonic).

    Args:
        vocab_size: number of token ids (id 0 pads).
        num_classes: number of labels.
        embedding_dim: word-vector size (Kim: 300, word2vec).
        filter_sizes: window widths ``h``.
        num_filters: filters per width.
        dropout: dropout rate on the pooled features while training.
        embeddings_trainable: ``False`` keeps the (pretrained) vectors fixed ("CNN-static");
            ``True`` fine-tunes them ("non-static") or learns them from random ("CNN-rand").
        max_norm: the largest L2 norm of each output weight vector; ``None`` for no constraint.

    Call arguments:
        inputs: int ids ``(batch, time)``.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, num_classes)``, float32.

    Example:
        >>> cnn = KimCNN(vocab_size=100, embedding_dim=8, num_filters=4)
        >>> tuple(cnn(np.array([[5, 6, 7, 0]])).shape)
        (1, 2)
        >>> cnn.set_embeddings(np.zeros((100, 8), "float32"))  # pretrained vectors

    References:
        Kim (2014), *Convolutional Neural Networks for Sentence Classification*, EMNLP.
    """

    def __init__(
        self,
        vocab_size,
        num_classes=2,
        embedding_dim=300,
        filter_sizes=(3, 4, 5),
        num_filters=100,
        dropout=0.5,
        embeddings_trainable=True,
        max_norm=3.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        if isinstance(filter_sizes, (int, str)) or not len(filter_sizes):
            raise ValueError(
                f"filter_sizes must be a non-empty list of ints. Received: {filter_sizes!r}"
            )
        self.filter_sizes = [check_int("filter_sizes", h, 1) for h in filter_sizes]
        self.num_filters = check_int("num_filters", num_filters, 1)
        self.dropout = check_rate("dropout", dropout)
        self.embeddings_trainable = bool(embeddings_trainable)
        if max_norm is not None and (isinstance(max_norm, bool) or not max_norm > 0):
            raise ValueError(f"max_norm must be a positive number or None. Received: {max_norm}")
        self.max_norm = None if max_norm is None else float(max_norm)
        policy = self.dtype_policy
        self.embedding = layers.Embedding(
            vocab_size,
            embedding_dim,
            trainable=self.embeddings_trainable,
            dtype=policy,
            name="embedding",
        )
        self.convs = [
            layers.Conv1D(num_filters, h, dtype=policy, name=f"conv_{h}") for h in self.filter_sizes
        ]
        self.pooled_dropout = layers.Dropout(self.dropout, dtype=policy, name="pooled_dropout")
        constraint = None if max_norm is None else keras.constraints.MaxNorm(max_norm, axis=0)
        self.output_layer = layers.Dense(
            num_classes, kernel_constraint=constraint, dtype="float32", name="output"
        )

    def set_embeddings(self, matrix) -> None:
        """Load word vectors ``(vocab_size, embedding_dim)`` into the embedding table."""
        _load_embeddings(self.embedding, matrix, self.vocab_size, self.embedding_dim)

    def pooled_features(self, inputs):
        """The max-pooled, ReLU'd filter outputs ``(batch, len(filter_sizes) * num_filters)``."""
        _check_ids(inputs, 2, "KimCNN")
        mask = ops.cast(_padding_mask(inputs), self.compute_dtype)  # (batch, time)
        x = self.embedding(inputs) * mask[:, :, None]  # (batch, time, dim); padding = 0
        pooled = []
        for h, conv in zip(self.filter_sizes, self.convs, strict=True):
            edges = [[0, 0], [h - 1, h - 1]]
            c = conv(ops.pad(x, [*edges, [0, 0]]))  # (batch, time + h - 1, filters)
            # window j covers tokens j-h+1 .. j: keep it if it holds at least one real token
            real = ops.max_pool(ops.pad(mask, edges)[:, :, None], h, strides=1)  # (b, t+h-1, 1)
            c = ops.where(real > 0, c, ops.cast(float("-inf"), c.dtype))
            pooled.append(ops.relu(ops.max(c, axis=1)))  # (batch, filters)
        return ops.concatenate(pooled, axis=-1)

    def call(self, inputs, training=None):
        features = self.pooled_dropout(self.pooled_features(inputs), training=training)
        return self.output_layer(features)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "filter_sizes": list(self.filter_sizes),
            "num_filters": self.num_filters,
            "dropout": self.dropout,
            "embeddings_trainable": self.embeddings_trainable,
            "max_norm": self.max_norm,
        }


_RNN_LAYERS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple_rnn": layers.SimpleRNN}
_CELLS = {"lstm": LSTMCell, "gru": GRUCell, "simple_rnn": SimpleRNNCell}  # chapter 6's


def _rnn_of_cell(cell_class):
    """A factory: one of chapter 6's cells wrapped in ``keras.layers.RNN``."""

    def factory(units, dtype=None, name=None):
        return layers.RNN(cell_class(units, dtype=dtype), dtype=dtype, name=name)

    return factory


@keras.saving.register_keras_serializable(package="nlpbook")
class RecurrentClassifier(keras.Model):
    """Embedding, a (bidirectional) recurrent layer, dropout, a softmax layer.

    The recurrent layer reads the real tokens only: it receives the padding mask, so a masked
    step carries the state unchanged. Forward, the state after the last real token is the
    output; backward (``bidirectional``), Keras reverses the sequence with its mask, so the
    padding comes first and leaves the zero initial state untouched. The two final states are
    concatenated.

    Args:
        vocab_size: number of token ids (id 0 pads).
        num_classes: number of labels.
        embedding_dim: word-vector size.
        units: units of the recurrent layer (per direction).
        rnn_layer: ``"lstm"``, ``"gru"`` or ``"simple_rnn"`` (Keras' built-in layers), or a
            factory ``rnn_layer(units, dtype=..., name=...)`` returning a Keras ``RNN`` layer
            that takes ``mask`` and returns its last output (``return_sequences=False``), e.g.
            ``keras.layers.RNN(MyLSTMCell(units), **kwargs)`` with one's own cell. For the
            model to save and load, the factory must be a registered Keras-serializable function.
        cells: for a named ``rnn_layer``, ``"keras"`` (the built-in layer, which uses cuDNN on
            a GPU when it can) or ``"nlpbook"`` (chapter 6's ``LSTMCell``, ``GRUCell`` or
            ``SimpleRNNCell`` in ``keras.layers.RNN``). Both have the same weights in the same
            layout, so ``set_weights`` copies one model into the other.
        bidirectional: read the text in both directions (``keras.layers.Bidirectional``).
        dropout: dropout rate on the embeddings and on the final states while training.

    Call arguments:
        inputs: int ids ``(batch, time)``.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, num_classes)``, float32.

    Example:
        >>> rnn = RecurrentClassifier(vocab_size=100, embedding_dim=8, units=4, rnn_layer="gru")
        >>> tuple(rnn(np.array([[5, 6, 0, 0]])).shape)
        (1, 2)

    References:
        Hochreiter & Schmidhuber (1997), *Long Short-Term Memory*, Neural Computation 9(8).
        Cho et al. (2014), *Learning Phrase Representations using RNN Encoder-Decoder*, EMNLP.
        Schuster & Paliwal (1997), *Bidirectional Recurrent Neural Networks*, IEEE TSP.
    """

    def __init__(
        self,
        vocab_size,
        num_classes=2,
        embedding_dim=128,
        units=64,
        rnn_layer="lstm",
        bidirectional=True,
        dropout=0.0,
        cells="keras",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        self.units = check_int("units", units, 1)
        if isinstance(rnn_layer, dict):  # a serialized factory, from get_config
            rnn_layer = keras.saving.deserialize_keras_object(rnn_layer)
        if not (callable(rnn_layer) or rnn_layer in _RNN_LAYERS):
            raise ValueError(
                f"rnn_layer must be one of {sorted(_RNN_LAYERS)} or a callable factory. "
                f"Received: rnn_layer={rnn_layer!r}"
            )
        if cells not in ("keras", "nlpbook"):
            raise ValueError(f'cells must be "keras" or "nlpbook". Received: cells={cells!r}')
        if cells != "keras" and not isinstance(rnn_layer, str):
            raise ValueError(
                'cells="nlpbook" chooses the cells of a named rnn_layer ("lstm", "gru", '
                f'"simple_rnn"); a factory makes its own. Received: rnn_layer={rnn_layer!r}'
            )
        self.rnn_layer = rnn_layer
        self.cells = cells
        self.bidirectional = bool(bidirectional)
        self.dropout = check_rate("dropout", dropout)
        policy = self.dtype_policy
        # cuDNN's fused kernels have no bfloat16: the recurrence computes in float32
        rnn_policy = "float32" if policy.compute_dtype == "bfloat16" else policy
        if not isinstance(rnn_layer, str):
            factory = rnn_layer
        elif cells == "keras":
            factory = _RNN_LAYERS[rnn_layer]
        else:
            factory = _rnn_of_cell(_CELLS[rnn_layer])
        self.embedding = layers.Embedding(vocab_size, embedding_dim, dtype=policy, name="embedding")
        self.embedding_dropout = layers.Dropout(
            self.dropout, dtype=policy, name="embedding_dropout"
        )
        rnn = factory(self.units, dtype=rnn_policy, name="rnn")
        if not isinstance(rnn, layers.Layer):
            raise TypeError(f"rnn_layer returned {type(rnn).__name__}, not a Keras layer")
        self.rnn = (
            layers.Bidirectional(rnn, dtype=rnn_policy, name="birnn") if bidirectional else rnn
        )
        self.state_dropout = layers.Dropout(self.dropout, dtype=policy, name="state_dropout")
        self.output_layer = layers.Dense(num_classes, dtype="float32", name="output")

    def set_embeddings(self, matrix) -> None:
        """Load word vectors ``(vocab_size, embedding_dim)`` into the embedding table.

        They are fine-tuned with the rest of the model (Kim's "non-static" use of pretrained
        vectors); ``model.embedding.trainable = False`` keeps them fixed.
        """
        _load_embeddings(self.embedding, matrix, self.vocab_size, self.embedding_dim)

    def call(self, inputs, training=None):
        _check_ids(inputs, 2, "RecurrentClassifier")
        x = self.embedding_dropout(self.embedding(inputs), training=training)  # (b, t, emb)
        h = self.rnn(x, mask=_padding_mask(inputs), training=training)  # (b, units [* 2])
        return self.output_layer(self.state_dropout(h, training=training))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        rnn_layer = self.rnn_layer
        if not isinstance(rnn_layer, str):
            rnn_layer = keras.saving.serialize_keras_object(rnn_layer)
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "rnn_layer": rnn_layer,
            "bidirectional": self.bidirectional,
            "dropout": self.dropout,
            "cells": self.cells,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class TransformerClassifier(keras.Model):
    r"""A Transformer encoder over the tokens, mean-pooled over the real ones, then a softmax.

    .. math::
        x_t = E[w_t] + P[t], \qquad
        x \leftarrow \mathrm{Block}_l(x) \ (l = 1 \dots L), \qquad
        \text{logits} = W \tfrac{1}{n}\textstyle\sum_{t \le n} x_t

    The blocks are :class:`nlpbook.layers.TransformerEncoderBlock` (chapter 7), post-LN as in
    the paper or pre-LN (``norm_first``, then one more ``LayerNormalization`` after the last
    block, GPT-2's ``ln_f``). ``P`` is a learned table (:class:`~nlpbook.layers.PositionEmbedding`,
    as in keras.io's "Text classification with Transformer") or the fixed sinusoids
    (:class:`~nlpbook.layers.SinusoidalPositionEmbedding`). Padded keys are hidden from every
    query and the mean is over the ``n`` real tokens; positions count from the first token,
    so texts must be padded on the right (as the book's pipelines do), and then padding
    changes nothing.

    Args:
        vocab_size: number of token ids (id 0 pads).
        max_length: the longest input (the number of learned positions).
        num_classes: number of labels.
        embed_dim: model width ``d_model``; a multiple of ``num_heads``.
        num_heads: attention heads.
        ff_dim: hidden units of each block's feed-forward network.
        num_layers: encoder blocks.
        dropout: dropout rate on the embedded input, on each sub-layer's output (residual
            dropout) and on the pooled vector.
        positions: ``"learned"`` or ``"sinusoidal"``.
        norm_first: ``False`` for post-LN blocks, ``True`` for pre-LN.

    Call arguments:
        inputs: int ids ``(batch, time)``, ``time <= max_length``.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, num_classes)``, float32.

    Example:
        >>> tr = TransformerClassifier(vocab_size=100, max_length=16, embed_dim=8, num_heads=2,
        ...                            ff_dim=16)
        >>> tuple(tr(np.array([[5, 6, 0, 0]])).shape)
        (1, 2)
        >>> [tuple(w.shape) for w in tr.attention_scores(np.array([[5, 6, 0, 0]]))]
        [(1, 2, 4, 4)]

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS;
        Xiong et al. (2020), *On Layer Normalization in the Transformer Architecture*, ICML.
    """

    def __init__(
        self,
        vocab_size,
        max_length,
        num_classes=2,
        embed_dim=64,
        num_heads=4,
        ff_dim=128,
        num_layers=1,
        dropout=0.1,
        positions="learned",
        norm_first=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.max_length = check_int("max_length", max_length, 1)
        self.num_classes = check_int("num_classes", num_classes, 2)
        self.embed_dim = check_int("embed_dim", embed_dim, 1)
        self.num_heads = check_int("num_heads", num_heads, 1)
        check_heads("embed_dim", self.embed_dim, self.num_heads)
        self.ff_dim = check_int("ff_dim", ff_dim, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        self.dropout = check_rate("dropout", dropout)
        if positions not in ("learned", "sinusoidal"):
            raise ValueError(
                f'positions must be "learned" or "sinusoidal". Received: positions={positions!r}'
            )
        self.positions = positions
        self.norm_first = check_bool("norm_first", norm_first)
        policy = self.dtype_policy
        self.token_embedding = layers.Embedding(
            vocab_size, embed_dim, dtype=policy, name="token_embedding"
        )
        self.position_embedding = (
            PositionEmbedding(max_length, dtype=policy, name="position_embedding")
            if positions == "learned"
            else SinusoidalPositionEmbedding(dtype=policy, name="position_embedding")
        )
        self.embedding_dropout = layers.Dropout(
            self.dropout, dtype=policy, name="embedding_dropout"
        )
        self.blocks = [
            TransformerEncoderBlock(
                num_heads,
                ff_dim,
                dropout=self.dropout,
                norm_first=self.norm_first,
                dtype=policy,
                name=f"block_{i}",
            )  # fmt: skip
            for i in range(self.num_layers)
        ]
        self.final_norm = (
            layers.LayerNormalization(epsilon=1e-5, dtype=policy, name="final_norm")
            if self.norm_first
            else None
        )
        self.pooled_dropout = layers.Dropout(self.dropout, dtype=policy, name="pooled_dropout")
        self.output_layer = layers.Dense(num_classes, dtype="float32", name="output")

    def _encode(self, inputs, training, with_scores=False):
        """Block outputs ``(batch, time, embed_dim)``, the padding mask and the blocks' weights."""
        _check_ids(inputs, 2, type(self).__name__)
        length = inputs.shape[1]
        if length is not None and length > self.max_length:
            raise ValueError(
                f"{type(self).__name__} has {self.max_length} positions (max_length). Received "
                f"sequences of length {length}: truncate them (max_length in the pipeline)"
            )
        mask = _padding_mask(inputs)  # (batch, time)
        x = self.position_embedding(self.token_embedding(inputs))
        x = self.embedding_dropout(x, training=training)
        scores = []
        for block in self.blocks:
            if with_scores:
                x, weights = block(
                    x, padding_mask=mask, return_attention_scores=True, training=False
                )
                scores.append(weights["self_attention"])
            else:
                x = block(x, padding_mask=mask, training=training)
        if self.final_norm is not None:
            x = self.final_norm(x)
        return x, mask, scores

    def call(self, inputs, training=None):
        x, mask, _ = self._encode(inputs, training)
        weights = ops.cast(mask, x.dtype)[:, :, None]  # (batch, time, 1)
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1)
        return self.output_layer(self.pooled_dropout(pooled, training=training))

    def attention_scores(self, inputs):
        """Each block's self-attention weights at inference, ``(batch, heads, time, time)``.

        Rows are queries, columns keys; padded keys get weight 0 (rows of padded queries
        are computed but meaningless).
        """
        return self._encode(ops.convert_to_tensor(inputs), False, with_scores=True)[2]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "max_length": self.max_length,
            "num_classes": self.num_classes,
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "positions": self.positions,
            "norm_first": self.norm_first,
        }


def string_input_classifier(
    vectorizer: layers.TextVectorization, classifier: keras.Model, name: str = "text_classifier"
) -> keras.Model:
    """One model from raw strings to logits: ``vectorizer`` then ``classifier``.

    The tokenization travels with the model: ``model.save("m.keras")`` stores the vocabulary,
    and ``keras.models.load_model("m.keras", safe_mode=True)`` gives a model that takes the
    same strings and returns the same logits. String tensors exist only in TensorFlow, so this
    model runs on the TensorFlow backend; on JAX or PyTorch keep the ``TextVectorization`` in
    the ``tf.data`` pipeline.

    Args:
        vectorizer: an adapted ``keras.layers.TextVectorization`` with ``output_mode="int"``
            (the ids the classifier was trained on).
        classifier: a model taking ids ``(batch, time)``, e.g. :class:`KimCNN`.
        name: the model's name.

    Returns:
        A functional ``keras.Model``: strings ``(batch,)`` → logits ``(batch, num_classes)``.

    Example:
        >>> vec = keras.layers.TextVectorization()
        >>> vec.adapt(["a good film", "a bad film"])
        >>> model = string_input_classifier(vec, KimCNN(vec.vocabulary_size(), embedding_dim=4))
        >>> tuple(model(np.array(["a good film"])).shape)
        (1, 2)
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "string_input_classifier needs the TensorFlow backend (string tensors); "
            f"the backend is {keras.backend.backend()!r}"
        )
    if not isinstance(vectorizer, layers.TextVectorization):
        raise TypeError(f"vectorizer must be a TextVectorization. Received: {vectorizer!r}")
    if vectorizer.get_config()["output_mode"] != "int":
        raise ValueError(
            "vectorizer must output token ids (output_mode='int'). Received: "
            f"output_mode={vectorizer.get_config()['output_mode']!r}"
        )
    if not isinstance(classifier, keras.Model):
        raise TypeError(f"classifier must be a keras.Model. Received: {classifier!r}")
    text = keras.Input(shape=(), dtype="string", name="text")  # (batch,)
    return keras.Model(text, classifier(vectorizer(text)), name=name)


def pretrained_embedding_matrix(
    tokens: Sequence[str],
    words: Sequence[str],
    vectors: np.ndarray,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """An embedding matrix for a vocabulary, from pretrained word vectors (e.g. GloVe).

    Row ``i`` is the vector of ``tokens[i]`` where it has one; a token without a vector gets a
    random one from ``U[-a, a]``, with ``a`` chosen so that its variance equals that of the
    pretrained vectors (Kim 2014, section 3.1). Row 0, padding, is zero.

    Args:
        tokens: the vocabulary, id order (``TextVectorization.get_vocabulary()``); ``tokens[0]``
            is padding.
        words: the words that have vectors.
        vectors: ``(len(words), dim)``; row ``k`` belongs to ``words[k]``.
        seed: seed for the random vectors.

    Returns:
        ``(matrix (len(tokens), dim) float32, coverage)``: coverage is the fraction of the
        tokens after padding that found a pretrained vector.
    """
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(
            f"vectors must be (len(words), dim) = ({len(words)}, dim). Received shape "
            f"{vectors.shape}"
        )
    if len(tokens) < 2:
        raise ValueError("tokens must hold padding and at least one token")
    row_of = {w: k for k, w in enumerate(words)}
    a = float(np.sqrt(3 * vectors.var()))  # Var(U[-a, a]) = a^2 / 3
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-a, a, (len(tokens), vectors.shape[1])).astype(np.float32)
    matrix[0] = 0
    hits = [(i, row_of[t]) for i, t in enumerate(tokens) if i > 0 and t in row_of]
    if hits:
        ids, rows = map(list, zip(*hits, strict=True))
        matrix[ids] = vectors[rows]
    return matrix, len(hits) / (len(tokens) - 1)
