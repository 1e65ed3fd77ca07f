import re
from collections import Counter

import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines import (
    bert_inputs,
    bert_pretraining_dataset,
    language_model_dataset,
    masked_lm_dataset,
    masked_lm_inputs,
    nsp_pairs,
    packed_lm_blocks,
    split_sentences,
    wordpiece_words,
)
from nlpbook.text import WordPieceTokenizer

PAD, UNK, CLS, SEP, MASK = range(5)
SPECIAL = [PAD, UNK, CLS, SEP]
WORDS = ["the", "a", "cat", "cats", "dog", "sat", "ran", "on", "mat", "big", "far"]
WORDS += ["playing", "walked", "unaffable", "dogs", "."]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "sat", "ran"]
VOCAB += ["on", "mat", "big", "far", "play", "walk", "un", "##aff", "##able", "##s", "##ing"]
VOCAB += ["##ed", "."]


@pytest.fixture(scope="module")
def tok():
    return WordPieceTokenizer(VOCAB)


def count(n, rate, max_predictions):
    """tf-text's number of selections: ceil(n * rate) in float32, capped."""
    return min(int(np.ceil(np.float32(n) * np.float32(rate))), max_predictions)


def random_batch(rng, rows, low, high, vocab_size=1000, specials_inside=False):
    """[CLS] ids [SEP] rows of random non-special ids (optionally with specials sprinkled in)."""
    out = []
    for _ in range(rows):
        ids = rng.integers(5, vocab_size, size=rng.integers(low, high + 1))
        if specials_inside:
            spots = rng.random(len(ids)) < 0.4
            ids[spots] = rng.choice(SPECIAL + [MASK], size=spots.sum())
        out.append([CLS, *ids.tolist(), SEP])
    return out


def mask(ids, **kwargs):
    kwargs = {"vocab_size": 1000, "mask_id": MASK, "special_ids": SPECIAL} | kwargs
    out = masked_lm_inputs(ids, **kwargs)
    return {
        k: (v.to_list() if isinstance(v, tf.RaggedTensor) else v.numpy()) for k, v in out.items()
    }


def within(k, n, p, sigmas=4.0):
    return abs(k - n * p) <= sigmas * np.sqrt(n * p * (1 - p))


# ---------------------------------------------------------------------------------------------
# masked_lm_inputs


def test_selection_count_and_the_80_10_10_split():
    rng = np.random.default_rng(0)
    rows = random_batch(rng, 200, 60, 140)  # ~20k tokens
    out = mask(tf.ragged.constant(rows), max_predictions=32, seed=0)
    original = np.concatenate([r for r in rows])
    weights = out["mask_weights"]
    n_selectable = np.array([len(r) - 2 for r in rows])
    # tf-text's count is not random: ceil(rate * n) per sequence (n <= 140 keeps it under 32)
    expected = [count(n, 0.15, 32) for n in n_selectable]
    np.testing.assert_array_equal(weights.sum(axis=1), expected)
    selected = weights.sum() / n_selectable.sum()
    assert 0.15 <= selected < 0.15 + 1.0 / n_selectable.mean()  # the ceiling adds < 1 per row
    assert within(weights.sum(), n_selectable.sum(), 0.15, sigmas=8)  # loose: the count is fixed

    real = weights == 1
    new = np.take_along_axis(
        tf.ragged.constant(out["token_ids"]).to_tensor().numpy(), out["mask_positions"], 1
    )[real]
    old = out["mask_ids"][real]
    n = real.sum()
    is_mask, kept = new == MASK, new == old
    is_random = ~is_mask & ~kept
    # a random token equals the original one time in 995 (it is then counted as kept)
    assert within(is_mask.sum(), n, 0.8)
    assert within(is_random.sum(), n, 0.1 * (1 - 1 / 995))
    assert within(kept.sum(), n, 0.1 + 0.1 / 995)
    assert len(original) > 20_000


