"""Executes chapters for their tests: each in a fresh kernel, quick mode, with a timeout."""

import json

import pytest

from nlpbook import notebooks
from nlpbook.datasets import require

# Seconds allowed per cell; a quick-mode chapter should take about two minutes in all.
CELL_TIMEOUT = 600


@pytest.fixture(scope="session")
def run_chapter(tmp_path_factory):
    """``run_chapter("01_tour", needs=["rt-polarity"]) -> dict``: the chapter's results JSON.

    Each chapter runs once per session. ``needs`` names the registered datasets it reads: if
    one is unreachable the test is skipped with the reason (failed when ``CI=true``) instead of
    failing deep inside the notebook. ``require`` also points ``NLPBOOK_MIRROR`` at the shared
    mirror when it is unset, and the kernel inherits that.
    """
    done: dict[str, dict] = {}
    folder = tmp_path_factory.mktemp("chapter-results")

    def run(name: str, needs: tuple[str, ...] | list[str] = ()) -> dict:
        for dataset in needs:
            require(dataset)
        if name not in done:
            path = notebooks.execute(
                notebooks.find_chapter(name), quick=True, timeout=CELL_TIMEOUT, results_dir=folder
            )
            done[name] = json.loads(path.read_text(encoding="utf-8"))
            assert done[name]["quick"] is True
        return done[name]

    return run
