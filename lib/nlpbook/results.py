"""What a chapter run leaves behind: ``results/NN_topic.json``.

Each chapter creates a :class:`Recorder` at the top, records metrics as it computes them and
saves at the end. The chapter tests read the file and assert the metrics, so the numbers a
reader sees, the numbers the tests check and the numbers in the README are the same numbers.

Example:
    >>> rec = Recorder("01_tour")                                   # doctest: +SKIP
    >>> rec.metric("mr_bow_test_accuracy", 0.76)                    # doctest: +SKIP
    >>> rec.info(dataset="mr-polarity", sizes={"train": 9596})      # doctest: +SKIP
    >>> rec.save()                                                  # doctest: +SKIP
    PosixPath('.../results/01_tour.json')
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import time
from pathlib import Path

import numpy as np

from nlpbook import runtime

_CHAPTER = re.compile(r"^\d\d_[a-z0-9_]+$|^[A-Z]_[a-z0-9_]+$")


def results_dir() -> Path:
    """``NLPBOOK_RESULTS`` if set, else ``results/`` at the project root, else ``./results``.

    The project root is the nearest folder above the working directory holding both
    ``pyproject.toml`` and ``chapters/``, so a notebook run from ``chapters/`` writes to the
    same place as a run from the root.
    """
    if os.environ.get("NLPBOOK_RESULTS"):
        return Path(os.environ["NLPBOOK_RESULTS"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "chapters").is_dir():
            return folder / "results"
    return here / "results"


def _plain(value):
    """NumPy/TF scalars and arrays to JSON-ready Python values; NaN and inf are refused."""
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"refusing to record a non-finite number: {value}")
    if isinstance(value, Path):
        return str(value)
    return value


class Recorder:
    """Collects a chapter's metrics and writes them, with the run's context, as JSON.

    Args:
        chapter: the chapter's file stem, e.g. ``"01_tour"``.

    The saved file holds ``chapter``, ``quick``, ``smoke``, ``metrics`` (name → number or small table),
    ``info`` (datasets, sizes, settings), ``runtime`` (backend, devices, versions),
    ``wall_time_s`` (since the recorder was made) and ``finished_at`` (UTC).
    """

    def __init__(self, chapter: str):
        if not _CHAPTER.match(chapter):
            raise ValueError(f"chapter must look like '01_tour'. Received: chapter={chapter!r}")
        self.chapter = chapter
        self.metrics: dict = {}
        self.details: dict = {}
        self._start = time.perf_counter()

    def metric(self, name: str, value) -> None:
        """Record one metric (a number, or a small table as a list/dict of numbers)."""
        self.metrics[name] = _plain(value)

    def info(self, **kwargs) -> None:
        """Record context: datasets used, sizes, settings."""
        self.details.update(_plain(kwargs))

    def save(self) -> Path:
        """Write ``<results_dir>/<chapter>.json`` atomically and return its path."""
        record = {
            "chapter": self.chapter,
            "quick": runtime.quick_mode(),
            "smoke": runtime.smoke_mode(),
            "metrics": self.metrics,
            "info": self.details,
            "runtime": {
                "description": runtime.describe(),
                "backend": runtime.backend(),
                "devices": runtime.devices(),
            },
            "wall_time_s": round(time.perf_counter() - self._start, 2),
            "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
        }
        folder = results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.chapter}.json"
        write_json(path, record, indent=2)
        return path


def write_json(path: Path, value, indent: int = 1) -> None:
    """Write ``value`` as JSON to ``path`` under a temporary name, then rename it into place.

    A reader (or a run killed halfway) never sees a half-written file: the rename is atomic.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def load(chapter: str) -> dict:
    """Read a chapter's saved results."""
    path = results_dir() / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no results for chapter {chapter!r} at {path}: run the chapter first"
        )
    return json.loads(path.read_text(encoding="utf-8"))
