"""The rule tests use for data: find the mirror, never touch the network, skip or fail.

Outside CI a test whose data is unreachable is skipped with the reason; in CI (``CI=true``)
it fails, so a missing dataset can never pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from .catalog import fetch
from .registry import Dataset, DatasetUnavailable

# lib/nlpbook/datasets/testing.py -> the repository root is three folders up
_REPO = Path(__file__).resolve().parents[3]


def in_ci() -> bool:
    """Whether ``$CI`` says this is a CI run (``true`` or ``1``)."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def test_mirror() -> Path | None:
    """The mirror tests use: ``$NLPBOOK_MIRROR`` if set, else ``<repo>/../shared/data`` if
    that folder exists (an editable checkout beside the shared mirror), else None."""
    if value := os.environ.get("NLPBOOK_MIRROR"):
        return Path(value)
    fallback = _REPO.parent / "shared" / "data"
    return fallback if fallback.is_dir() else None


test_mirror.__test__ = False  # not a test, despite its name


def require(name: str | Dataset, files: Iterable[str] | None = None) -> dict[str, Path]:
    """Fetch a dataset for a test, offline; skip the test if unreachable (fail in CI).

    If ``$NLPBOOK_MIRROR`` is unset and :func:`test_mirror` finds the shared mirror, the
    variable is set for the rest of the process (and the notebook kernels it starts), so the
    loaders called afterwards see the same data.

    Args:
        name: registered dataset name, or a Dataset.
        files: logical files to fetch (all when None).

    Returns:
        What :func:`nlpbook.datasets.fetch` returns.

    Example:
        >>> def test_ptb_sizes():
        ...     require("ptb")
        ...     assert len(load_ptb()["valid"]) == 3370
    """
    if not os.environ.get("NLPBOOK_MIRROR") and (found := test_mirror()) is not None:
        os.environ["NLPBOOK_MIRROR"] = str(found)
    try:
        return fetch(name, files, offline=True)
    except DatasetUnavailable as e:
        skip_unavailable(f"data unavailable: {e}")


def skip_unavailable(reason: str) -> NoReturn:
    """Skip the running test because something it needs is missing; fail it under ``CI=true``.

    Args:
        reason: what is missing and why (shown in the test report).
    """
    import pytest  # only tests call this; pytest is a dev dependency

    if in_ci():
        pytest.fail(f"CI=true, so this cannot be skipped: {reason}", pytrace=False)
    pytest.skip(reason)
