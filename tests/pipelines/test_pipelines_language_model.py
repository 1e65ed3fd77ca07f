import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import language_model_dataset, token_stream

STREAM = np.arange(1, 1001)  # token i is the number i, so positions are easy to check


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_element_spec():
    ds = language_model_dataset(STREAM, seq_len=16, batch_size=4)
    assert ds.element_spec == (
        tf.TensorSpec((4, 16), tf.int32),
        tf.TensorSpec((4, 16), tf.int32),
    )
    ds = language_model_dataset(STREAM, seq_len=16, batch_size=4, drop_remainder=False)
    assert ds.element_spec[0].shape.as_list() == [None, 16]


@pytest.mark.parametrize("seq_len", [1, 7, 10, 999])
def test_windows_tile_the_stream_and_targets_are_shifted_by_one(seq_len):
    ds = language_model_dataset(
        STREAM, seq_len=seq_len, batch_size=3, shuffle=False, drop_remainder=False
    )
    x, y = collect(ds)
    k = (len(STREAM) - 1) // seq_len
    assert x.shape == y.shape == (k, seq_len)
    np.testing.assert_array_equal(x.ravel(), STREAM[: k * seq_len])
    np.testing.assert_array_equal(y.ravel(), STREAM[1 : k * seq_len + 1])
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    assert len(STREAM) - 1 - x.size < seq_len  # only a tail shorter than one window is left


def test_shuffled_epochs_cover_every_window_once_in_new_reproducible_orders():
    def epochs(seed):
        ds = language_model_dataset(STREAM, seq_len=10, batch_size=9, seed=seed)
        return [collect(ds) for _ in range(2)]

    (x1, y1), (x2, _) = epochs(seed=0)
    np.testing.assert_array_equal(y1, x1 + 1)
    starts1, starts2 = x1[:, 0], x2[:, 0]
    # 99 windows, 11 full batches of 9: every window once, none dropped.
    np.testing.assert_array_equal(np.sort(starts1), np.arange(1, 991, 10))
    np.testing.assert_array_equal(np.sort(starts2), np.arange(1, 991, 10))
    assert not np.array_equal(starts1, starts2)
    (again, _), (again2, _) = epochs(seed=0)
    np.testing.assert_array_equal(again[:, 0], starts1)
    np.testing.assert_array_equal(again2[:, 0], starts2)
    (other, _), _ = epochs(seed=5)
    assert not np.array_equal(other[:, 0], starts1)


def test_overlapping_windows_with_a_smaller_stride():
    ds = language_model_dataset(
        STREAM, seq_len=10, stride=3, batch_size=8, shuffle=False, drop_remainder=False
    )
    x, y = collect(ds)
    starts = np.arange(0, len(STREAM) - 10, 3)
    assert len(x) == len(starts) == (len(STREAM) - 11) // 3 + 1
    for row, s in zip(x, starts, strict=True):
        np.testing.assert_array_equal(row, STREAM[s : s + 10])
    np.testing.assert_array_equal(y, x + 1)


def test_drop_remainder_keeps_full_batches_only():
    x, _ = collect(language_model_dataset(STREAM, seq_len=10, batch_size=8, shuffle=False))
    assert len(x) == 99 // 8 * 8


def test_texts_are_joined_with_eos_after_every_document():
    lookup = keras.layers.StringLookup(vocabulary=["the", "cat", "sat", "ran"], mask_token="")

    def encode(batch):
        return lookup(tf.strings.split(batch))

    texts = ["the cat sat", "cat ran", "the dog"]  # "dog" is OOV -> 1
    eos = 6
    stream = token_stream(texts, encode, eos_id=eos, chunk_size=2).numpy()
    np.testing.assert_array_equal(stream, [2, 3, 4, eos, 3, 5, eos, 2, 1, eos])
    ds = language_model_dataset(
        texts=texts, encode=encode, eos_id=eos, seq_len=3, batch_size=1, shuffle=False
    )
    x, y = collect(ds)
    np.testing.assert_array_equal(x.ravel(), stream[:9])
    np.testing.assert_array_equal(y.ravel(), stream[1:10])


def test_word_piece_nesting_is_flattened_per_text():
    def encode(batch):  # (texts, words, chars)
        return tf.strings.unicode_decode(tf.strings.split(batch), "UTF-8")

    stream = token_stream(["ab c", "d"], encode, eos_id=1).numpy()
    np.testing.assert_array_equal(stream, [97, 98, 99, 1, 100, 1])


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((STREAM,), {"seq_len": 0, "batch_size": 2}, "seq_len=0"),
        ((STREAM,), {"seq_len": -3, "batch_size": 2}, "seq_len=-3"),
        ((STREAM,), {"seq_len": 4, "batch_size": 0}, "batch_size=0"),
        ((STREAM,), {"seq_len": 4, "batch_size": 2, "stride": 0}, "stride=0"),
        ((STREAM[:5],), {"seq_len": 5, "batch_size": 1}, "5 tokens; a window needs"),
        ((STREAM[:20],), {"seq_len": 5, "batch_size": 8}, "fewer than one full batch"),
        ((), {"seq_len": 5, "batch_size": 1}, "exactly one of"),
        ((STREAM,), {"texts": ["a"], "seq_len": 5, "batch_size": 1}, "exactly one of"),
        ((), {"texts": ["a b"], "seq_len": 1, "batch_size": 1}, "needs `encode` and `eos_id`"),
        ((), {"texts": [], "encode": len, "eos_id": 1, "seq_len": 1, "batch_size": 1}, "empty"),
    ],
)
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        language_model_dataset(*args, **kwargs)


def test_padding_id_in_stream_is_refused():
    with pytest.raises(tf.errors.InvalidArgumentError, match="reserved for padding"):
        language_model_dataset(np.array([3, 0, 4, 5]), seq_len=2, batch_size=1)


def test_token_stream_with_an_nlpbook_tokenizer():
    from nlpbook import text

    tokenizer = text.ByteTokenizer(specials=("[PAD]", "[EOS]"))
    stream = token_stream(["hé", "ok"], tokenizer.encode, eos_id=1, chunk_size=1).numpy()
    expected = [b + 2 for b in "hé".encode()] + [1] + [b + 2 for b in b"ok"] + [1]
    np.testing.assert_array_equal(stream, expected)
    assert tokenizer.decode(stream[:3]).numpy().decode() == "hé"


def test_token_stream_accepts_text_vectorization_dense_output():
    vectorize = keras.layers.TextVectorization(vocabulary=["the", "cat", "sat"])
    stream = token_stream(["the cat sat", "cat"], vectorize, eos_id=9).numpy()
    np.testing.assert_array_equal(stream, [2, 3, 4, 9, 3, 9])


def test_token_stream_rejects_a_flat_encoding():
    with pytest.raises(TypeError, match="RaggedTensor"):
        token_stream(["a b"], lambda t: tf.constant([1, 2]), eos_id=3)
