"""tf.data for sequence labelling: tokenized sentences and their tags in, padded id batches out.

:class:`TokenFeatures` is the one place where tokens become ids, so that training (inside
``Dataset.map``) and tagging raw text (inside :class:`nlpbook.models.tagger.TextTagger`)
compute the same features:

- ``"words"``: the token lower-cased with every digit replaced by ``0`` (Lample et al.
  2016: "1996" and "2003" share a vector; GloVe's vocabulary is lower-case), looked up in the
  word vocabulary (0 padding, 1 unknown);
- ``"chars"``: the token's first ``max_chars`` characters, case kept (capitals mark names);
- ``"bigrams"`` (optional; Chinese character tagging): the token joined with the next one.

:func:`tagging_vocabularies` counts them on the training sentences;
:func:`tagging_dataset` builds ``({"words", "chars"[, "bigrams"]}, tag ids)`` batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import keras
import tensorflow as tf

from nlpbook.pipelines._checks import check_boundaries, positive_int

PAD = ""  # the padding token (StringLookup's mask token: id 0)
END = "</s>"  # the right neighbour of a sentence's last token, for bigrams


def normalize_word(word: str) -> str:
    """The word feature of a token, in Python: lower case, digits as ``0``.

    Example:
        >>> normalize_word("Sept-1996")
        'sept-0000'
    """
    return "".join("0" if c.isdigit() and c.isascii() else c for c in word.lower())


def _bigrams(tokens):
    return [f"{a} {b}" for a, b in zip(tokens, [*tokens[1:], END], strict=True)]


def tagging_vocabularies(
    sentences: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    min_count: int = 1,
    bigrams: bool = False,
    extra_words: Sequence[str] = (),
) -> dict[str, list[str]]:
    """Word, character (, bigram) and tag vocabularies of the training sentences.

    Args:
        sentences: ``(tokens, tags)`` pairs.
        min_count: words (and bigrams) seen fewer times are left out (they become unknown,
            id 1, so the model learns a vector for rare words).
        bigrams: also count character bigrams.
        extra_words: word features to add whatever their count, e.g. those of a pretrained
            embedding that occur in the texts to be tagged (Lample et al. 2016 do the same).

    Returns:
        ``{"words", "chars", "tags"[, "bigrams"]}``: lists, most frequent first (ties in
        first-seen order); tags in first-seen order.
    """
    min_count = positive_int("min_count", min_count)
    words, chars, grams, tags = Counter(), Counter(), Counter(), {}
    for tokens, labels in sentences:
        if len(tokens) != len(labels):
            raise ValueError(f"{len(tokens)} tokens but {len(labels)} tags: {list(tokens)[:5]}")
        words.update(normalize_word(t) for t in tokens)
        chars.update(c for t in tokens for c in t)
        if bigrams:
            grams.update(_bigrams(list(tokens)))
        tags.update(dict.fromkeys(labels))
    if not tags:
        raise ValueError("no sentences to count")
    word_list = [w for w, n in words.most_common() if n >= min_count and w != PAD]
    known = set(word_list)
    word_list += [
        w for w in dict.fromkeys(normalize_word(w) for w in extra_words) if w not in known
    ]
    out = {"words": word_list, "chars": [c for c, _ in chars.most_common()], "tags": list(tags)}
    if bigrams:
        out["bigrams"] = [g for g, n in grams.most_common() if n >= min_count]
    return out


@keras.saving.register_keras_serializable(package="nlpbook")
class TokenFeatures(keras.layers.Layer):
    """Tokens ``(batch, time)`` strings (``""`` pads) → ``{"words", "chars"[, "bigrams"]}`` ids.

    A preprocessing layer of TensorFlow string ops and ``StringLookup`` layers (whose
    vocabularies save with a ``.keras`` file); use it in ``Dataset.map`` on any backend, or
    inside a model on the TensorFlow backend.

    Args:
        words, chars: vocabularies (:func:`tagging_vocabularies`); ids 0 pad, 1 unknown.
        bigrams: a bigram vocabulary, or None for no bigram feature.
        max_chars: characters kept per token (the rest are cut).

    Call arguments:
        tokens: ``(batch, time)`` string tensor, ``""`` at padding.

    Returns:
        ``{"words": (batch, time), "chars": (batch, time, max_chars)[, "bigrams": (batch,
        time)]}`` int32 ids.

    Example:
        >>> f = TokenFeatures(["the", "0000"], ["t", "h", "e", "1", "9"], max_chars=3)
        >>> out = f(tf.constant([["The", "1996", "dog"], ["the", "", ""]]))
        >>> out["words"].numpy().tolist()  # 0 pads, 1 unknown ("dog")
        [[2, 3, 1], [2, 0, 0]]
        >>> out["chars"].numpy()[0, 0].tolist()  # "T" is unknown: case is kept
        [1, 3, 4]
    """

    def __init__(self, words, chars, bigrams=None, max_chars=20, **kwargs):
        super().__init__(**kwargs)
        # string inputs stay TensorFlow tensors on any backend (as in Keras' StringLookup)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.words = [str(w) for w in words]
        self.chars = [str(c) for c in chars]
        self.bigrams = None if bigrams is None else [str(b) for b in bigrams]
        self.max_chars = positive_int("max_chars", max_chars)
        for name, vocab in (("words", self.words), ("chars", self.chars),
                            ("bigrams", self.bigrams or ["x"])):  # fmt: skip
            if not vocab:
                raise ValueError(f"the {name} vocabulary is empty")
            if PAD in vocab:
                raise ValueError(f"the {name} vocabulary holds the padding token ''")
            if len(set(vocab)) != len(vocab):
                raise ValueError(f"the {name} vocabulary has repeated entries")

        def lookup(vocab, name):
            return keras.layers.StringLookup(
                vocabulary=vocab, mask_token=PAD, num_oov_indices=1, output_mode="int",
                name=name,
            )  # fmt: skip

        self.word_lookup = lookup(self.words, "word_lookup")
        self.char_lookup = lookup(self.chars, "char_lookup")
        self.bigram_lookup = None if bigrams is None else lookup(self.bigrams, "bigram_lookup")

    def build(self, input_shape=None):
        self.built = True  # the look-ups hold their vocabularies, no weights

    @property
    def sizes(self) -> dict[str, int]:
        """Id counts for the model: ``{"vocab_size", "char_vocab_size", "bigram_vocab_size"}``
        (each vocabulary + padding + unknown)."""
        return {"vocab_size": len(self.words) + 2, "char_vocab_size": len(self.chars) + 2,
                "bigram_vocab_size": 0 if self.bigrams is None else len(self.bigrams) + 2}  # fmt: skip

    def call(self, tokens):
        tokens = tf.convert_to_tensor(tokens, tf.string)
        pad = tf.equal(tokens, PAD)
        words = tf.strings.regex_replace(tf.strings.lower(tokens, encoding="utf-8"), "[0-9]", "0")
        chars = tf.strings.unicode_split(tokens, "UTF-8", errors="replace")  # (b, t, None)
        shape = tf.concat([tf.shape(tokens), [self.max_chars]], axis=0)
        chars = chars.to_tensor(default_value=PAD, shape=shape)
        out = {
            "words": tf.cast(self.word_lookup(tf.where(pad, PAD, words)), tf.int32),
            "chars": tf.cast(self.char_lookup(chars), tf.int32),
        }
        if self.bigram_lookup is not None:
            following = tf.concat([tokens[:, 1:], tf.fill([tf.shape(tokens)[0], 1], PAD)], 1)
            following = tf.where(tf.equal(following, PAD), END, following)
            grams = tf.where(pad, PAD, tf.strings.join([tokens, following], separator=" "))
            out["bigrams"] = tf.cast(self.bigram_lookup(grams), tf.int32)
        return out

    def get_config(self):
        return {**super().get_config(), "words": self.words, "chars": self.chars,
                "bigrams": self.bigrams, "max_chars": self.max_chars}  # fmt: skip


def _ragged(rows: Sequence[Sequence[str]]) -> tf.RaggedTensor:
    lengths = [len(r) for r in rows]
    flat = [str(x) for r in rows for x in r]
    return tf.RaggedTensor.from_row_lengths(
        tf.constant(flat, tf.string, shape=[len(flat)]), lengths
    )


def tagging_dataset(
    sentences: Sequence[tuple[Sequence[str], Sequence[str]]],
    features: TokenFeatures,
    tags: Sequence[str],
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    bucket_boundaries: Sequence[int] | None = None,
) -> tf.data.Dataset:
    """Batches ``(features(tokens), tag ids)`` for training or scoring a tagger.

    The pipeline is ``(tokens, tags) → [shuffle, a new order each epoch] → padded batches or
    length buckets → features and tag ids (parallel map) → prefetch``. Tokens are padded
    with ``""`` (word id 0, which the model masks); tags with ``tags[0]`` (never scored).
    Each epoch yields every sentence exactly once.

    Args:
        sentences: ``(tokens, tags)`` pairs, each with at least one token.
        features: the :class:`TokenFeatures` of the training vocabularies.
        tags: the tag vocabulary; a tag outside it is an error.
        batch_size: sentences per batch.
        shuffle: shuffle the sentences (seeded; reshuffled every epoch).
        seed: the shuffle seed.
        bucket_boundaries: lengths for ``bucket_by_sequence_length`` (less padding), or None.

    Returns:
        A dataset of ``({"words": (b, t), "chars": (b, t, max_chars)[, "bigrams"]}, (b, t))``
        int32 tensors.
    """
    batch_size = positive_int("batch_size", batch_size)
    tags = [str(t) for t in tags]
    known = set(tags)
    for i, (tokens, labels) in enumerate(sentences):
        if len(tokens) == 0 or len(tokens) != len(labels):
            raise ValueError(
                f"sentence {i}: {len(tokens)} tokens and {len(labels)} tags (need as many "
                "tags as tokens, at least one)"
            )
        unknown = set(labels) - known
        if unknown:
            raise ValueError(f"sentence {i}: tags {sorted(unknown)} are not in the tag list")
    if not sentences:
        raise ValueError("no sentences")
    ds = tf.data.Dataset.from_tensor_slices(
        (_ragged([s[0] for s in sentences]), _ragged([s[1] for s in sentences]))
    ).map(lambda tokens, labels: (tokens, labels))  # rows as plain (time,) tensors
    if shuffle:
        ds = ds.shuffle(len(sentences), seed=seed, reshuffle_each_iteration=True)
    padding = (tf.constant(PAD), tf.constant(tags[0]))
    if bucket_boundaries is None:
        ds = ds.padded_batch(batch_size, padding_values=padding)
    else:
        boundaries = check_boundaries(bucket_boundaries)
        ds = ds.bucket_by_sequence_length(
            lambda tokens, labels: tf.shape(tokens)[0], boundaries,
            [batch_size] * (len(boundaries) + 1), padding_values=padding,
        )  # fmt: skip
    tag_lookup = keras.layers.StringLookup(vocabulary=tags, num_oov_indices=0, mask_token=None)

    def encode(tokens, labels):
        return features(tokens), tf.cast(tag_lookup(labels), tf.int32)

    return ds.map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
