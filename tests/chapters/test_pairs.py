"""Every chapter is an ipynb/py pair in sync, committed without outputs."""

import nbformat
import pytest

from nlpbook import notebooks

CHAPTERS = notebooks.chapter_paths()


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2, "chapters/ should hold at least chapters 01 and 03"


@pytest.mark.parametrize("ipynb", CHAPTERS, ids=lambda p: p.stem)
def test_pair_is_clean(ipynb):
    assert notebooks.check_pair(ipynb) == []


def test_check_pair_catches_outputs_and_drift(tmp_path):
    source = CHAPTERS[0]
    nb = nbformat.read(source, as_version=4)
    (tmp_path / source.with_suffix(".py").name).write_text(
        source.with_suffix(".py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hello")]
    code.source += "\nx = 1"
    copy = tmp_path / source.name
    nbformat.write(nb, copy)
    problems = notebooks.check_pair(copy)
    assert any("carries outputs" in p for p in problems)
    assert any("differ" in p for p in problems)
    copy.with_suffix(".py").unlink()
    assert "no paired" in notebooks.check_pair(copy)[0]
