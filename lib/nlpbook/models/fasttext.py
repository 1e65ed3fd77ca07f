r"""FastText: a word is its own vector plus the vectors of its character n-grams.

Bojanowski et al. (2017) represent word :math:`w` by the mean of its own vector and the
vectors of the character n-grams of ``"<" + w + ">"`` for :math:`n` from 3 to 6: "where" has
``<wh, whe, her, ere, re>, <whe, …, where>`` (and "here" has the whole ``<here>`` too). N-grams share a fixed number of *buckets*
(2,000,000 in fastText) through a hash, so the table has a bounded size and any string,
including a misspelling or a word never seen in training, gets a vector from its n-grams.

The hash and the n-grams follow fastText (and gensim, whose vectors the tests reproduce):
32-bit FNV-1a over the UTF-8 bytes, each byte sign-extended as a C ``char``; n-grams count
characters, not bytes; the single characters ``<`` and ``>`` are not n-grams.

``FastTextSkipGram`` trains these vectors skip-gram style with negative sampling, fed by the
same ``word2vec_dataset`` as :class:`~nlpbook.models.SkipGram`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_int
from nlpbook.models.word2vec import _Word2Vec


def fasttext_hash(piece: str | bytes) -> int:
    """fastText's 32-bit FNV-1a of the UTF-8 bytes, each byte read as a signed ``char``."""
    h = 2166136261
    for byte in piece.encode("utf-8") if isinstance(piece, str) else piece:
        h ^= (byte - 256 if byte > 127 else byte) & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def char_ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of ``"<" + word + ">"``, by start position, then length."""
    if not 1 <= min_n <= max_n:
        raise ValueError(f"need 1 <= min_n <= max_n. Received: min_n={min_n}, max_n={max_n}")
    text = f"<{word}>"
    grams = []
    for start in range(len(text)):
        for n in range(min_n, max_n + 1):
            if start + n > len(text):
                break
            if n == 1 and (start == 0 or start + n == len(text)):
                continue  # "<" and ">" alone are not n-grams
            grams.append(text[start : start + n])
    return grams


def ngram_buckets(word: str, min_n: int = 3, max_n: int = 6, buckets: int = 2_000_000):
    """Bucket index of each character n-gram of ``word`` (``fasttext_hash(g) % buckets``)."""
    return [fasttext_hash(g) % buckets for g in char_ngrams(word, min_n, max_n)]


def subword_table(
    words: Sequence[str], *, min_n: int = 3, max_n: int = 6, buckets: int = 2_000_000
) -> np.ndarray:
    """Row ``i``: the n-gram buckets of ``words[i]``, padded with -1, ``(len(words), width)``.

    Row 0 (padding) and words of the vocabulary that should not get n-grams may be given as
    the empty string.
    """
    rows = [ngram_buckets(w, min_n, max_n, buckets) if w else [] for w in words]
    table = np.full((len(rows), max(1, max(map(len, rows)))), -1, dtype=np.int32)
    for i, r in enumerate(rows):
        table[i, : len(r)] = r
    return table


@keras.saving.register_keras_serializable(package="nlpbook")
class FastTextSkipGram(_Word2Vec):
    """Skip-gram with negative sampling whose centre vector is FastText's subword mean.

    ``h = (v_w + sum of z_g over the n-grams g of w) / (1 + number of n-grams)``: ``v`` is
    the ``words`` table, ``z`` the ``ngrams`` table of ``buckets`` rows; the context (output)
    vectors are per word, as in word2vec.

    Args:
        vocab_size: number of word ids (0 pads).
        dim: vector size.
        buckets: rows of the n-gram table.
        max_ngrams: columns of the subword table (the most n-grams of one word).
        min_n, max_n: the n-gram lengths the subword table was built with.
        repeats: ``"sum"``, ``"sqrt"`` or ``"mean"``: the gradient of a word, n-gram or
            context row used several times in a batch, as for
            :class:`~nlpbook.models.SkipGram` (an n-gram is counted once per word holding it).
        row_gradient: what each of the word's rows (its own and its n-grams') receives while
            training: ``"mean"``, the gradient of the mean (:math:`1/(1 + n)` of the gradient
            of ``h``, what autodiff gives), or ``"whole"``, the whole gradient of ``h``, as
            fastText's and gensim's update does (the value of ``h`` is the same).

    Call arguments:
        inputs: ``(centres, candidates)`` as for :class:`~nlpbook.models.SkipGram`.

    Returns:
        ``(batch, 1 + k)`` scores.

    Example:
        >>> words = ["", "where", "here"]
        >>> table = subword_table(words, buckets=100)
        >>> ft = FastTextSkipGram(3, dim=4, buckets=100, max_ngrams=table.shape[1])
        >>> ft.set_subwords(table)
        >>> tuple(ft((np.array([1, 2]), np.array([[2, 1], [1, 2]]))).shape)
        (2, 2)

    References:
        Bojanowski, Grave, Joulin, Mikolov (2017), *Enriching Word Vectors with Subword
        Information*, TACL 5.
    """

    def __init__(
        self,
        vocab_size,
        dim=100,
        buckets=2_000_000,
        max_ngrams=64,
        min_n=3,
        max_n=6,
        row_gradient="mean",
        **kwargs,
    ):
        super().__init__(vocab_size, dim, **kwargs)
        if row_gradient not in ("mean", "whole"):
            raise ValueError(f"row_gradient must be 'mean' or 'whole'. Received {row_gradient!r}")
        self.row_gradient = row_gradient
        char_ngrams("", min_n, max_n)  # validates min_n and max_n
        self.min_n, self.max_n = int(min_n), int(max_n)
        self.buckets = check_int("buckets", buckets, 1)
        self.max_ngrams = check_int("max_ngrams", max_ngrams, 1)
        limit = 0.5 / self.dim
        self.ngrams = layers.Embedding(
            self.buckets,
            self.dim,
            embeddings_initializer=keras.initializers.RandomUniform(-limit, limit),
            dtype=self.dtype_policy,
            name="ngrams",
        )

    def build(self, input_shape):
        super().build(input_shape)
        self.ngrams.build((None,))
        # which n-gram buckets each word has (-1: none); data, not a trained weight
        self.subwords = self.add_weight(
            shape=(self.vocab_size, self.max_ngrams),
            initializer=keras.initializers.Constant(-1),
            dtype="int32",
            trainable=False,
            name="subwords",
        )

    def set_subwords(self, table) -> None:
        """Install a ``subword_table`` for this model's vocabulary (row ``i`` for word ``i``)."""
        table = np.asarray(table, dtype=np.int32)
        if table.ndim != 2 or table.shape[0] != self.vocab_size or table.shape[1] > self.max_ngrams:
            raise ValueError(
                f"the subword table must be ({self.vocab_size}, <= {self.max_ngrams}). "
                f"Received {table.shape}"
            )
        if table.max() >= self.buckets:
            raise ValueError(f"a bucket index is >= buckets = {self.buckets}")
        if not self.built:
            self.build(None)
        padded = np.full((self.vocab_size, self.max_ngrams), -1, dtype=np.int32)
        padded[:, : table.shape[1]] = table
        self.subwords.assign(padded)

    def word_representation(self, ids, training=None):
        """``h`` for word ids ``(batch,)``: the mean of the word's and its n-grams' vectors."""
        grams = ops.take(self.subwords, ids, axis=0)  # (batch, max_ngrams)
        present = ops.cast(grams >= 0, self.compute_dtype)[..., None]
        z = self._lookup(self.ngrams, ops.maximum(grams, 0), training, mask=grams >= 0)
        z = z * present  # (batch, max_ngrams, dim)
        total = self._lookup(self.words, ids, training) + ops.sum(z, axis=1)
        h = total / (1.0 + ops.sum(present, axis=1))
        if training and self.row_gradient == "whole":  # value h, gradient 1 to every row
            h = ops.stop_gradient(h) + (total - ops.stop_gradient(total))
        return h

    def call(self, inputs, training=None):
        centres, candidates = inputs
        if len(centres.shape) != 1:
            raise ValueError(f"centres must be (batch,) ids. Received {centres.shape}")
        return self._scores(self.word_representation(centres, training), candidates, training)

    @property
    def vectors(self) -> np.ndarray:
        """Every vocabulary word's FastText vector (the subword mean), ``(vocab_size, dim)``."""
        ids = np.arange(self.vocab_size, dtype="int32")
        return np.asarray(ops.convert_to_numpy(self.word_representation(ids)))

    def oov_vector(self, word: str) -> np.ndarray:
        """A vector for any string: the mean of its n-grams' vectors (zeros if it has none)."""
        grams = ngram_buckets(word, self.min_n, self.max_n, self.buckets)
        if not grams:
            return np.zeros(self.dim, dtype=np.float32)
        z = ops.convert_to_numpy(self.ngrams(np.array(grams, dtype="int32")))
        return np.asarray(z).mean(axis=0)

    def get_config(self):
        return {
            **super().get_config(),
            "buckets": self.buckets,
            "max_ngrams": self.max_ngrams,
            "min_n": self.min_n,
            "max_n": self.max_n,
            "row_gradient": self.row_gradient,
        }
