import pytest
import tensorflow as tf

from nlpbook.pipelines import measure_throughput


def test_counts_examples_and_non_padding_tokens_over_epochs():
    ids = tf.constant([[[5, 6, 0], [7, 0, 0]], [[1, 2, 3], [4, 0, 0]]])
    ds = tf.data.Dataset.from_tensor_slices((ids, tf.zeros([2, 2], tf.int32)))
    r = measure_throughput(ds, epochs=3)
    assert (r["examples"], r["tokens"], r["epochs"]) == (12, 21, 3)
    assert r["seconds"] > 0
    assert r["examples_per_s"] == pytest.approx(12 / r["seconds"])
    assert r["tokens_per_s"] == pytest.approx(21 / r["seconds"])
    with pytest.raises(ValueError, match="epochs=0"):
        measure_throughput(ds, epochs=0)
    with pytest.raises(ValueError, match="warmup_epochs"):
        measure_throughput(ds, warmup_epochs=-1)


def test_warmup_epochs_are_not_counted_and_fill_the_cache():
    calls = []

    def record(x):
        calls.append(1)
        return x

    ds = (
        tf.data.Dataset.from_tensor_slices(tf.ones([6, 3], tf.int32))
        .map(lambda x: tf.py_function(record, [x], tf.int32))
        .cache()
        .batch(2)
    )
    r = measure_throughput(ds, epochs=2, warmup_epochs=1)
    assert (r["examples"], r["tokens"]) == (12, 36)
    assert len(calls) == 6  # only the warm-up epoch ran the map; the timed ones read the cache
