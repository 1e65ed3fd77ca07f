r"""The classic taggers the neural ones are measured against.

``MostFrequentTagger``
    each known word gets the tag it had most often in training; an unknown word the most
    frequent tag overall. The floor every tagger must clear.
``HMMTagger``
    a first-order hidden Markov model: :math:`p(t_i \mid t_{i-1})` and
    :math:`p(w_i \mid t_i)` counted with add-:math:`k` smoothing (an unknown word shares the
    probability mass kept for unseen words), decoded by Viterbi. Its log-probabilities are
    exactly the start, transition, end and emission scores of a linear-chain CRF, so the
    decoding is :class:`nlpbook.layers.CRF`'s (the tests check that the two agree).
``word_features`` / ``char_features`` + ``crfsuite_tagger``
    the feature-based CRF of the CoNLL era, with ``sklearn-crfsuite`` (CRFsuite's L-BFGS,
    L1 + L2 penalties) on hand-made features: the word, its case, shape, prefixes and
    suffixes and those of its neighbours (English); the character, its neighbours and the
    bigrams around it (Chinese). The seed feeds bare lower-cased words to
    ``sklearn_crfsuite.CRF``; the features are what makes that library work.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

Sentences = Sequence[tuple[Sequence[str], Sequence[str]]]


def _check(sentences: Sentences) -> None:
    if not sentences:
        raise ValueError("no training sentences")
    for i, (tokens, tags) in enumerate(sentences):
        if len(tokens) != len(tags) or not tokens:
            raise ValueError(f"sentence {i}: {len(tokens)} tokens and {len(tags)} tags")


class MostFrequentTagger:
    """Each word's most frequent training tag (ties: the tag seen first).

    Example:
        >>> t = MostFrequentTagger().fit([(["the", "dog"], ["DET", "NOUN"]), (["a"], ["DET"])])
        >>> t.predict([["the", "cat"]])  # "cat" is unknown: the most frequent tag, DET
        [['DET', 'DET']]
    """

    def fit(self, sentences: Sentences) -> MostFrequentTagger:
        _check(sentences)
        by_word: dict[str, Counter] = defaultdict(Counter)
        overall: Counter = Counter()
        for tokens, tags in sentences:
            for word, tag in zip(tokens, tags, strict=True):
                by_word[word][tag] += 1
                overall[tag] += 1
        self.best = {word: counts.most_common(1)[0][0] for word, counts in by_word.items()}
        self.default = overall.most_common(1)[0][0]
        return self

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [[self.best.get(w, self.default) for w in tokens] for tokens in sentences]


class HMMTagger:
    """A bigram hidden Markov model tagger, decoded by Viterbi.

    Args:
        k: add-``k`` smoothing of the transition counts (and of the emission counts, over the
            training vocabulary plus one unknown word).
        lowercase: read words lower-cased (fewer unknowns, less case information).

    Example:
        >>> data = [(["the", "dog", "runs"], ["DET", "NOUN", "VERB"]),
        ...         (["a", "cat", "runs"], ["DET", "NOUN", "VERB"])]
        >>> HMMTagger(k=0.1).fit(data).predict([["the", "cat", "runs"]])
        [['DET', 'NOUN', 'VERB']]
    """

    def __init__(self, k: float = 0.01, lowercase: bool = False):
        if not k > 0:
            raise ValueError(f"k must be > 0. Received: k={k!r}")
        self.k = float(k)
        self.lowercase = bool(lowercase)

    def _word(self, word: str) -> str:
        return word.lower() if self.lowercase else word

    def fit(self, sentences: Sentences) -> HMMTagger:
        _check(sentences)
        tags = list(dict.fromkeys(t for _, ts in sentences for t in ts))
        words = list(dict.fromkeys(self._word(w) for ws, _ in sentences for w in ws))
        self.tags = tags
        self.word_ids = {w: i for i, w in enumerate(words)}
        index = {t: i for i, t in enumerate(tags)}
        n_tags, n_words = len(tags), len(words)
        start, end = np.zeros(n_tags), np.zeros(n_tags)
        transitions = np.zeros((n_tags, n_tags))
        emissions = np.zeros((n_tags, n_words + 1))  # the last column: unknown words
        for tokens, labels in sentences:
            ids = [index[t] for t in labels]
            start[ids[0]] += 1
            end[ids[-1]] += 1
            for a, b in zip(ids, ids[1:], strict=False):
                transitions[a, b] += 1
            for word, tag in zip(tokens, ids, strict=True):
                emissions[tag, self.word_ids[self._word(word)]] += 1
        k = self.k
        # p(next | tag) over the tags and the end of the sentence
        out_of = transitions.sum(1) + end + k * (n_tags + 1)
        self.log_transitions = np.log((transitions + k) / out_of[:, None])
        self.log_end = np.log((end + k) / out_of)
        self.log_start = np.log((start + k) / (start.sum() + k * n_tags))
        self.log_emissions = np.log((emissions + k) / (emissions.sum(1, keepdims=True)
                                                       + k * (n_words + 1)))  # fmt: skip
        return self

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """``log p(word | tag)`` for each position: ``(len(tokens), tags)``."""
        unknown = len(self.word_ids)
        ids = [self.word_ids.get(self._word(w), unknown) for w in tokens]
        return self.log_emissions[:, ids].T

    def viterbi(self, tokens: Sequence[str]) -> list[int]:
        """The most probable tag ids of one sentence (NumPy, log space)."""
        emit = self.scores(tokens)
        delta = self.log_start + emit[0]
        pointers = []
        for t in range(1, len(tokens)):
            candidates = delta[:, None] + self.log_transitions  # (from, to)
            pointers.append(candidates.argmax(0))
            delta = candidates.max(0) + emit[t]
        best = [int((delta + self.log_end).argmax())]
        for pointer in reversed(pointers):
            best.append(int(pointer[best[-1]]))
        return best[::-1]

    def predict(self, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [[self.tags[i] for i in self.viterbi(tokens)] if tokens else []
                for tokens in sentences]  # fmt: skip


def _shape(word: str) -> str:
    """ "Mary" → "Xx", "1996" → "d", "U.S." → "X.X." (runs of a class collapsed)."""
    shape = "".join("X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c
                    for c in word)  # fmt: skip
    return re.sub(r"(.)\1+", r"\1", shape)


def _one_word(prefix: str, word: str) -> dict[str, object]:
    return {
        f"{prefix}lower": word.lower(),
        f"{prefix}title": word.istitle(),
        f"{prefix}upper": word.isupper(),
        f"{prefix}shape": _shape(word),
    }


def word_features(tokens: Sequence[str], i: int) -> dict[str, object]:
    """Hand-made features of ``tokens[i]`` for a feature-based CRF (English).

    Example:
        >>> f = word_features(["Mary", "visited", "Paris"], 2)
        >>> f["lower"], f["suffix3"], f["shape"], f["-1:lower"], f["EOS"]
        ('paris', 'ris', 'Xx', 'visited', True)
    """
    word = tokens[i]
    features: dict[str, object] = {"bias": 1.0, **_one_word("", word), "digit": word.isdigit()}
    for n in (1, 2, 3, 4):
        features[f"prefix{n}"] = word[:n]
        features[f"suffix{n}"] = word[-n:]
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(tokens):
            features.update(_one_word(f"{offset:+d}:".replace("+", ""), tokens[j]))
    if i == 0:
        features["BOS"] = True
    if i == len(tokens) - 1:
        features["EOS"] = True
    return features


def char_features(chars: Sequence[str], i: int) -> dict[str, object]:
    """Features of character ``chars[i]`` for Chinese character tagging: the character, its
    neighbours within two, and the bigrams around it.

    Example:
        >>> f = char_features(list("在北京"), 1)
        >>> f["c"], f["-1:c"], f["1:c"], f["bigram-1"], f["bigram+1"]
        ('北', '在', '京', '在北', '北京')
    """
    c = chars[i]
    features: dict[str, object] = {"bias": 1.0, "c": c, "digit": c.isdigit(),
                                   "latin": c.isascii() and c.isalpha()}  # fmt: skip
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(chars):
            features[f"{offset}:c"] = chars[j]
    if i > 0:
        features["bigram-1"] = chars[i - 1] + c
    if i + 1 < len(chars):
        features["bigram+1"] = c + chars[i + 1]
    if i == 0:
        features["BOS"] = True
    if i == len(chars) - 1:
        features["EOS"] = True
    return features


def featurize(sentences: Sequence[Sequence[str]], features=word_features) -> list[list[dict]]:
    """``features(tokens, i)`` for every position of every sentence."""
    return [[features(tokens, i) for i in range(len(tokens))] for tokens in sentences]


def crfsuite_tagger(
    sentences: Sentences,
    features=word_features,
    *,
    c1: float = 0.1,
    c2: float = 0.1,
    max_iterations: int = 100,
):
    """A feature-based linear-chain CRF (``sklearn_crfsuite.CRF``, L-BFGS with L1 ``c1`` and
    L2 ``c2`` penalties) trained on ``sentences``; predict with
    ``crf.predict(featurize(token_lists, features))``."""
    import sklearn_crfsuite

    _check(sentences)
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=c1, c2=c2, max_iterations=max_iterations,
                               all_possible_transitions=True)  # fmt: skip
    crf.fit(featurize([t for t, _ in sentences], features), [list(g) for _, g in sentences])
    return crf