def test_random_tokens_are_never_special_and_cover_the_other_ids():
    rng = np.random.default_rng(1)
    vocab_size = 12  # ids 5..11 may be drawn; 0..4 are special or [MASK]
    rows = random_batch(rng, 100, 30, 60, vocab_size=vocab_size)
    out = mask(
        tf.ragged.constant(rows),
        vocab_size=vocab_size,
        max_predictions=60,
        rate=0.9,
        mask_token_rate=0.0,
        random_token_rate=1.0,
        seed=1,
    )
    real = out["mask_weights"] == 1
    ids = tf.ragged.constant(out["token_ids"]).to_tensor().numpy()
    drawn = np.take_along_axis(ids, out["mask_positions"], 1)[real]
    assert drawn.size > 3000
    assert set(drawn.tolist()) == set(range(5, vocab_size))
    assert Counter(drawn.tolist()).most_common()[-1][1] > drawn.size / 7 * 0.8  # near uniform


def test_labels_positions_weights_and_untouched_tokens():
    rng = np.random.default_rng(2)
    rows = random_batch(rng, 40, 1, 50)
    out = mask(tf.ragged.constant(rows), max_predictions=5, seed=2)
    assert out["mask_positions"].dtype == np.int32 and out["mask_ids"].dtype == np.int32
    assert out["mask_weights"].dtype == np.float32
    for row, masked, pos, ids, w in zip(
        rows,
        out["token_ids"],
        out["mask_positions"],
        out["mask_ids"],
        out["mask_weights"],
        strict=True,
    ):
        k = count(len(row) - 2, 0.15, 5)
        np.testing.assert_array_equal(w, [1.0] * k + [0.0] * (5 - k))
        np.testing.assert_array_equal(pos[k:], 0)  # padding predictions: position 0, id 0
        np.testing.assert_array_equal(ids[k:], 0)
        assert np.all(np.diff(pos[:k]) > 0)  # distinct, increasing
        np.testing.assert_array_equal(ids[:k], np.array(row)[pos[:k]])  # labels = original
        assert len(masked) == len(row)
        untouched = np.setdiff1d(np.arange(len(row)), pos[:k])
        np.testing.assert_array_equal(np.array(masked)[untouched], np.array(row)[untouched])


def test_special_ids_are_never_selected():
    rng = np.random.default_rng(3)
    rows = random_batch(rng, 60, 20, 40, specials_inside=True)
    out = mask(tf.ragged.constant(rows), max_predictions=40, rate=0.9, seed=3)
    for row, pos, w in zip(rows, out["mask_positions"], out["mask_weights"], strict=True):
        row = np.array(row)
        selectable = ~np.isin(row, SPECIAL + [MASK])
        k = int(w.sum())
        assert k == count(selectable.sum(), 0.9, 40)
        assert selectable[pos[:k]].all()


