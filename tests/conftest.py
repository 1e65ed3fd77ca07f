"""Test-wide settings: GPU-marked tests run only where a GPU is visible; float32 is float32.

Reference tests compare float32 maths with NumPy at float32 tolerances. On NVIDIA GPUs since
Ampere, JAX and TensorFlow run float32 matmuls on TF32 tensor cores by default (10 mantissa
bits), which misses those tolerances by design; seen on an H100: 3 reference tests off by up
to ~1e-3. The tests ask for full float32 matmuls; ``tests/test_gpu.py`` checks the TF32 path.
"""

import os

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from nlpbook import runtime  # noqa: E402

runtime.full_float32_matmuls()


def _chapter_number(item) -> int | None:
    """``13`` for ``tests/chapters/test_13_fine_tuning.py``; None for any other test."""
    path = item.path
    if path.parent.name == "chapters" and path.name[5:7].isdigit():
        return int(path.name[5:7])
    return None


def pytest_collection_modifyitems(config, items):
    # Chapter runs first, the latest (the longest) first, then the library tests: with
    # `make test`'s two workers (pytest-xdist, a file per worker, in this order) the long
    # chapters start at once and the short library files fill in around them at the end.
    items.sort(key=lambda item: -n if (n := _chapter_number(item)) is not None else 0)
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    if runtime.has_gpu():
        return
    skip = pytest.mark.skip(reason=f"needs a GPU; this run sees {runtime.devices()}")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
