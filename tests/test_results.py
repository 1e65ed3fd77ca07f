import json

import numpy as np
import pytest

from nlpbook import results


def test_recorder_writes_json_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    monkeypatch.setenv("NLPBOOK_QUICK", "1")
    rec = results.Recorder("99_example")
    rec.metric("accuracy", np.float32(0.75))
    rec.metric("table", {"a": np.arange(3)})
    rec.info(dataset="mr-polarity", sizes={"train": np.int64(9)})
    path = rec.save()
    assert path == tmp_path / "99_example.json"
    assert [p.name for p in tmp_path.iterdir()] == ["99_example.json"]
    data = json.loads(path.read_text())
    assert data["metrics"] == {"accuracy": 0.75, "table": {"a": [0, 1, 2]}}
    assert data["info"] == {"dataset": "mr-polarity", "sizes": {"train": 9}}
    assert data["quick"] is True and data["wall_time_s"] >= 0
    assert data["runtime"]["backend"] in {"tensorflow", "jax", "torch"}
    assert results.load("99_example") == data


def test_recorder_refuses_bad_names_and_nan():
    with pytest.raises(ValueError, match="chapter="):
        results.Recorder("tour")
    with pytest.raises(ValueError, match="non-finite"):
        results.Recorder("01_tour").metric("loss", float("nan"))


def test_results_dir_defaults_to_project_root(tmp_path, monkeypatch):
    monkeypatch.delenv("NLPBOOK_RESULTS", raising=False)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "chapters").mkdir()
    monkeypatch.chdir(tmp_path / "chapters")
    assert results.results_dir() == tmp_path / "results"