def test_whole_words_are_selected_whole():
    rng = np.random.default_rng(4)
    batch = []
    for _ in range(80):
        words = [[CLS]]
        for _ in range(rng.integers(3, 30)):
            word = rng.integers(5, 1000, size=rng.integers(1, 5)).tolist()
            if rng.random() < 0.1:
                word[rng.integers(len(word))] = UNK  # a word with a special piece: never chosen
            words.append(word)
        batch.append(words + [[SEP]])
    ids = tf.ragged.constant(batch, dtype=tf.int32, ragged_rank=2)
    for max_predictions in (200, 6):  # budget never binding, then often binding
        out = mask(ids, max_predictions=max_predictions, rate=0.3, seed=4)
        n_words_chosen = []
        for words, pos, w in zip(batch, out["mask_positions"], out["mask_weights"], strict=True):
            chosen = set(pos[w == 1].tolist())
            assert len(chosen) <= max_predictions
            starts = np.cumsum([0] + [len(word) for word in words])
            spans = [set(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
            whole = [span for span in spans if span <= chosen]
            assert all(span <= chosen or not (span & chosen) for span in spans)  # no partial word
            assert set().union(*whole) == chosen
            for word, span in zip(words, spans, strict=True):
                if span <= chosen:
                    assert not set(word) & set(SPECIAL + [MASK])
            selectable = sum(not set(word) & set(SPECIAL) for word in words)
            n_words_chosen.append((len(whole), count(selectable, 0.3, max_predictions)))
        got, want = np.array(n_words_chosen).T
        if max_predictions == 200:
            np.testing.assert_array_equal(got, want)
        else:
            assert np.all(got <= want) and np.any(got < want) and np.all(got >= 1)


def test_seeded_masking_is_the_same_eagerly_and_inside_dataset_map():
    rng = np.random.default_rng(5)
    flat = tf.ragged.constant(random_batch(rng, 8, 5, 30), dtype=tf.int32)
    words = tf.RaggedTensor.from_row_lengths(
        tf.RaggedTensor.from_row_lengths(flat.flat_values, [1] * int(tf.size(flat.flat_values))),
        flat.row_lengths(),
    )  # one piece per word: same ids, whole-word path
    kwargs = {"vocab_size": 1000, "mask_id": MASK, "special_ids": SPECIAL, "max_predictions": 6}

    def as_numpy(out):
        flat = {k: v.flat_values if isinstance(v, tf.RaggedTensor) else v for k, v in out.items()}
        return {k: v.numpy() for k, v in flat.items()}

    # tf-text's selector and chooser draw from TF's stateful generator; ours are fed stateless
    # random numbers derived from the seed, so the seed fixes the result in any context
    for ids in (flat, words):
        eager = as_numpy(masked_lm_inputs(ids, seed=7, **kwargs))
        again = as_numpy(masked_lm_inputs(ids, seed=7, **kwargs))
        ds = tf.data.Dataset.from_tensors(ids).map(lambda x: masked_lm_inputs(x, seed=7, **kwargs))
        mapped = as_numpy(next(iter(ds)))
        other = as_numpy(masked_lm_inputs(ids, seed=8, **kwargs))
        for key in eager:
            np.testing.assert_array_equal(eager[key], again[key])
            np.testing.assert_array_equal(eager[key], mapped[key])
        assert not np.array_equal(eager["mask_positions"], other["mask_positions"])
    fresh = [as_numpy(masked_lm_inputs(flat, **kwargs)) for _ in range(2)]  # seed=None
    assert not np.array_equal(fresh[0]["mask_positions"], fresh[1]["mask_positions"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate": 0.0}, "rate=0.0"),
        ({"rate": 1.0}, "rate=1.0"),
        ({"rate": -0.1}, "rate=-0.1"),
        ({"mask_token_rate": 0.95}, "mask_token_rate"),
        ({"random_token_rate": 1.5}, "random_token_rate=1.5"),
        ({"mask_id": 1000}, "mask_id=1000"),
        ({"special_ids": [0, -1]}, "special_ids=-1"),
        ({"max_predictions": 0}, "max_predictions=0"),
        ({"vocab_size": 0}, "vocab_size=0"),
        ({"seed": "x"}, "seed='x'"),
    ],
)
def test_masked_lm_inputs_rejects_bad_arguments(kwargs, match):
    ids = tf.ragged.constant([[CLS, 7, 8, SEP]])
    args = {"vocab_size": 1000, "mask_id": MASK, "special_ids": SPECIAL, "max_predictions": 3}
    with pytest.raises(ValueError, match=re.escape(match)):
        masked_lm_inputs(ids, **(args | kwargs))


def test_masked_lm_inputs_rejects_dense_or_float_ids_and_an_all_special_vocabulary():
    args = {"vocab_size": 5, "mask_id": MASK, "special_ids": SPECIAL, "max_predictions": 3}
    with pytest.raises(TypeError, match="token_ids"):
        masked_lm_inputs(tf.constant([[2, 7, 3]]), **args)
    with pytest.raises(TypeError, match="token_ids"):
        masked_lm_inputs(tf.ragged.constant([[2.0, 3.0]]), **args)
    with pytest.raises(ValueError, match="no id is left"):
        masked_lm_inputs(tf.ragged.constant([[2, 3]]), **args)


# ---------------------------------------------------------------------------------------------
# packing


def test_bert_inputs_pack_trim_and_pad_a_hand_example():
    a = tf.ragged.constant([[10, 11, 12, 13, 14, 15], [20], [30, 31]])
    b = tf.ragged.constant([[40, 41], [50, 51, 52, 53, 54, 55], [60, 61, 62, 63, 64, 65]])
    out = {
        k: v.numpy().tolist()
        for k, v in bert_inputs(a, b, cls_id=2, sep_id=3, max_length=10, pad_id=0).items()
    }
    # budget 7: the short segment stays whole, the long one is cut; two long ones share
    assert out["token_ids"] == [
        [2, 10, 11, 12, 13, 14, 3, 40, 41, 3],
        [2, 20, 3, 50, 51, 52, 53, 54, 55, 3],
        [2, 30, 31, 3, 60, 61, 62, 63, 64, 3],
    ]
    assert out["segment_ids"] == [
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
        [0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    ]
    assert all(all(row) for row in out["padding_mask"])
    long = tf.ragged.constant([[10, 11, 12, 13, 14, 15], [20, 21, 22, 23]])
    both_long = bert_inputs(long, long + 30, cls_id=2, sep_id=3, max_length=8)
    assert both_long["token_ids"].numpy().tolist() == [
        [2, 10, 11, 12, 3, 40, 41, 3],  # A gets the odd place
        [2, 20, 21, 22, 3, 50, 51, 3],
    ]
    single = bert_inputs(
        tf.ragged.constant([[7, 8], [9, 9, 9, 9, 9]]), cls_id=2, sep_id=3, max_length=6, pad_id=1
    )
    assert single["token_ids"].numpy().tolist() == [[2, 7, 8, 3, 1, 1], [2, 9, 9, 9, 9, 3]]
    assert single["segment_ids"].numpy().tolist() == [[0] * 6, [0] * 6]
    assert single["padding_mask"].dtype == tf.bool
    assert single["padding_mask"].numpy().tolist() == [[True] * 4 + [False] * 2, [True] * 6]


def test_bert_inputs_in_dataset_map_batched_and_unbatched():
    a = tf.ragged.constant([[10, 11, 12], [20]])
    b = tf.ragged.constant([[40], [50, 51, 52, 53]])
    expected = bert_inputs(a, b, cls_id=2, sep_id=3, max_length=7)
    ds = tf.data.Dataset.from_tensor_slices((a, b))
    per_example = ds.map(lambda x, y: bert_inputs(x, y, cls_id=2, sep_id=3, max_length=7))
    assert per_example.element_spec["token_ids"] == tf.TensorSpec((7,), tf.int32)
    batched = ds.ragged_batch(2).map(
        lambda x, y: bert_inputs(x, y, cls_id=2, sep_id=3, max_length=7)
    )
    assert batched.element_spec["padding_mask"] == tf.TensorSpec((None, 7), tf.bool)
    got = next(iter(batched))
    rows = list(per_example)
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])
        np.testing.assert_array_equal(np.stack([r[key] for r in rows]), expected[key])


def _head_and_tail_reference(ids, head, budget):
    # the cut written out in Python: a row that fits stays whole, else its first `head` ids and
    # its last `budget - head`
    if len(ids) <= budget:
        return ids
    return ids[:head] + ids[len(ids) - (budget - head) :]


@pytest.mark.parametrize("keep_head", [0, 1, 3, 6])
def test_bert_inputs_keep_head_and_tail_equals_python_slicing(keep_head):
    rng = np.random.default_rng(keep_head)
    rows = [list(range(100, 100 + n)) for n in (0, 1, 5, 6, 7, 12)]
    rows += [rng.integers(5, 99, size=int(rng.integers(0, 20))).tolist() for _ in range(20)]
    out = bert_inputs(tf.ragged.constant(rows, dtype=tf.int32), cls_id=2, sep_id=3,
                      max_length=8, keep_head=keep_head)  # fmt: skip
    for row, got, mask in zip(rows, out["token_ids"].numpy(), out["padding_mask"].numpy(),
                              strict=True):  # fmt: skip
        kept = _head_and_tail_reference(row, keep_head, 6)
        expected = [2, *kept, 3] + [0] * (6 - len(kept))
        assert got.tolist() == expected
        assert mask.tolist() == [True] * (len(kept) + 2) + [False] * (6 - len(kept))
    # keep_head = the whole budget is the default cut at the end
    np.testing.assert_array_equal(
        bert_inputs(tf.ragged.constant(rows), cls_id=2, sep_id=3, max_length=8, keep_head=6)[
            "token_ids"
        ],
        bert_inputs(tf.ragged.constant(rows), cls_id=2, sep_id=3, max_length=8)["token_ids"],
    )
    # inside Dataset.map, one example at a time
    ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows[:6]))
    mapped = ds.map(lambda x: bert_inputs(x, cls_id=2, sep_id=3, max_length=8, keep_head=keep_head))
    for got, want in zip(mapped, out["token_ids"].numpy()[:6], strict=True):
        np.testing.assert_array_equal(got["token_ids"], want)


