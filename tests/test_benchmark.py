"""nlpbook.benchmark: timing that leaves out the warm-up, and a speed table of equal functions."""

import json
import sys
import time

import keras
import numpy as np
import pytest
from keras import ops

from nlpbook import benchmark, runtime
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


# GPT: 2 layers × 32, context 16, vocab 50; the CLI's sizes are the same
TINY_GPT = dict(layers=2, width=32, heads=4, context=16, vocab=50, batch=4, steps=2)


def tiny_gpt_config():
    from nlpbook.models.gpt import GPTConfig

    return GPTConfig.tiny(vocab_size=50, max_length=16, hidden_size=32, intermediate_size=128)


def test_gpt_training_speed_times_equal_functions():
    pytest.importorskip("keras_hub")
    # XLA on TensorFlow and JAX (~15 s here); torch.compile would take minutes on a CPU
    xla = runtime.backend() != "torch"
    runtime.set_seed(0)  # as a chapter's runtime.setup: op determinism on (TensorFlow)
    result = benchmark.gpt_training_speed(
        tiny_gpt_config(), batch_size=4, steps=2, jit_compile=xla, peak_flops=1e15
    )
    # XLA for both, although Keras refuses it under op determinism, which comes back after
    assert result["jit_compile"] == {"nlpbook": xla, "keras_hub": xla}
    if runtime.backend() == "tensorflow":
        from tensorflow.python.framework import config as tf_config

        assert tf_config.is_op_determinism_enabled()
    tokens = result["tokens_per_s"]
    assert tokens["nlpbook"] > 0 and tokens["keras_hub"] > 0
    assert result["ratio"] == pytest.approx(tokens["nlpbook"] / tokens["keras_hub"])
    assert result["tokens_per_step"] == 4 * 16
    for name in benchmark.MODELS:
        assert tokens[name] == pytest.approx(64 / result["seconds_per_step"][name])
        assert 0 < result["mfu"][name] < 1  # a made-up peak far above this CPU
        assert result["mfu"][name] == pytest.approx(tokens[name] * result["flops_per_token"] / 1e15)
    # our weights were copied into keras-hub's: the same function (float32 round-off)
    assert result["parameters"]["nlpbook"] == result["parameters"]["keras_hub"] == 27584
    assert result["max_abs_logit_diff"] < 1e-4
    assert result["config"]["hidden_size"] == 32 and result["batch_size"] == 4
    assert result["backend"] in {"tensorflow", "jax", "torch"} and "devices:" in result["device"]
    rows = benchmark.gpt_speed_rows(result)
    assert [r[0] for r in rows] == ["nlpbook", "keras-hub"]
    assert all(len(r) == len(benchmark.GPT_SPEED_HEADERS) for r in rows)


def test_gpt_flops_per_token_is_6n_plus_attention():
    from nlpbook.models.gpt import GPTConfig, count_parameters

    config = GPTConfig.gpt2()  # nanoGPT's estimate_mfu: 6·124.3M (no position table) + 12·L·T·d
    n = count_parameters(config) - config.max_length * config.hidden_size
    assert n == 123_653_376
    assert benchmark.gpt_flops_per_token(config) == 6 * n + 12 * 12 * 1024 * 768


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 0}, "batch_size must be an int >= 1. Received: batch_size=0"),
        ({"steps": 0}, "steps must be an int >= 1. Received: steps=0"),
        ({"steps": 2.5}, "steps must be an int >= 1"),
        ({"warmup": -1}, "warmup must be an int >= 0"),
        ({"rounds": 0}, "rounds must be an int >= 1"),
        ({"peak_flops": 0}, "peak_flops must be a number > 0 or None"),
        ({"jit_compile": "yes"}, "jit_compile must be True or False"),
    ],
)
def test_gpt_training_speed_rejects_bad_arguments(kwargs, message):
    arguments = {"batch_size": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        benchmark.gpt_training_speed(tiny_gpt_config(), **arguments)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"attention_dropout": 0.0}, "dropout must equal attention_dropout"),
        ({"activation": "gelu"}, "activation='gelu_tanh'"),
        ({"layer_norm_epsilon": 1e-6}, "layer_norm_epsilon=1e-05"),
    ],
)
def test_gpt_training_speed_rejects_what_keras_hub_cannot_build(change, message):
    import dataclasses

    config = dataclasses.replace(tiny_gpt_config(), **change)
    with pytest.raises(ValueError, match=message):
        benchmark.gpt_training_speed(config, batch_size=4)


def test_gpt_training_speed_names_keras_hub_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras_hub", None)  # import keras_hub raises ImportError
    with pytest.raises(ImportError, match="keras-hub"):
        benchmark.gpt_training_speed(tiny_gpt_config(), batch_size=4)


