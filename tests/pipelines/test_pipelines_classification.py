import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import padding_fraction, text_classification_dataset


def ids_of_epoch(ds):
    return np.concatenate([y.numpy() for _, y in ds])


def test_element_spec_dynamic_and_static_batch(corpus, codepoints):
    ids = np.arange(len(corpus))
    spec = text_classification_dataset(corpus, ids, codepoints, batch_size=8).element_spec
    assert spec == (
        tf.TensorSpec((None, None), tf.int32),
        tf.TensorSpec((None,), tf.int32),
    )
    spec = text_classification_dataset(
        corpus, ids, codepoints, batch_size=8, drop_remainder=True
    ).element_spec
    assert spec[0].shape.as_list() == [8, None] and spec[1].shape.as_list() == [8]


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("cache", [False, True])
@pytest.mark.parametrize("buckets", [None, [5, 20, 60]])
def test_every_example_exactly_once_per_epoch(corpus, shuffle, cache, buckets, codepoints):
    n = len(corpus)
    ds = text_classification_dataset(
        corpus,
        np.arange(n),
        codepoints,
        batch_size=7,
        shuffle=shuffle,
        cache=cache,
        bucket_boundaries=buckets,
    )
    for _ in range(2):
        seen = ids_of_epoch(ds)
        assert len(seen) == n
        np.testing.assert_array_equal(np.sort(seen), np.arange(n))


def test_unshuffled_order_is_input_order(corpus, codepoints):
    ds = text_classification_dataset(corpus, np.arange(len(corpus)), codepoints, shuffle=False)
    np.testing.assert_array_equal(ids_of_epoch(ds), np.arange(len(corpus)))


def test_drop_remainder_drops_only_the_last_small_batch(corpus, codepoints):
    ds = text_classification_dataset(
        corpus, np.arange(len(corpus)), codepoints, batch_size=7, drop_remainder=True
    )
    seen = ids_of_epoch(ds)
    assert len(seen) == len(corpus) // 7 * 7 and len(set(seen.tolist())) == len(seen)


def test_shuffle_new_order_each_epoch_and_reproducible_with_seed(corpus, codepoints):
    def two_epochs(seed):
        ds = text_classification_dataset(corpus, np.arange(len(corpus)), codepoints, seed=seed)
        return ids_of_epoch(ds), ids_of_epoch(ds)

    first, second = two_epochs(seed=1)
    assert not np.array_equal(first, second)
    again_first, again_second = two_epochs(seed=1)
    np.testing.assert_array_equal(first, again_first)
    np.testing.assert_array_equal(second, again_second)
    other, _ = two_epochs(seed=2)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("buckets", [None, [5, 20, 60]])
def test_padding_is_zero_and_lengths_preserved(corpus, buckets, codepoints):
    ds = text_classification_dataset(
        corpus, np.arange(len(corpus)), codepoints, batch_size=8, bucket_boundaries=buckets
    )
    for ids, labels in ds:
        assert ids.shape[1] == max(len(corpus[i]) for i in labels.numpy())
        for row, i in zip(ids.numpy(), labels.numpy(), strict=True):
            expected = codepoints(corpus[i]).numpy()
            np.testing.assert_array_equal(row[: len(expected)], expected)
            assert not row[len(expected) :].any()


def test_max_length_truncates(corpus, codepoints):
    ds = text_classification_dataset(
        corpus, np.arange(len(corpus)), codepoints, max_length=10, shuffle=False
    )
    ids, labels = next(iter(ds))
    assert ids.shape[1] == 10
    np.testing.assert_array_equal(ids[0], codepoints(corpus[0]).numpy()[:10])


def test_bucketing_groups_lengths_and_cuts_padding(corpus):
    def encode(t):  # one token (id 1) per whitespace-separated word
        return tf.ones_like(tf.strings.split(t), dtype=tf.int32)

    boundaries = [6, 11, 16, 21, 26]
    labels = np.arange(len(corpus))
    plain = text_classification_dataset(corpus, labels, encode, batch_size=8, seed=3)
    bucketed = text_classification_dataset(
        corpus, labels, encode, batch_size=8, seed=3, bucket_boundaries=boundaries
    )
    for ids, _ in bucketed:
        lengths = tf.math.count_nonzero(ids, axis=1).numpy()
        assert len(set(np.searchsorted(boundaries, lengths, side="right"))) == 1
    assert padding_fraction(bucketed) < padding_fraction(plain) - 0.2