def test_bert_inputs_errors():
    a = tf.ragged.constant([[5, 6]])
    with pytest.raises(ValueError, match=r"at least 5\. Received: max_length=4"):
        bert_inputs(a, a, cls_id=2, sep_id=3, max_length=4)
    with pytest.raises(ValueError, match=r"at least 3\. Received: max_length=2"):
        bert_inputs(a, cls_id=2, sep_id=3, max_length=2)
    with pytest.raises(ValueError, match="cls_id=-1"):
        bert_inputs(a, cls_id=-1, sep_id=3, max_length=8)
    with pytest.raises(TypeError, match="second_ids"):
        bert_inputs(a, tf.ragged.constant([[1.5]]), cls_id=2, sep_id=3, max_length=8)
    with pytest.raises(ValueError, match=r"\[0, 6\]. Received: keep_head=7"):
        bert_inputs(a, cls_id=2, sep_id=3, max_length=8, keep_head=7)
    with pytest.raises(ValueError, match="keep_head=-1"):
        bert_inputs(a, cls_id=2, sep_id=3, max_length=8, keep_head=-1)
    with pytest.raises(ValueError, match="single text"):
        bert_inputs(a, a, cls_id=2, sep_id=3, max_length=8, keep_head=2)


def test_wordpiece_words_groups_continuation_pieces(tok):
    ids = tok.encode(["the unaffable cats", "playing"])
    ids = tf.concat([tf.fill([2, 1], CLS), ids, tf.fill([2, 1], SEP)], axis=1)
    words = wordpiece_words(ids, tok)
    assert [[[tok.id_to_token(i) for i in w] for w in row] for row in words.to_list()] == [
        [["[CLS]"], ["the"], ["un", "##aff", "##able"], ["cat", "##s"], ["[SEP]"]],
        [["[CLS]"], ["play", "##ing"], ["[SEP]"]],
    ]
    np.testing.assert_array_equal(words.merge_dims(1, 2).flat_values, ids.flat_values)
    # a sequence that starts with a continuation piece (cut by trimming) starts a word there
    assert wordpiece_words(tf.ragged.constant([[20, 7], []]), tok).to_list() == [[[20], [7]], []]


