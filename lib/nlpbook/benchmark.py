"""Timing: the median wall time of a call, and our recurrent cells against Keras' layers.

``median_ms(fn)`` times a call after a warm-up (tracing and compilation are not what we
time) and waits for the result, since JAX and PyTorch on a GPU return before the device has
finished. ``recurrent_speed`` times the cells of :mod:`nlpbook.layers` inside
``keras.layers.RNN`` against ``keras.layers.SimpleRNN``, ``LSTM`` and ``GRU``, which hand the
whole sequence to cuDNN on an NVIDIA GPU when they can; it copies the weights across first and
reports how far the two outputs are apart, so both timed calls compute the same function.

Chapter 6 prints its table for the device the chapter runs on; ``python -m nlpbook bench rnn``
prints it from the command line, which needs neither TensorFlow nor the data sets (the lent
GPU machine has JAX and no TensorFlow: ``gpu/check.sh`` runs it there).
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
from keras import ops

from nlpbook import results, runtime
from nlpbook._checks import check_int
from nlpbook.layers import GRUCell, LSTMCell, SimpleRNNCell

#: name -> (our cell, Keras' layer); the weight layouts match, so ``set_weights`` copies across
RECURRENT_PAIRS = {
    "SimpleRNN": (SimpleRNNCell, keras.layers.SimpleRNN),
    "LSTM": (LSTMCell, keras.layers.LSTM),
    "GRU": (GRUCell, keras.layers.GRU),
}


def _wait(result):
    """Bring every tensor in ``result`` to the host, so the time covers the computation."""
    return keras.tree.map_structure(
        lambda x: ops.convert_to_numpy(x) if ops.is_tensor(x) else x, result
    )


def median_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The median wall time of ``fn()`` in milliseconds, over ``repeats`` calls after ``warmup``.

    The median, not the mean: on a shared machine one slow call should not move the number.
    """
    check_int("repeats", repeats, minimum=1)
    check_int("warmup", warmup, minimum=0)
    for _ in range(warmup):
        _wait(fn())
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        _wait(fn())
        seconds.append(time.perf_counter() - start)
    return 1000 * statistics.median(seconds)


def recurrent_speed(
    batch: int = 64,
    steps: int = 100,
    features: int = 64,
    units: int = 256,
    repeats: int = 10,
    seed: int = 0,
) -> dict[str, dict]:
    """Forward pass and training step of our cells against Keras' recurrent layers.

    For each of SimpleRNN, LSTM and GRU: a ``Sequential`` model around our cell in
    ``keras.layers.RNN`` and one around Keras' layer (default arguments, which are those of the
    cuDNN path), Adam and a mean squared error on a random batch. Keras' initial weights are
    copied into ours, and the last states of the two compared, before anything is timed.

    Args:
        batch, steps, features, units: the shape of the input ``(batch, steps, features)`` and
            the state size.
        repeats: timed calls of each kind; the median is reported.
        seed: for the weights and the random batch.

    Returns:
        ``{name: {"ours": {"forward_ms", "train_step_ms"}, "keras": {...},
        "max_output_difference": float}}`` for name in ``RECURRENT_PAIRS``.
    """
    for name, value in (("batch", batch), ("steps", steps), ("features", features),
                        ("units", units), ("repeats", repeats)):  # fmt: skip
        check_int(name, value, minimum=1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    y = rng.normal(size=(batch, units)).astype("float32")
    table = {}
    for name, (cell_cls, layer_cls) in RECURRENT_PAIRS.items():
        keras.utils.set_random_seed(seed)
        models = {
            "ours": keras.Sequential([keras.Input(x.shape[1:]), keras.layers.RNN(cell_cls(units))]),
            "keras": keras.Sequential([keras.Input(x.shape[1:]), layer_cls(units)]),
        }
        models["ours"].set_weights(models["keras"].get_weights())
        difference = np.abs(
            models["ours"].predict_on_batch(x) - models["keras"].predict_on_batch(x)
        ).max()
        row = {"max_output_difference": float(difference)}
        for kind, model in models.items():
            model.compile(optimizer="adam", loss="mse")
            row[kind] = {
                "forward_ms": median_ms(lambda m=model: m.predict_on_batch(x), repeats),
                "train_step_ms": median_ms(lambda m=model: m.train_on_batch(x, y), repeats),
            }
        table[name] = row
    return table


def speed_rows(table: dict[str, dict]) -> list[list[str]]:
    """``recurrent_speed``'s result as rows for :func:`nlpbook.display.show_table`."""
    return [
        [
            name,
            f"{row['ours']['forward_ms']:.1f}",
            f"{row['keras']['forward_ms']:.1f}",
            f"{row['ours']['train_step_ms']:.1f}",
            f"{row['keras']['train_step_ms']:.1f}",
            f"{row['ours']['train_step_ms'] / row['keras']['train_step_ms']:.2f}",
            f"{row['max_output_difference']:.1e}",
        ]
        for name, row in table.items()
    ]


SIZES = ("batch", "steps", "features", "units", "repeats")  # recurrent_speed's, on the command line

SPEED_HEADERS = [
    "cell",
    "forward ours (ms)",
    "forward Keras",
    "train step ours",
    "train step Keras",
    "ours / Keras (train)",
    "max difference",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m nlpbook bench rnn [--batch N] [--steps N] ... [--json PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m nlpbook bench",
        description="Time our recurrent cells against Keras' layers on this device, in full "
        "float32 (no TF32), at chapter 6's full-mode sizes unless told otherwise.",
    )
    parser.add_argument("what", choices=["rnn"])
    defaults = inspect.signature(recurrent_speed).parameters  # chapter 6's full-mode sizes
    for name in SIZES:
        parser.add_argument(f"--{name}", type=int, default=defaults[name].default)
    parser.add_argument("--json", type=Path, help="also write the table and the device here")
    args = parser.parse_args(argv)
    sizes = {k: getattr(args, k) for k in SIZES}
    runtime.full_float32_matmuls()  # as chapter 6 does, so the two tables compare
    try:
        table = recurrent_speed(**sizes)
    except ValueError as error:
        parser.error(str(error))
    from nlpbook.display import show_table

    print(runtime.describe())
    print(", ".join(f"{k} {v}" for k, v in sizes.items()) + "; median of the repeats")
    show_table(SPEED_HEADERS, speed_rows(table))
    if args.json:
        report = {"sizes": sizes, "backend": runtime.backend(), "devices": runtime.devices(),
                  "runtime": runtime.describe(), "speed": table}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        results.write_json(args.json, report)  # never a half-written report
    return 0
