"""FeedForwardLM and RecurrentLM against NumPy transcriptions of their equations."""

import keras
import numpy as np
import pytest

from nlpbook.metrics import perplexity_from_logits
from nlpbook.models import FeedForwardLM, NGramLM, RecurrentLM, stream_perplexity
from nlpbook.testing import argmax_margin, run_layer_test


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def weights(layer) -> dict[str, np.ndarray]:
    return {w.path.split("/")[-1]: numpy(w) for w in layer.weights}


def bengio_numpy(lm: FeedForwardLM, ids: np.ndarray) -> np.ndarray:
    """y = b + W x + U tanh(d + H x), x the concatenated embeddings (Bengio et al. 2003)."""
    C = weights(lm.embedding)["embeddings"]
    hidden, out = weights(lm.hidden), weights(lm.output_layer)
    x = C[ids].reshape(len(ids), -1)
    y = out["bias"] + np.tanh(hidden["bias"] + x @ hidden["kernel"]) @ out["kernel"]
    if lm.direct:
        y = y + x @ weights(lm.direct_layer)["kernel"]
    return y


def lstm_numpy(lm: RecurrentLM, ids: np.ndarray) -> np.ndarray:
    """The LSTM equations, gates in Keras' order (input, forget, cell, output)."""
    x = weights(lm.embedding)["embeddings"][ids]  # (batch, time, emb)
    for rnn in lm.rnns:
        w = weights(rnn)
        kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w["bias"]
        n = recurrent.shape[0]
        h = np.zeros((x.shape[0], n))
        c = np.zeros_like(h)
        outputs = []
        for t in range(x.shape[1]):
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * n : (k + 1) * n] for k in range(4))
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            outputs.append(h)
        x = np.stack(outputs, axis=1)
    out = weights(lm.output_layer)
    return x @ out["kernel"] + out["bias"]


@pytest.fixture
def ids():
    return np.random.default_rng(0).integers(1, 30, size=(4, 9)).astype("int32")


@pytest.mark.parametrize("direct", [False, True])
def test_feed_forward_lm_matches_bengio_equation(direct, ids):
    keras.utils.set_random_seed(1)
    lm = FeedForwardLM(30, context_size=3, embedding_dim=5, hidden_dim=7, direct=direct)
    windows = ids[:, :3]
    np.testing.assert_allclose(numpy(lm(windows)), bengio_numpy(lm, windows), atol=1e-5)
    assert len(lm.trainable_weights) == 5 + int(direct)