# ---------------------------------------------------------------------------------------------
# sentences and next-sentence pairs


def test_split_sentences():
    assert split_sentences("Great film! I loved it. The end") == [
        "Great film!",
        "I loved it.",
        "The end",
    ]
    review = 'It was "Perfect." Then it ended.<br /><br />A sequel?  No.<BR>one more<br/>'
    assert split_sentences(review) == [
        'It was "Perfect."',
        "Then it ended.",
        "A sequel?",
        "No.",
        "one more",
    ]
    # not an end: lowercase, a digit or no space after the mark
    assert split_sentences("It cost 3.50 dollars. wow... really 2. Done.") == [
        "It cost 3.50 dollars. wow... really 2.",
        "Done.",
    ]
    assert split_sentences("Mr. Smith came.") == ["Mr.", "Smith came."]  # documented limitation
    assert split_sentences(" <br /> ") == []
    with pytest.raises(TypeError, match="text"):
        split_sentences(["a list"])


def tagged_documents(rng, n_docs):
    """Document d, sentence i reads 'd{d}s{i}' plus filler words, so pairs can be traced back."""
    docs = []
    for d in range(n_docs):
        n = int(rng.integers(0, 12))
        docs.append([f"d{d}s{i} " + "w " * int(rng.integers(2, 15)) + "end." for i in range(n)])
    return docs


def tags(text):
    return [(int(d), int(s)) for d, s in re.findall(r"d(\d+)s(\d+)", text)]


