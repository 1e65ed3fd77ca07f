r"""Encoder-decoder models for translation: a GRU pair, GRUs with attention, a Transformer.

All three model :math:`P(y_t \mid y_{<t}, x)`: an encoder reads the source :math:`x`, a decoder
reads the target so far and *the encoder's result*, and a softmax layer gives the next target
token. (Seed 004 §4's ``Seq2SeqModel`` runs its decoder GRU on the target alone, so its output
cannot depend on the source: it is a language model of the target, not a translator. Here
the encoder's result always reaches the decoder: as its initial state, through attention, or
both.)

``GRUSeq2Seq``           the encoder's last state starts the decoder (Cho et al. 2014)
``AttentionGRUSeq2Seq``  a bidirectional encoder; additive attention at each decoder step
``TransformerSeq2Seq``   Vaswani et al.'s encoder-decoder Transformer

Every model is called on ``(source, decoder_input)``, the batches of
:func:`nlpbook.pipelines.translation_dataset` (id 0 pads both sides), and returns float32
logits ``(batch, T, target_vocab)`` (teacher forcing: train with
:class:`nlpbook.models.MaskedSequenceCrossentropy`, the token mean over the real target
tokens, with label smoothing if wanted). To translate, each offers
``encode(source) -> state`` and ``decode_step(tokens, state) -> (logits, state)``, the step
function that :func:`nlpbook.generation.greedy_search` and
:func:`nlpbook.generation.beam_search` drive; the state is a dict of tensors with the batch on
axis 0. ``translate`` does both in one call.

Example:
    >>> model = GRUSeq2Seq(src_vocab=20, tgt_vocab=30, embed_dim=8, units=16)
    >>> source = np.array([[4, 5, 6, 0]])  # one sentence, padded
    >>> tuple(model((source, np.array([[1, 7, 8]]))).shape)
    (1, 3, 30)
    >>> model.translate(source, bos_id=1, eos_id=2, max_length=5).shape[0]
    1
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_bool, check_heads, check_int, check_rate
from nlpbook.generation import beam_search
from nlpbook.layers import (
    AdditiveAttention,
    SinusoidalPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)


def _check_ids(name: str, ids, model: str) -> None:
    if len(ids.shape) != 2:
        raise ValueError(
            f"{model} expects {name} token ids (batch, time). Received shape {tuple(ids.shape)}"
        )


def _split(inputs, model: str):
    """``(source, decoder_input)`` from the model's inputs, with their shapes checked."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError(
            f"{model} is called on a pair (source, decoder_input) of id tensors. "
            f"Received: {type(inputs).__name__}"
        )
    source, decoder_input = inputs
    _check_ids("source", source, model)
    _check_ids("decoder_input", decoder_input, model)
    a, b = source.shape[0], decoder_input.shape[0]
    if a is not None and b is not None and a != b:
        raise ValueError(
            f"{model}: source and decoder_input must hold the same number of sentences. "
            f"Received {a} and {b}"
        )
    return source, decoder_input


def _pad_ids(source_ids) -> np.ndarray:
    """An int32 ``(n, S)`` array from an array or a list of id lists (padded with 0)."""
    if isinstance(source_ids, np.ndarray) or hasattr(source_ids, "shape"):
        rows = np.asarray(ops.convert_to_numpy(source_ids))
        if rows.ndim != 2:
            raise ValueError(f"source_ids must be (batch, S) token ids. Received {rows.shape}")
    else:
        lists = [np.asarray(row).reshape(-1) for row in source_ids]
        if not lists:
            raise ValueError("source_ids is empty: give at least one sentence")
        rows = np.zeros((len(lists), max(len(r) for r in lists)), dtype=np.int64)
        for i, row in enumerate(lists):
            rows[i, : len(row)] = row
    if rows.shape[0] == 0 or rows.shape[1] == 0:
        raise ValueError(f"source_ids holds no tokens. Received shape {rows.shape}")
    if not np.issubdtype(rows.dtype, np.integer) or rows.min() < 0:
        raise ValueError("source_ids must be integer token ids >= 0 (0 is padding)")
    return rows.astype("int32")