def test_command_line_prints_and_writes_the_gpt_table(tmp_path, capsys):
    pytest.importorskip("keras_hub")
    out = tmp_path / "speed" / "gpt.json"
    args = [f"--{k}={v}" for k, v in TINY_GPT.items()]
    # no XLA and one short round: XLA compilation is what test_gpt_training_speed_... times
    args += ["--warmup=1", "--rounds=1", "--no-jit-compile"]
    assert cli(["bench", "gpt", *args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "keras-hub" in printed and "devices:" in printed and "MFLOP per token" in printed
    report = json.loads(out.read_text())
    speed = report["speed"]
    assert speed["config"]["num_layers"] == 2 and speed["config"]["intermediate_size"] == 128
    assert speed["jit_compile"] == {"nlpbook": False, "keras_hub": False}
    assert speed["parameters"]["nlpbook"] == speed["parameters"]["keras_hub"]
    assert speed["mfu"] is None and speed["peak_flops"] is None  # no --peak-flops, no MFU
    assert report["devices"] and report["backend"] == speed["backend"]
    assert [p.name for p in out.parent.iterdir()] == ["gpt.json"]  # no temporary file left


def test_command_line_refuses_a_bad_gpt_size(capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["bench", "gpt", "--width", "30", "--heads", "4"])
    assert stop.value.code == 2
    assert "must be a multiple of num_heads" in capsys.readouterr().err


def test_generation_speed_runs_every_variant_and_agrees_on_tokens():
    from nlpbook.models.llama import Llama, LlamaConfig

    keras.utils.set_random_seed(0)
    model = Llama(LlamaConfig.tiny(vocab_size=50))
    result = benchmark.generation_speed(model, [3, 7, 9, 4], new_tokens=(3, 5))
    rows = result["rows"]
    assert [(r["new_tokens"], r["variant"]) for r in rows] == [
        (n, v) for n in (3, 5) for v in benchmark.GENERATION_VARIANTS
    ]
    # the same function, decoded greedily: every variant gives the cached run's tokens
    assert all(r["same_tokens"] for r in rows), rows
    for r in rows:
        assert r["tokens_per_s"] == pytest.approx(r["new_tokens"] / r["seconds"])
        assert (r["cache_mb"] > 0) == ("no cache" not in r["variant"])
    table = benchmark.generation_speed_rows(result)
    assert len(table) == len(rows) and table[0][6] != "-"
    assert result["prompt_tokens"] == 4
    with pytest.raises(ValueError, match="unknown variants"):
        benchmark.generation_speed(model, [1, 2], new_tokens=(2,), variants=["beam"])


def _translation_batches(batch_size, pad_to_bucket_boundary):
    """Two buckets of random pairs (lengths 3-4 and 6-7), padded as ``translation_dataset``."""
    rng = np.random.default_rng(0)
    batches = []
    for lengths, boundary in (((3, 4), 6), ((6, 7), 10), ((3, 4), 6)):
        width = boundary - 1 if pad_to_bucket_boundary else max(lengths)
        src, dec_in, labels = (np.zeros((batch_size, width), "int32") for _ in range(3))
        for row in range(batch_size):
            n = int(rng.choice(lengths))
            src[row, :n] = rng.integers(4, 20, n)
            target = rng.integers(4, 20, n - 1)
            dec_in[row, :n] = [2, *target]
            labels[row, :n] = [*target, 3]
        batches.append(((src, dec_in), labels))
    return batches


def test_seq2seq_training_speed_compares_equal_functions():
    from nlpbook.models import TransformerSeq2Seq

    def build():
        return TransformerSeq2Seq(20, 20, max_length=16, d_model=8, num_heads=2, ff_dim=16,
                                  num_layers=1, dropout=0.0)  # fmt: skip

    result = benchmark.seq2seq_training_speed(
        build, _translation_batches, 4, ["float32", "xla", "bfloat16", "batch_x2"], steps=3
    )
    rows = result["variants"]
    assert list(rows) == ["float32", "xla", "bfloat16", "batch_x2"]
    assert rows["float32"]["speedup"] == 1.0
    # the same weights and pairs: only the padding (to the bucket boundary under XLA) differs,
    # and the masked loss ignores it
    assert rows["xla"]["jit_compile"] is True and rows["float32"]["jit_compile"] is False
    assert abs(rows["xla"]["initial_loss"] - rows["float32"]["initial_loss"]) < 1e-5
    assert abs(rows["bfloat16"]["initial_loss"] - rows["float32"]["initial_loss"]) < 0.05
    assert rows["bfloat16"]["dtype_policy"] == "mixed_bfloat16"
    assert rows["batch_x2"]["batch_size"] == 8 and rows["float32"]["shapes"] == 2
    assert rows["xla"]["padding"] > rows["float32"]["padding"] > 0
    assert all(r["tokens_per_s"] > 0 and r["warmup_s"] > 0 for r in rows.values())
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert len(benchmark.seq2seq_speed_rows(result)[0]) == len(benchmark.SEQ2SEQ_HEADERS)


def test_seq2seq_training_speed_rejects_unknown_variants():
    with pytest.raises(ValueError, match="variants must be a non-empty list"):
        benchmark.seq2seq_training_speed(lambda: None, _translation_batches, 4, ["fp8"])


def test_seq2seq_command_line_on_multi30k(tmp_path, capsys):
    from nlpbook.datasets import require

    require("multi30k")
    out = tmp_path / "seq2seq.json"
    args = ["--model", "gru", "--variants", "float32", "batch_x2", "--pairs", "300", "--vocab",
            "400", "--batch", "64", "--steps", "2", "--json", str(out)]  # fmt: skip
    assert cli(["bench", "seq2seq", *args]) == 0
    printed = capsys.readouterr().out
    assert "gru" in printed and "batch\\_x2" in printed and "300 pairs" in printed
    report = json.loads(out.read_text())
    speed = report["speed"]
    assert speed["pairs"] == 300 and speed["model"] == "gru" and report["devices"]
    assert speed["variants"]["batch_x2"]["batch_size"] == 128


def test_seq2seq_command_line_refuses_a_bad_size(capsys):
    with pytest.raises(SystemExit) as stop:
        cli(["bench", "seq2seq", "--vocab", "0"])
    assert stop.value.code == 2
    assert "--vocab must be a positive size" in capsys.readouterr().err
