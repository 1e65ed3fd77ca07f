r"""Neural language models: Bengio's feed-forward NNLM and a recurrent (LSTM/GRU) LM.

Both give logits over the vocabulary for the next token. ``FeedForwardLM`` sees a fixed window
of the ``context_size`` previous tokens (an n-gram model whose probabilities come from a
network, with ``n = context_size + 1``); ``RecurrentLM`` reads the whole history through its
recurrent state, and can hand that state back so that a long text is read in chunks
(:func:`stream_perplexity`, :meth:`RecurrentLM.generate`).

Both reserve id 0 for padding: it is never a target in the book's pipelines and never sampled.
Their output layer computes in float32 under mixed precision, so the softmax over 10,000 words
is not taken over bfloat16 logits (8 bits of mantissa).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from nlpbook._checks import check_int, check_rate
from nlpbook.generation import sample


def _check_ids(inputs, rank: int, what: str):
    shape = tuple(inputs.shape)
    if len(shape) != rank:
        raise ValueError(f"{what} expects token ids of rank {rank}. Received shape {shape}")


def _without_padding(logits) -> np.ndarray:
    """Last-position logits as float64 NumPy, with padding (id 0) made impossible."""
    logits = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    logits[:, 0] = -np.inf
    return logits


def _continue(step, state, ids, num_tokens, temperature, seed) -> list[int]:
    """``ids`` and ``num_tokens`` more from :func:`nlpbook.generation.sample`."""
    if num_tokens == 0:
        return ids
    new = sample(step, state, [ids[-1]], max_length=num_tokens, temperature=temperature, seed=seed)
    return ids + new[0].tolist()


def _check_generation(prompt, num_tokens, temperature) -> tuple[list[int], int, float]:
    prompt = [int(t) for t in np.asarray(prompt, dtype=np.int64).reshape(-1)]
    if not prompt:
        raise ValueError("generation needs a prompt of at least one token id")
    num_tokens = check_int("num_tokens", num_tokens, 0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    if temperature < 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a number >= 0. Received: {temperature!r}")
    return prompt, num_tokens, float(temperature)


@keras.saving.register_keras_serializable(package="nlpbook")
class FeedForwardLM(keras.Model):
    r"""Bengio et al.'s neural probabilistic language model.

    .. math::
        x = [C(w_{t-n+1}); \dots; C(w_{t-1})], \qquad
        y = b + W x + U \tanh(d + H x), \qquad
        P(w_t = i \mid \text{context}) = \mathrm{softmax}(y)_i

    ``C`` is the embedding table (``embedding``), ``H, d`` the hidden layer (``hidden``),
    ``U, b`` the output layer (``output``) and ``W`` the optional direct connections from the
    embeddings to the output (``direct``, no bias).

    Args:
        vocab_size: number of token ids (id 0 pads).
        context_size: previous tokens seen, ``n - 1`` of an n-gram model.
        embedding_dim: size of each word vector ``C(w)``.
        hidden_dim: tanh units.
        direct: add the direct connections ``W x``.
        dropout: dropout rate on the hidden units while training.

    Call arguments:
        inputs: int ids ``(batch, context_size)``, oldest first.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, vocab_size)`` for the next token, float32.

    Example:
        >>> lm = FeedForwardLM(vocab_size=10, context_size=3, embedding_dim=4, hidden_dim=8)
        >>> tuple(lm(np.array([[1, 2, 3]])).shape)
        (1, 10)

    References:
        Bengio, Ducharme, Vincent, Jauvin (2003), *A Neural Probabilistic Language Model*, JMLR 3.
    """

    def __init__(
        self,
        vocab_size,
        context_size,
        embedding_dim=60,
        hidden_dim=100,
        direct=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.context_size = check_int("context_size", context_size, 1)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        self.hidden_dim = check_int("hidden_dim", hidden_dim, 1)
        self.direct = bool(direct)
        self.dropout = check_rate("dropout", dropout)
        policy = self.dtype_policy
        self.embedding = layers.Embedding(vocab_size, embedding_dim, dtype=policy, name="embedding")
        self.hidden = layers.Dense(hidden_dim, activation="tanh", dtype=policy, name="hidden")
        self.hidden_dropout = layers.Dropout(self.dropout, dtype=policy, name="hidden_dropout")
        self.output_layer = layers.Dense(vocab_size, dtype="float32", name="output")
        self.direct_layer = (
            layers.Dense(vocab_size, use_bias=False, dtype="float32", name="direct")
            if self.direct
            else None
        )

    def build(self, input_shape):
        flat = (input_shape[0], self.context_size * self.embedding_dim)
        self.embedding.build(input_shape)
        self.hidden.build(flat)
        self.output_layer.build((input_shape[0], self.hidden_dim))
        if self.direct_layer is not None:
            self.direct_layer.build(flat)

    def call(self, inputs, training=None):
        _check_ids(inputs, 2, "FeedForwardLM")
        x = self.embedding(inputs)  # (batch, context, embedding_dim)
        x = ops.reshape(x, (-1, self.context_size * self.embedding_dim))  # (batch, n-1 words)
        h = self.hidden_dropout(self.hidden(x), training=training)  # (batch, hidden_dim)
        logits = self.output_layer(h)  # (batch, vocab)
        if self.direct_layer is not None:
            logits = logits + self.direct_layer(x)
        return logits

    def generate(self, prompt, num_tokens: int, temperature: float = 1.0, seed=None) -> list[int]:
        """Continue ``prompt`` (token ids) by ``num_tokens`` ids, one at a time.

        Args:
            prompt: at least one token id; a prompt shorter than the context is left-padded
                with its first id (give a sentence boundary id, e.g. ``<eos>``, first).
            num_tokens: ids to add.
            temperature: 0 picks the most probable id (greedy); otherwise ids are sampled from
                ``softmax(logits / temperature)`` (below 1 sharper, above 1 flatter).
            seed: seed of the NumPy generator used for sampling.

        Returns:
            The prompt followed by the new ids, as a list of ints (drawn by
            :func:`nlpbook.generation.sample`; padding is never drawn).
        """
        ids, num_tokens, temperature = _check_generation(prompt, num_tokens, temperature)
        k = self.context_size
        # the state is the window before the newest id: [first id] * k pads a short prompt
        window = np.array([([ids[0]] * k + ids[:-1])[-k:]], dtype="int32")

        def step(tokens, window):
            window = np.concatenate([window[:, 1:], np.reshape(tokens, (-1, 1))], axis=1)
            return _without_padding(self(window, training=False)), window

        return _continue(step, window, ids, num_tokens, temperature, seed)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "context_size": self.context_size,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "direct": self.direct,
            "dropout": self.dropout,
        }


_CELLS = {"lstm": layers.LSTM, "gru": layers.GRU, "simple": layers.SimpleRNN}


@keras.saving.register_keras_serializable(package="nlpbook")
class RecurrentLM(keras.Model):
    """A stack of recurrent layers between an embedding and a softmax over the vocabulary.

    Dropout is applied where Zaremba et al. put it: to the embeddings, between the recurrent
    layers and before the output layer, never on the recurrent connections. Under a
    ``mixed_bfloat16`` policy the recurrent layers and the output layer compute in float32
    (cuDNN's RNN kernels have no bfloat16; the softmax wants float32 logits).

    Args:
        vocab_size: number of token ids (id 0 pads).
        embedding_dim: size of the word vectors.
        hidden_dim: units of each recurrent layer.
        num_layers: recurrent layers stacked.
        cell: ``"lstm"``, ``"gru"`` or ``"simple"`` (Keras' ``LSTM``, ``GRU``, ``SimpleRNN``).
        dropout: rate of the non-recurrent dropouts while training.

    Call arguments:
        inputs: int ids ``(batch, time)``.
        initial_state: ``None`` (zeros) or the ``states`` returned by an earlier call: one list
            per layer (``[h, c]`` for an LSTM, ``[h]`` otherwise), each ``(batch, hidden_dim)``.
        return_state: also return the states after the last step.
        training: whether dropout is active.

    Returns:
        Logits ``(batch, time, vocab_size)``, float32; with ``return_state``, the tuple
        ``(logits, states)``. Reading a text in chunks with the state handed on gives the
        same logits as reading it at once.

    Example:
        >>> lm = RecurrentLM(vocab_size=10, embedding_dim=4, hidden_dim=8, num_layers=2)
        >>> logits, states = lm(np.array([[1, 2, 3]]), return_state=True)
        >>> tuple(logits.shape), len(states), len(states[0])
        ((1, 3, 10), 2, 2)

    References:
        Mikolov et al. (2010), *Recurrent neural network based language model*, Interspeech.
        Zaremba, Sutskever, Vinyals (2014), *Recurrent Neural Network Regularization*,
        arXiv:1409.2329.
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim=200,
        hidden_dim=200,
        num_layers=2,
        cell="lstm",
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, 1)
        self.hidden_dim = check_int("hidden_dim", hidden_dim, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}. Received: cell={cell!r}")
        self.cell = cell
        self.dropout = check_rate("dropout", dropout)
        policy = self.dtype_policy
        # cuDNN's fused RNN kernels, which Keras uses on a GPU under JAX, have no bfloat16:
        # under mixed_bfloat16 the recurrent layers compute in float32
        rnn_policy = "float32" if policy.compute_dtype == "bfloat16" else policy
        self.embedding = layers.Embedding(vocab_size, embedding_dim, dtype=policy, name="embedding")
        self.rnns = [
            _CELLS[cell](
                hidden_dim,
                return_sequences=True,
                return_state=True,
                dtype=rnn_policy,
                name=f"{cell}_{i}",
            )
            for i in range(self.num_layers)
        ]
        self.dropouts = [
            layers.Dropout(self.dropout, dtype=policy, name=f"dropout_{i}")
            for i in range(self.num_layers + 1)
        ]
        self.output_layer = layers.Dense(vocab_size, dtype="float32", name="output")

    def build(self, input_shape):
        self.embedding.build(input_shape)
        shape = (*input_shape[:2], self.embedding_dim)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = (*input_shape[:2], self.hidden_dim)
        self.output_layer.build(shape)

    def call(self, inputs, initial_state=None, return_state=False, training=None):
        _check_ids(inputs, 2, "RecurrentLM")
        if initial_state is not None and len(initial_state) != self.num_layers:
            raise ValueError(
                f"initial_state needs one entry per layer ({self.num_layers}). "
                f"Received {len(initial_state)}"
            )
        x = self.dropouts[0](self.embedding(inputs), training=training)  # (batch, time, emb)
        states = []
        for i, rnn in enumerate(self.rnns):
            start = None if initial_state is None else list(initial_state[i])
            x, *state = rnn(x, initial_state=start, training=training)  # (batch, time, hidden)
            states.append(state)
            x = self.dropouts[i + 1](x, training=training)
        logits = self.output_layer(x)  # (batch, time, vocab)
        return (logits, states) if return_state else logits

    def generate(self, prompt, num_tokens: int, temperature: float = 1.0, seed=None) -> list[int]:
        """Continue ``prompt`` (token ids) by ``num_tokens`` ids, carrying the recurrent state.

        The prompt is read once; each new id then costs one step of the network.

        Args:
            prompt: at least one token id (start with a sentence boundary id, e.g. ``<eos>``).
            num_tokens: ids to add.
            temperature: 0 is greedy; otherwise sample from ``softmax(logits / temperature)``.
            seed: seed of the NumPy generator used for sampling.

        Returns:
            The prompt followed by the new ids, as a list of ints (drawn by
            :func:`nlpbook.generation.sample`; padding is never drawn).
        """
        ids, num_tokens, temperature = _check_generation(prompt, num_tokens, temperature)
        states = None
        if len(ids) > 1:  # read the prompt but its last id at once
            prefix = np.array([ids[:-1]], dtype="int32")
            _, states = self(prefix, return_state=True, training=False)

        def step(tokens, states):
            tokens = np.reshape(np.asarray(tokens, dtype="int32"), (-1, 1))
            logits, states = self(tokens, initial_state=states, return_state=True, training=False)
            return _without_padding(logits[:, -1]), states

        return _continue(step, states, ids, num_tokens, temperature, seed)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embedding_dim": self.embedding_dim,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "cell": self.cell,
            "dropout": self.dropout,
        }