def test_nsp_pairs_positive_b_follows_a_and_negative_b_comes_from_another_document():
    rng = np.random.default_rng(6)
    docs = tagged_documents(rng, 300)
    first, second, is_next = nsp_pairs(docs, seed=0, target_words=40)
    assert is_next.dtype == np.int32 and len(first) == len(second) == len(is_next) > 300
    assert within(is_next.sum(), len(is_next), 0.5)
    next_start = {}
    for a, b, label in zip(first, second, is_next, strict=True):
        ta, tb = tags(a), tags(b)
        d = ta[0][0]
        assert len(docs[d]) >= 2
        assert {t[0] for t in ta} == {d}
        a_ids = [t[1] for t in ta]
        assert a_ids == list(range(a_ids[0], a_ids[-1] + 1))  # consecutive sentences
        assert a_ids[0] >= next_start.get(d, 0)  # pairs of a document do not overlap
        assert a == " ".join(docs[d][a_ids[0] : a_ids[-1] + 1])
        assert a_ids[-1] + 1 < len(docs[d])  # A always leaves a sentence after it
        a_words = [len(s.split()) for s in docs[d][a_ids[0] : a_ids[-1] + 1]]
        assert sum(a_words[:-1]) < 20  # A stopped once it reached half the budget
        assert sum(a_words) >= 20 or a_ids[-1] + 2 == len(docs[d])
        b_doc = {t[0] for t in tb}
        b_ids = [t[1] for t in tb]
        assert len(b_doc) == 1 and b_ids == list(range(b_ids[0], b_ids[-1] + 1))
        (o,) = b_doc
        assert b == " ".join(docs[o][b_ids[0] : b_ids[-1] + 1])
        if label == 1:
            assert o == d and b_ids[0] == a_ids[-1] + 1  # exactly the text that follows A
            next_start[d] = b_ids[-1] + 1
        else:
            assert o != d
            next_start[d] = a_ids[-1] + 2  # at least the true B's first sentence was skipped
    short = {d for d, doc in enumerate(docs) if len(doc) < 2}
    assert short and not short & {tags(a)[0][0] for a in first}


def test_nsp_pairs_is_deterministic_and_follows_next_fraction():
    rng = np.random.default_rng(7)
    docs = tagged_documents(rng, 300)
    a1, b1, y1 = nsp_pairs(docs, seed=3, next_fraction=0.2, target_words=30)
    a2, b2, y2 = nsp_pairs(docs, seed=3, next_fraction=0.2, target_words=30)
    assert (a1, b1) == (a2, b2) and np.array_equal(y1, y2)
    assert within(y1.sum(), len(y1), 0.2)
    _, b3, y3 = nsp_pairs(docs, seed=4, next_fraction=0.2, target_words=30)
    assert b3 != b1 or not np.array_equal(y3, y1)
    # the pairs' A segments do not depend on the labels: same for any seed or fraction
    assert nsp_pairs(docs, seed=9, next_fraction=0.9, target_words=30)[0] == a1
    assert nsp_pairs(docs, seed=0, next_fraction=1.0, target_words=30)[2].min() == 1
    assert nsp_pairs(docs, seed=0, next_fraction=0.0, target_words=30)[2].max() == 0


@pytest.mark.parametrize(
    ("documents", "kwargs", "error", "match"),
    [
        ([], {}, ValueError, "`documents` is empty"),
        ([["One."], ["Two."]], {}, ValueError, "two sentences"),
        ([["One.", "Two."]], {}, ValueError, "another document"),
        (["One. Two."], {}, TypeError, r"documents\[0\]"),
        ([["One.", 2]], {}, TypeError, r"documents\[0\]\[1\]"),
        ([["A.", "B."], ["C."]], {"target_words": 0}, ValueError, "target_words=0"),
        ([["A.", "B."], ["C."]], {"next_fraction": 1.5}, ValueError, "next_fraction=1.5"),
    ],
)
def test_nsp_pairs_errors(documents, kwargs, error, match):
    with pytest.raises(error, match=match):
        nsp_pairs(documents, seed=0, **kwargs)


# ---------------------------------------------------------------------------------------------
# data sets


def sentences(rng, n):
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 12)))) for _ in range(n)]


def restore(x, y, w):
    """The unmasked packed ids of each example: the labels written back at their positions."""
    ids = x["token_ids"].numpy().copy()
    pos, labels, real = x["mask_positions"].numpy(), y["mlm"].numpy(), w["mlm"].numpy() == 1
    for row, p, lab, r in zip(ids, pos, labels, real, strict=True):
        row[p[r]] = lab[r]
    return ids


def epoch(ds):
    """(restored ids, nsp label, chosen positions) for every example of one epoch."""
    out = []
    for x, y, w in ds:
        real = w["mlm"].numpy() == 1
        nsp = y["nsp"].numpy() if "nsp" in y else np.zeros(len(real), int)
        for ids, label, p, r in zip(
            restore(x, y, w), nsp, x["mask_positions"].numpy(), real, strict=True
        ):
            out.append((tuple(ids.tolist()), int(label), tuple(p[r].tolist())))
    return out


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(8)
    return sentences(rng, 70), sentences(rng, 70), rng.integers(0, 2, size=70)


