"""Measuring how fast a tf.data pipeline delivers examples and tokens."""

from __future__ import annotations

import time

import tensorflow as tf

from nlpbook.pipelines._checks import positive_int


def measure_throughput(
    dataset: tf.data.Dataset, *, epochs: int = 1, warmup_epochs: int = 0, pad_id: int = 0
) -> dict:
    """Iterates ``dataset`` for ``epochs`` timed passes and reports examples/s and tokens/s.

    Only the pipeline is timed (nothing is trained), so the numbers are the rate at which the
    input pipeline could feed a model on this machine; they depend on the CPU, the core count
    and what else is running, and are comparable only between runs on the same machine. The
    first pass of a pipeline also starts its threads and, with ``cache()``, does all the work
    that later epochs skip: ``warmup_epochs=1`` leaves it out of the timing (steady state).

    Args:
        dataset: batches ``(token_ids (batch, time), ...)``; tokens are positions that are
            not ``pad_id``.
        epochs: timed passes over ``dataset``.
        warmup_epochs: untimed passes before the timed ones.
        pad_id: the padding id, not counted as a token.

    Returns:
        ``{"examples": n, "tokens": t, "seconds": s, "examples_per_s": n / s,
        "tokens_per_s": t / s, "epochs": epochs}`` with counts summed over the timed epochs.

    Example:
        >>> ds = tf.data.Dataset.from_tensors((tf.constant([[5, 6, 0]]), tf.constant([1])))
        >>> r = measure_throughput(ds, epochs=2)
        >>> r["examples"], r["tokens"]
        (2, 4)
    """
    epochs = positive_int("epochs", epochs)
    if isinstance(warmup_epochs, bool) or not isinstance(warmup_epochs, int) or warmup_epochs < 0:
        raise ValueError(f"`warmup_epochs` must be an int >= 0. Received: {warmup_epochs!r}")
    for _ in range(warmup_epochs):
        for _ in dataset:
            pass
    examples = tokens = 0
    start = time.perf_counter()
    for _ in range(epochs):
        for batch in dataset:
            ids = batch[0] if isinstance(batch, tuple) else batch
            examples += int(tf.shape(ids)[0])
            tokens += int(tf.math.count_nonzero(ids != pad_id))
    seconds = time.perf_counter() - start
    return {
        "examples": examples,
        "tokens": tokens,
        "seconds": seconds,
        "examples_per_s": examples / seconds,
        "tokens_per_s": tokens / seconds,
        "epochs": epochs,
    }
