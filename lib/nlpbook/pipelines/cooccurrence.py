"""Word–word co-occurrence counts for GloVe, and the tf.data pipeline that feeds them.

GloVe (Pennington et al. 2014) fits word vectors to :math:`\\log X_{ij}`, where
:math:`X_{ij}` counts how often word ``j`` occurs within ``window`` words of word ``i``. As in
the reference implementation (``cooccur.c``), an occurrence at distance ``d`` adds ``1 / d``,
windows stay inside a sentence (a line), and the counts are symmetric.

Counting is done in chunks of sentences with NumPy, each chunk summed into a sparse matrix
(``scipy.sparse``), so memory is bounded by the chunk's pairs plus the non-zero entries, never
by ``vocab_size ** 2``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import tensorflow as tf

from nlpbook.pipelines._checks import positive_int


def cooccurrence_matrix(
    sentences,
    vocab_size: int,
    *,
    window: int = 10,
    distance_weighting: bool = True,
    chunk_tokens: int = 1_000_000,
) -> sp.csr_matrix:
    """Symmetric co-occurrence counts within ``window`` words, inside each sentence.

    Args:
        sentences: token ids ``>= 1`` (0 is padding), one sequence per sentence.
        vocab_size: number of ids; the matrix is ``(vocab_size, vocab_size)``.
        window: the largest distance counted.
        distance_weighting: add ``1 / d`` for a pair at distance ``d`` (GloVe); else 1.
        chunk_tokens: tokens counted per chunk (bounds the memory of one step).

    Returns:
        ``scipy.sparse.csr_matrix`` of float64 with ``X[i, j] == X[j, i]``; row and column 0
        are empty.

    Example:
        >>> X = cooccurrence_matrix([[1, 2, 3]], 4, window=2)
        >>> X.toarray()[1:, 1:].tolist()
        [[0.0, 1.0, 0.5], [1.0, 0.0, 1.0], [0.5, 1.0, 0.0]]
    """
    vocab_size = positive_int("vocab_size", vocab_size)
    window = positive_int("window", window)
    chunk_tokens = positive_int("chunk_tokens", chunk_tokens)
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.float64)
    chunk: list[np.ndarray] = []
    size = 0

    def flush():
        nonlocal total, chunk, size
        if not chunk:
            return
        ids = np.concatenate(chunk)
        row = np.repeat(np.arange(len(chunk)), [len(s) for s in chunk])  # sentence of each token
        rows, cols, weights = [], [], []
        for d in range(1, window + 1):
            same = row[d:] == row[:-d]
            rows.append(ids[:-d][same])
            cols.append(ids[d:][same])
            weights.append(np.full(int(same.sum()), 1.0 / d if distance_weighting else 1.0))
        r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
        # each pair once in each direction: X is symmetric
        counts = sp.coo_matrix(
            (np.r_[w, w], (np.r_[r, c], np.r_[c, r])), shape=(vocab_size, vocab_size)
        )
        total = total + counts.tocsr()
        chunk, size = [], 0

    for n, sentence in enumerate(sentences):
        ids = np.asarray(sentence, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 1 or ids.max() >= vocab_size):
            raise ValueError(f"sentence {n}: ids must be in 1 … {vocab_size - 1} (0 is padding)")
        chunk.append(ids)
        size += ids.size
        if size >= chunk_tokens:
            flush()
    flush()
    total.sum_duplicates()
    return total


def glove_dataset(
    matrix: sp.spmatrix, *, batch_size: int = 4096, shuffle: bool = True, seed: int = 0
) -> tf.data.Dataset:
    """The non-zero entries of a co-occurrence matrix as ``((i, j), X_ij)`` batches.

    Args:
        matrix: the counts (``cooccurrence_matrix``).
        batch_size: entries per batch.
        shuffle: a new order every epoch (GloVe's SGD visits the entries in random order).
        seed: the shuffle seed.

    Returns:
        A dataset with ``element_spec``
        ``((TensorSpec((None,), int32), TensorSpec((None,), int32)),  # i, j
        TensorSpec((None,), float32))``                              # X_ij > 0
    """
    coo = sp.coo_matrix(matrix)
    if coo.nnz == 0:
        raise ValueError("the co-occurrence matrix has no non-zero entry")
    batch_size = positive_int("batch_size", batch_size)
    nnz = coo.nnz
    rows = tf.constant(coo.row, tf.int32)
    cols = tf.constant(coo.col, tf.int32)
    values = tf.constant(coo.data, tf.float32)

    # one permutation per epoch, sliced into batches: no per-entry work in tf.data
    @tf.autograph.experimental.do_not_convert
    def epoch(draw_seed):
        order = tf.range(nnz)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, tf.cast(draw_seed, tf.int64))

        def batch(b):
            take = order[b * batch_size : tf.minimum((b + 1) * batch_size, nnz)]
            return (tf.gather(rows, take), tf.gather(cols, take)), tf.gather(values, take)

        return tf.data.Dataset.range(-(-nnz // batch_size)).map(
            lambda b: batch(tf.cast(b, tf.int32))
        )

    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2).take(1)
    ds = seeds.flat_map(epoch)
    # flat_map hides the length; Keras wants it to size its epochs
    ds = ds.apply(tf.data.experimental.assert_cardinality(-(-nnz // batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)