def stream_perplexity(
    model: FeedForwardLM | RecurrentLM,
    token_ids,
    *,
    start_id: int,
    rows: int = 16,
    chunk_len: int = 256,
) -> tuple[float, int]:
    """Perplexity of a neural LM on one continuous stream, every token predicted once.

    The stream is preceded by ``start_id`` (the sentence boundary), so its first token is
    predicted too, from the same context an n-gram model gives a sentence's first word.

    - ``FeedForwardLM``: token ``t`` is predicted from the ``context_size`` ids before it
      (``start_id`` repeated before the stream), ``rows * chunk_len`` windows per call.
    - ``RecurrentLM``: the stream is cut into ``rows`` consecutive pieces read side by side,
      ``chunk_len`` tokens per call, with the recurrent state handed from chunk to chunk: every
      prediction sees the whole history of its piece, as if the piece were read at once. The
      last piece is shorter when the stream does not divide evenly; its padding is left out.

    Args:
        model: the language model.
        token_ids: the stream, a 1-D array of ids ``>= 1``.
        start_id: the id read before the first token (e.g. ``<eos>``).
        rows, chunk_len: how much is computed per call (logits of ``rows * chunk_len``
            tokens). For a ``FeedForwardLM`` neither changes the result; for a ``RecurrentLM``
            ``chunk_len`` does not, while each of the ``rows`` pieces starts from a zero state
            with one token of context (a handful of tokens lose their history).

    Returns:
        ``(perplexity, tokens)``: ``exp`` of the mean cross-entropy over all
        ``len(token_ids)`` tokens, and that count.

    Raises:
        TypeError: for another kind of model. ValueError: on an empty stream, ids below 1,
        or non-positive ``rows``/``chunk_len``.
    """
    if not isinstance(model, (FeedForwardLM, RecurrentLM)):
        raise TypeError(
            f"stream_perplexity needs a FeedForwardLM or RecurrentLM. "
            f"Received: {type(model).__name__}"
        )
    ids = np.asarray(token_ids).reshape(-1)
    if ids.size == 0:
        raise ValueError("the token stream is empty")
    if not np.issubdtype(ids.dtype, np.integer) or ids.min() < 1:
        raise ValueError("token ids must be integers >= 1 (0 is padding)")
    rows = check_int("rows", rows, 1)
    chunk_len = check_int("chunk_len", chunk_len, 1)
    total, count = 0.0, 0

    def add(targets, logits):
        nonlocal total, count
        xent = ops.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        xent = ops.convert_to_numpy(xent).astype(np.float64)
        mask = targets > 0
        total += float(xent[mask].sum())
        count += int(mask.sum())

    if isinstance(model, FeedForwardLM):
        k = model.context_size
        padded = np.concatenate([np.full(k, start_id), ids]).astype("int32")
        windows = np.lib.stride_tricks.sliding_window_view(padded[:-1], k)  # (tokens, k)
        step = rows * chunk_len
        for start in range(0, ids.size, step):
            x = np.ascontiguousarray(windows[start : start + step])
            add(ids[start : start + step].astype("int32"), model.predict_on_batch(x))
        return math.exp(total / count), count

    rows = min(rows, ids.size)
    width = -(-ids.size // rows)  # ceil: the last row is padded with zeros
    targets = np.zeros(rows * width, dtype="int32")
    targets[: ids.size] = ids
    inputs = np.concatenate([[start_id], targets[:-1]]).astype("int32")
    targets, inputs = targets.reshape(rows, width), inputs.reshape(rows, width)
    states = None
    for start in range(0, width, chunk_len):
        x, y = inputs[:, start : start + chunk_len], targets[:, start : start + chunk_len]
        logits, states = model(x, initial_state=states, return_state=True, training=False)
        add(y, logits)
    return math.exp(total / count), count
