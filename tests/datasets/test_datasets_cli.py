"""``python -m nlpbook data list | fetch NAME | verify [NAME]`` through ``cli.main``."""

import pytest

from nlpbook.datasets import cli, require


def test_list_shows_every_dataset_and_where_it_is(data_env, capsys):
    require("ptb")
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "files", "found", "in", "licence"]
    ptb = next(line for line in lines if line.startswith("ptb "))
    assert ptb.split()[1] == "1" and "package" in ptb and "WSJ" in ptb


def test_fetch_prints_paths(data_env, capsys):
    paths = require("tinyshakespeare")
    assert cli.main(["fetch", "tinyshakespeare"]) == 0
    assert capsys.readouterr().out == f"input.txt\t{paths['input.txt']}\n"


def test_fetch_unknown_name_fails_with_the_known_names(capsys):
    assert cli.main(["fetch", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown dataset 'nope'" in err and "tinyshakespeare" in err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2


def test_verify_exits_1_on_a_corrupt_cache_file(isolated, monkeypatch, capsys):
    from nlpbook.datasets import test_mirror

    if test_mirror() is not None:
        monkeypatch.setenv("NLPBOOK_MIRROR", str(test_mirror()))
    path = require("tinyshakespeare")["input.txt"]
    assert path.is_relative_to(isolated)
    assert cli.main(["verify", "tinyshakespeare"]) == 0
    assert "0 with a wrong sha256" in capsys.readouterr().out

    path.write_text("to be or not to be", encoding="utf-8")
    assert cli.main(["verify", "tinyshakespeare"]) == 1
    out = capsys.readouterr().out
    assert f"size mismatch for {path}" in out
    assert "1 with a wrong sha256" in out
