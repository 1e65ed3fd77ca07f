"""The linear-chain CRF against brute force: every tag path enumerated in NumPy float64.

For small ``K`` (tags) and ``T`` (positions) the ``K**L`` paths of a row's ``L`` real
positions can be listed one by one; the path score, ``log Z`` (log-sum-exp of all paths),
the best path and the gradients (central finite differences of the enumerated
negative log-likelihood) follow from the definition with no recursion at all.
"""

import itertools

import keras
import numpy as np
import pytest

from nlpbook.layers import CRF
from nlpbook.testing import run_layer_test


def numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def brute_force(emissions, mask, transitions, start, end, tags=None):
    """Per row: (log Z, best path, best score, score of ``tags``) by listing every path."""
    rows = []
    k = transitions.shape[0]
    for b in range(emissions.shape[0]):
        real = np.flatnonzero(mask[b])
        if len(real) == 0:
            rows.append((0.0, np.zeros(emissions.shape[1], int), 0.0, 0.0))
            continue
        e = emissions[b, real].astype(np.float64)

        def score(path, e=e):
            s = start[path[0]] + end[path[-1]] + sum(e[i, y] for i, y in enumerate(path))
            return s + sum(transitions[a, c] for a, c in itertools.pairwise(path))

        scores = {path: score(path) for path in itertools.product(range(k), repeat=len(real))}
        values = np.array(list(scores.values()))
        log_z = values.max() + np.log(np.exp(values - values.max()).sum())
        best = max(scores, key=scores.get)
        full = np.zeros(emissions.shape[1], int)
        full[real] = best
        given = score(tuple(tags[b, real])) if tags is not None else 0.0
        rows.append((log_z, full, scores[best], given))
    return rows


def random_case(seed, batch=5, time=4, k=3):
    rng = np.random.default_rng(seed)
    emissions = rng.normal(0, 1.5, (batch, time, k)).astype("float32")
    mask = rng.random((batch, time)) < 0.7
    mask[0] = True  # a full row
    if batch >= 4:
        mask[1] = False  # all padding
        mask[2] = np.arange(time) < 1  # length 1, right padding
        mask[3] = np.arange(time) >= time - 2  # left padding
    tags = rng.integers(0, k, (batch, time))
    tables = (rng.normal(0, 1, (k, k)), rng.normal(0, 1, k), rng.normal(0, 1, k))
    return emissions, mask, tags, [t.astype("float32") for t in tables]


