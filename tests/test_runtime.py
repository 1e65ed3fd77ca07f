import keras
import numpy as np
import pytest

from nlpbook import runtime


@pytest.fixture(autouse=True)
def _restore_policy():
    policy = keras.config.dtype_policy().name
    yield
    keras.config.set_dtype_policy(policy)


@pytest.mark.parametrize(
    "raw, expected",
    [(None, True), ("", True), ("1", True), ("true", True), ("0", False), ("Off", False)],
)
def test_quick_mode_reads_env(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("NLPBOOK_QUICK", raising=False)
    else:
        monkeypatch.setenv("NLPBOOK_QUICK", raw)
    assert runtime.quick_mode() is expected


def test_quick_mode_rejects_garbage(monkeypatch):
    monkeypatch.setenv("NLPBOOK_QUICK", "maybe")
    with pytest.raises(ValueError, match="NLPBOOK_QUICK='maybe'"):
        runtime.quick_mode()


def test_describe_is_one_line_with_versions():
    line = runtime.describe()
    assert "\n" not in line
    assert f"keras {keras.__version__} on {runtime.backend()}" in line
    assert "devices: " in line and "python " in line
    assert runtime.devices(), "at least the CPU is listed"


def test_setup_seeds_everything_reproducibly():
    def draw():
        runtime.setup(seed=7)
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return (
            np.random.rand(3),
            keras.ops.convert_to_numpy(keras.random.normal((3,))),
            keras.ops.convert_to_numpy(layer.kernel),
        )

    first, second = draw(), draw()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    runtime.setup(seed=8)
    assert not np.array_equal(np.random.rand(3), first[0])


def test_setup_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed=-1"):
        runtime.set_seed(-1)


def test_mixed_precision_auto_follows_the_device():
    name = runtime.set_mixed_precision("auto")
    assert name == ("mixed_bfloat16" if runtime.has_gpu() else "float32")
    assert runtime.set_mixed_precision(True) == "mixed_bfloat16"
    assert keras.layers.Dense(2).compute_dtype == "bfloat16"
    assert runtime.set_mixed_precision(False) == "float32"


@pytest.fixture
def restore_fit(monkeypatch):
    """Whatever a test does to keras.Model.fit, the real one is back afterwards."""
    monkeypatch.setattr(keras.Model, "fit", keras.Model.fit)


def tiny_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_smoke_mode_cuts_every_fit_to_two_batches(monkeypatch, restore_fit):
    monkeypatch.setenv("NLPBOOK_SMOKE", "1")
    assert runtime.smoke_mode()
    assert "smoke run" in runtime.setup(seed=0, mixed_precision=False)
    x, y = np.ones((100, 3), "float32"), np.ones((100, 1), "float32")
    model = tiny_model()
    history = model.fit(x, y, batch_size=10, epochs=5, validation_data=(x, y), verbose=0)
    assert int(model.optimizer.iterations) == 2
    assert len(history.history["loss"]) == 1 and "val_loss" in history.history
    # epochs given by position are cut too
    model = tiny_model()
    model.fit(x, y, 10, 5, verbose=0)
    assert int(model.optimizer.iterations) == 2


def test_without_smoke_mode_fit_is_untouched(monkeypatch, restore_fit):
    monkeypatch.setenv("NLPBOOK_SMOKE", "1")
    runtime.setup(seed=0, mixed_precision=False)
    monkeypatch.delenv("NLPBOOK_SMOKE")
    assert not runtime.smoke_mode()
    assert "smoke" not in runtime.setup(seed=0, mixed_precision=False)  # undoes the limit
    x, y = np.ones((100, 3), "float32"), np.ones((100, 1), "float32")
    model = tiny_model()
    model.fit(x, y, batch_size=10, epochs=3, verbose=0)
    assert int(model.optimizer.iterations) == 30


def test_full_float32_matmuls_turns_tf32_off_on_the_backend():
    runtime.full_float32_matmuls()
    name = runtime.backend()
    if name == "tensorflow":
        import tensorflow as tf

        assert tf.config.experimental.tensor_float_32_execution_enabled() is False
    elif name == "jax":
        import jax

        assert jax.config.jax_default_matmul_precision == "highest"
    else:
        import torch

        assert torch.get_float32_matmul_precision() == "highest"


def test_peak_memory_sees_an_allocation_inside_the_block_only():
    import gc

    import numpy as np

    outside = np.ones((32, 1024, 1024), np.float32)  # 128 MiB before the block: not counted
    with runtime.PeakMemory(interval=0.005) as peak:
        inside = np.ones((64, 1024, 1024), np.float32)  # 256 MiB, touched
        inside += 1
        del inside
        gc.collect()
    assert 200 < peak.host_mib < 256 + 128  # the block's 256 MiB, not the 128 before it
    assert peak.seconds > 0
    assert (peak.device_mib is None) == (not runtime.has_gpu())
    del outside


def test_peak_memory_docstring():
    # in a fresh process: in a pytest worker, memory that earlier tests leave to be freed
    # (by the garbage collector or their threads) can be released during the block, lower the
    # RSS and hide part of the block's 256 MiB (seen under xdist in the whole suite)
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import doctest
        import numpy as np
        from nlpbook import runtime
        finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
        globs = {"np": np, "PeakMemory": runtime.PeakMemory}
        for test in finder.find(runtime.PeakMemory, "PeakMemory", globs=globs):
            runner.run(test)
        assert runner.tries > 0 and runner.failures == 0, (runner.tries, runner.failures)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