def pretraining(pairs, tok, seed=0):
    return bert_pretraining_dataset(
        *pairs, tok, max_length=24, max_predictions=4, batch_size=16, rate=0.2, seed=seed
    )


@pytest.fixture(scope="module")
def two_epochs(pairs, tok):
    """One data set (building it costs seconds of tracing) and its first two epochs."""
    ds = pretraining(pairs, tok)
    return ds, [epoch(ds) for _ in range(2)]


def test_bert_pretraining_dataset_element_spec(two_epochs):
    ds, _ = two_epochs
    seq, pred = tf.TensorSpec((None, 24), tf.int32), tf.TensorSpec((None, 4), tf.int32)
    assert ds.element_spec == (
        {
            "token_ids": seq,
            "segment_ids": seq,
            "padding_mask": tf.TensorSpec((None, 24), tf.bool),
            "mask_positions": pred,
        },
        {"mlm": pred, "nsp": tf.TensorSpec((None,), tf.int32)},
        {"mlm": tf.TensorSpec((None, 4), tf.float32), "nsp": tf.TensorSpec((None,), tf.float32)},
    )


def test_every_pair_once_per_epoch_with_labels_and_masks_consistent(tok, pairs, two_epochs):
    first, second, is_next = pairs
    ds, epochs = two_epochs
    packed = bert_inputs(
        tok.encode(first), tok.encode(second), cls_id=CLS, sep_id=SEP, max_length=24
    )
    rows = packed["token_ids"].numpy().tolist()
    expected = Counter((tuple(r), int(label)) for r, label in zip(rows, is_next, strict=True))
    segment_ids = {tuple(r): s for r, s in zip(rows, packed["segment_ids"].numpy(), strict=True)}
    for examples in epochs:
        # restoring the labels at mask_positions gives back the packed pairs: each exactly once
        assert Counter((ids, label) for ids, label, _ in examples) == expected
        for ids, _, chosen in examples:
            ids = np.array(ids)
            assert not np.isin(ids[list(chosen)], [PAD, UNK, CLS, SEP]).any()
            assert len(chosen) == count(int((ids != PAD).sum()) - 3, 0.2, 4)
    for x, y, w in ds.take(2):
        ids, pad = x["token_ids"].numpy(), ~x["padding_mask"].numpy()
        np.testing.assert_array_equal(ids[pad], PAD)
        np.testing.assert_array_equal(w["nsp"], 1.0)
        for row, segments in zip(restore(x, y, w), x["segment_ids"].numpy(), strict=True):
            np.testing.assert_array_equal(segments, segment_ids[tuple(row.tolist())])


def test_masking_is_dynamic_across_epochs_and_reproducible_from_the_seed(tok, pairs, two_epochs):
    _, (e1, e2) = two_epochs
    masks1 = {ids: chosen for ids, _, chosen in e1}
    masks2 = {ids: chosen for ids, _, chosen in e2}
    differ = sum(masks1[ids] != masks2[ids] for ids in masks1)
    assert differ > 0.5 * len(masks1)  # a new masking of (almost) every pair each epoch
    assert [ids for ids, _, _ in e1] != [ids for ids, _, _ in e2]  # and a new order
    assert epoch(pretraining(pairs, tok, seed=0)) == e1  # the seed gives the same first epoch