def test_ragged_word_pieces_are_flattened_in_order():
    def encode(t):  # (words, pieces): each word -> its code points
        return tf.strings.unicode_decode(tf.strings.split(t), "UTF-8")

    ds = text_classification_dataset(["ab c", "d"], [0, 1], encode, shuffle=False, batch_size=2)
    ids, _ = next(iter(ds))
    np.testing.assert_array_equal(ids, [[97, 98, 99], [100, 0, 0]])


def test_text_vectorization_same_eagerly_and_inside_map(corpus):
    vectorize = keras.layers.TextVectorization()
    vectorize.adapt(corpus[:40])
    texts = corpus + ["an unseen word sat"]  # exercises the OOV id 1 too
    ds = text_classification_dataset(
        texts, np.arange(len(texts)), vectorize, batch_size=16, shuffle=False
    )
    for ids, labels in ds:
        for row, i in zip(ids.numpy(), labels.numpy(), strict=True):
            eager = keras.ops.convert_to_numpy(vectorize(tf.constant([texts[i]])))[0]
            eager = eager[eager != 0]
            np.testing.assert_array_equal(row[: len(eager)], eager)
            assert not row[len(eager) :].any()
    assert 1 in ids.numpy()[-1]


def test_string_lookup_same_eagerly_and_inside_map(corpus):
    lookup = keras.layers.StringLookup(vocabulary=["the", "cat", "sat"], mask_token="")

    def encode(t):
        return lookup(tf.strings.split(t))

    ds = text_classification_dataset(corpus, np.arange(len(corpus)), encode, shuffle=False)
    mapped = [row[row != 0] for ids, _ in ds for row in ids.numpy()]
    for text, row in zip(corpus, mapped, strict=True):
        np.testing.assert_array_equal(row, encode(tf.constant(text)).numpy())


def test_encoder_emitting_padding_id_fails_clearly():
    def encode(t):
        return tf.strings.unicode_decode(t, "UTF-8") * 0

    ds = text_classification_dataset(["abc"], [0], encode)
    with pytest.raises(tf.errors.InvalidArgumentError, match="reserved for padding"):
        next(iter(ds))


@pytest.mark.parametrize(
    ("texts", "labels", "kwargs", "error", "match"),
    [
        ([], [], {}, ValueError, "empty"),
        (["a", "b"], [0], {}, ValueError, "one label per text"),
        (["a", "  "], [0, 1], {}, ValueError, r"texts\[1\] is empty"),
        ([b"a", b"\xff"], [0, 1], {}, ValueError, r"texts\[1\] is not valid UTF-8"),
        ("abc", [0, 1, 2], {}, TypeError, "single string"),
        (["a"], [0.5], {}, TypeError, "integers"),
        (["a"], [0], {"batch_size": 0}, ValueError, "batch_size=0"),
        (["a"], [0], {"max_length": -1}, ValueError, "max_length=-1"),
        (["a"], [0], {"bucket_boundaries": [5, 5]}, ValueError, "strictly increasing"),
    ],
)
def test_bad_input_raises(texts, labels, kwargs, error, match, codepoints):
    with pytest.raises(error, match=match):
        text_classification_dataset(texts, labels, codepoints, **kwargs)


@pytest.mark.parametrize("which", ["wordpiece", "bytes"])
def test_nlpbook_tokenizers_same_eagerly_and_inside_map(corpus, which):
    from nlpbook import text

    if which == "wordpiece":
        vocab = ["[PAD]", "[UNK]", "the", "cat", "sat", "on", "a", "m", "##at", "d", "##og"]
        vocab += ["r", "##an", "f", "##ar", "aw", "##ay"]
        tokenizer = text.WordPieceTokenizer(vocab)
    else:
        tokenizer = text.ByteTokenizer(specials=("[PAD]",))
    texts = corpus + ["The cat ate"]  # upper case and an unknown word for WordPiece
    ds = text_classification_dataset(
        texts, np.arange(len(texts)), tokenizer.encode, batch_size=16, shuffle=False
    )
    eager = tokenizer.encode(texts).to_list()
    mapped = [row[row != 0].tolist() for ids, _ in ds for row in ids.numpy()]
    assert mapped == eager
    if which == "wordpiece":
        assert eager[-1] == [2, 3, 1]  # "the cat [UNK]"
