"""nlpbook.benchmark: timing that leaves out the warm-up, and a speed table of equal functions."""

import json
import time

import numpy as np
import pytest
from keras import ops

from nlpbook import benchmark
from nlpbook.__main__ import main as cli

TINY = dict(batch=2, steps=3, features=2, units=4, repeats=1)


def test_median_ms_leaves_out_the_warm_up_and_takes_the_median():
    # warm-up, then five timed calls, two of them slow: timing the warm-up too would put the
    # median at 155 ms, and the mean of the five is 126 ms
    pauses = [0.3, 0.01, 0.3, 0.3, 0.01, 0.01]
    calls = []

    def call():
        time.sleep(pauses[len(calls)])
        calls.append(1)

    ms = benchmark.median_ms(call, repeats=5, warmup=1)
    assert 10 <= ms < 100  # the median of the five timed calls: 10 ms and a little
    assert len(calls) == 6  # one warm-up and five timed calls


def test_wait_brings_tensors_to_the_host():
    got = benchmark._wait({"a": ops.ones((2, 3)), "b": [1.5, None]})
    assert isinstance(got["a"], np.ndarray) and got["a"].shape == (2, 3)
    assert got["b"] == [1.5, None]


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"repeats": True}])
def test_median_ms_rejects_bad_counts(kwargs):
    with pytest.raises(ValueError, match="Received"):
        benchmark.median_ms(lambda: None, **kwargs)


def test_recurrent_speed_times_equal_functions():
    table = benchmark.recurrent_speed(**TINY)
    assert set(table) == {"SimpleRNN", "LSTM", "GRU"}
    for row in table.values():
        # Keras' weights were copied into our cell: the same function (float32 round-off)
        assert row["max_output_difference"] < 1e-6
        for kind in ("ours", "keras"):
            assert row[kind]["forward_ms"] > 0 and row[kind]["train_step_ms"] > 0
    rows = benchmark.speed_rows(table)
    assert [r[0] for r in rows] == ["SimpleRNN", "LSTM", "GRU"]
    assert all(len(r) == len(benchmark.SPEED_HEADERS) for r in rows)


def test_recurrent_speed_rejects_a_bad_size():
    with pytest.raises(ValueError, match="units must be an int >= 1. Received: units=0"):
        benchmark.recurrent_speed(**{**TINY, "units": 0})


def test_command_line_prints_and_writes_the_table(tmp_path, capsys):
    out = tmp_path / "speed" / "rnn.json"
    args = [f"--{k}={v}" for k, v in TINY.items()]
    assert cli(["bench", "rnn", *args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "LSTM" in printed and "devices:" in printed
    report = json.loads(out.read_text())
    assert report["sizes"] == TINY and set(report["speed"]) == {"SimpleRNN", "LSTM", "GRU"}
    assert report["backend"] in {"tensorflow", "jax", "torch"} and report["devices"]
    assert [p.name for p in out.parent.iterdir()] == ["rnn.json"]  # no temporary file left


def test_command_line_refuses_a_bad_size(capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["bench", "rnn", "--units", "0"])
    assert stop.value.code == 2
    assert "units must be an int >= 1" in capsys.readouterr().err