def test_whole_word_dataset_masks_whole_words(tok):
    rng = np.random.default_rng(9)
    long_words = ["unaffable", "cats", "playing", "walked", "dogs", "the", "a"]
    texts = [" ".join(rng.choice(long_words, size=int(rng.integers(3, 9)))) for _ in range(40)]
    ds = masked_lm_dataset(
        texts,
        tok,
        max_length=20,
        max_predictions=8,
        batch_size=8,
        whole_word=True,
        rate=0.3,
        drop_remainder=True,
    )
    assert ds.element_spec[0]["token_ids"].shape.as_list() == [8, 20]  # static batch size
    assert ds.element_spec[1]["mlm"].shape.as_list() == [8, 8]
    seen = 0
    for ids, _, chosen in epoch(ds):
        ids = [i for i in ids if i != PAD]
        words = wordpiece_words(tf.ragged.constant([ids]), tok).to_list()[0]
        starts = np.cumsum([0] + [len(w) for w in words])
        spans = [set(range(a, b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]
        chosen = set(chosen)
        assert all(span <= chosen or not (span & chosen) for span in spans)
        seen += sum(len(span) > 1 and span <= chosen for span in spans)
    assert seen > 10  # multi-piece words were chosen, whole


def test_masked_lm_dataset_single_segments(tok):
    rng = np.random.default_rng(10)
    texts = sentences(rng, 30)
    ds = masked_lm_dataset(
        texts, tok, max_length=16, max_predictions=3, batch_size=8, shuffle=False
    )
    x, y, w = ds.element_spec
    assert set(x) == {"token_ids", "segment_ids", "padding_mask", "mask_positions"}
    assert set(y) == set(w) == {"mlm"}
    packed = bert_inputs(tok.encode(texts), cls_id=CLS, sep_id=SEP, max_length=16)
    restored = [ids for ids, _, _ in epoch(ds)]
    assert restored == [tuple(r) for r in packed["token_ids"].numpy().tolist()]
    for x, _, _ in ds:
        np.testing.assert_array_equal(x["segment_ids"], 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"max_length": 4}, ValueError, "max_length=4"),
        ({"rate": 1.0}, ValueError, "rate=1.0"),
        ({"batch_size": 0}, ValueError, "batch_size=0"),
        ({"max_predictions": -1}, ValueError, "max_predictions=-1"),
        ({"is_next": [1, 2]}, ValueError, "is_next"),
        ({"first": []}, ValueError, "`first` is empty"),
        ({"second": ["a", " "]}, ValueError, r"second\[1\] is empty"),
        ({"second": ["a"]}, ValueError, "same length"),
        (
            {"tokenizer": WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])},
            ValueError,
            r"\[MASK\]",
        ),
    ],
)
def test_bert_pretraining_dataset_errors(tok, kwargs, error, match):
    args = {"first": ["a cat", "a dog"], "second": ["the mat", "a cat"], "is_next": [1, 0]}
    args |= {"tokenizer": tok} | kwargs
    with pytest.raises(error, match=match):
        bert_pretraining_dataset(
            args.pop("first"),
            args.pop("second"),
            args.pop("is_next"),
            args.pop("tokenizer"),
            **args,
        )


# ---------------------------------------------------------------------------------------------
# GPT blocks


def test_packed_lm_blocks_cover_the_stream_once_with_targets_shifted():
    lookup = keras.layers.StringLookup(vocabulary=[str(i) for i in range(100)], mask_token="")

    def encode(batch):
        return lookup(tf.strings.split(batch))

    rng = np.random.default_rng(11)
    texts = [" ".join(map(str, rng.integers(0, 100, size=rng.integers(1, 20)))) for _ in range(40)]
    stream = np.concatenate([[int(t) + 2 for t in text.split()] + [101] for text in texts])
    ds = packed_lm_blocks(
        texts, encode, eos_id=101, block_size=8, batch_size=4, shuffle=False, drop_remainder=False
    )
    x, y = (
        np.concatenate(parts)
        for parts in zip(*[(a.numpy(), b.numpy()) for a, b in ds], strict=True)
    )
    k = (len(stream) - 1) // 8
    np.testing.assert_array_equal(x.ravel(), stream[: k * 8])
    np.testing.assert_array_equal(y.ravel(), stream[1 : k * 8 + 1])
    np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
    same = language_model_dataset(
        texts=texts, encode=encode, eos_id=101, seq_len=8, batch_size=4, seed=3
    )
    ours = packed_lm_blocks(texts, encode, eos_id=101, block_size=8, batch_size=4, seed=3)
    assert ours.element_spec == (tf.TensorSpec((4, 8), tf.int32),) * 2
    for (a, b), (c, d) in zip(ours, same, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    with pytest.raises(ValueError, match="eos_id=0"):
        packed_lm_blocks(texts, encode, eos_id=0, block_size=8, batch_size=4)
    with pytest.raises(ValueError, match="empty"):
        packed_lm_blocks([], encode, eos_id=101, block_size=8, batch_size=4)
