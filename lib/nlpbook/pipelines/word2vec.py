r"""Training examples for word2vec (skip-gram and CBOW with negative sampling), built in tf.data.

Everything happens inside the pipeline, in TensorFlow ops, a sentence at a time: no Python
loop per word or per pair, so the examples keep up with a GPU. Each epoch draws anew:

1. **Subsampling** of frequent words (Mikolov et al. 2013b). Word ``w`` with corpus frequency
   ``f(w)`` (its share of all tokens) is kept with probability
   :math:`\min\big(1, (\sqrt{f/t} + 1)\, t / f\big)`, the rule of the word2vec C code and
   gensim (the paper prints :math:`1 - \sqrt{t/f}` as the probability of *discarding*). Kept
   words close up, so the window reaches further past removed ones.
2. **A dynamic window** per centre word: ``b`` uniform in ``1 … window``; the words within
   ``b`` positions of the centre, in the same sentence, are its contexts. Near words are thus
   used more often than far ones: distance ``d`` with probability ``(window - d + 1) / window``.
3. **Negatives** drawn from the unigram distribution raised to ``3/4`` and renormalised, by
   inverse-CDF sampling (``tf.searchsorted`` on the cumulative distribution), ``k`` per
   example. As in word2vec, a negative may equal the true context word now and then.

Skip-gram examples pair a centre with one context; CBOW examples pair the (padded) bag of
context words with the centre. Both come with the negatives appended after the positive, and
labels ``[1, 0, …, 0]``, ready for a sigmoid (binary cross-entropy) per candidate.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from nlpbook.pipelines._checks import positive_int


def keep_probabilities(counts, sample: float | None = 1e-3) -> np.ndarray:
    """Per-id probability that subsampling keeps a token (word2vec's and gensim's rule).

    Args:
        counts: corpus count of every id (``counts[0]``, padding, is ignored).
        sample: the threshold ``t`` (word2vec's ``-sample``, gensim's ``sample``); ``None``
            or 0 keeps everything.

    Returns:
        float64 array, same length as ``counts``: ``min(1, (sqrt(f / t) + 1) * t / f)``.

    Example:
        >>> keep_probabilities([0, 900, 100], sample=0.01).round(3).tolist()
        [1.0, 0.117, 0.416]
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0):
        raise ValueError("counts must be a 1-D array of non-negative counts, one per id")
    if not sample:
        return np.ones_like(counts)
    if not 0 < sample < 1:
        raise ValueError(f"sample must be in (0, 1) or None. Received: sample={sample!r}")
    f = counts / counts[1:].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(f / sample) + 1) * sample / f
    return np.where(f > 0, np.minimum(keep, 1.0), 1.0)


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """The negative-sampling distribution: ``counts ** power``, normalised; id 0 gets 0."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0) or counts[1:].sum() <= 0:
        raise ValueError("counts must be a 1-D array of non-negative counts, one per id")
    p = counts**power
    p[0] = 0.0
    return p / p.sum()


def _as_sentences(sentences) -> tf.RaggedTensor:
    if isinstance(sentences, tf.RaggedTensor):
        ragged = sentences
    else:
        ragged = tf.ragged.constant([list(map(int, s)) for s in sentences], dtype=tf.int64)
    if ragged.shape.rank != 2:
        raise ValueError(f"sentences must be 2-D (sentences, tokens). Received {ragged.shape}")
    if not ragged.dtype.is_integer:
        raise TypeError(f"sentences must hold integer ids. Received dtype {ragged.dtype}")
    ragged = tf.cast(ragged, tf.int32)
    if int(tf.size(ragged.flat_values)) == 0:
        raise ValueError("sentences hold no tokens")
    if int(tf.reduce_min(ragged.flat_values)) < 1:
        raise ValueError("token ids must be >= 1 (0 is padding)")
    return ragged


def word2vec_dataset(
    sentences,
    counts,
    *,
    mode: str = "skipgram",
    window: int = 5,
    num_negatives: int = 5,
    batch_size: int = 1024,
    sample: float | None = 1e-3,
    power: float = 0.75,
    sentences_per_group: int = 256,
    seed: int = 0,
) -> tf.data.Dataset:
    """Batches ``((inputs, candidates), labels)`` for skip-gram or CBOW with negative sampling.

    Args:
        sentences: token ids ``>= 1``, one sequence per sentence (a ``tf.RaggedTensor`` or a
            list of lists); windows never cross a sentence boundary.
        counts: corpus count per id (``len(counts)`` = vocabulary size, ``counts[0]`` unused),
            for subsampling and the noise distribution.
        mode: ``"skipgram"`` (predict each context word from the centre) or ``"cbow"``
            (predict the centre from its context words).
        window: the largest distance between centre and context.
        num_negatives: ``k`` noise words per example.
        batch_size: examples per batch (the last batch of an epoch may be smaller).
        sample: the subsampling threshold (``None`` or 0: keep every token).
        power: the exponent of the noise distribution.
        sentences_per_group: sentences turned into examples together (one op per group, not
            per word); their examples are shuffled together, and the sentences are shuffled
            every epoch.
        seed: the seed of every random draw; each epoch draws anew, reproducibly.

    Returns:
        A dataset with ``element_spec``
        ``((inputs, TensorSpec((None, 1 + k), int32)), TensorSpec((None, 1 + k), float32))``:
        ``inputs`` is ``(None,)`` centre ids (skip-gram) or ``(None, 2 * window)`` context
        ids padded with 0 (CBOW); ``candidates[:, 0]`` is the true word and the rest are
        negatives; ``labels`` is 1 for the true word and 0 for the negatives.

    Example:
        >>> ds = word2vec_dataset([[1, 2, 3]], [0, 5, 5, 5], window=1, num_negatives=2,
        ...                       sample=None, batch_size=8)
        >>> (centres, candidates), labels = next(iter(ds))
        >>> sorted(zip(centres.numpy().tolist(), candidates[:, 0].numpy().tolist()))
        [(1, 2), (2, 1), (2, 3), (3, 2)]
        >>> labels[0].numpy().tolist()
        [1.0, 0.0, 0.0]
    """
    if mode not in ("skipgram", "cbow"):
        raise ValueError(f"mode must be 'skipgram' or 'cbow'. Received: mode={mode!r}")
    window = positive_int("window", window)
    num_negatives = positive_int("num_negatives", num_negatives)
    batch_size = positive_int("batch_size", batch_size)
    sentences_per_group = positive_int("sentences_per_group", sentences_per_group)
    ragged = _as_sentences(sentences)
    keep = tf.constant(keep_probabilities(counts, sample), tf.float32)
    cdf = tf.constant(np.cumsum(noise_distribution(counts, power)), tf.float32)
    vocab_size = len(keep)
    if int(tf.reduce_max(ragged.flat_values)) >= vocab_size:
        raise ValueError(f"a token id is >= len(counts) = {vocab_size}")
    offsets = tf.constant([d for d in range(-window, window + 1) if d != 0], tf.int32)

    # plain TF ops: AutoGraph has nothing to convert
    @tf.autograph.experimental.do_not_convert
    def examples(group, draw_seed):
        """All examples of a group of sentences, in random order."""
        seeds = tf.random.experimental.stateless_split(draw_seed, 4)
        tokens, rows = group.flat_values, group.value_rowids()
        kept = tf.random.stateless_uniform(tf.shape(tokens), seeds[0]) < tf.gather(keep, tokens)
        tokens, rows = tf.boolean_mask(tokens, kept), tf.boolean_mask(rows, kept)
        n = tf.shape(tokens)[0]
        reach = tf.random.stateless_uniform([n], seeds[1], 1, window + 1, dtype=tf.int32)
        where = tf.range(n)[:, None] + offsets[None, :]  # (n, 2w) context positions
        inside = tf.clip_by_value(where, 0, tf.maximum(n - 1, 0))
        valid = (
            (where >= 0)
            & (where < n)
            & (tf.gather(rows, inside) == rows[:, None])  # the same sentence
            & (tf.abs(offsets)[None, :] <= reach[:, None])
        )
        context = tf.where(valid, tf.gather(tokens, inside), 0)
        if mode == "skipgram":
            centre = tf.broadcast_to(tokens[:, None], tf.shape(context))
            inputs, target = tf.boolean_mask(centre, valid), tf.boolean_mask(context, valid)
        else:
            has_context = tf.reduce_any(valid, axis=1)
            inputs = tf.boolean_mask(context, has_context)
            target = tf.boolean_mask(tokens, has_context)
        order = tf.random.experimental.stateless_shuffle(tf.range(tf.shape(target)[0]), seeds[2])
        inputs, target = tf.gather(inputs, order), tf.gather(target, order)
        u = tf.random.stateless_uniform([tf.shape(target)[0] * num_negatives], seeds[3])
        noise = tf.minimum(tf.searchsorted(cdf, u, side="right"), vocab_size - 1)
        noise = tf.reshape(tf.cast(noise, tf.int32), [-1, num_negatives])
        candidates = tf.concat([target[:, None], noise], axis=1)
        labels = tf.concat(
            [tf.ones_like(candidates[:, :1], tf.float32), tf.zeros_like(noise, tf.float32)], 1
        )
        return (inputs, candidates), labels

    # one seed per (epoch, group) from a counter: new draws every epoch, reproducible
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.from_tensor_slices(ragged)
    ds = ds.shuffle(int(ragged.nrows()), seed=seed, reshuffle_each_iteration=True)
    ds = tf.data.Dataset.zip(ds.ragged_batch(sentences_per_group), seeds).map(
        lambda group, sd: examples(group, tf.cast(sd, tf.int64)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    ds = ds.rebatch(batch_size)
    return ds.prefetch(tf.data.AUTOTUNE)