def test_lstm_lm_matches_lstm_equations(ids):
    keras.utils.set_random_seed(2)
    lm = RecurrentLM(30, embedding_dim=6, hidden_dim=8, num_layers=2)
    np.testing.assert_allclose(numpy(lm(ids)), lstm_numpy(lm, ids), atol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
def test_state_handed_on_equals_reading_at_once(cell, ids):
    keras.utils.set_random_seed(3)
    lm = RecurrentLM(30, embedding_dim=6, hidden_dim=8, num_layers=2, cell=cell)
    whole = numpy(lm(ids))
    first, states = lm(ids[:, :4], return_state=True)
    assert len(states) == 2 and len(states[0]) == (2 if cell == "lstm" else 1)
    second = lm(ids[:, 4:], initial_state=states)
    np.testing.assert_allclose(np.concatenate([numpy(first), numpy(second)], 1), whole, atol=1e-5)


def test_stream_perplexity_counts_every_token_like_numpy():
    keras.utils.set_random_seed(4)
    lm = RecurrentLM(25, embedding_dim=6, hidden_dim=8, num_layers=1)
    stream = np.random.default_rng(1).integers(1, 25, size=103)
    inputs = np.concatenate([[7], stream[:-1]])[None].astype("int32")
    expected = perplexity_from_logits(stream[None], numpy(lm(inputs)))
    for chunk_len in (1, 10, 500):  # the state is handed on: the chunk length cannot matter
        ppl, tokens = stream_perplexity(lm, stream, start_id=7, rows=1, chunk_len=chunk_len)
        assert tokens == 103
        assert ppl == pytest.approx(expected, rel=1e-5)
    # three rows: three fresh states, the last row padded; still every token counted once
    ppl, tokens = stream_perplexity(lm, stream, start_id=7, rows=3, chunk_len=8)
    assert tokens == 103 and ppl == pytest.approx(expected, rel=0.05)


def test_stream_perplexity_of_feed_forward_lm_uses_start_id_as_context():
    keras.utils.set_random_seed(5)
    lm = FeedForwardLM(25, context_size=2, embedding_dim=4, hidden_dim=6)
    stream = np.random.default_rng(2).integers(1, 25, size=50)
    padded = np.concatenate([[3, 3], stream])
    windows = np.stack([padded[t : t + 2] for t in range(50)]).astype("int32")
    lm(windows)  # builds the weights
    expected = perplexity_from_logits(stream, bengio_numpy(lm, windows))
    for rows, chunk_len in ((1, 7), (16, 256)):
        ppl, tokens = stream_perplexity(lm, stream, start_id=3, rows=rows, chunk_len=chunk_len)
        assert tokens == 50 and ppl == pytest.approx(expected, rel=1e-5)


def test_untrained_models_are_near_uniform_and_training_beats_it():
    keras.utils.set_random_seed(6)
    # a stream with a rule a recurrent model must remember: 1 2 3 … 9, again and again
    stream = np.tile(np.arange(1, 10), 60)
    x = np.stack([stream[i : i + 20] for i in range(0, 500, 5)]).astype("int32")
    y = np.stack([stream[i + 1 : i + 21] for i in range(0, 500, 5)]).astype("int32")
    lm = RecurrentLM(10, embedding_dim=8, hidden_dim=16, num_layers=1)
    before, _ = stream_perplexity(lm, stream[:200], start_id=9)
    assert 8 < before < 12  # about uniform over 10 ids
    lm.compile(keras.optimizers.Adam(0.02), keras.losses.SparseCategoricalCrossentropy(True))
    lm.fit(x, y, epochs=15, batch_size=20, verbose=0)
    after, _ = stream_perplexity(lm, stream[:200], start_id=9)
    assert after < 1.3


def test_ngram_and_neural_perplexities_count_the_same_tokens():
    # PTB-style: a sentence stream with <eos> after every sentence; NGramLM counts </s> too
    sentences = [["a", "b"], ["b", "a", "a"]]
    vocab = {"<eos>": 1, "a": 2, "b": 3}
    stream = [vocab[w] for s in sentences for w in [*s, "<eos>"]]
    lm = RecurrentLM(4, embedding_dim=3, hidden_dim=3, num_layers=1)
    _, tokens = stream_perplexity(lm, stream, start_id=1)
    assert tokens == sum(len(s) + 1 for s in sentences) == len(stream)
    assert NGramLM(order=2).fit(sentences).perplexity(sentences) > 1


@pytest.mark.parametrize("model", ["ffn", "rnn"])
def test_generation(model):
    keras.utils.set_random_seed(7)
    if model == "ffn":
        lm = FeedForwardLM(12, context_size=3, embedding_dim=4, hidden_dim=6)
    else:
        lm = RecurrentLM(12, embedding_dim=4, hidden_dim=6, num_layers=2)
    greedy = lm.generate([5], 8, temperature=0)
    assert greedy[:1] == [5] and len(greedy) == 9
    assert greedy == lm.generate([5], 8, temperature=0)
    assert lm.generate([5, 6], 10, seed=1) == lm.generate([5, 6], 10, seed=1)
    samples = [t for s in range(5) for t in lm.generate([5], 20, temperature=2.0, seed=s)[1:]]
    assert 0 not in samples and len(set(samples)) > 3
    # greedy continuation = argmax of the model's own distribution at each step
    if model == "rnn":
        logits = numpy(lm(np.array([greedy[:-1]], "int32")))[0]
        logits[:, 0] = -np.inf
        # step by step and all at once round differently (a relative ~1e-6 at most); the
        # untrained logits are ~1e-3, so each choice must win by 1e-3 of them to compare
        assert argmax_margin(logits[1:], relative=True).min() > 1e-3
        assert logits.argmax(-1)[1:].tolist() == greedy[2:]
    with pytest.raises(ValueError, match="prompt"):
        lm.generate([], 3)
    with pytest.raises(ValueError, match="temperature"):
        lm.generate([1], 3, temperature=-1)


def test_feed_forward_generation_left_pads_a_short_prompt():
    keras.utils.set_random_seed(8)
    lm = FeedForwardLM(12, context_size=4, embedding_dim=4, hidden_dim=6)
    out = lm.generate([3], 1, temperature=0)
    logits = numpy(lm(np.array([[3, 3, 3, 3]], "int32")))[0]
    logits[0] = -np.inf
    assert argmax_margin(logits, relative=True) > 1e-3  # clear of float32 rounding
    assert out == [3, int(logits.argmax())]


@pytest.mark.parametrize(
    "cls,kwargs,shape",
    [
        (
            FeedForwardLM,
            {
                "vocab_size": 11,
                "context_size": 3,
                "embedding_dim": 4,
                "hidden_dim": 5,
                "direct": True,
                "dropout": 0.1,
            },
            (2, 3),
        ),
        (
            RecurrentLM,
            {
                "vocab_size": 11,
                "embedding_dim": 4,
                "hidden_dim": 5,
                "num_layers": 2,
                "cell": "gru",
                "dropout": 0.1,
            },
            (2, 6),
        ),
    ],
)
def test_layer_contract(cls, kwargs, shape):
    ids = np.random.default_rng(0).integers(1, 11, size=shape).astype("int32")
    run_layer_test(
        cls,
        kwargs,
        ids,
        expected_output_shape=(*shape[: 1 if cls is FeedForwardLM else 2], 11),
        mixed_output_dtype="float32",  # the softmax head computes in float32
    )


def test_output_is_float32_under_mixed_precision(ids):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        lm = RecurrentLM(30, embedding_dim=4, hidden_dim=8, num_layers=1)
        assert keras.backend.standardize_dtype(lm(ids).dtype) == "float32"
        assert lm.embedding.compute_dtype == "bfloat16"
        assert lm.rnns[0].compute_dtype == "float32"  # cuDNN's RNN kernels have no bfloat16
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"vocab_size": 1}, "vocab_size"),
        ({"vocab_size": 10, "num_layers": 0}, "num_layers"),
        ({"vocab_size": 10, "cell": "transformer"}, "cell"),
        ({"vocab_size": 10, "dropout": 1.0}, "dropout"),
        ({"vocab_size": 10, "hidden_dim": 2.5}, "hidden_dim"),
    ],
)
def test_recurrent_lm_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RecurrentLM(**kwargs)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="context_size"):
        FeedForwardLM(10, context_size=0)
    lm = RecurrentLM(10, embedding_dim=3, hidden_dim=3, num_layers=2)
    with pytest.raises(ValueError, match="rank 2"):
        lm(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="one entry per layer"):
        lm(np.array([[1, 2]]), initial_state=[[np.zeros((1, 3)), np.zeros((1, 3))]])
    with pytest.raises(ValueError, match="empty"):
        stream_perplexity(lm, [], start_id=1)
    with pytest.raises(ValueError, match=">= 1"):
        stream_perplexity(lm, [3, 0, 2], start_id=1)
    with pytest.raises(TypeError, match="FeedForwardLM or RecurrentLM"):
        stream_perplexity(keras.Sequential([keras.layers.Dense(2)]), [1, 2], start_id=1)
