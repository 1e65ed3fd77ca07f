r"""Sequence taggers: a BiLSTM with a softmax or a CRF on top, with character features.

:class:`Tagger` reads word ids (and, optionally, the characters of each word and character
bigrams) and gives every position a score per tag, the *emissions* ``(batch, time, K)``:

- ``crf=False``: each position's tag is chosen on its own (softmax, token cross-entropy);
  nothing stops ``O I-PER`` or ``B-PER I-LOC``.
- ``crf=True``: a :class:`~nlpbook.layers.CRF` scores whole tag paths (emissions plus
  learned transitions), is trained by its negative log-likelihood, and decodes by Viterbi
  (Huang, Xu & Yu 2015; Lample et al. 2016).

Character features (Lample et al. 2016): each word's characters are embedded and read by a
small BiLSTM (``char_encoder="lstm"``) or a convolution with max-pooling (``"cnn"``, Ma &
Hovy 2016), and the result is concatenated to the word vector, so capitalisation, suffixes
and words outside the vocabulary still tell the tagger something.

:class:`TextTagger` wraps a trained tagger with its vocabularies into one model from raw
text to tags (TensorFlow backend: string tensors), saved as one ``.keras`` file.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_bool, check_int, check_rate
from nlpbook.layers import CRF
from nlpbook.models._decoding import compile_function
from nlpbook.models.classifiers import _load_embeddings

CHAR_ENCODERS = ("lstm", "cnn")


def _recurrent_policy(policy):
    # cuDNN's fused kernels have no bfloat16: the recurrences compute in float32
    return "float32" if policy.compute_dtype == "bfloat16" else policy


@keras.saving.register_keras_serializable(package="nlpbook")
class Tagger(keras.Model):
    """Word (+ character, + bigram) embeddings, a BiLSTM, emissions, and a CRF or a softmax.

    Args:
        vocab_size: word ids (0 pads; the pipeline's vocabulary gives 1 to unknown words).
        num_tags: tags ``K``.
        word_dim: word-vector size (50 for GloVe 6B 50d).
        hidden_size: BiLSTM units per direction.
        char_vocab_size: character ids (0: no character features).
        char_dim: character-vector size.
        char_hidden_size: character BiLSTM units per direction, or CNN filters.
        char_encoder: ``"lstm"`` or ``"cnn"`` (filters of width 3, max over the word).
        bigram_vocab_size: ids of character bigrams ``c_t c_{t+1}`` (0: none; for Chinese
            character-level tagging).
        bigram_dim: bigram-vector size.
        crf: a CRF on the emissions (else an independent softmax per position).
        dropout: on the concatenated embeddings and on the BiLSTM's outputs while training.

    Call arguments:
        inputs: a dict with ``"words"`` ``(batch, time)`` ids (0 at padding), and, where the
            model uses them, ``"chars"`` ``(batch, time, max_chars)`` and ``"bigrams"``
            ``(batch, time)``.
        training: whether dropout is active.

    Returns:
        Emissions ``(batch, time, num_tags)``, float32. :meth:`tag` turns them into tags;
        ``fit`` trains on ``(inputs, tag ids)`` with the CRF's or the softmax's loss.

    Example:
        >>> keras.utils.set_random_seed(0)
        >>> tagger = Tagger(vocab_size=20, num_tags=3, word_dim=8, hidden_size=4,
        ...                 char_vocab_size=10, char_dim=4, char_hidden_size=3)
        >>> x = {"words": np.array([[4, 5, 0]]), "chars": np.ones((1, 3, 5), "int32")}
        >>> tuple(tagger(x).shape)
        (1, 3, 3)
        >>> [len(t) for t in tagger.tag(x)]  # one array per sentence, padding dropped
        [2]

    References:
        Huang, Xu & Yu (2015), *Bidirectional LSTM-CRF Models for Sequence Tagging*, arXiv.
        Lample et al. (2016), *Neural Architectures for Named Entity Recognition*, NAACL.
        Ma & Hovy (2016), *End-to-end Sequence Labeling via Bi-directional
        LSTM-CNNs-CRF*, ACL.
    """

    def __init__(
        self,
        vocab_size,
        num_tags,
        word_dim=100,
        hidden_size=100,
        char_vocab_size=0,
        char_dim=25,
        char_hidden_size=25,
        char_encoder="lstm",
        bigram_vocab_size=0,
        bigram_dim=50,
        crf=True,
        dropout=0.5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.num_tags = check_int("num_tags", num_tags, 1)
        self.word_dim = check_int("word_dim", word_dim, 1)
        self.hidden_size = check_int("hidden_size", hidden_size, 1)
        self.char_vocab_size = check_int("char_vocab_size", char_vocab_size, 0)
        self.char_dim = check_int("char_dim", char_dim, 1)
        self.char_hidden_size = check_int("char_hidden_size", char_hidden_size, 1)
        if char_encoder not in CHAR_ENCODERS:
            raise ValueError(
                f"char_encoder must be one of {CHAR_ENCODERS}. Received: {char_encoder!r}"
            )
        self.char_encoder = char_encoder
        self.bigram_vocab_size = check_int("bigram_vocab_size", bigram_vocab_size, 0)
        self.bigram_dim = check_int("bigram_dim", bigram_dim, 1)
        self.crf = check_bool("crf", crf)
        self.dropout = check_rate("dropout", dropout)
        policy = self.dtype_policy
        rnn_policy = _recurrent_policy(policy)
        self.word_embedding = layers.Embedding(
            vocab_size, word_dim, dtype=policy, name="word_embedding"
        )
        if self.char_vocab_size:
            self.char_embedding = layers.Embedding(
                char_vocab_size, char_dim, dtype=policy, name="char_embedding"
            )
            if char_encoder == "lstm":
                self.char_reader = layers.Bidirectional(
                    layers.LSTM(char_hidden_size, dtype=rnn_policy), dtype=rnn_policy,
                    name="char_bilstm",
                )  # fmt: skip
            else:
                self.char_reader = layers.Conv1D(
                    char_hidden_size, 3, padding="same", activation="tanh", dtype=policy,
                    name="char_cnn",
                )  # fmt: skip
        if self.bigram_vocab_size:
            self.bigram_embedding = layers.Embedding(
                bigram_vocab_size, bigram_dim, dtype=policy, name="bigram_embedding"
            )
        self.input_dropout = layers.Dropout(self.dropout, dtype=policy, name="input_dropout")
        self.bilstm = layers.Bidirectional(
            layers.LSTM(hidden_size, return_sequences=True, dtype=rnn_policy), dtype=rnn_policy,
            name="bilstm",
        )  # fmt: skip
        self.output_dropout = layers.Dropout(self.dropout, dtype=policy, name="output_dropout")
        self.emission = layers.Dense(num_tags, dtype="float32", name="emission")
        self.crf_layer = CRF(name="crf") if self.crf else None

    # -- the network ----------------------------------------------------------------------
    def _check_inputs(self, inputs):
        if not isinstance(inputs, dict) or "words" not in inputs:
            raise ValueError('Tagger takes a dict with "words" (and "chars", "bigrams")')
        words = inputs["words"]
        if len(words.shape) != 2:
            raise ValueError(f'"words" must be (batch, time). Received shape {words.shape}')
        for key, size in (("chars", self.char_vocab_size), ("bigrams", self.bigram_vocab_size)):
            if size and key not in inputs:
                raise ValueError(f'this Tagger reads "{key}": give them in the inputs dict')
        if self.char_vocab_size and len(inputs["chars"].shape) != 3:
            raise ValueError(
                f'"chars" must be (batch, time, max_chars). Received {inputs["chars"].shape}'
            )

    def _char_features(self, chars, training):
        n, t, c = ops.shape(chars)
        flat = ops.reshape(chars, (-1, c))  # (batch * time, max_chars)
        x = self.char_embedding(flat)
        real = ops.not_equal(flat, 0)
        if self.char_encoder == "lstm":
            h = self.char_reader(x, mask=real, training=training)  # (b * t, 2 * hidden)
        else:
            h = self.char_reader(x)  # (b * t, chars, filters)
            h = ops.where(real[..., None], h, ops.cast(-1e4, h.dtype))
            h = ops.where(ops.any(real, axis=1)[:, None], ops.max(h, axis=1), 0.0)
        return ops.reshape(h, (n, t, self._char_features_size()))

    def _char_features_size(self):
        return self.char_hidden_size * (2 if self.char_encoder == "lstm" else 1)

    def build(self, input_shape=None):
        self.word_embedding.build((None, None))
        width = self.word_dim
        if self.char_vocab_size:
            self.char_embedding.build((None, None))
            self.char_reader.build((None, None, self.char_dim))
            width += self._char_features_size()
        if self.bigram_vocab_size:
            self.bigram_embedding.build((None, None))
            width += self.bigram_dim
        self.bilstm.build((None, None, width))
        self.emission.build((None, None, 2 * self.hidden_size))
        if self.crf:
            self.crf_layer.build((None, None, self.num_tags))
        self.built = True

    def padding_mask(self, inputs):
        return ops.not_equal(inputs["words"], 0)  # (batch, time)

    def call(self, inputs, training=None):
        self._check_inputs(inputs)
        parts = [self.word_embedding(inputs["words"])]
        if self.char_vocab_size:
            parts.append(ops.cast(self._char_features(inputs["chars"], training), parts[0].dtype))
        if self.bigram_vocab_size:
            parts.append(self.bigram_embedding(inputs["bigrams"]))
        x = parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=-1)
        x = self.input_dropout(x, training=training)
        h = self.bilstm(x, mask=self.padding_mask(inputs), training=training)
        return self.emission(self.output_dropout(h, training=training))  # (b, t, K)

    def compute_output_shape(self, input_shape):
        return (*input_shape["words"], self.num_tags)

    # -- training --------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """CRF: the mean over sentences of ``−log p(tags | words)``; softmax: the mean over
        real tokens of the cross-entropy. Padding counts in neither."""
        mask = self.padding_mask(x)
        tags = ops.cast(y, "int32")
        if self.crf:
            loss = self.crf_layer.negative_log_likelihood(y_pred, tags, mask)
        else:
            token = keras.losses.sparse_categorical_crossentropy(tags, y_pred, from_logits=True)
            real = ops.cast(mask, "float32")
            loss = ops.sum(token * real) / ops.maximum(ops.sum(real), 1.0)
        for extra in self.losses:
            loss = loss + ops.cast(extra, "float32")
        return loss

    # -- tagging ---------------------------------------------------------------------------
    def _decode_tensors(self, inputs):
        emissions = self(inputs, training=False)
        mask = self.padding_mask(inputs)
        if self.crf:
            tags, _ = self.crf_layer.decode(emissions, mask)
        else:
            tags = ops.where(mask, ops.cast(ops.argmax(emissions, axis=-1), "int32"), 0)
        return tags

    def decode(self, inputs):
        """Best tag ids ``(batch, time)`` (Viterbi or per-position argmax), 0 at padding;
        compiled once per model (XLA on TensorFlow and JAX)."""
        functions = self.__dict__.setdefault("_nlpbook_decode", {})
        if "decode" not in functions:
            jit = keras.backend.backend() in ("tensorflow", "jax")
            functions["decode"] = compile_function(self, self._decode_tensors, jit)
        # pad the time axis to a multiple of 32 (padding changes no tag): XLA compiles one
        # program per shape, and a test set's batches would otherwise each bring a new one
        arrays = {k: np.asarray(v, "int32") for k, v in inputs.items()}
        width = arrays["words"].shape[1]
        wide = -(-max(width, 1) // 32) * 32
        padded = {k: np.pad(v, [(0, 0), (0, wide - width)] + [(0, 0)] * (v.ndim - 2))
                  for k, v in arrays.items()}  # fmt: skip
        tags = functions["decode"]({k: ops.convert_to_tensor(v) for k, v in padded.items()})
        return np.asarray(ops.convert_to_numpy(tags))[:, :width]

    def tag(self, inputs) -> list[np.ndarray]:
        """Tag ids per sentence of a batch dict, or of every batch of a ``tf.data`` dataset of
        ``inputs`` or ``(inputs, tags)``: one int array per sentence, padding dropped."""
        batches = [inputs] if isinstance(inputs, dict) else inputs
        out = []
        for batch in batches:
            batch = batch[0] if isinstance(batch, tuple) else batch
            batch = {k: np.asarray(v) for k, v in batch.items()}
            real = batch["words"] != 0
            out.extend(row[mask] for row, mask in zip(self.decode(batch), real, strict=True))
        return out

    def get_config(self):
        names = ("vocab_size", "num_tags", "word_dim", "hidden_size", "char_vocab_size",
                 "char_dim", "char_hidden_size", "char_encoder", "bigram_vocab_size",
                 "bigram_dim", "crf", "dropout")  # fmt: skip
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def set_word_vectors(tagger: Tagger, matrix) -> None:
    """Load pretrained word vectors ``(vocab_size, word_dim)`` into the word embedding (they
    are fine-tuned with the rest, as Lample et al. do)."""
    _load_embeddings(tagger.word_embedding, matrix, tagger.vocab_size, tagger.word_dim)


def tag_names(ids: Sequence[np.ndarray], vocabulary: Sequence[str]) -> list[list[str]]:
    """Tag ids → tag strings, sentence by sentence."""
    return [[vocabulary[int(i)] for i in row] for row in ids]


LANGUAGES = ("en", "zh")


@keras.saving.register_keras_serializable(package="nlpbook")
class TextTagger(keras.Model):
    """Raw text → tokens and tags in one model: tokenization, features, a tagger, tag names.

    English text is split into words and punctuation (:class:`~nlpbook.text.UnicodeScriptTokenizer`:
    "U.S." gives "U", ".", "S", "."; CoNLL-2003's own tokens keep it whole, so feed tokens to
    :meth:`tag_tokens` when you have them); Chinese text into characters (whitespace
    dropped), as MSRA's tags are per character. Invalid UTF-8 becomes U+FFFD. Saved as one
    ``.keras`` file with its vocabularies; TensorFlow backend (string tensors).

    Args:
        features: the :class:`~nlpbook.pipelines.tagging.TokenFeatures` the tagger was trained on.
        tagger: a trained :class:`Tagger`.
        tags: the tag names, id order.
        language: ``"en"`` or ``"zh"``.

    Call arguments:
        texts: ``(batch,)`` strings.

    Returns:
        ``{"tokens": (batch, time) strings, "tags": (batch, time) int32}``, ``""`` and 0 at
        padding. :meth:`tag_texts` gives Python lists of ``(token, tag name)``.
    """

    def __init__(self, features, tagger, tags, language="en", **kwargs):
        super().__init__(**kwargs)
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "TextTagger needs the TensorFlow backend (string tensors); on JAX or PyTorch "
                "run TokenFeatures in tf.data and the Tagger on its ids"
            )
        if isinstance(features, dict):
            features = keras.saving.deserialize_keras_object(features)
        if isinstance(tagger, dict):
            tagger = keras.saving.deserialize_keras_object(tagger)
        if language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}. Received: {language!r}")
        self.tags = [str(t) for t in tags]
        if len(self.tags) != tagger.num_tags:
            raise ValueError(f"{len(self.tags)} tag names for a tagger of {tagger.num_tags} tags")
        self.language = language
        self.features = features
        self.tagger = tagger
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True

    def build(self, input_shape=None):
        self.features.build(None)
        if not self.tagger.built:
            self.tagger.build()
        self.built = True

    def build_from_config(self, config):
        self.build()  # the parts know their shapes; strings have none to record

    def tokenize(self, texts):
        """``(batch,)`` strings → ``(batch, time)`` tokens, ``""`` at padding."""
        import tensorflow as tf

        from nlpbook.text import CharTokenizer, UnicodeScriptTokenizer, as_text

        tokenizer = UnicodeScriptTokenizer() if self.language == "en" else CharTokenizer()
        tokens = tokenizer.tokenize(as_text(texts))  # Chinese: characters, whitespace dropped
        width = tf.maximum(tokens.bounding_shape()[1], 1)  # at least one (padding) column
        return tokens.to_tensor(default_value="", shape=tf.stack([tokens.nrows(), width]))

    def call(self, texts):
        tokens = self.tokenize(texts)
        ids = self.features(tokens)
        return {"tokens": tokens, "tags": self.tagger._decode_tensors(ids)}

    def tag_texts(self, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        """``(token, tag)`` pairs per text; an empty (or all-blank) text gives ``[]``."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("tag_texts takes a list of texts")
        if not texts:
            return []
        out = self(list(texts))
        tokens = out["tokens"].numpy()
        tags = np.asarray(out["tags"])
        return [
            [(t.decode("utf-8"), self.tags[int(g)]) for t, g in zip(row, ids, strict=True) if t]
            for row, ids in zip(tokens, tags, strict=True)
        ]

    def get_config(self):
        return {**super().get_config(), "tags": self.tags, "language": self.language,
                "features": keras.saving.serialize_keras_object(self.features),
                "tagger": keras.saving.serialize_keras_object(self.tagger)}  # fmt: skip

    @classmethod
    def from_config(cls, config):
        return cls(**config)
