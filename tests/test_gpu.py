"""Checks that only mean something on a GPU (marked `gpu`; skipped elsewhere)."""

import keras
import numpy as np
import pytest

from nlpbook import runtime

pytestmark = pytest.mark.gpu


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    keras.config.set_dtype_policy("float32")


def test_setup_turns_on_bfloat16_and_a_model_trains_on_the_gpu():
    line = runtime.setup(seed=0)
    assert "mixed_bfloat16" in line and runtime.has_gpu(), line
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)]
    )
    assert model.layers[0].compute_dtype == "bfloat16"
    assert model.layers[0].kernel.dtype == "float32"
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, y, epochs=20, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


@pytest.fixture
def _restore_matmul_precision():
    yield
    if keras.config.backend() == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")


@pytest.mark.usefixtures("_restore_matmul_precision")
def test_gpu_matmul_matches_numpy():
    runtime.setup(seed=0, mixed_precision=False)
    if keras.config.backend() == "jax":  # conftest asks for full float32: test the default
        import jax

        jax.config.update("jax_default_matmul_precision", None)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(256, 128)).astype("float32")
    b = rng.normal(size=(128, 64)).astype("float32")
    got = keras.ops.convert_to_numpy(keras.ops.matmul(a, b)).astype(np.float64)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    # Float32 matmuls may run on TF32 tensor cores (JAX's default on Ampere and later): each
    # input rounded to 10 mantissa bits (relative error <= 2**-11), so each product is off by
    # at most 2**-10 of its size and the sum by at most 2**-10 * (|a| @ |b|). Seen on an H100
    # under JAX 0.11.2: 2**-12.4 of that sum (0.019 absolute), so an absolute tolerance fails.
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert np.all(np.abs(got - exact) <= 2**-10 * scale)
