"""Test-wide settings: GPU-marked tests run only where a GPU is visible."""

import os

os.environ.setdefault("MPLBACKEND", "agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if not any(item.get_closest_marker("gpu") for item in items):
        return
    from nlpbook import runtime

    if runtime.has_gpu():
        return
    skip = pytest.mark.skip(reason=f"needs a GPU; this run sees {runtime.devices()}")
    for item in items:
        if item.get_closest_marker("gpu"):
            item.add_marker(skip)
