"""translation_dataset: teacher-forcing shifts, separate padding, every pair once per epoch."""

import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import translation_dataset
from nlpbook.text import WhitespaceTokenizer, WordLevelTokenizer

BOS, EOS = 2, 3


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    sources = [" ".join(rng.choice(words, rng.integers(1, 12))) for _ in range(57)]
    targets = [" ".join(rng.choice(words, rng.integers(1, 20))) for _ in range(57)]
    tok = WordLevelTokenizer.train(
        WhitespaceTokenizer(), sources + targets, specials=("[PAD]", "[UNK]", "<s>", "</s>")
    )
    return sources, targets, tok


def unpadded(row):
    row = list(row)
    return row[: len(row) - next((i for i, t in enumerate(reversed(row)) if t), len(row))]


def batches(ds):
    for (src, dec_in), dec_out in ds:
        yield src.numpy(), dec_in.numpy(), dec_out.numpy()


def test_teacher_forcing_shift_and_separate_padding(pairs):
    sources, targets, tok = pairs
    ds = translation_dataset(
        sources, targets, tok.encode, tok.encode, bos_id=BOS, eos_id=EOS, batch_size=8,
        shuffle=False,
    )  # fmt: skip
    seen = 0
    for src, dec_in, dec_out in batches(ds):
        assert dec_in.shape == dec_out.shape
        for s, i, o in zip(src, dec_in, dec_out, strict=True):
            ids = tok.encode([targets[seen]]).to_list()[0]
            assert unpadded(s) == tok.encode([sources[seen]]).to_list()[0]
            assert unpadded(i) == [BOS, *ids] and unpadded(o) == [*ids, EOS]
            seen += 1
        # each side is padded to its own longest sequence: both lengths are reached
        assert max(len(unpadded(s)) for s in src) == src.shape[1]
        assert max(len(unpadded(o)) for o in dec_out) == dec_out.shape[1]
    assert seen == len(sources)


@pytest.mark.parametrize("boundaries", [None, [5, 10, 15]])
def test_every_pair_once_per_epoch_in_a_new_order(pairs, boundaries):
    sources, targets, tok = pairs
    ds = translation_dataset(
        sources, targets, tok.encode, tok.encode, bos_id=BOS, eos_id=EOS, batch_size=8,
        bucket_boundaries=boundaries, seed=3,
    )  # fmt: skip
    epochs = []
    for _ in range(2):
        epoch = [
            (tuple(unpadded(s)), tuple(unpadded(o)))
            for src, _, dec_out in batches(ds)
            for s, o in zip(src, dec_out, strict=True)
        ]
        epochs.append(epoch)
    expected = sorted(
        (tuple(tok.encode([s]).to_list()[0]), (*tok.encode([t]).to_list()[0], EOS))
        for s, t in zip(sources, targets, strict=True)
    )
    assert sorted(epochs[0]) == sorted(epochs[1]) == expected
    assert epochs[0] != epochs[1]


def test_truncation_and_element_spec(pairs):
    sources, targets, tok = pairs
    ds = translation_dataset(
        sources, targets, tok.encode, tok.encode, bos_id=BOS, eos_id=EOS, batch_size=4,
        max_source_length=3, max_target_length=5, drop_remainder=True,
    )  # fmt: skip
    (src_spec, in_spec), out_spec = ds.element_spec
    assert src_spec.shape.as_list() == [4, None] and src_spec.dtype == tf.int32
    assert in_spec.shape.as_list() == out_spec.shape.as_list() == [4, None]
    for src, dec_in, dec_out in batches(ds):
        assert src.shape[1] <= 3 and dec_in.shape[1] <= 6
        assert np.all(dec_in[:, 0] == BOS)
        # a truncated target still ends with EOS: the model learns where to stop
        assert all(unpadded(o)[-1] == EOS for o in dec_out)


def test_bad_inputs_are_named(pairs):
    sources, targets, tok = pairs
    kw = {"bos_id": BOS, "eos_id": EOS}
    with pytest.raises(ValueError, match="aligned"):
        translation_dataset(sources, targets[:-1], tok.encode, tok.encode, **kw)
    with pytest.raises(ValueError, match="empty"):
        translation_dataset(["a", " "], ["b", "c"], tok.encode, tok.encode, **kw)
    with pytest.raises(ValueError, match="bos_id"):
        translation_dataset(sources, targets, tok.encode, tok.encode, bos_id=0, eos_id=EOS)
    with pytest.raises(ValueError, match="batch_size"):
        translation_dataset(sources, targets, tok.encode, tok.encode, batch_size=0, **kw)
    with pytest.raises(ValueError, match="UTF-8"):
        translation_dataset([b"\xff"], ["x"], tok.encode, tok.encode, **kw)


def test_pad_to_bucket_boundary_gives_one_shape_per_bucket(pairs):
    sources, targets, tok = pairs
    ds = translation_dataset(
        sources, targets, tok.encode, tok.encode, bos_id=BOS, eos_id=EOS, batch_size=8,
        max_source_length=11, max_target_length=19, bucket_boundaries=[5, 10, 15],
        pad_to_bucket_boundary=True, seed=1,
    )  # fmt: skip
    # decoder sides hold up to 19 + 1 tokens, so a last boundary of 21 is added: widths b - 1
    lower = {4: 0, 9: 5, 14: 10, 20: 15}
    seen = []
    for src, dec_in, dec_out in batches(ds):
        width = src.shape[1]
        assert dec_in.shape[1] == dec_out.shape[1] == width and width in lower
        for s, o in zip(src, dec_out, strict=True):
            # each pair sits in its own bucket: lower boundary <= its longer side < width + 1
            assert lower[width] <= max(len(unpadded(s)), len(unpadded(o))) <= width
            seen.append((tuple(unpadded(s)), tuple(unpadded(o))))
    expected = sorted(
        (tuple(tok.encode([s]).to_list()[0][:11]), (*tok.encode([t]).to_list()[0][:19], EOS))
        for s, t in zip(sources, targets, strict=True)
    )
    assert sorted(seen) == expected


def test_pad_to_bucket_boundary_needs_buckets_and_lengths(pairs):
    sources, targets, tok = pairs
    kw = {"bos_id": BOS, "eos_id": EOS, "pad_to_bucket_boundary": True}
    with pytest.raises(ValueError, match="needs `bucket_boundaries`"):
        translation_dataset(sources, targets, tok.encode, tok.encode, **kw)
    with pytest.raises(ValueError, match="max_source_length"):
        translation_dataset(
            sources, targets, tok.encode, tok.encode, bucket_boundaries=[5], max_source_length=4,
            **kw,
        )  # fmt: skip
