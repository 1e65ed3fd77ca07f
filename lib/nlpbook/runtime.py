"""Where the code runs: backend, devices and versions in one line, seeding, mixed precision,
and the quick/full switch that every chapter reads.

Example:
    >>> from nlpbook import runtime
    >>> print(runtime.setup(seed=0))        # doctest: +SKIP
    nlpbook 0.1.0 | keras 3.15.1 on tensorflow 2.21.0 | tensorflow-text 2.21.1 | ...
    >>> QUICK = runtime.quick_mode()        # NLPBOOK_QUICK, quick unless set to 0
"""

from __future__ import annotations

import importlib.metadata
import os
import platform

import keras

import nlpbook

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be one of {sorted(_TRUE | _FALSE)}. Received: {name}={raw!r}")


def quick_mode() -> bool:
    """True unless ``NLPBOOK_QUICK`` is 0/false/no/off.

    Quick mode is the default so that a chapter opened on a laptop finishes in a couple of
    minutes; the real experiments run with ``NLPBOOK_QUICK=0`` (``make chapters FULL=1``).
    """
    return _env_flag("NLPBOOK_QUICK", default=True)


def smoke_mode() -> bool:
    """True if ``NLPBOOK_SMOKE`` is 1/true/yes/on (default off).

    A smoke run checks a chapter's code paths, typically full mode's, before hours of device
    time go into them: :func:`setup` then cuts every ``keras.Model.fit`` to two batches of one
    epoch (see :func:`limit_training`). Everything else runs for real (data, vocabularies,
    evaluation, decoding, custom training loops), and every number it prints is meaningless:
    a chapter's own check that a model learned something fails in a smoke run, any other
    error is a bug. ``python -m nlpbook chapters run --smoke`` runs chapters this way in full
    mode (``make chapters SMOKE=1``).
    """
    return _env_flag("NLPBOOK_SMOKE", default=False)


_FIT = keras.Model.fit  # the real one, whatever limit_training does


def limit_training(enabled: bool, steps: int = 2) -> None:
    """Make every ``keras.Model.fit`` train ``steps`` batches of one epoch, or undo that.

    ``fit``'s other arguments pass through; ``epochs`` becomes 1, ``steps_per_epoch`` becomes
    ``steps`` and ``validation_steps`` 1 (when there is validation data), for arrays and
    ``tf.data`` datasets alike.
    """
    if not enabled:
        keras.Model.fit = _FIT
        return

    def fit(self, *args, **kwargs):
        kwargs.update(epochs=1, steps_per_epoch=steps)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_steps"] = 1
        if len(args) > 3:  # fit(x, y, batch_size, epochs, ...): epochs given by position
            args = (*args[:3], 1, *args[4:])
            kwargs.pop("epochs")
        return _FIT(self, *args, **kwargs)

    keras.Model.fit = fit