class _Seq2Seq(keras.Model):
    """What the three models share: the call, the step function and ``translate``.

    A subclass writes ``_encode(source, training) -> state`` and ``_decode(decoder_input, state,
    training) -> (logits, state, attention)``, which reads a whole (teacher-forced) target
    or a one-token continuation the same way.
    """

    def call(self, inputs, training=None):
        source, decoder_input = _split(inputs, type(self).__name__)
        state = self._encode(source, training)
        return self._decode(decoder_input, state, training)[0]

    def encode(self, source, training=False):
        """Read the source once: the state the decoder starts from.

        Args:
            source: ``(batch, S)`` int ids, 0 = padding.
            training: whether dropout is active.

        Returns:
            A dict of tensors, each with the batch on axis 0 (the class docstring lists them).
        """
        _check_ids("source", source, type(self).__name__)
        return self._encode(source, training)

    def decode_step(self, tokens, state):
        """Logits of the next token after ``tokens``, and the state that follows.

        Args:
            tokens: ``(n,)`` int ids, the last token of each sequence (BOS first).
            state: from :meth:`encode` or the previous ``decode_step``.

        Returns:
            ``(logits (n, tgt_vocab) float32, new state)``. Fed the gold target one token at
            a time, the logits equal the teacher-forced logits of :meth:`call`.
        """
        tokens = ops.reshape(ops.cast(ops.convert_to_tensor(tokens), "int32"), (-1, 1))
        logits, state, _ = self._decode(tokens, state, False)
        return logits[:, -1], state

    def translate(self, source_ids, bos_id, eos_id, max_length, beam_width=1, alpha=0.6):
        """Translate a batch of sources with beam search (``beam_width=1``: greedy search).

        Args:
            source_ids: ``(n, S)`` int ids (0 pads) or a list of id lists.
            bos_id, eos_id: the target side's start and end tokens.
            max_length: the most target tokens generated per sentence (EOS included).
            beam_width: hypotheses kept per sentence.
            alpha: GNMT length-penalty exponent (no effect with ``beam_width=1``).

        Returns:
            int32 ``(n, length)``: the best hypothesis of each sentence, ending with
            ``eos_id`` when one was produced, then 0 (padding); ``length <= max_length``.
        """
        source = _pad_ids(source_ids)
        bos_id = check_int("bos_id", bos_id, 1)
        eos_id = check_int("eos_id", eos_id, 1)
        sequences, _ = beam_search(
            self.decode_step, self.encode(source), np.full(len(source), bos_id, "int32"),
            beam_width=beam_width, max_length=max_length, eos_id=eos_id, alpha=alpha,
            num_return=1,
        )  # fmt: skip
        return sequences[:, 0]


