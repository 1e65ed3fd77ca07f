r"""BERT: a Transformer encoder pretrained by masked-LM and next-sentence prediction.

.. math::
    x_t = \mathrm{LN}(E[w_t] + S[s_t] + P[t]), \qquad
    x \leftarrow \mathrm{Block}_l(x)\ (l = 1 \dots L), \qquad
    \text{pooled} = \tanh(W_p\, x_{[CLS]} + b_p)

with token (``E``), segment (``S``) and learned position (``P``) embeddings, then chapter 7's
post-LN encoder blocks (:class:`nlpbook.layers.TransformerEncoderBlock`) with a GELU
feed-forward network (Devlin et al. 2019). Pretraining adds two heads:

* masked LM: at the masked positions, ``LN(GELU(x W + b)) Eᵀ + b_v``, whose output matrix is
  the token embedding ``E`` itself (tied, as in BERT);
* next-sentence prediction: a 2-way softmax on the pooled ``[CLS]`` vector.

Everything is sized by a :class:`BertConfig`. :func:`load_checkpoint` reads a Hugging Face
BERT checkpoint (``config.json`` + ``model.safetensors``: MiniLM, BERT-base, …) into a config
and a dict of arrays, and :meth:`BertEncoder.from_checkpoint` builds the encoder from them;
every weight's name and shape is checked and any error names the weight.

Padding: inputs are padded on the right; a padded key is hidden from every query, so the
outputs at real positions do not depend on how much padding follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from nlpbook.layers import PositionEmbedding, TransformerEncoderBlock
from nlpbook.models import _config


@dataclass(frozen=True)
class BertConfig:
    """The sizes of a BERT encoder; defaults are BERT-base (Devlin et al. 2019, 110M).

    Build published sizes with :meth:`base`, :meth:`minilm_l6_h384`, :meth:`small` (ours,
    for a CPU) and change any field with ``dataclasses.replace``.
    """

    vocab_size: int = 30522  # WordPiece vocabulary of the uncased English BERT
    hidden_size: int = 768  # d_model, the width of every token vector
    num_layers: int = 12  # encoder blocks
    num_heads: int = 12  # attention heads; hidden_size must be a multiple
    intermediate_size: int = 3072  # feed-forward hidden width, 4 × hidden_size in BERT
    max_length: int = 512  # rows of the learned position table: the longest input
    type_vocab_size: int = 2  # segments: A (0) and B (1) for sentence pairs
    # "gelu" is the exact (erf) form BERT was trained with; keras-hub's BertBackbone uses
    # "gelu_tanh", which moves MiniLM's hidden states by about 1e-3
    activation: str = "gelu"
    dropout: float = 0.1  # on the embeddings and on each sub-layer's output
    attention_dropout: float = 0.1  # on the attention weights
    layer_norm_epsilon: float = 1e-12  # Google's TensorFlow BERT value, kept by checkpoints
    initializer_range: float = 0.02  # std of the (truncated) normal initial weights
    pad_id: int = 0  # the id of [PAD]: the padding mask when none is given

    def __post_init__(self):
        _config.check_sizes(self, "hidden_size")
        if not 0 <= self.pad_id < self.vocab_size:
            raise ValueError(f"pad_id must be an id < vocab_size. Received: pad_id={self.pad_id}")

    @classmethod
    def base(cls, **changes) -> BertConfig:
        """BERT-base: 12 layers × 768, 12 heads, 110M parameters."""
        return cls(**changes)

    @classmethod
    def minilm_l6_h384(cls, **changes) -> BertConfig:
        """MiniLM-L6-H384 (all-MiniLM-L6-v2): 6 layers × 384, 12 heads, 22.7M parameters."""
        return cls(
            **{"hidden_size": 384, "num_layers": 6, "num_heads": 12, "intermediate_size": 1536}
            | changes
        )

    @classmethod
    def small(cls, vocab_size: int, **changes) -> BertConfig:
        """A BERT a 2-core CPU pretrains in minutes: 4 layers × 256, 4 heads, length 128."""
        sizes = {
            "vocab_size": vocab_size,
            "hidden_size": 256,
            "num_layers": 4,
            "num_heads": 4,
            "intermediate_size": 1024,
            "max_length": 128,
        }
        return cls(**sizes | changes)

    @classmethod
    def from_huggingface(cls, hf: dict) -> BertConfig:
        """The config of a Hugging Face ``BertModel`` ``config.json`` (as a dict)."""
        if hf.get("model_type", "bert") != "bert":
            raise ValueError(f"not a BERT checkpoint: model_type={hf.get('model_type')!r}")
        if hf.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(
                "only absolute (learned) positions are supported. Received: "
                f"position_embedding_type={hf['position_embedding_type']!r}"
            )
        act = {"gelu": "gelu", "gelu_new": "gelu_tanh", "relu": "relu"}.get(hf["hidden_act"])
        if act is None:
            raise ValueError(f"unsupported hidden_act={hf['hidden_act']!r}")
        return cls(
            vocab_size=hf["vocab_size"],
            hidden_size=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"],
            num_heads=hf["num_attention_heads"],
            intermediate_size=hf["intermediate_size"],
            max_length=hf["max_position_embeddings"],
            type_vocab_size=hf.get("type_vocab_size", 2),
            activation=act,
            dropout=hf.get("hidden_dropout_prob", 0.1),
            attention_dropout=hf.get("attention_probs_dropout_prob", 0.1),
            layer_norm_epsilon=hf.get("layer_norm_eps", 1e-12),
            initializer_range=hf.get("initializer_range", 0.02),
            pad_id=hf.get("pad_token_id", 0) or 0,
        )

    def to_dict(self) -> dict:
        return _config.to_dict(self)

    @classmethod
    def from_dict(cls, values: dict) -> BertConfig:
        return _config.from_dict(cls, values)


def _check_ids(x, what: str):
    if len(x.shape) != 2:
        raise ValueError(f"{what} must be (batch, time) ids. Received shape {tuple(x.shape)}")


def _unpack(inputs, segment_ids, padding_mask):
    """Inputs as keras-hub passes them (a dict) or as separate arguments."""
    if isinstance(inputs, dict):
        missing = {"token_ids"} - set(inputs)
        if missing:
            raise ValueError(f"inputs must have 'token_ids'. Received keys {sorted(inputs)}")
        return inputs["token_ids"], inputs.get("segment_ids"), inputs.get("padding_mask")
    return inputs, segment_ids, padding_mask


@keras.saving.register_keras_serializable(package="nlpbook")
class BertEncoder(keras.Model):
    """The BERT encoder: embeddings, post-LN Transformer blocks, and the ``[CLS]`` pooler.

    Args:
        config: a :class:`BertConfig` (or its dict).

    Call arguments:
        token_ids: ``(batch, time)`` int ids, padded on the right; or a dict with keys
            ``"token_ids"``, ``"segment_ids"``, ``"padding_mask"`` (keras-hub's inputs).
        segment_ids: ``(batch, time)`` 0 for segment A, 1 for B (default all 0).
        padding_mask: ``(batch, time)``, True (or 1) at real tokens (default
            ``token_ids != config.pad_id``).
        training: whether dropout is active.

    Returns:
        ``{"sequence_output": (batch, time, hidden), "pooled_output": (batch, hidden)}``.

    Example:
        >>> bert = BertEncoder(BertConfig.small(vocab_size=100, num_layers=1))
        >>> out = bert(np.array([[2, 7, 8, 3, 0]]))
        >>> tuple(out["sequence_output"].shape), tuple(out["pooled_output"].shape)
        ((1, 5, 256), (1, 256))

    References:
        Devlin et al. (2019), *BERT: Pre-training of Deep Bidirectional Transformers for
        Language Understanding*, NAACL.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = c = _config.as_config(BertConfig, config)
        policy = self.dtype_policy
        init = _config.initializer(c)
        self.token_embedding = layers.Embedding(
            c.vocab_size, c.hidden_size, embeddings_initializer=init, dtype=policy,
            name="token_embedding",
        )  # fmt: skip
        self.position_embedding = PositionEmbedding(
            c.max_length, initializer=init, dtype=policy, name="position_embedding"
        )
        self.segment_embedding = layers.Embedding(
            c.type_vocab_size, c.hidden_size, embeddings_initializer=init, dtype=policy,
            name="segment_embedding",
        )  # fmt: skip
        self.embeddings_norm = layers.LayerNormalization(
            epsilon=c.layer_norm_epsilon, dtype=policy, name="embeddings_norm"
        )
        self.embeddings_dropout = layers.Dropout(c.dropout, dtype=policy, name="embeddings_dropout")
        self.blocks = [
            TransformerEncoderBlock(
                c.num_heads,
                c.intermediate_size,
                dropout=c.dropout,
                attention_dropout=c.attention_dropout,
                norm_first=False,
                activation=_config.activation(c.activation),
                layer_norm_epsilon=c.layer_norm_epsilon,
                dtype=policy,
                name=f"block_{i}",
            )  # fmt: skip
            for i in range(c.num_layers)
        ]
        self.pooler = layers.Dense(
            c.hidden_size, activation="tanh", kernel_initializer=init, dtype=policy, name="pooler"
        )

    def build(self, input_shape=None):
        d = self.config.hidden_size
        self.token_embedding.build((None, None))
        self.segment_embedding.build((None, None))
        self.position_embedding.build((None, None, d))
        self.embeddings_norm.build((None, None, d))
        for block in self.blocks:
            block.build((None, None, d))
        self.pooler.build((None, d))
        _config.init_blocks(self.blocks, self.config, scale_residual=False)
        self.built = True

    def call(self, token_ids, segment_ids=None, padding_mask=None, training=None):
        token_ids, segment_ids, padding_mask = _unpack(token_ids, segment_ids, padding_mask)
        _check_ids(token_ids, "token_ids")
        if segment_ids is None:
            segment_ids = ops.zeros_like(token_ids)
        if padding_mask is None:
            padding_mask = ops.not_equal(token_ids, self.config.pad_id)
        padding_mask = ops.cast(padding_mask, "bool")
        x = self.token_embedding(token_ids) + self.segment_embedding(segment_ids)
        x = self.position_embedding(x)  # (batch, time, hidden)
        x = self.embeddings_dropout(self.embeddings_norm(x), training=training)
        for block in self.blocks:
            x = block(x, padding_mask=padding_mask, training=training)
        return {"sequence_output": x, "pooled_output": self.pooler(x[:, 0])}

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    @classmethod
    def from_checkpoint(cls, source="all-minilm-l6-v2", **kwargs) -> BertEncoder:
        """A BERT encoder with the weights of a Hugging Face BERT checkpoint.

        Args:
            source: a registered dataset name (``"all-minilm-l6-v2"``) or a folder holding
                ``config.json`` and ``model.safetensors``.
            **kwargs: passed to the constructor (``dtype``, ``name``).

        Raises:
            KeyError: a weight the encoder needs is missing (the message names it).
            ValueError: a weight has the wrong shape (named, with both shapes).
        """
        config, tensors = load_checkpoint(source)
        encoder = cls(config, **kwargs)
        assign_weights(encoder, tensors)
        return encoder


def _gather(x, positions):
    """``x[b, positions[b, p]]``: ``(batch, time, d)``, ``(batch, P)`` → ``(batch, P, d)``."""
    time = ops.shape(x)[1]
    offsets = ops.arange(ops.shape(x)[0], dtype="int32")[:, None] * time  # (batch, 1)
    flat = ops.reshape(x, (-1, ops.shape(x)[-1]))  # (batch·time, d)
    return ops.take(flat, ops.cast(positions, "int32") + offsets, axis=0)


@keras.saving.register_keras_serializable(package="nlpbook")
class MaskedLMHead(layers.Layer):
    """BERT's masked-LM head: ``LN(act(h W + b)) Eᵀ + b_v`` at the masked positions.

    Args:
        vocab_size: ``V``, the number of output classes.
        activation: of the transform (``"gelu"``, ``"gelu_tanh"``).
        layer_norm_epsilon: of the transform's layer normalisation.
        initializer_range: std of the transform's initial kernel.

    Call arguments:
        hidden: ``(batch, time, d)`` encoder outputs.
        positions: ``(batch, P)`` int positions to predict at.
        embeddings: ``(V, d)`` the token embedding matrix (tied output weights).

    Returns:
        Logits ``(batch, P, V)``, float32.
    """

    def __init__(
        self, vocab_size, activation="gelu", layer_norm_epsilon=1e-12, initializer_range=0.02,
        **kwargs,
    ):  # fmt: skip
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range

    def build(self, hidden_shape, positions_shape=None, embeddings_shape=None):
        d = hidden_shape[-1]
        self.transform = layers.Dense(
            d, activation=_config.activation(self.activation),
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=self.initializer_range),
            dtype=self.dtype_policy, name="transform",
        )  # fmt: skip
        self.transform.build((None, None, d))
        self.norm = layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="norm"
        )
        self.norm.build((None, None, d))
        self.bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="bias")

    def call(self, hidden, positions, embeddings):
        h = self.norm(self.transform(_gather(hidden, positions)))  # (batch, P, d)
        logits = ops.einsum("bpd,vd->bpv", h, ops.cast(embeddings, h.dtype))
        return ops.cast(logits, "float32") + ops.cast(self.bias, "float32")

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "initializer_range": self.initializer_range,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class BertPretrainer(keras.Model):
    """A :class:`BertEncoder` with the masked-LM head and (optionally) the NSP head.

    Train it on :func:`nlpbook.pipelines.bert_pretraining_dataset` (or
    ``masked_lm_dataset`` with ``next_sentence=False``) with :meth:`compile_pretraining`.

    Args:
        config: a :class:`BertConfig` (or its dict).
        next_sentence: also predict whether segment B follows segment A (BERT; RoBERTa
            drops it).

    Call arguments:
        inputs: a dict with ``"token_ids"``, ``"segment_ids"``, ``"padding_mask"``
            ``(batch, time)`` and ``"mask_positions"`` ``(batch, P)``.
        training: whether dropout is active.

    Returns:
        ``{"mlm": (batch, P, vocab) logits, "nsp": (batch, 2) logits}`` (no ``"nsp"``
        without ``next_sentence``), float32.

    Example:
        >>> model = BertPretrainer(BertConfig.small(vocab_size=50, num_layers=1))
        >>> out = model({"token_ids": np.array([[2, 4, 9, 3]]),
        ...              "segment_ids": np.zeros((1, 4), "int32"),
        ...              "padding_mask": np.ones((1, 4), bool),
        ...              "mask_positions": np.array([[1, 0]])})
        >>> tuple(out["mlm"].shape), tuple(out["nsp"].shape)
        ((1, 2, 50), (1, 2))
    """

    def __init__(self, config, next_sentence=True, **kwargs):
        super().__init__(**kwargs)
        self.config = c = _config.as_config(BertConfig, config)
        self.next_sentence = bool(next_sentence)
        self.encoder = BertEncoder(c, dtype=self.dtype_policy, name="encoder")
        # without NSP nothing reads the pooled [CLS] vector: keep the pooler out of training
        self.encoder.pooler.trainable = self.next_sentence
        self.mlm_head = MaskedLMHead(
            c.vocab_size, c.activation, c.layer_norm_epsilon, c.initializer_range,
            dtype=self.dtype_policy, name="mlm_head",
        )  # fmt: skip
        self.nsp_head = (
            layers.Dense(
                2, kernel_initializer=_config.initializer(c), dtype="float32", name="nsp_head"
            )
            if self.next_sentence
            else None
        )

    def call(self, inputs, training=None):
        if "mask_positions" not in inputs:
            raise ValueError(f"inputs need 'mask_positions'. Received keys {sorted(inputs)}")
        out = self.encoder(inputs, training=training)
        logits = {
            "mlm": self.mlm_head(
                out["sequence_output"],
                inputs["mask_positions"],
                self.encoder.token_embedding.embeddings,
            )  # fmt: skip
        }
        if self.nsp_head is not None:
            logits["nsp"] = self.nsp_head(ops.cast(out["pooled_output"], "float32"))
        return logits

    def compile_pretraining(self, optimizer, **kwargs):
        """Compile with BERT's losses: cross-entropy at the real masked positions, plus NSP.

        The masked-LM loss is the mean over real predictions (the sample weights of the
        padded prediction slots are 0 and do not count in the denominator), so it reads as a
        per-token cross-entropy whatever ``max_predictions`` is. Metrics are named
        ``mlm_accuracy`` (and ``nsp_accuracy``) with or without the NSP head.
        """
        loss = {
            "mlm": keras.losses.SparseCategoricalCrossentropy(
                from_logits=True, reduction="mean_with_sample_weight"
            )
        }
        # Keras prefixes each metric with its output's name when there are two outputs only
        name = "accuracy" if self.next_sentence else "mlm_accuracy"
        metrics = {"mlm": [keras.metrics.SparseCategoricalAccuracy(name=name)]}
        if self.next_sentence:
            loss["nsp"] = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            metrics["nsp"] = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        self.compile(optimizer=optimizer, loss=loss, weighted_metrics=metrics, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "config": self.config.to_dict(),
            "next_sentence": self.next_sentence,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="nlpbook")