def make_crf(tables):
    crf = CRF()
    crf.build((None, None, tables[0].shape[0]))
    crf.transitions.assign(tables[0])
    crf.start.assign(tables[1])
    crf.end.assign(tables[2])
    return crf


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_scores_and_viterbi_equal_brute_force(seed, k):
    emissions, mask, tags, tables = random_case(seed, time=1 + seed % 4, k=k)
    crf = make_crf(tables)
    want = brute_force(emissions, mask, *[t.astype(np.float64) for t in tables], tags=tags)
    np.testing.assert_allclose(numpy(crf.log_partition(emissions, mask)),
                               [w[0] for w in want], atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(numpy(crf.path_score(emissions, tags, mask)),
                               [w[3] for w in want], atol=1e-5)  # fmt: skip
    log_likelihood = numpy(crf.log_likelihood(emissions, tags, mask))
    assert (log_likelihood <= 1e-6).all()
    path, score = crf.decode(emissions, mask)
    np.testing.assert_array_equal(numpy(path).astype(int), np.stack([w[1] for w in want]))
    np.testing.assert_allclose(numpy(score), [w[2] for w in want], atol=1e-5)
    np.testing.assert_array_equal(numpy(crf(emissions, mask=mask)), numpy(path))
    # the all-padding row: nothing to score, nothing to tag
    assert numpy(crf.log_partition(emissions, mask))[1] == 0.0
    assert numpy(path)[1].tolist() == [0] * emissions.shape[1]


def test_padding_between_real_positions_joins_the_chain():
    """A masked position in the middle is skipped: the row scores as its real positions."""
    emissions, _, tags, tables = random_case(7, batch=1, time=5)
    crf = make_crf(tables)
    mask = np.array([[True, False, True, False, True]])
    real = mask[0]
    np.testing.assert_allclose(
        numpy(crf.log_likelihood(emissions, tags, mask)),
        numpy(crf.log_likelihood(emissions[:, real], tags[:, real])), atol=1e-5,
    )  # fmt: skip
    path, _ = crf.decode(emissions, mask)
    compact, _ = crf.decode(emissions[:, real])
    np.testing.assert_array_equal(numpy(path)[0, real], numpy(compact)[0])


def gradients(crf, emissions, tags, mask):
    """d NLL / d (emissions, transitions, start, end), by the backend's own autodiff."""
    backend = keras.config.backend()
    weights = [crf.transitions, crf.start, crf.end]
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(emissions)
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = crf.negative_log_likelihood(x, tags, mask)
        grads = tape.gradient(loss, [x] + [w.value for w in weights])
    elif backend == "jax":
        import jax

        def loss(x, values):
            mapping = list(zip(weights, values, strict=True))
            with keras.StatelessScope(state_mapping=mapping):
                return crf.negative_log_likelihood(x, tags, mask)

        gx, gw = jax.grad(loss, argnums=(0, 1))(emissions, [w.value for w in weights])
        grads = [gx, *gw]
    else:
        import torch

        x = torch.tensor(emissions, requires_grad=True)
        loss = crf.negative_log_likelihood(x, torch.tensor(tags), torch.tensor(mask))
        grads = torch.autograd.grad(loss, [x] + [w.value for w in weights])
    return [numpy(g) for g in grads]


def test_gradients_equal_finite_differences():
    emissions, mask, tags, tables = random_case(11, batch=4, time=3, k=3)
    crf = make_crf(tables)
    got = gradients(crf, emissions, tags, mask)
    params = [emissions.astype(np.float64)] + [t.astype(np.float64) for t in tables]

    def nll(params):
        rows = brute_force(params[0], mask, *params[1:], tags=tags)
        return -np.mean([w[3] - w[0] for w in rows])

    h = 1e-5
    for which, grad in enumerate(got):
        want = np.zeros_like(params[which])
        for index in np.ndindex(params[which].shape):
            plus = [p.copy() for p in params]
            minus = [p.copy() for p in params]
            plus[which][index] += h
            minus[which][index] -= h
            want[index] = (nll(plus) - nll(minus)) / (2 * h)
        np.testing.assert_allclose(grad, want, atol=2e-5, err_msg=f"parameter {which}")
    assert np.abs(got[0][~mask]).max() == 0.0  # padding gets no gradient


def test_bfloat16_emissions_are_scored_in_float32():
    emissions, mask, tags, tables = random_case(5)
    crf = make_crf(tables)
    low = keras.ops.cast(emissions, "bfloat16")
    rounded = numpy(low).astype("float32")
    got = crf.log_likelihood(low, tags, mask)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(numpy(got), numpy(crf.log_likelihood(rounded, tags, mask)),
                               atol=1e-5)  # fmt: skip


def test_layer_contract():
    rng = np.random.default_rng(0)
    run_layer_test(
        CRF, {"initializer": "glorot_uniform"}, rng.normal(size=(2, 5, 4)).astype("float32"),
        expected_output_shape=(2, 5), expected_num_trainable_weights=3, run_training=False,
    )  # fmt: skip


def test_keras_mask_is_used():
    """Behind an Embedding(mask_zero=True), the padding is skipped without a mask argument."""
    keras.utils.set_random_seed(0)
    ids = np.array([[3, 1, 2, 0, 0]])
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(5, 3, mask_zero=True)(inputs)
    tags = CRF(initializer="glorot_uniform")(keras.layers.Dense(3)(x))
    model = keras.Model(inputs, tags)
    out = numpy(model(ids)).astype(int)
    assert out[0, 3:].tolist() == [0, 0]
    crf = model.layers[-1]
    emissions = model.layers[-2](model.layers[1](ids))
    np.testing.assert_array_equal(out[:, :3], numpy(crf(emissions[:, :3])))


def test_errors():
    crf = CRF()
    with pytest.raises(ValueError, match=r"\(batch, time, num_tags\)"):
        crf(np.zeros((2, 3), "float32"))
    crf(np.zeros((1, 2, 4), "float32"))
    with pytest.raises(ValueError, match="built for 4"):
        crf.log_partition(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"mask must be \(batch, time\)"):
        crf.log_partition(np.zeros((1, 2, 4), "float32"), mask=np.ones((1, 2, 1), bool))


@pytest.mark.parametrize("jit", [False, True])
def test_compiled_for_any_length(jit):
    """Compiled (a TensorFlow graph relaxes the time axis to None after two lengths; XLA),
    the scores and the path equal the eager ones."""
    from nlpbook.models._decoding import compile_function

    emissions, mask, tags, tables = random_case(13, batch=4, time=6)
    crf = make_crf(tables)

    def run(e, t, m):
        return crf.log_likelihood(e, t, m), crf.decode(e, m)[0]

    compiled = compile_function(crf, run, jit)
    for width in (3, 5, 4, 6):
        args = (emissions[:, :width], tags[:, :width], mask[:, :width])
        got, want = compiled(*args), run(*args)
        np.testing.assert_allclose(numpy(got[0]), numpy(want[0]), atol=1e-5)
        np.testing.assert_array_equal(numpy(got[1]), numpy(want[1]))