class _RecurrentSeq2Seq(_Seq2Seq):
    """Embeddings, dropout and the float32 recurrent/output policy of both GRU models."""

    def __init__(self, src_vocab, tgt_vocab, embed_dim=128, units=256, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.src_vocab = check_int("src_vocab", src_vocab, 2)
        self.tgt_vocab = check_int("tgt_vocab", tgt_vocab, 2)
        self.embed_dim = check_int("embed_dim", embed_dim, 1)
        self.units = check_int("units", units, 1)
        self.dropout = check_rate("dropout", dropout)
        policy = self.dtype_policy
        # cuDNN's GRU kernels have no bfloat16: under mixed_bfloat16 all but the embeddings
        # compute in float32 (as RecurrentLM does)
        self._rnn_policy = "float32" if policy.compute_dtype == "bfloat16" else policy
        # Keras' default word vectors, U(-0.05, 0.05), keep every encoder output tiny (RMS
        # about 0.01): the source then barely reaches the decoder, and in the attention model
        # the keys are nearly equal, attention is uniform and its weights get gradients 10^3
        # to 10^7 times smaller than the decoder's; training (under a learning-rate warm-up
        # above all) fits the target language and ignores the source. Word vectors of unit
        # scale, N(0, 1) (PyTorch's default), carry the source from the first step.
        unit_normal = keras.initializers.RandomNormal(stddev=1.0)
        self.source_embedding = layers.Embedding(src_vocab, embed_dim, dtype=policy,
                                                 embeddings_initializer=unit_normal,
                                                 name="source_embedding")  # fmt: skip
        self.target_embedding = layers.Embedding(tgt_vocab, embed_dim, dtype=policy,
                                                 embeddings_initializer=unit_normal,
                                                 name="target_embedding")  # fmt: skip
        self.embedding_dropout = layers.Dropout(self.dropout, dtype=policy, name="embed_dropout")
        self.output_dropout = layers.Dropout(self.dropout, dtype=policy, name="output_dropout")
        self.decoder = layers.GRU(units, return_sequences=True, return_state=True,
                                  dtype=self._rnn_policy, name="decoder")  # fmt: skip
        self.output_layer = layers.Dense(tgt_vocab, dtype="float32", name="output")

    def _embed(self, embedding, ids, training):
        return self.embedding_dropout(embedding(ids), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "src_vocab": self.src_vocab,
            "tgt_vocab": self.tgt_vocab,
            "embed_dim": self.embed_dim,
            "units": self.units,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class GRUSeq2Seq(_RecurrentSeq2Seq):
    r"""An encoder GRU whose last state is the first state of a decoder GRU.

    .. math::
        h_j = \mathrm{GRU}_{enc}(h_{j-1}, E_x[x_j]), \qquad s_0 = h_S, \qquad
        s_t = \mathrm{GRU}_{dec}(s_{t-1}, E_y[y_{t-1}]), \qquad
        P(y_t \mid y_{<t}, x) = \mathrm{softmax}(W s_t + b)

    The source reaches the decoder only through :math:`s_0`, one vector of ``units`` numbers
    for the whole sentence (the bottleneck that attention removes). The encoder is a plain,
    left-to-right GRU, so :math:`h_S` has just read the source's last token; padding (id 0)
    is masked, so the state is the one after the last *real* token. Dropout falls on the
    embeddings and before the output layer, never on the recurrent connections. The decoding
    state (:meth:`encode`, :meth:`decode_step`) is ``{"hidden": (batch, units)}``.

    Args:
        src_vocab, tgt_vocab: source and target vocabulary sizes (id 0 pads).
        embed_dim: size of the word vectors (both sides).
        units: size of the encoder and decoder states.
        dropout: rate of the non-recurrent dropouts while training.

    Call arguments:
        inputs: ``(source (batch, S), decoder_input (batch, T))`` int ids, 0 = padding.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, T, tgt_vocab)``, float32; those at padded decoder positions are
        meaningless (the loss ignores them).

    Example:
        >>> model = GRUSeq2Seq(src_vocab=20, tgt_vocab=30, embed_dim=8, units=16)
        >>> state = model.encode(np.array([[4, 5, 6, 0]]))
        >>> logits, state = model.decode_step(np.array([1]), state)
        >>> tuple(logits.shape), tuple(state["hidden"].shape)
        ((1, 30), (1, 16))

    References:
        Cho et al. (2014), *Learning Phrase Representations using RNN Encoder-Decoder for
        Statistical Machine Translation*, EMNLP. Sutskever, Vinyals, Le (2014), *Sequence to
        Sequence Learning with Neural Networks*, NeurIPS.
    """

    def __init__(self, src_vocab, tgt_vocab, embed_dim=128, units=256, dropout=0.0, **kwargs):
        super().__init__(src_vocab, tgt_vocab, embed_dim, units, dropout, **kwargs)
        self.encoder = layers.GRU(units, return_state=True, dtype=self._rnn_policy,
                                  name="encoder")  # fmt: skip

    def _encode(self, source, training):
        mask = ops.not_equal(source, 0)  # (B, S)
        x = self._embed(self.source_embedding, source, training)
        _, hidden = self.encoder(x, mask=mask, training=training)  # (B, units)
        return {"hidden": hidden}

    def _decode(self, decoder_input, state, training):
        x = self._embed(self.target_embedding, decoder_input, training)  # (B, T, E)
        outputs, hidden = self.decoder(x, initial_state=[state["hidden"]], training=training)
        logits = self.output_layer(self.output_dropout(outputs, training=training))
        return logits, {"hidden": hidden}, None


@keras.saving.register_keras_serializable(package="nlpbook")
class AttentionGRUSeq2Seq(_RecurrentSeq2Seq):
    r"""A bidirectional GRU encoder and a GRU decoder that attends over it at every step.

    .. math::
        h_j = [\overrightarrow{h}_j; \overleftarrow{h}_j], \qquad
        s_0 = \tanh(W_b [\overrightarrow{h}_S; \overleftarrow{h}_1] + b_b), \qquad
        s_t = \mathrm{GRU}_{dec}(s_{t-1}, E_y[y_{t-1}]),

    .. math::
        \alpha_{tj} = \mathrm{softmax}_j\, v^\top \tanh(W_q s_t + W_k h_j), \qquad
        c_t = \textstyle\sum_j \alpha_{tj} h_j, \qquad
        \tilde s_t = \tanh(W_c [s_t; c_t] + b_c), \qquad
        P(y_t \mid y_{<t}, x) = \mathrm{softmax}(W \tilde s_t + b).

    The encoder is Bahdanau et al.'s: each :math:`h_j` has read the whole sentence, forwards
    up to ``j`` and backwards down to it; both final states start the decoder through the
    "bridge" ``W_b``. The scores are Bahdanau's additive ones
    (:class:`~nlpbook.layers.AdditiveAttention`), but they are placed where Luong et al.
    (2015, "global attention" without input feeding) place attention: the query is the
    *current* decoder state :math:`s_t`, and the context enters the output layer, not the
    GRU. So the decoder GRU never waits for attention, and teacher forcing runs the GRU over
    the whole target in one call, then attends for all ``T`` positions at once. (Bahdanau's
    decoder queries with :math:`s_{t-1}` and feeds :math:`c_t` into the GRU, which forces a
    loop over the target steps.) Padded source positions get attention weight 0. The word
    vectors start as :math:`N(0, 1)` (not Keras' ``U(-0.05, 0.05)``, in both GRU models), so
    that the encoder outputs, hence the keys, differ from the first step and attention can
    learn. The
    decoding state is ``{"hidden": (batch, units), "memory": (batch, S, 2 * units),
    "source_mask": (batch, S) bool}``: the decoder state, the encoder outputs and which of
    them are real tokens.

    Args:
        src_vocab, tgt_vocab, embed_dim, dropout: as in :class:`GRUSeq2Seq`.
        units: size of each encoder direction and of the decoder state (``h_j`` has
            ``2 * units``).
        attention_units: size of the attention's hidden layer (default ``units``).

    Call arguments:
        inputs: ``(source (batch, S), decoder_input (batch, T))`` int ids, 0 = padding.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, T, tgt_vocab)``, float32. :meth:`attention_weights` gives the
        alignments ``(batch, T, S)``.

    Example:
        >>> model = AttentionGRUSeq2Seq(src_vocab=20, tgt_vocab=30, embed_dim=8, units=16)
        >>> source, target = np.array([[4, 5, 6, 0]]), np.array([[1, 7, 8]])
        >>> tuple(model((source, target)).shape)
        (1, 3, 30)
        >>> alignment = keras.ops.convert_to_numpy(model.attention_weights(source, target))
        >>> alignment.shape, bool(np.allclose(alignment.sum(-1), 1)), float(alignment[0, 0, 3])
        ((1, 3, 4), True, 0.0)

    References:
        Bahdanau, Cho, Bengio (2015), *Neural Machine Translation by Jointly Learning to Align
        and Translate*, ICLR. Luong, Pham, Manning (2015), *Effective Approaches to
        Attention-based Neural Machine Translation*, EMNLP.
    """

    def __init__(
        self, src_vocab, tgt_vocab, embed_dim=128, units=256, attention_units=None, dropout=0.0,
        **kwargs,
    ):  # fmt: skip
        super().__init__(src_vocab, tgt_vocab, embed_dim, units, dropout, **kwargs)
        self.attention_units = (
            self.units if attention_units is None
            else check_int("attention_units", attention_units, 1)
        )  # fmt: skip
        rnn = self._rnn_policy
        self.encoder = layers.Bidirectional(
            layers.GRU(units, return_sequences=True, return_state=True, dtype=rnn),
            dtype=rnn, name="encoder",
        )  # fmt: skip
        self.bridge = layers.Dense(units, activation="tanh", dtype=rnn, name="bridge")
        self.attention = AdditiveAttention(self.attention_units, dtype=rnn, name="attention")
        self.combine = layers.Dense(units, activation="tanh", dtype=rnn, name="combine")

    def _encode(self, source, training):
        mask = ops.not_equal(source, 0)  # (B, S)
        x = self._embed(self.source_embedding, source, training)
        memory, forward, backward = self.encoder(x, mask=mask, training=training)
        hidden = self.bridge(ops.concatenate([forward, backward], axis=-1))  # (B, units)
        return {"hidden": hidden, "memory": memory, "source_mask": mask}

    def _decode(self, decoder_input, state, training):
        x = self._embed(self.target_embedding, decoder_input, training)  # (B, T, E)
        outputs, hidden = self.decoder(x, initial_state=[state["hidden"]], training=training)
        memory = state["memory"]
        context, weights = self.attention(outputs, memory, mask=state["source_mask"])
        combined = self.combine(ops.concatenate([outputs, ops.cast(context, outputs.dtype)], -1))
        logits = self.output_layer(self.output_dropout(combined, training=training))
        return logits, {**state, "hidden": hidden}, weights

    def attention_weights(self, source, decoder_input):
        """The alignment ``α`` (float ``(batch, T, S)``) of each target position over the source.

        Row ``t`` is the attention of the decoder after reading ``decoder_input[:, :t+1]``,
        i.e. while predicting target token ``t``; it sums to 1 over the real source tokens
        and is 0 on padding.
        """
        source, decoder_input = _split((source, decoder_input), type(self).__name__)
        return self._decode(decoder_input, self.encode(source), False)[2]

    def get_config(self):
        return {**super().get_config(), "attention_units": self.attention_units}


@keras.saving.register_keras_serializable(package="nlpbook")
class TransformerSeq2Seq(_Seq2Seq):
    r"""The encoder-decoder Transformer of Vaswani et al. (2017).

    .. math::
        x = \sqrt{d}\, E_x[\text{source}] + PE, \qquad
        m = \mathrm{Encoder}^N(x), \qquad
        z = \mathrm{Decoder}^N(\sqrt{d}\, E_y[\text{decoder input}] + PE,\ m), \qquad
        P(y_t \mid y_{<t}, x) = \mathrm{softmax}(W z_t + b)

    Encoder blocks (:class:`~nlpbook.layers.TransformerEncoderBlock`) attend over the real
    source tokens; decoder blocks (:class:`~nlpbook.layers.TransformerDecoderBlock`) attend
    causally over the target so far and, through cross-attention, over the real source
    tokens. Embeddings are scaled by :math:`\sqrt{d_{model}}` (so they are not drowned by
    the positions, whose entries are of size 1), then sinusoidal positions are added and
    dropout applied. With ``norm_first`` (pre-LN) a final ``LayerNormalization`` closes each
    stack. The output layer has its own weights (not tied to the target embedding).

    :meth:`decode_step` has no key/value cache: its state keeps the whole prefix and each
    step re-runs the decoder over it, so generating ``T`` tokens costs
    :math:`O(T^2)` decoder positions instead of :math:`O(T)` (chapter 11's cache removes
    that); the encoder runs once.

    Args:
        src_vocab, tgt_vocab: source and target vocabulary sizes (id 0 pads).
        d_model: width of the model (embeddings, blocks).
        num_heads: attention heads; ``d_model`` must be a multiple.
        ff_dim: hidden units of each block's feed-forward network.
        num_layers: blocks in the encoder, and in the decoder.
        dropout: residual and embedding dropout while training.
        norm_first: ``False`` post-LN (the paper), ``True`` pre-LN.
        max_length: the longest source and decoder input accepted. Sinusoids exist for any
            position, but a model has only learned to use the lengths it was trained on:
            longer inputs are an error, not a silent extrapolation.

    Call arguments:
        inputs: ``(source (batch, S), decoder_input (batch, T))`` int ids, 0 = padding.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, T, tgt_vocab)``, float32. :meth:`attention_weights` gives the last
        decoder block's cross-attention ``(batch, heads, T, S)``.

    Example:
        >>> model = TransformerSeq2Seq(src_vocab=20, tgt_vocab=30, d_model=8, num_heads=2,
        ...                            ff_dim=16, num_layers=1, max_length=10)
        >>> source, target = np.array([[4, 5, 6, 0]]), np.array([[1, 7, 8]])
        >>> tuple(model((source, target)).shape)
        (1, 3, 30)
        >>> tuple(model.attention_weights(source, target).shape)
        (1, 2, 3, 4)

    References:
        Vaswani et al. (2017), *Attention Is All You Need*, NeurIPS, §3.
    """

    def __init__(
        self, src_vocab, tgt_vocab, d_model=128, num_heads=4, ff_dim=512, num_layers=2,
        dropout=0.1, norm_first=False, max_length=256, **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.src_vocab = check_int("src_vocab", src_vocab, 2)
        self.tgt_vocab = check_int("tgt_vocab", tgt_vocab, 2)
        self.d_model = check_int("d_model", d_model, 1)
        self.num_heads = check_int("num_heads", num_heads, 1)
        check_heads("d_model", self.d_model, self.num_heads)
        self.ff_dim = check_int("ff_dim", ff_dim, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        self.dropout = check_rate("dropout", dropout)
        self.norm_first = check_bool("norm_first", norm_first)
        self.max_length = check_int("max_length", max_length, 1)
        policy = self.dtype_policy
        self.source_embedding = layers.Embedding(src_vocab, d_model, dtype=policy,
                                                 name="source_embedding")  # fmt: skip
        self.target_embedding = layers.Embedding(tgt_vocab, d_model, dtype=policy,
                                                 name="target_embedding")  # fmt: skip
        self.positions = SinusoidalPositionEmbedding(dtype=policy, name="positions")
        self.embedding_dropout = layers.Dropout(self.dropout, dtype=policy, name="embed_dropout")
        block = dict(num_heads=num_heads, ff_dim=ff_dim, dropout=self.dropout,
                     norm_first=self.norm_first, dtype=policy)  # fmt: skip
        self.encoder_blocks = [
            TransformerEncoderBlock(**block, name=f"encoder_{i}") for i in range(num_layers)
        ]
        self.decoder_blocks = [
            TransformerDecoderBlock(**block, cross_attention=True, name=f"decoder_{i}")
            for i in range(num_layers)
        ]
        self.encoder_norm = self.decoder_norm = None
        if self.norm_first:
            self.encoder_norm = layers.LayerNormalization(dtype=policy, name="encoder_norm")
            self.decoder_norm = layers.LayerNormalization(dtype=policy, name="decoder_norm")
        self.output_layer = layers.Dense(tgt_vocab, dtype="float32", name="output")

    def _embed(self, embedding, ids, name, training):
        _check_ids(name, ids, type(self).__name__)
        length = ids.shape[1]
        if length is not None and length > self.max_length:
            raise ValueError(
                f"TransformerSeq2Seq accepts sequences of at most max_length={self.max_length} "
                f"tokens. Received {name} of length {length}"
            )
        x = embedding(ids)  # (B, time, d_model)
        x = self.positions(x * ops.cast(math.sqrt(self.d_model), x.dtype))
        return self.embedding_dropout(x, training=training)

    def _encode(self, source, training):
        mask = ops.not_equal(source, 0)  # (B, S)
        x = self._embed(self.source_embedding, source, "source", training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=mask, training=training)
        if self.encoder_norm is not None:
            x = self.encoder_norm(x)
        return {"memory": x, "source_mask": mask}

    def encode(self, source, training=False):
        """Run the encoder once; the state also holds the (empty) target prefix.

        Args:
            source: ``(batch, S)`` int ids, 0 = padding.
            training: whether dropout is active.

        Returns:
            ``{"memory": (batch, S, d_model), "source_mask": (batch, S) bool, "prefix":
            (batch, 0) int32}``: the encoder outputs, which of them are real tokens, and the
            target prefix that :meth:`decode_step` extends.
        """
        state = super().encode(source, training)
        return {**state, "prefix": ops.zeros((ops.shape(source)[0], 0), "int32")}

    def _decode(self, decoder_input, state, training):
        x = self._embed(self.target_embedding, decoder_input, "decoder_input", training)
        target_mask = ops.not_equal(decoder_input, 0)  # (B, T)
        for block in self.decoder_blocks:
            x, weights = block(
                x, state["memory"], decoder_padding_mask=target_mask,
                memory_padding_mask=state["source_mask"], return_attention_scores=True,
                training=training,
            )  # fmt: skip
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)
        return self.output_layer(x), state, weights["cross_attention"]

    def decode_step(self, tokens, state):
        """Logits of the next token after ``tokens``: the decoder re-run over the prefix.

        Args:
            tokens: ``(n,)`` int ids, the last token of each sequence (BOS first).
            state: from :meth:`encode` or the previous ``decode_step``; ``state["prefix"]``
                ``(n, t)`` holds the tokens fed so far.

        Returns:
            ``(logits (n, tgt_vocab) float32, state with the prefix (n, t + 1))``.
        """
        tokens = ops.reshape(ops.cast(ops.convert_to_tensor(tokens), "int32"), (-1, 1))
        prefix = ops.concatenate([ops.cast(state["prefix"], "int32"), tokens], axis=1)
        logits, state, _ = self._decode(prefix, state, False)
        return logits[:, -1], {**state, "prefix": prefix}

    def attention_weights(self, source, decoder_input):
        """Cross-attention of the last decoder block, ``(batch, heads, T, S)``.

        Each row sums to 1 over the real source tokens and is 0 on padding.
        """
        source, decoder_input = _split((source, decoder_input), type(self).__name__)
        return self._decode(decoder_input, self.encode(source), False)[2]

    def get_config(self):
        return {
            **super().get_config(),
            "src_vocab": self.src_vocab,
            "tgt_vocab": self.tgt_vocab,
            "d_model": self.d_model,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "norm_first": self.norm_first,
            "max_length": self.max_length,
        }