class BertClassifier(keras.Model):
    """A :class:`BertEncoder` fine-tuned for classification: dropout and a softmax on a pooled
    vector (BERT's ``[CLS]`` pooler output, or the mean of the real tokens).

    Start from pretrained weights with ``classifier.encoder.set_weights(...)`` (same config)
    or ``BertClassifier(encoder=BertEncoder.from_checkpoint(...))``.

    Args:
        config: a :class:`BertConfig` (or its dict); ignored when ``encoder`` is given.
        num_classes: number of labels.
        dropout: on the pooled vector.
        pooling: ``"cls"`` (BERT) or ``"mean"`` (sentence-transformers; the encoder's pooler,
            which nothing then reads, is frozen).
        encoder: an existing encoder to fine-tune (its config is used).

    Call arguments:
        inputs: a dict with ``"token_ids"``, ``"segment_ids"``, ``"padding_mask"``.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, num_classes)``, float32.
    """

    def __init__(
        self, config=None, num_classes=2, dropout=0.1, pooling="cls", encoder=None, **kwargs
    ):
        super().__init__(**kwargs)
        if pooling not in ("cls", "mean"):
            raise ValueError(f'pooling must be "cls" or "mean". Received: pooling={pooling!r}')
        if encoder is None:
            if config is None:
                raise ValueError("give a BertConfig or an encoder")
            encoder = BertEncoder(config, dtype=self.dtype_policy, name="encoder")
        self.encoder = encoder
        if pooling == "mean":  # nothing reads the pooled [CLS] vector: keep it out of training
            encoder.pooler.trainable = False
        self.config = encoder.config
        self.num_classes = int(num_classes)
        self.dropout = float(dropout)
        self.pooling = pooling
        self.pooled_dropout = layers.Dropout(self.dropout, name="pooled_dropout")
        self.output_layer = layers.Dense(
            self.num_classes, kernel_initializer=_config.initializer(self.config),
            dtype="float32", name="output",
        )  # fmt: skip

    def call(self, inputs, training=None):
        out = self.encoder(inputs, training=training)
        if self.pooling == "cls":
            pooled = out["pooled_output"]
        else:
            token_ids, _, mask = _unpack(inputs, None, None)
            if mask is None:  # as the encoder: real tokens are those that are not [PAD]
                mask = ops.not_equal(token_ids, self.config.pad_id)
            pooled = mean_pool(out["sequence_output"], mask, normalize=False)
        pooled = self.pooled_dropout(ops.cast(pooled, "float32"), training=training)
        return self.output_layer(pooled)

    def get_config(self):
        return {
            **super().get_config(),
            "config": self.config.to_dict(),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "pooling": self.pooling,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def mean_pool(sequence_output, padding_mask=None, normalize=True):
    """Sentence embeddings as sentence-transformers makes them: the mean over real tokens.

    Args:
        sequence_output: ``(batch, time, d)``.
        padding_mask: ``(batch, time)``, True/1 at real tokens (all real when None).
        normalize: divide each vector by its L2 norm (all-MiniLM-L6-v2's last module).

    Returns:
        ``(batch, d)`` float32.
    """
    x = ops.cast(sequence_output, "float32")
    if padding_mask is None:
        mean = ops.mean(x, axis=1)
    else:
        w = ops.cast(padding_mask, "float32")[:, :, None]  # (batch, time, 1)
        # sentence-transformers clamps the count at 1e-9: an all-padding row gives zeros
        mean = ops.sum(x * w, axis=1) / ops.maximum(ops.sum(w, axis=1), 1e-9)
    if normalize:
        # torch.nn.functional.normalize: x / max(‖x‖, 1e-12)
        mean = mean / ops.maximum(ops.norm(mean, axis=-1, keepdims=True), 1e-12)
    return mean


# ---------------------------------------------------------------------------------------
# Checkpoints: Hugging Face names → our weights, each with its shape change.


def _transpose(w, shape):
    return np.reshape(np.transpose(w), shape)  # torch Linear (out, in) → Keras (in, …)


def _reshape(w, shape):
    return np.reshape(w, shape)


def _as_is(w, shape):
    return w


def weight_map(encoder: BertEncoder) -> list[tuple[str, object, object]]:
    """``(checkpoint name, our variable, conversion)`` for every weight of ``encoder``.

    The one table between Hugging Face's ``BertModel`` names and ours: attention kernels are
    stored ``(out, in)`` by PyTorch and ``(in, heads, head_dim)`` by our attention.
    """
    rows = [
        ("embeddings.word_embeddings.weight", encoder.token_embedding.embeddings, _as_is),
        ("embeddings.position_embeddings.weight", encoder.position_embedding.embeddings, _as_is),
        ("embeddings.token_type_embeddings.weight", encoder.segment_embedding.embeddings, _as_is),
        ("embeddings.LayerNorm.weight", encoder.embeddings_norm.gamma, _as_is),
        ("embeddings.LayerNorm.bias", encoder.embeddings_norm.beta, _as_is),
    ]
    for i, block in enumerate(encoder.blocks):
        p = f"encoder.layer.{i}."
        a = block.self_attn
        for ours, theirs in (("query", "query"), ("key", "key"), ("value", "value")):
            rows += [
                (f"{p}attention.self.{theirs}.weight", getattr(a, f"{ours}_kernel"), _transpose),
                (f"{p}attention.self.{theirs}.bias", getattr(a, f"{ours}_bias"), _reshape),
            ]
        rows += [
            (f"{p}attention.output.dense.weight", a.output_kernel, _transpose),
            (f"{p}attention.output.dense.bias", a.output_bias, _as_is),
            (f"{p}attention.output.LayerNorm.weight", block.self_attn_norm.gamma, _as_is),
            (f"{p}attention.output.LayerNorm.bias", block.self_attn_norm.beta, _as_is),
            (f"{p}intermediate.dense.weight", block.ffn_inner.kernel, _transpose),
            (f"{p}intermediate.dense.bias", block.ffn_inner.bias, _as_is),
            (f"{p}output.dense.weight", block.ffn_output.kernel, _transpose),
            (f"{p}output.dense.bias", block.ffn_output.bias, _as_is),
            (f"{p}output.LayerNorm.weight", block.ffn_norm.gamma, _as_is),
            (f"{p}output.LayerNorm.bias", block.ffn_norm.beta, _as_is),
        ]
    rows += [
        ("pooler.dense.weight", encoder.pooler.kernel, _transpose),
        ("pooler.dense.bias", encoder.pooler.bias, _as_is),
    ]
    return rows


def _canonical(tensors: dict) -> dict:
    """Checkpoint names without a ``bert.`` prefix, TF-era ``gamma``/``beta`` as weight/bias."""
    out = {}
    for name, value in tensors.items():
        if name.startswith("bert."):
            name = name[len("bert.") :]
        if name.endswith("LayerNorm.gamma"):
            name = name[: -len("gamma")] + "weight"
        elif name.endswith("LayerNorm.beta"):
            name = name[: -len("beta")] + "bias"
        out[name] = value
    return out


def assign_weights(encoder: BertEncoder, tensors: dict) -> None:
    """Copy a checkpoint's arrays into ``encoder`` (built here if needed), checking each.

    Raises:
        KeyError: naming the first checkpoint weight the encoder needs and does not find.
        ValueError: naming a weight whose shape does not fit, with both shapes.
    """
    if not encoder.built:
        c = encoder.config
        encoder(np.zeros((1, min(8, c.max_length)), "int32"))
    tensors = _canonical(tensors)
    rows = weight_map(encoder)
    for name, variable, convert in rows:
        if name not in tensors:
            raise KeyError(
                f"checkpoint weight {name!r} is missing (needed for {variable.path}); "
                f"the checkpoint has {len(tensors)} tensors"
            )
        value = np.asarray(tensors[name])
        expected = tuple(variable.shape)
        if value.size != int(np.prod(expected)):
            raise ValueError(
                f"checkpoint weight {name!r} has shape {value.shape}; {variable.path} needs "
                f"{expected} (from the config)"
            )
        value = convert(value, expected)
        if value.shape != expected:
            raise ValueError(
                f"checkpoint weight {name!r} has shape {tensors[name].shape}; "
                f"{variable.path} needs {expected}"
            )
        variable.assign(value.astype(variable.dtype))


def checkpoint_files(source) -> tuple[Path, Path]:
    """``(config.json, model.safetensors)`` of a registered dataset name or a folder."""
    from nlpbook.datasets import fetch, names

    if isinstance(source, str) and source in names():
        paths = fetch(source, ["config.json", "model.safetensors"])
        return paths["config.json"], paths["model.safetensors"]
    folder = Path(source)
    files = folder / "config.json", folder / "model.safetensors"
    for f in files:
        if not f.is_file():
            raise FileNotFoundError(
                f"{f} does not exist: a BERT checkpoint folder holds config.json and "
                "model.safetensors (or give a registered name such as 'all-minilm-l6-v2')"
            )
    return files


def load_checkpoint(source="all-minilm-l6-v2") -> tuple[BertConfig, dict[str, np.ndarray]]:
    """Read a Hugging Face BERT checkpoint: its :class:`BertConfig` and its arrays.

    Args:
        source: a registered dataset name or a folder with ``config.json`` and
            ``model.safetensors``.

    Returns:
        ``(config, tensors)``: the config read from ``config.json`` and name → NumPy array.
    """
    from safetensors.numpy import load_file

    config_path, weights_path = checkpoint_files(source)
    config = BertConfig.from_huggingface(json.loads(Path(config_path).read_text("utf-8")))
    return config, load_file(str(weights_path))


__all__ = [
    "BertClassifier",
    "BertConfig",
    "BertEncoder",
    "BertPretrainer",
    "MaskedLMHead",
    "assign_weights",
    "load_checkpoint",
    "mean_pool",
    "weight_map",
]