def backend() -> str:
    """The Keras backend in use: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def devices() -> list[str]:
    """Devices the Keras backend computes on, e.g. ``["cpu:0"]`` or ``["cuda:0 NVIDIA H100"]``."""
    name = backend()
    if name == "jax":
        import jax

        return [
            f"{d.platform}:{d.id} {getattr(d, 'device_kind', '')}".strip() for d in jax.devices()
        ]
    if name == "torch":
        import torch

        if torch.cuda.is_available():
            return [
                f"cuda:{i} {torch.cuda.get_device_name(i)}"
                for i in range(torch.cuda.device_count())
            ]
        return ["cpu:0"]
    import tensorflow as tf

    found = []
    for d in tf.config.list_physical_devices():
        label = d.name.replace("/physical_device:", "").lower()
        if d.device_type == "GPU":
            details = tf.config.experimental.get_device_details(d)
            label += f" {details.get('device_name', '')}".rstrip()
        found.append(label)
    return found


def has_gpu() -> bool:
    """Whether the Keras backend sees at least one GPU."""
    return any(d.startswith(("gpu", "cuda")) for d in devices())


def describe() -> str:
    """Backend, devices and versions in one line (printed at the top of every chapter)."""
    name = backend()
    parts = [f"nlpbook {nlpbook.__version__}", f"keras {keras.__version__} on {name}"]
    if name == "jax":
        parts[-1] += f" {_version('jax')}"
    elif name == "torch":
        parts[-1] += f" {_version('torch')}"
    tf_version = _version("tensorflow") or _version("tensorflow-cpu")
    if tf_version:
        parts.append(f"tensorflow {tf_version}")
    tft_version = _version("tensorflow-text")
    if tft_version:
        parts.append(f"tensorflow-text {tft_version}")
    parts.append(f"python {platform.python_version()}")
    parts.append("devices: " + ", ".join(devices()))
    parts.append(f"dtype policy {keras.config.dtype_policy().name}")
    parts.append("quick mode" if quick_mode() else "full mode")
    if smoke_mode():
        parts[-1] += " (smoke run: 2 batches per fit, numbers meaningless)"
    return " | ".join(parts)


def set_seed(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the backend; ask the backend for deterministic ops.

    ``keras.utils.set_random_seed`` seeds ``random``, NumPy and the backend's generator
    (TensorFlow's too when it is installed). Determinism is a separate switch per backend:
    TensorFlow has ``enable_op_determinism`` (it also makes parallel ``tf.data`` maps keep
    their order); PyTorch has ``use_deterministic_algorithms``; JAX on GPU reads the XLA flag
    ``--xla_gpu_deterministic_ops`` only before its first computation, so it is set here only
    if JAX has not started yet.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)
    if not deterministic:
        return
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    except ImportError:
        pass
    name = backend()
    if name == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
    elif name == "jax":
        flag = "--xla_gpu_deterministic_ops=true"
        flags = os.environ.get("XLA_FLAGS", "")
        if flag not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()


def set_mixed_precision(policy: str | bool = "auto") -> str:
    """Set the global Keras dtype policy and return its name.

    ``"auto"`` turns on ``mixed_bfloat16`` when a GPU is present and stays ``float32`` on CPU,
    where bfloat16 matmuls are emulated and slower. ``True``/``False`` force mixed/float32;
    any Keras policy name is passed through.
    """
    if policy == "auto":
        policy = "mixed_bfloat16" if has_gpu() else "float32"
    elif policy is True:
        policy = "mixed_bfloat16"
    elif policy is False:
        policy = "float32"
    keras.config.set_dtype_policy(policy)
    return keras.config.dtype_policy().name


def full_float32_matmuls() -> None:
    """Make float32 matrix products run in full float32 on the current backend.

    On NVIDIA GPUs since Ampere, JAX and TensorFlow run float32 matmuls on TF32 tensor cores
    by default (10 mantissa bits): fast, but about 1e-3 off, which breaks comparisons with a
    NumPy or Keras reference at float32 tolerances. Chapters that make such comparisons, and
    the test suite, call this first; on a CPU it changes nothing.
    """
    name = backend()
    if name == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    elif name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
    elif name == "torch":
        import torch

        torch.set_float32_matmul_precision("highest")


def setup(seed: int = 0, mixed_precision: str | bool = "auto", deterministic: bool = True) -> str:
    """Seed everything, choose the dtype policy and return :func:`describe`.

    Args:
        seed: seed for Python, NumPy and the backend.
        mixed_precision: ``"auto"`` (bfloat16 mixed precision on GPU only), a bool, or a Keras
            dtype policy name.
        deterministic: also ask the backend for deterministic kernels.

    Returns:
        The one-line runtime description, for the top of a chapter.

    Under :func:`smoke_mode` it also cuts every ``Model.fit`` short (:func:`limit_training`).
    """
    set_seed(seed, deterministic=deterministic)
    set_mixed_precision(mixed_precision)
    limit_training(smoke_mode())
    return describe()


class PeakMemory:
    """The peak memory a block of code adds to the process: host RSS and, where there is one,
    the accelerator's allocator.

    Host memory is sampled from a background thread (``psutil``, every ``interval`` seconds),
    so a spike shorter than the interval can be missed; the peak is reported relative to the
    RSS on entry, in MiB. On a GPU, the backend's own peak counter is read where it can be
    reset (TensorFlow, PyTorch); JAX's cannot be reset, so its peak is the process's peak.

    Example:
        >>> with PeakMemory() as peak:
        ...     block = np.ones((64, 1024, 1024), np.float32)  # 256 MiB
        >>> peak.host_mib > 200
        True

    Attributes (after the block):
        host_mib: peak RSS above the RSS on entry.
        device_mib: the accelerator's peak allocation in MiB, or ``None`` without one.
        seconds: wall time of the block.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = float(interval)
        self.host_mib = self.device_mib = self.seconds = None

    def __enter__(self):
        import threading
        import time

        import psutil

        self._process = psutil.Process()
        self._start_rss = self._peak_rss = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._reset_device()
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self._peak_rss = max(self._peak_rss, self._process.memory_info().rss)
            self._stop.wait(self.interval)

    def _reset_device(self):
        if not has_gpu():
            return
        name = backend()
        if name == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats("GPU:0")
        elif name == "torch":
            import torch

            torch.cuda.reset_peak_memory_stats()

    def _device_peak(self):
        if not has_gpu():
            return None
        name = backend()
        if name == "tensorflow":
            import tensorflow as tf

            return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        if name == "torch":
            import torch

            return torch.cuda.max_memory_allocated() / 2**20
        if name == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            return stats.get("peak_bytes_in_use", 0) / 2**20
        return None

    def __exit__(self, *exc):
        import time

        self.seconds = time.perf_counter() - self._t0
        self._stop.set()
        self._thread.join()
        self._peak_rss = max(self._peak_rss, self._process.memory_info().rss)
        self.host_mib = (self._peak_rss - self._start_rss) / 2**20
        self.device_mib = self._device_peak()
        return False
