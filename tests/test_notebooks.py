"""The harness that executes chapters: env reaches the kernel, failures are reported."""

import json

import nbformat
import pytest

from nlpbook import notebooks


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("quick", [True, False])
def test_execute_sets_mode_and_collects_results(tmp_path, quick):
    nb = _notebook(
        tmp_path / "98_probe.ipynb",
        "from nlpbook import results, runtime\nrec = results.Recorder('98_probe')",
        "rec.metric('quick', runtime.quick_mode())\nrec.save()",
    )
    out = notebooks.execute(nb, quick=quick, timeout=120, results_dir=tmp_path / "res")
    data = json.loads(out.read_text())
    assert data["metrics"]["quick"] is quick and data["quick"] is quick
    executed = nbformat.read(tmp_path / "res" / "executed" / "98_probe.ipynb", as_version=4)
    assert executed.cells[0].execution_count == 1


def test_execute_reports_the_failing_cell_and_keeps_the_copy(tmp_path):
    nb = _notebook(tmp_path / "97_broken.ipynb", "x = 1", "raise ValueError('boom in chapter')")
    with pytest.raises(RuntimeError, match="boom in chapter") as err:
        notebooks.execute(nb, timeout=120, results_dir=tmp_path / "res")
    assert "executed copy in" in str(err.value)
    assert (tmp_path / "res" / "executed" / "97_broken.ipynb").is_file()


def test_execute_requires_results(tmp_path):
    nb = _notebook(tmp_path / "96_silent.ipynb", "x = 1")
    with pytest.raises(RuntimeError, match="wrote no 96_silent.json"):
        notebooks.execute(nb, timeout=120, results_dir=tmp_path / "res")


def test_find_chapter_errors_name_the_known_chapters():
    with pytest.raises(ValueError, match="no single chapter matches 'zz'"):
        notebooks.find_chapter("zz")


def test_figures_reach_the_executed_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "agg")  # as in a test run: must not reach the kernel
    nb = _notebook(
        tmp_path / "95_plot.ipynb",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
        "from nlpbook import results\nresults.Recorder('95_plot').save()",
    )
    notebooks.execute(nb, timeout=120, results_dir=tmp_path / "res")
    executed = nbformat.read(tmp_path / "res" / "executed" / "95_plot.ipynb", as_version=4)
    kinds = [set(o.get("data", {})) for o in executed.cells[0].outputs]
    assert any("image/png" in k for k in kinds), kinds


def test_smoke_runs_are_full_mode_kept_apart_from_real_results(monkeypatch, tmp_path):
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    calls = []

    def fake_execute(path, **kwargs):
        calls.append((path.stem, kwargs))
        return tmp_path / "smoke" / f"{path.stem}.json"

    monkeypatch.setattr(notebooks, "execute", fake_execute)
    assert notebooks.main(["run", "01", "--smoke"]) == 0
    assert notebooks.main(["run", "01", "--full"]) == 0
    (smoke_stem, smoke), (_, full) = calls
    assert smoke_stem == "01_tour"
    assert smoke["quick"] is False
    assert smoke["extra_env"] == {"NLPBOOK_SMOKE": "1", "NLPBOOK_RESUME": "1"}
    assert smoke["results_dir"] == tmp_path / "smoke"
    assert full["quick"] is False and full["extra_env"] == {"NLPBOOK_RESUME": "1"}
    assert full["results_dir"] == tmp_path


def test_full_runs_resume_unless_told_fresh(monkeypatch, tmp_path):
    """--full resumes; --fresh deletes the named chapter's saved training state, no other's."""
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    calls = []
    monkeypatch.setattr(notebooks, "execute", lambda path, **kw: calls.append(kw) or tmp_path)
    for stem in ("01_tour", "02_word_vectors"):
        (tmp_path / "resume" / stem / "fit").mkdir(parents=True)
    assert notebooks.main(["run", "01", "--full"]) == 0
    assert (tmp_path / "resume" / "01_tour" / "fit").is_dir()
    assert notebooks.main(["run", "01", "--full", "--fresh"]) == 0
    assert not (tmp_path / "resume" / "01_tour").exists()
    assert (tmp_path / "resume" / "02_word_vectors" / "fit").is_dir()
    assert notebooks.main(["run", "01"]) == 0  # quick mode never resumes
    assert [c["extra_env"] for c in calls] == [{"NLPBOOK_RESUME": "1"}] * 2 + [{}]
