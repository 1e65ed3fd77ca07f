"""Count-based n-gram language models: interpolated Kneser-Ney and add-k (Lidstone).

Pure Python and NumPy: counting n-grams needs dictionaries, not tensors.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
SMOOTHINGS = ("kneser-ney", "add-k")


class NGramLM:
    r"""An order-``n`` word language model estimated from counts.

    Each training sentence is padded with ``n - 1`` start symbols ``<s>`` and ended with
    ``</s>``; the model predicts every word and the final ``</s>``, never ``<s>``.

    **Vocabulary.** Fixed by :meth:`fit`: every training word, plus ``</s>`` and ``<unk>``
    (added if the training text lacks it, so that every word has a probability). A word not
    in the vocabulary, in a context or as the word predicted, is read as ``<unk>``. PTB
    already maps rare words to ``<unk>``, so its valid and test sets have no unseen words.
    The distribution is over :attr:`vocab`, of size :math:`|V|` (``</s>`` included).

    **add-k** (Lidstone; ``k = 1`` is Laplace), with :math:`h` the ``n - 1`` previous words:

    .. math::  P(w \mid h) = \frac{c(h w) + k}{c(h) + k |V|},
               \qquad c(h) = \textstyle\sum_{w'} c(h w')

    **Interpolated Kneser-Ney**, Chen & Goodman (1998), eq. 26, with one absolute discount
    :math:`D_m` per order :math:`m` (not their *modified* KN with three discounts). For a
    context :math:`h` of :math:`m - 1` words and :math:`h'` the same without its first word:

    .. math::  P_m(w \mid h) = \frac{\max(a_m(h w) - D_m, 0)}{a_m(h \bullet)}
               + \frac{D_m \, N_{1+}(h \bullet)}{a_m(h \bullet)} P_{m-1}(w \mid h')

    where :math:`a_m(h \bullet) = \sum_w a_m(h w)` and :math:`N_{1+}(h \bullet)` is the
    number of words :math:`w` with :math:`a_m(h w) > 0`. The highest order uses counts,
    :math:`a_n = c`; the lower orders use continuation counts,
    :math:`a_m(g) = N_{1+}(\bullet g)`, the number of distinct words seen before the m-gram
    :math:`g` (the words that *complete* it, not how often it occurs). The recursion ends in
    the uniform distribution, :math:`P_0(w) = 1 / |V|`. A context never seen at order
    :math:`m` (:math:`a_m(h \bullet) = 0`) passes its whole mass down:
    :math:`P_m(w \mid h) = P_{m-1}(w \mid h')`.

    ``discount=None`` estimates each order's discount from its count-of-counts,
    :math:`D_m = n_1 / (n_1 + 2 n_2)` (Ney et al. 1994), :math:`n_r` being the number of
    m-grams with (continuation) count exactly :math:`r`.

    **Perplexity** is per predicted token: ``</s>`` counts, ``<s>`` does not,
    :math:`\exp(-\frac{1}{N}\sum \ln P)` with :math:`N = \sum_s (|s| + 1)`.

    Args:
        order: n, the number of words in an n-gram (1 = unigram).
        smoothing: ``"kneser-ney"`` or ``"add-k"``.
        k: the pseudo-count of add-k, > 0.
        discount: Kneser-Ney's absolute discount, in (0, 1], the same for every order; or
            None to estimate one per order.

    Example:
        >>> lm = NGramLM(2, smoothing="add-k", k=1.0).fit([["a", "b"], ["b", "a"]])
        >>> lm.vocab
        ['</s>', '<unk>', 'a', 'b']
        >>> round(lm.prob("b", ["a"]), 4)  # (c(a b) + 1) / (c(a) + 4) = 2 / 6
        0.3333
        >>> round(lm.perplexity([["a", "b"]]), 6)  # each of its 3 tokens has P = 2 / 6
        3.0

    References:
        Kneser & Ney (1995), *Improved backing-off for M-gram language modeling*, ICASSP.
        Chen & Goodman (1998), *An Empirical Study of Smoothing Techniques for Language
        Modeling*, TR-10-98, Harvard.
    """

    def __init__(
        self,
        order: int,
        smoothing: str = "kneser-ney",
        k: float = 1.0,
        discount: float | None = 0.75,
    ):
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"order must be an int >= 1. Received: order={order!r}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}. Received: {smoothing!r}")
        if not k > 0:
            raise ValueError(
                f"k must be > 0 (k = 0 gives unseen n-grams zero mass). Received: k={k}"
            )
        if discount is not None and not 0 < discount <= 1:
            raise ValueError(f"discount must be in (0, 1] or None. Received: discount={discount}")
        self.order = order
        self.smoothing = smoothing
        self.k = k
        self.discount = discount
        self.vocab: list[str] = []

    # ------------------------------------------------------------------ training
    def fit(self, sentences: Sequence[Sequence[str]]) -> NGramLM:
        """Count the n-grams of ``sentences`` (lists of words) and fix the vocabulary.

        Args:
            sentences: tokenised sentences, e.g. ``[line.split() for line in text]``; must
                not contain ``<s>`` or ``</s>``.

        Returns:
            self, fitted.
        """
        if isinstance(sentences, str) or not sentences:
            raise ValueError("fit needs a non-empty list of sentences (lists of words)")
        words = Counter()
        for i, s in enumerate(sentences):
            if isinstance(s, str):
                raise TypeError(f"sentence {i} is a str; pass lists of words (str.split())")
            words.update(s)
        if BOS in words or EOS in words:
            raise ValueError(f"training sentences must not contain {BOS} or {EOS}; fit adds them")
        if not words:
            raise ValueError("the training sentences contain no words")
        self.vocab = sorted(set(words) | {EOS, UNK})
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self._bos = len(self.vocab)  # an id outside the distribution: <s> is never predicted

        n = self.order
        grams = Counter()
        for s in sentences:
            ids = self._ids(s, pad=True)
            # the shifted copies have unequal lengths on purpose: zip stops at the last n-gram
            grams.update(zip(*(ids[i:] for i in range(n)), strict=False))

        # counts[m][h][w]: a_m(h w) of the docstring, for the context h of m - 1 ids.
        self._counts = [None] * (n + 1)
        self._counts[n] = _by_context(grams)
        if self.smoothing == "kneser-ney":
            for m in range(n - 1, 0, -1):
                # Each distinct (m+1)-gram v g adds one to the continuation count of g.
                self._counts[m] = _by_context(Counter(g[1:] for g in _grams(self._counts[m + 1])))
            self._discounts = [None] + [self._estimate_discount(m) for m in range(1, n + 1)]
        self._totals = [
            None if c is None else {h: sum(f.values()) for h, f in c.items()} for c in self._counts
        ]
        return self

    def _estimate_discount(self, m: int) -> float:
        if self.discount is not None:
            return self.discount
        r = Counter(a for f in self._counts[m].values() for a in f.values())
        if r[1] == 0 or r[2] == 0:  # too little data for Ney's estimate
            return 0.75
        return r[1] / (r[1] + 2 * r[2])

    @property
    def discounts(self) -> list[float]:
        """Kneser-Ney's discount per order, ``[D_1, ..., D_n]``."""
        self._check_fitted()
        if self.smoothing != "kneser-ney":
            raise AttributeError("discounts exist only for smoothing='kneser-ney'")
        return self._discounts[1:]

    # ------------------------------------------------------------------ probabilities
    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context).

        Args:
            word: the next word (``</s>`` for the end of the sentence).
            context: the words before it; only the last ``order - 1`` are used, and a shorter
                context is the start of a sentence (padded with ``<s>``).

        Returns:
            the probability, a float in (0, 1).
        """
        self._check_fitted()
        if word == BOS:
            raise ValueError(f"{BOS} is never predicted; it only pads contexts")
        return self._prob(self._id(word), self._context(context))

    def _prob(self, w: int, h: tuple[int, ...]) -> float:
        n = self.order
        if self.smoothing == "add-k":
            c = self._counts[n].get(h)
            if c is None:
                return 1.0 / len(self.vocab)
            return (c.get(w, 0) + self.k) / (self._totals[n][h] + self.k * len(self.vocab))
        p = 1.0 / len(self.vocab)
        for m in range(1, n + 1):  # lowest order first: each level interpolates the one below
            hm = h[len(h) - m + 1 :]
            c = self._counts[m].get(hm)
            if c is None:
                continue
            d, total = self._discounts[m], self._totals[m][hm]
            p = (max(c.get(w, 0) - d, 0.0) + d * len(c) * p) / total
        return p

    def distribution(self, context: Sequence[str] = ()) -> np.ndarray:
        """P(· | context) over :attr:`vocab` as a float64 array that sums to 1.

        Args:
            context: the words so far (see :meth:`prob`).

        Returns:
            an array of shape ``(len(vocab),)``.
        """
        self._check_fitted()
        return self._distribution(self._context(context))

    def _distribution(self, h: tuple[int, ...]) -> np.ndarray:
        size, n = len(self.vocab), self.order
        if self.smoothing == "add-k":
            p = np.full(size, self.k)
            if (c := self._counts[n].get(h)) is not None:
                p[list(c)] += list(c.values())
            return p / p.sum()
        p = np.full(size, 1.0 / size)
        for m in range(1, n + 1):
            hm = h[len(h) - m + 1 :]
            c = self._counts[m].get(hm)
            if c is None:
                continue
            d, total = self._discounts[m], self._totals[m][hm]
            p = p * (d * len(c) / total)
            p[list(c)] += np.maximum(np.fromiter(c.values(), float, len(c)) - d, 0.0) / total
        return p

    def log_prob_sentence(self, sentence: Sequence[str]) -> float:
        """Natural log of P(sentence ``</s>``), the sum over its words and the final ``</s>``."""
        self._check_fitted()
        if isinstance(sentence, str):
            raise TypeError("pass a sentence as a list of words (str.split())")
        ids = self._ids(sentence, pad=True)
        n = self.order
        return sum(
            math.log(self._prob(ids[i], tuple(ids[i - n + 1 : i]))) for i in range(n - 1, len(ids))
        )

    def perplexity(self, sentences: Sequence[Sequence[str]]) -> float:
        """exp of the mean negative log-probability per predicted token (``</s>`` included).

        Args:
            sentences: tokenised sentences.

        Returns:
            the perplexity, a float >= 1.
        """
        if isinstance(sentences, str) or not sentences:
            raise ValueError("perplexity needs a non-empty list of sentences (lists of words)")
        total = sum(self.log_prob_sentence(s) for s in sentences)
        tokens = sum(len(s) + 1 for s in sentences)
        return math.exp(-total / tokens)

    # ------------------------------------------------------------------ generation
    def sample(
        self,
        rng: np.random.Generator,
        max_len: int = 50,
        temperature: float = 1.0,
        prefix: Sequence[str] = (),
    ) -> list[str]:
        """Draw a sentence word by word from P(w | context)^(1/temperature), renormalised.

        Args:
            rng: a ``np.random.Generator`` (``np.random.default_rng(seed)``).
            max_len: the most words to generate.
            temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
            prefix: words to continue from (the start of the sentence).

        Returns:
            the generated words after ``prefix``, without ``</s>``.

        Example:
            >>> lm = NGramLM(2).fit([["a", "b"], ["a", "c"]])
            >>> words = lm.sample(np.random.default_rng(0), max_len=5)
            >>> len(words) <= 5 and set(words) <= set(lm.vocab)
            True
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0. Received: temperature={temperature}")

        def pick(p):
            logits = np.log(p) / temperature
            q = np.exp(logits - logits.max())
            return rng.choice(len(q), p=q / q.sum())

        return self._generate(pick, max_len, prefix)

    def greedy(self, max_len: int = 50, prefix: Sequence[str] = ()) -> list[str]:
        """The sentence made of the most probable word at each step (see :meth:`sample`)."""
        return self._generate(np.argmax, max_len, prefix)

    def _generate(self, pick, max_len: int, prefix: Sequence[str]) -> list[str]:
        self._check_fitted()
        if max_len < 0:
            raise ValueError(f"max_len must be >= 0. Received: max_len={max_len}")
        ids = self._ids(prefix, pad=False)
        out = []
        for _ in range(max_len):
            w = int(pick(self._distribution(self._context_ids(ids))))
            if w == self.index[EOS]:
                break
            ids.append(w)
            out.append(self.vocab[w])
        return out

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self):
        if not self.vocab:
            raise RuntimeError("this NGramLM is not fitted; call fit(sentences) first")

    def _id(self, word: str) -> int:
        return self.index.get(word, self.index[UNK])

    def _ids(self, words: Sequence[str], pad: bool) -> list[int]:
        ids = [self._id(w) for w in words]
        return [self._bos] * (self.order - 1) + ids + [self.index[EOS]] if pad else ids

    def _context(self, context: Sequence[str]) -> tuple[int, ...]:
        if isinstance(context, str):
            raise TypeError("pass a context as a list of words, not a str")
        return self._context_ids([self._id(w) for w in context])

    def _context_ids(self, ids: list[int]) -> tuple[int, ...]:
        k = self.order - 1
        if k == 0:
            return ()
        return tuple(([self._bos] * k + list(ids))[-k:])

    def __repr__(self):
        fitted = f", vocab={len(self.vocab)}" if self.vocab else ", unfitted"
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}{fitted})"


def _by_context(grams: Counter) -> dict[tuple, dict[int, int]]:
    """``{(h..., w): c}`` -> ``{h: {w: c}}``, so a context's followers are one look-up."""
    table: dict[tuple, dict[int, int]] = {}
    for g, c in grams.items():
        table.setdefault(g[:-1], {})[g[-1]] = c
    return table


def _grams(table: dict[tuple, dict[int, int]]):
    return (h + (w,) for h, f in table.items() for w in f)
