"""Pretraining data: BERT's masked-LM inputs, next-sentence pairs and packing; GPT's blocks.

The pieces, from text to batches:

- ``split_sentences`` cuts English prose into sentences; ``nsp_pairs`` turns documents (lists
  of sentences) into next-sentence-prediction pairs.
- ``bert_inputs`` packs one or two segments as ``[CLS] A [SEP] B [SEP]``, trimmed and padded.
- ``masked_lm_inputs`` applies BERT's masking (15 % of the tokens selected, of those 80 %
  ``[MASK]``, 10 % a random token, 10 % unchanged), per token or per whole word;
  ``wordpiece_words`` regroups WordPiece ids into words for whole-word masking.
- ``bert_pretraining_dataset`` (MLM + NSP) and ``masked_lm_dataset`` (MLM only, as RoBERTa)
  put these together, masking each batch anew every epoch (dynamic masking).
- ``packed_lm_blocks``: GPT's data, documents joined into one stream and cut into blocks.

The selection, trimming, packing and masking are tf-text's ops (``RandomItemSelector``,
``mask_language_model``, ``RoundRobinTrimmer``, ``combine_segments``, ``pad_model_inputs``);
this module chooses their arguments and feeds them stateless random numbers so that a seed
gives the same masking eagerly and inside ``Dataset.map``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.pipelines._checks import as_labels, as_texts, positive_int
from nlpbook.pipelines.language_model import language_model_dataset

# ---------------------------------------------------------------------------------------------
# argument checks


def _fraction(name: str, value, *, low_open: bool, high_open: bool) -> float:
    """``value`` as a float in the interval given, or a ``ValueError`` naming ``name``."""
    ok = isinstance(value, int | float | np.floating | np.integer) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (value > 0 if low_open else value >= 0) and (value < 1 if high_open else value <= 1)
    if not ok:
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return value


def _token_id(name: str, value, vocab_size: int | None = None) -> int:
    """``value`` as an int id ``>= 0`` (and ``< vocab_size`` if given), or a ``ValueError``."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool) and value >= 0
    if ok and vocab_size is not None:
        ok = value < vocab_size
    if not ok:
        bound = f" and < vocab_size={vocab_size}" if vocab_size is not None else ""
        raise ValueError(f"`{name}` must be an integer id >= 0{bound}. Received: {name}={value!r}")
    return int(value)


def _named_texts(name: str, texts) -> np.ndarray:
    """``as_texts``, with its errors naming the argument ``name`` rather than ``texts``."""
    try:
        return as_texts(texts)
    except (TypeError, ValueError) as e:
        message = str(e).replace("`texts`", f"`{name}`").replace("texts[", f"{name}[")
        raise type(e)(message) from None


def _as_seed(seed) -> tf.Tensor:
    """A stateless-random seed: shape ``(2,)`` int64. ``None`` draws one (fresh every call)."""
    if seed is None:
        return tf.random.uniform([2], 0, 2**62, dtype=tf.int64)
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return tf.constant([0, int(seed)], tf.int64)
    if isinstance(seed, tf.Tensor) and seed.dtype.is_integer and seed.shape.rank in (0, 1):
        seed = tf.cast(seed, tf.int64)
        if seed.shape.rank == 0:
            return tf.stack([tf.constant(0, tf.int64), seed])
        return tf.ensure_shape(seed, [2])
    raise ValueError(
        "`seed` must be None, an int, or an integer tensor of shape () or (2,). "
        f"Received: seed={seed!r}"
    )


def _as_ragged_ids(name: str, ids) -> tf.RaggedTensor:
    """Checks a batch of ragged ids and returns it as int32 (ragged rank 1 or 2 kept)."""
    if isinstance(ids, list | tuple):
        ids = tf.ragged.constant(ids, dtype=tf.int32)
    if not isinstance(ids, tf.RaggedTensor) or ids.ragged_rank not in (1, 2):
        raise TypeError(
            f"`{name}` must be a tf.RaggedTensor of shape (batch, None) or (batch, words, "
            f"pieces). Received: {type(ids).__name__} of shape {getattr(ids, 'shape', None)}"
        )
    if ids.flat_values.shape.rank != 1 or not ids.dtype.is_integer:
        raise TypeError(
            f"`{name}` must hold integer ids with no dense inner dimension. Received: "
            f"dtype {ids.dtype}, shape {ids.shape}"
        )
    return tf.cast(ids, tf.int32)


# ---------------------------------------------------------------------------------------------
# masked language model


class _WholeWordSelector(tf_text.RandomItemSelector):
    """``RandomItemSelector`` over whole words, with a budget of pieces.

    Given ``(batch, words, pieces)`` ids, tf-text's own selector would shuffle each row's words
    by their index in the row, which is the same in every row, so a stateless shuffle could not
    tell rows apart. This one runs tf-text's selection on a ``(batch, words)`` view (1 for a
    word that holds a special piece or no piece, 0 otherwise, with 1 unselectable), whose
    positions are distinct across the batch, then applies the piece budget.
    """

    def __init__(self, special_ids, max_predictions, rate, seed):
        select_seed, self._budget_seed = tf.unstack(tf.random.experimental.stateless_split(seed))
        super().__init__(
            max_predictions, rate, unselectable_ids=[1], shuffle_fn=_row_shuffle(select_seed)
        )
        self._special_ids = tf.constant(special_ids, tf.int32)
        self._max_predictions = max_predictions

    def get_selection_mask(self, input_ids, axis=1):
        special = tf.reduce_any(input_ids.flat_values[:, None] == self._special_ids, axis=1)
        word_lengths = input_ids.row_lengths(axis=2)  # (batch, words)
        bad = tf.reduce_any(input_ids.with_flat_values(special), axis=2)
        bad = bad.with_flat_values(bad.flat_values | (word_lengths.flat_values == 0))
        chosen = super().get_selection_mask(tf.cast(bad, tf.int32), axis=1)
        return _fit_piece_budget(chosen, word_lengths, self._max_predictions, self._budget_seed)


class _StatelessMaskValues(tf_text.MaskValuesChooser):
    """tf-text's 80/10/10 rule with two changes: stateless random numbers (so that a seed
    reproduces it in any context) and random tokens drawn from ``replacement_ids`` only (tf-text
    draws from the whole vocabulary, ``[CLS]``, ``[PAD]`` and ``[MASK]`` included)."""

    def __init__(self, replacement_ids, mask_id, mask_token_rate, random_token_rate, seed):
        super().__init__(len(replacement_ids), mask_id, mask_token_rate, random_token_rate)
        self._replacements = tf.constant(replacement_ids, tf.int32)
        self._rates = (mask_token_rate, mask_token_rate + random_token_rate)
        self._seeds = tf.random.experimental.stateless_split(seed, 2)

    def get_mask_values(self, masked_lm_ids):
        ids = masked_lm_ids.flat_values
        n = tf.shape(ids)
        # one number per selected piece decides [MASK] / random / keep (as tf-text does: in
        # whole-word masking each piece of a word decides on its own, as in Google's BERT code)
        u = tf.random.stateless_uniform(n, self._seeds[0])
        pick = tf.random.stateless_uniform(
            n, self._seeds[1], 0, tf.size(self._replacements), dtype=tf.int32
        )
        random_ids = tf.gather(self._replacements, pick)
        p_mask, p_random = self._rates
        values = tf.where(
            u < p_mask,
            tf.cast(self.mask_token, ids.dtype),
            tf.where(u < p_random, random_ids, ids),
        )
        return masked_lm_ids.with_flat_values(values)


def _row_shuffle(seed: tf.Tensor) -> Callable[[tf.Tensor], tf.Tensor]:
    """A stateless ``shuffle_fn`` for ``RandomItemSelector``.

    The selector shuffles each row on its own and passes only that row's item positions, which
    are positions in the whole batch's flat values, so they differ between rows: folding the
    first one into the seed gives every row its own random order.
    """

    def shuffle(positions):
        row_key = tf.cast(tf.reduce_min(positions), tf.int64)  # empty row: int max, harmless
        row_seed = tf.random.experimental.stateless_fold_in(seed, row_key)
        return tf.random.experimental.stateless_shuffle(positions, row_seed)

    return shuffle


def _fit_piece_budget(chosen, word_lengths, max_predictions, seed):
    """Drops chosen words, in a random order, once their pieces exceed ``max_predictions``.

    ``chosen`` and ``word_lengths`` are ``(batch, words)``. The chosen words are taken in a
    random order and kept while the running total of their pieces is ``<= max_predictions``.
    """
    lengths = tf.where(chosen.flat_values, word_lengths.flat_values, 0)
    keys = tf.random.stateless_uniform(tf.shape(lengths), seed)
    keys = tf.where(chosen.flat_values, keys, 2.0)  # unchosen words go last
    keys = chosen.with_flat_values(keys).to_tensor(3.0)  # (batch, max_words)
    lengths = chosen.with_flat_values(lengths).to_tensor(0)
    order = tf.argsort(keys, axis=1, stable=True)
    total = tf.cumsum(tf.gather(lengths, order, batch_dims=1), axis=1)
    fits = tf.gather(total <= max_predictions, tf.argsort(order, axis=1), batch_dims=1)
    fits = tf.RaggedTensor.from_tensor(fits, lengths=chosen.row_lengths())
    return chosen.with_flat_values(chosen.flat_values & fits.flat_values)


def masked_lm_inputs(
    token_ids,
    *,
    vocab_size: int,
    mask_id: int,
    special_ids: Sequence[int],
    max_predictions: int,
    rate: float = 0.15,
    mask_token_rate: float = 0.8,
    random_token_rate: float = 0.1,
    seed=None,
) -> dict[str, tf.Tensor | tf.RaggedTensor]:
    """BERT's masked-LM masking of a batch of token ids.

    **How many.** The selection is ``tf_text.RandomItemSelector``'s: in each sequence, of the
    ``n`` items that may be selected (every token whose id is not in ``special_ids`` and not
    ``mask_id``), exactly ``min(ceil(rate * n), max_predictions)`` are chosen, uniformly at
    random without replacement. The count is not random, and the ceiling rounds up: a sequence
    of 10 selectable tokens gets 2 (20 %) at ``rate=0.15``; a sequence with at least one
    selectable token always gets at least one. The product is taken in float32, so one that
    should be whole can round up once more: ``100 * 0.15`` gives ``15.000001``, hence 16.

    **Whole words.** Given ``(batch, words, pieces)``, the items are words: a word is
    selectable when none of its pieces is special (and it has a piece), ``n`` counts words,
    and all pieces of a chosen word are masked. Because one word can hold several pieces,
    chosen words are then taken in a random order and kept while their pieces add up to at
    most ``max_predictions``; a word that would overflow is dropped with every word after it
    in that order (Google's BERT code skips such a word instead, trying the next).

    **What replaces them.** Each selected piece independently becomes ``mask_id`` with
    probability ``mask_token_rate``, a random id with probability ``random_token_rate``
    (uniform over the ids in ``[0, vocab_size)`` that are neither special nor ``mask_id``, so
    possibly itself), and stays as it was otherwise; it is a prediction target in all three
    cases. Replacement is per piece also in whole-word masking.

    The work is done by tf-text: ``RandomItemSelector`` selects, ``mask_language_model``
    gathers the labels and scatters the new values, and a ``MaskValuesChooser`` subclass picks
    them. Two things differ from tf-text's defaults, which draw from TensorFlow's stateful
    global generator and draw random tokens from the whole vocabulary: the random numbers are
    stateless, derived from ``seed``, and random tokens are never special. So the same ``seed``
    and the same batch give the same result eagerly, in ``tf.function`` and in
    ``Dataset.map``. With ``seed=None`` a new seed is drawn
    at every call (in a ``Dataset.map``, at every element), so the masking changes each time.

    Args:
        token_ids: a ``tf.RaggedTensor`` of integer ids, ``(batch, None)`` for per-token
            masking or ``(batch, words, pieces)`` for whole-word masking (see
            ``wordpiece_words``); padding must be removed (pass the ragged ids, or list
            ``pad_id`` in ``special_ids``).
        vocab_size: ids are in ``[0, vocab_size)``; random tokens are drawn from it.
        mask_id: the ``[MASK]`` id; never selected itself.
        special_ids: ids never selected and never drawn as random tokens (``[CLS]``, ``[SEP]``,
            ``[PAD]``, usually ``[UNK]``).
        max_predictions: the most predictions per sequence, and the width of the outputs.
        rate: the fraction of selectable items selected, in ``(0, 1)``.
        mask_token_rate: the probability that a selected piece becomes ``mask_id``.
        random_token_rate: the probability that it becomes a random token; the two add to
            at most 1.
        seed: ``None``, an int, or an integer tensor of shape ``()`` or ``(2,)`` (a stateless
            seed, e.g. one drawn per batch by ``tf.data.Dataset.random``).

    Returns:
        A dict:
        ``"token_ids"``: the masked ids, ``tf.RaggedTensor`` int32 ``(batch, None)`` (words
        flattened into their pieces);
        ``"mask_positions"``: int32 ``(batch, max_predictions)``, the selected positions in
        that flat sequence in increasing order, then 0;
        ``"mask_ids"``: int32 ``(batch, max_predictions)``, the original ids there, then 0;
        ``"mask_weights"``: float32 ``(batch, max_predictions)``, 1.0 for each real prediction
        and 0.0 for the padding after them.

    Raises:
        TypeError: ``token_ids`` is not a ragged batch of integer ids.
        ValueError: ``vocab_size`` or ``max_predictions`` not positive, an id outside
            ``[0, vocab_size)``, ``rate`` outside ``(0, 1)``, the two replacement rates outside
            ``[0, 1]`` or adding to more than 1, or no id left to draw random tokens from.

    Example:
        >>> ids = tf.ragged.constant([[2, 10, 11, 12, 13, 3], [2, 14, 3]])  # [CLS] ... [SEP]
        >>> out = masked_lm_inputs(ids, vocab_size=20, mask_id=4, special_ids=[0, 1, 2, 3],
        ...                        max_predictions=3, rate=0.5, seed=1)
        >>> out["mask_weights"].numpy().tolist()  # ceil(0.5 * 4) = 2 and ceil(0.5 * 1) = 1
        [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
        >>> real = out["mask_weights"].numpy() == 1.0
        >>> at = np.take_along_axis(ids.to_tensor().numpy(), out["mask_positions"].numpy(), 1)
        >>> bool(np.all(at[real] == out["mask_ids"].numpy()[real]))  # labels: the original ids
        True
    """
    token_ids = _as_ragged_ids("token_ids", token_ids)
    vocab_size = positive_int("vocab_size", vocab_size)
    max_predictions = positive_int("max_predictions", max_predictions)
    rate = _fraction("rate", rate, low_open=True, high_open=True)
    mask_token_rate = _fraction("mask_token_rate", mask_token_rate, low_open=False, high_open=False)
    random_token_rate = _fraction(
        "random_token_rate", random_token_rate, low_open=False, high_open=False
    )
    if mask_token_rate + random_token_rate > 1:
        raise ValueError(
            "`mask_token_rate + random_token_rate` must be <= 1. Received: "
            f"mask_token_rate={mask_token_rate}, random_token_rate={random_token_rate}"
        )
    mask_id = _token_id("mask_id", mask_id, vocab_size)
    if isinstance(special_ids, int | np.integer | str | bytes):
        raise TypeError(f"`special_ids` must be a sequence of ids. Received: {special_ids!r}")
    unselectable = sorted(
        {_token_id("special_ids", i, vocab_size) for i in special_ids} | {mask_id}
    )
    replacements = np.setdiff1d(np.arange(vocab_size), unselectable).astype(np.int32)
    if replacements.size == 0 and random_token_rate > 0:
        raise ValueError(
            "Every id is special: no id is left to draw random tokens from. Received: "
            f"vocab_size={vocab_size}, special_ids={list(special_ids)}, mask_id={mask_id}"
        )
    if replacements.size == 0:
        replacements = np.array([mask_id], np.int32)  # never drawn (random_token_rate == 0)
    select_seed, values_seed = tf.unstack(tf.random.experimental.stateless_split(_as_seed(seed)))
    if token_ids.ragged_rank == 1:
        selector = tf_text.RandomItemSelector(
            max_selections_per_batch=max_predictions,  # per sequence, despite its name
            selection_rate=rate,
            unselectable_ids=unselectable,
            shuffle_fn=_row_shuffle(select_seed),
        )
    else:
        selector = _WholeWordSelector(unselectable, max_predictions, rate, select_seed)
    masked, positions, original = tf_text.mask_language_model(
        token_ids,
        selector,
        _StatelessMaskValues(
            replacements.tolist(), mask_id, mask_token_rate, random_token_rate, values_seed
        ),
        axis=1,
    )
    width = [None, max_predictions]
    return {
        "token_ids": masked,
        "mask_positions": tf.cast(positions, tf.int32).to_tensor(0, shape=width),
        "mask_ids": tf.cast(original, tf.int32).to_tensor(0, shape=width),
        "mask_weights": tf.ones_like(original, tf.float32).to_tensor(0.0, shape=width),
    }


def wordpiece_words(token_ids, tokenizer) -> tf.RaggedTensor:
    """Regroups WordPiece ids ``(batch, pieces)`` into words ``(batch, words, pieces)``.

    A piece whose token starts with the tokenizer's ``suffix_indicator`` (``##``) continues the
    word before it; any other piece, and the first piece of each sequence, starts a word.
    ``[CLS]``, ``[SEP]`` and ``[MASK]`` are therefore words of their own. This is the input
    ``masked_lm_inputs`` needs for whole-word masking.

    Args:
        token_ids: a ``tf.RaggedTensor`` ``(batch, None)`` of the tokenizer's ids.
        tokenizer: a ``nlpbook.text.WordPieceTokenizer`` (its ``vocabulary`` and
            ``suffix_indicator`` are used).

    Returns:
        An int32 ``tf.RaggedTensor`` ``(batch, words, pieces)`` with the same flat values.

    Example:
        >>> from nlpbook.text import WordPieceTokenizer
        >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "un", "##aff", "##able", "cat"])
        >>> ids = tok.encode(["unaffable cat"])
        >>> wordpiece_words(ids, tok).to_list()
        [[[2, 3, 4], [5]]]
    """
    ids = _as_ragged_ids("token_ids", token_ids)
    if ids.ragged_rank != 1:
        raise ValueError(f"`token_ids` must be (batch, pieces). Received shape {ids.shape}")
    suffix = tokenizer.suffix_indicator
    continues = tf.constant([t.startswith(suffix) for t in tokenizer.vocabulary])
    starts = ~tf.gather(continues, ids.flat_values) | (
        tf.ragged.range(ids.row_lengths()).flat_values == 0
    )
    words = tf.RaggedTensor.from_row_starts(ids.flat_values, tf.where(starts)[:, 0])
    words_per_row = tf.reduce_sum(ids.with_flat_values(tf.cast(starts, tf.int64)), axis=1)
    return tf.RaggedTensor.from_row_lengths(words, words_per_row)


# ---------------------------------------------------------------------------------------------
# packing


def bert_inputs(
    first_ids,
    second_ids=None,
    *,
    cls_id: int,
    sep_id: int,
    max_length: int,
    pad_id: int = 0,
    keep_head: int | None = None,
) -> dict[str, tf.Tensor]:
    """Packs one or two segments as BERT reads them: ``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``.

    The segments are first trimmed so that the packed sequence fits ``max_length`` with
    ``tf_text.RoundRobinTrimmer``: it hands out the ``max_length - 3`` places (``- 2`` for one
    segment) one at a time to each segment in turn, so a short segment is kept whole and the
    longer one is cut; two long ones end up equal (A gets the odd place). That gives the same
    lengths as BERT's ``truncate_seq_pair`` (which removes tokens from the longer one), except
    that we always cut at the end while BERT also cuts at the front, at random.

    A long single text can instead keep its beginning *and* its end (``keep_head``): of the
    ``max_length - 2`` places, the first ``keep_head`` go to the text's first tokens and the
    rest to its last ones, and the middle is dropped. Sun et al. (2019, "How to fine-tune BERT
    for text classification") found this "head + tail" cut better than either end alone on
    IMDB, whose reviews often state their verdict in the last sentences.
    ``tf_text.combine_segments`` then adds ``[CLS]``/``[SEP]`` and the segment ids, and
    ``tf_text.pad_model_inputs`` pads.

    Args:
        first_ids: segment A: a ``tf.RaggedTensor`` ``(batch, None)`` (or ``(batch, words,
            pieces)``, flattened), a list of lists of ids, or a 1-D tensor for one example (as
            inside ``Dataset.map`` before batching).
        second_ids: segment B, the same shape, or ``None`` for single segments.
        cls_id, sep_id: the ``[CLS]`` and ``[SEP]`` ids.
        max_length: the packed length; at least 3 (5 with ``second_ids``) so that every
            segment keeps one token.
        pad_id: the id written after the end.
        keep_head: ``None`` cuts a long text at its end; an integer in ``[0, max_length - 2]``
            keeps that many tokens from the front and fills the rest of the budget from the
            back (``0`` keeps only the end). Single segments only.

    Returns:
        A dict of dense tensors ``(batch, max_length)`` (``(max_length,)`` for one example):
        ``"token_ids"`` int32, ``"segment_ids"`` int32 (0 for ``[CLS]``, A and its ``[SEP]``,
        1 for B and its ``[SEP]``, 0 on padding) and ``"padding_mask"`` **bool**, True on
        real tokens (the name and convention of keras-hub's BERT).

    Raises:
        ValueError: ``max_length`` too small, a bad id, ``keep_head`` out of range or given with
            ``second_ids``; TypeError: ids that are not integers.

    Example:
        >>> a = tf.ragged.constant([[10, 11, 12, 13, 14], [20]])
        >>> b = tf.ragged.constant([[30, 31], [40, 41, 42, 43, 44]])
        >>> out = bert_inputs(a, b, cls_id=2, sep_id=3, max_length=9)
        >>> out["token_ids"].numpy().tolist()
        [[2, 10, 11, 12, 13, 3, 30, 31, 3], [2, 20, 3, 40, 41, 42, 43, 44, 3]]
        >>> out["segment_ids"].numpy().tolist()[1]
        [0, 0, 0, 1, 1, 1, 1, 1, 1]
        >>> long = tf.ragged.constant([[10, 11, 12, 13, 14, 15, 16], [20, 21]])
        >>> cut = bert_inputs(long, cls_id=2, sep_id=3, max_length=6, keep_head=1)
        >>> cut["token_ids"].numpy().tolist()  # 1 from the front, 3 from the back
        [[2, 10, 14, 15, 16, 3], [2, 20, 21, 3, 0, 0]]
    """
    cls_id = _token_id("cls_id", cls_id)
    sep_id = _token_id("sep_id", sep_id)
    pad_id = _token_id("pad_id", pad_id)
    max_length = positive_int("max_length", max_length)
    names = ["first_ids"] if second_ids is None else ["first_ids", "second_ids"]
    segments = [first_ids] if second_ids is None else [first_ids, second_ids]
    need = 1 + 2 * len(segments)  # [CLS], one [SEP] and one token per segment
    if max_length < need:
        raise ValueError(
            f"`max_length` must leave room for [CLS], {len(segments)} [SEP] and a token per "
            f"segment: at least {need}. Received: max_length={max_length}"
        )
    single = isinstance(first_ids, tf.Tensor) and first_ids.shape.rank == 1
    if single:
        segments = [tf.RaggedTensor.from_tensor(tf.reshape(s, [1, -1])) for s in segments]
    segments = [_as_ragged_ids(n, s) for n, s in zip(names, segments, strict=True)]
    segments = [s.merge_dims(1, 2) if s.ragged_rank == 2 else s for s in segments]
    budget = max_length - 1 - len(segments)
    if keep_head is not None:
        if second_ids is not None:
            raise ValueError(
                "`keep_head` cuts a single text; pairs are trimmed round-robin. Received: "
                f"keep_head={keep_head!r} with second_ids"
            )
        if isinstance(keep_head, bool) or not isinstance(keep_head, int) or not (
            0 <= keep_head <= budget
        ):  # fmt: skip
            raise ValueError(
                f"`keep_head` must be an integer in [0, max_length - 2] = [0, {budget}]. "
                f"Received: keep_head={keep_head!r}"
            )
        segments = [_keep_head_and_tail(segments[0], keep_head, budget - keep_head)]
    trimmed = tf_text.RoundRobinTrimmer(budget).trim(segments)
    ids, segment_ids = tf_text.combine_segments(trimmed, cls_id, sep_id)
    token_ids, mask = tf_text.pad_model_inputs(ids, max_length, pad_value=pad_id)
    segment_ids, _ = tf_text.pad_model_inputs(segment_ids, max_length, pad_value=0)
    out = {
        "token_ids": tf.cast(token_ids, tf.int32),
        "segment_ids": tf.cast(segment_ids, tf.int32),
        "padding_mask": tf.cast(mask, tf.bool),
    }
    return {k: v[0] for k, v in out.items()} if single else out


def _keep_head_and_tail(ids: tf.RaggedTensor, head: int, tail: int) -> tf.RaggedTensor:
    """Each row's first ``head`` and last ``tail`` ids; a row of at most ``head + tail`` is kept."""
    lengths = ids.row_lengths()
    position = tf.ragged.range(lengths)
    # a row of length L keeps position i when i < head or i >= L - tail; when L <= head + tail
    # every position qualifies
    start_of_tail = tf.expand_dims(lengths - tail, 1)
    keep = (position < head) | (position >= start_of_tail)
    return tf.ragged.boolean_mask(ids, keep)


# ---------------------------------------------------------------------------------------------
# next-sentence pairs

_BREAK = re.compile(r"(?:\s*<br\s*/?>\s*)+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"""(?:(?<=[.!?])|(?<=[.!?]["'”’)]))\s+(?=["'“‘(]?[A-Z])""")


def split_sentences(text: str) -> list[str]:
    """Splits English prose into sentences with a simple rule, ``<br />`` tags included.

    The rules: (1) every run of HTML line-break tags (``<br />``, ``<br/>``, ``<br>``, any case,
    as in IMDB reviews) ends a sentence, punctuation or not; (2) a sentence ends at ``.``,
    ``!`` or ``?`` (optionally followed by a closing quote or parenthesis) when whitespace and
    then an ASCII capital letter (optionally after an opening quote or parenthesis) follow.
    The punctuation stays with its sentence; runs of whitespace become one space; empty
    sentences are dropped.

    It errs on abbreviations (``"Mr. Smith"`` is cut after ``Mr.``) and misses ends before
    a lowercase word, a digit or a non-ASCII capital; good enough to cut reviews into
    sentence-sized pieces for next-sentence pairs, not a linguistic segmenter.

    Args:
        text: one document, ``str``.

    Returns:
        The sentences, a list of ``str`` (empty for blank text).

    Example:
        >>> split_sentences('Great film! I loved it.<br /><br />"Ten out of ten." Really? yes.')
        ['Great film!', 'I loved it.', '"Ten out of ten."', 'Really? yes.']
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str. Received: {type(text).__name__}")
    sentences = []
    for block in _BREAK.split(text):
        for sentence in _SENTENCE_END.split(block):
            sentence = " ".join(sentence.split())
            if sentence:
                sentences.append(sentence)
    return sentences


def _check_documents(documents) -> list[list[str]]:
    if isinstance(documents, str | bytes):
        raise TypeError("`documents` must be a sequence of documents, not a single string.")
    documents = list(documents)
    if not documents:
        raise ValueError("`documents` is empty: next-sentence pairs need documents.")
    checked = []
    for d, doc in enumerate(documents):
        if isinstance(doc, str | bytes):
            raise TypeError(
                f"documents[{d}] must be a sequence of sentences, not a string (cut it with "
                "split_sentences first)."
            )
        sentences = []
        for s, sentence in enumerate(doc):
            if not isinstance(sentence, str):
                raise TypeError(
                    f"documents[{d}][{s}] must be a str. Received: {type(sentence).__name__}"
                )
            if sentence.strip():
                sentences.append(sentence.strip())
        checked.append(sentences)
    return checked


def _span(sentences: list[str], words: list[int], start: int, stop_at: int, budget: float):
    """The end of a span of sentences from ``start``: at least one, more while the words
    so far are fewer than ``budget`` and the span stays below ``stop_at``."""
    end, total = start + 1, words[start]
    while end < stop_at and total < budget:
        total += words[end]
        end += 1
    return end, total


def nsp_pairs(
    documents: Sequence[Sequence[str]],
    *,
    seed: int,
    target_words: int = 80,
    next_fraction: float = 0.5,
) -> tuple[list[str], list[str], np.ndarray]:
    """Next-sentence-prediction pairs: ``(A, B, is_next)`` from documents of sentences.

    Each document is cut from its start into consecutive, non-overlapping pieces ``A + B``
    (counting words as whitespace-separated):

    - A takes sentences while it has fewer than ``target_words / 2`` words, always at least
      one and always leaving at least one sentence after it;
    - the true continuation B takes the next sentences while A and B together have fewer than
      ``target_words`` words, at least one;
    - the next pair starts after B. A last lone sentence is dropped; documents with fewer than
      two sentences give no pair.

    With probability ``next_fraction`` (independently for each pair) the pair keeps its true B
    (``is_next = 1``). Otherwise (``is_next = 0``) B is replaced by text from another document,
    chosen uniformly among the documents with a sentence (never A's own): from a random
    sentence onwards, sentences while B has fewer words than the true B had (at least one), so
    that B's length says nothing about the label. The true B of a NotNext pair is not used
    (BERT's code puts it back for later pairs; we do not, so that the number of pairs does not
    depend on the labels and the IsNext fraction is exactly binomial).

    With ``target_words = 80`` (the default) a pair of English prose is about 110 WordPiece
    tokens (punctuation marks and some word pieces add to the count), about right for
    ``max_length = 128``; longer pairs are trimmed by ``bert_inputs``.

    Args:
        documents: a sequence of documents, each a sequence of sentences (``str``; e.g. from
            ``split_sentences``). Blank sentences are skipped.
        seed: seed of the ``numpy`` generator; the same seed gives the same pairs.
        target_words: the word budget of ``A + B``.
        next_fraction: the probability of a true continuation, in ``[0, 1]``.

    Returns:
        ``(first, second, is_next)``: two lists of ``str`` (sentences joined by a space) and an
        int32 array of labels (1 = IsNext, 0 = NotNext), in document order.

    Raises:
        ValueError: ``documents`` empty, no document with two sentences, NotNext pairs asked
            for with fewer than two documents that have a sentence, ``target_words`` not
            positive or ``next_fraction`` outside ``[0, 1]``. TypeError: a document given as
            one string, or a sentence that is not a ``str``.

    Example:
        >>> docs = [["A1.", "A2.", "A3.", "A4."], ["B1.", "B2."]]
        >>> first, second, is_next = nsp_pairs(docs, seed=0, target_words=2, next_fraction=1.0)
        >>> list(zip(first, second))
        [('A1.', 'A2.'), ('A3.', 'A4.'), ('B1.', 'B2.')]
    """
    documents = _check_documents(documents)
    target_words = positive_int("target_words", target_words)
    next_fraction = _fraction("next_fraction", next_fraction, low_open=False, high_open=False)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ValueError(f"`seed` must be an int. Received: seed={seed!r}")
    if not any(len(doc) >= 2 for doc in documents):
        raise ValueError(
            f"No document in `documents` has two sentences: no pair can be made from "
            f"{len(documents)} documents."
        )
    with_text = np.array([d for d, doc in enumerate(documents) if doc])
    if next_fraction < 1 and len(with_text) < 2:
        raise ValueError(
            "NotNext pairs take B from another document, but `documents` has "
            f"{len(with_text)} document with sentences (next_fraction={next_fraction})."
        )
    rng = np.random.default_rng(seed)
    counts = [[len(s.split()) for s in doc] for doc in documents]
    first, second, is_next = [], [], []
    for d, (doc, words) in enumerate(zip(documents, counts, strict=True)):
        start = 0
        while start + 1 < len(doc):
            a_end, a_words = _span(doc, words, start, len(doc) - 1, target_words / 2)
            b_end, b_words = _span(doc, words, a_end, len(doc), target_words - a_words)
            if rng.random() < next_fraction:
                b, label = doc[a_end:b_end], 1
            else:
                others = with_text[with_text != d]
                o = int(others[rng.integers(len(others))])
                k = int(rng.integers(len(documents[o])))
                k_end, _ = _span(documents[o], counts[o], k, len(documents[o]), b_words)
                b, label = documents[o][k:k_end], 0
            first.append(" ".join(doc[start:a_end]))
            second.append(" ".join(b))
            is_next.append(label)
            start = b_end
    return first, second, np.array(is_next, np.int32)


# ---------------------------------------------------------------------------------------------
# data sets


def _special_ids(tokenizer) -> dict[str, int]:
    ids = {}
    for token in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        try:
            ids[token] = tokenizer.token_to_id(token)
        except (KeyError, ValueError):
            raise ValueError(
                f"`tokenizer` has no {token} token; BERT pretraining needs [PAD], [UNK], [CLS], "
                "[SEP] and [MASK] (WordPieceTokenizer.train reserves them by default)."
            ) from None
    return ids


def _pretraining_dataset(
    segments, is_next, tokenizer, *, max_length, max_predictions, batch_size, whole_word, rate,
    shuffle, seed, drop_remainder,
) -> tf.data.Dataset:  # fmt: skip
    """The shared body of ``bert_pretraining_dataset`` and ``masked_lm_dataset``."""
    ids = _special_ids(tokenizer)
    max_length = positive_int("max_length", max_length)
    max_predictions = positive_int("max_predictions", max_predictions)
    batch_size = positive_int("batch_size", batch_size)
    rate = _fraction("rate", rate, low_open=True, high_open=True)
    need = 1 + 2 * len(segments)
    if max_length < need:
        raise ValueError(
            f"`max_length` must leave room for [CLS], {len(segments)} [SEP] and a token per "
            f"segment: at least {need}. Received: max_length={max_length}"
        )
    n = len(segments[0])
    columns = tuple(segments) + ((is_next,) if is_next is not None else ())

    # plain TF and tf-text ops, no Python control flow on tensors: AutoGraph has nothing to
    # convert, and converting tf-text's code would cost seconds of tracing per data set
    @tf.autograph.experimental.do_not_convert
    def encode(*texts):
        encoded = tuple(tokenizer.encode(t) for t in texts[: len(segments)])
        return encoded + texts[len(segments) :]

    @tf.autograph.experimental.do_not_convert
    def pack(*batch):
        packed = bert_inputs(
            *batch[: len(segments)],
            cls_id=ids["[CLS]"],
            sep_id=ids["[SEP]"],
            max_length=max_length,
            pad_id=ids["[PAD]"],
        )
        return (packed,) + batch[len(segments) :]

    @tf.autograph.experimental.do_not_convert
    def mask(packed_and_labels, draw_seed):
        packed, *labels = packed_and_labels
        lengths = tf.reduce_sum(tf.cast(packed["padding_mask"], tf.int32), axis=1)
        tokens = tf.RaggedTensor.from_tensor(packed["token_ids"], lengths=lengths)
        if whole_word:
            tokens = wordpiece_words(tokens, tokenizer)
        masked = masked_lm_inputs(
            tokens,
            vocab_size=tokenizer.vocab_size,
            mask_id=ids["[MASK]"],
            special_ids=[ids["[PAD]"], ids["[UNK]"], ids["[CLS]"], ids["[SEP]"]],
            max_predictions=max_predictions,
            rate=rate,
            seed=draw_seed,
        )
        features = {
            "token_ids": masked["token_ids"].to_tensor(ids["[PAD]"], shape=[None, max_length]),
            "segment_ids": packed["segment_ids"],
            "padding_mask": packed["padding_mask"],
            "mask_positions": masked["mask_positions"],
        }
        y = {"mlm": masked["mask_ids"]}
        w = {"mlm": masked["mask_weights"]}
        if labels:
            y["nsp"] = labels[0]
            w["nsp"] = tf.ones_like(labels[0], tf.float32)
        if drop_remainder:  # the ragged ops lose the static batch size
            return tf.nest.map_structure(
                lambda t: tf.ensure_shape(t, [batch_size, *t.shape[1:]]), (features, y, w)
            )
        return features, y, w

    # tokenize once (in batches, which the tokenizer does faster), then cache the ids
    ds = tf.data.Dataset.from_tensor_slices(columns).batch(1024)
    ds = ds.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.unbatch().cache()
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.ragged_batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(pack, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # one stateless seed per batch, new every epoch (dynamic masking) and reproducible; as the
    # seed travels with the batch, the parallel map cannot change which batch gets which
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    ds = tf.data.Dataset.zip(ds, seeds)
    ds = ds.map(mask, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def bert_pretraining_dataset(
    first: Sequence[str],
    second: Sequence[str],
    is_next: Sequence[int],
    tokenizer,
    *,
    max_length: int = 128,
    max_predictions: int = 20,
    batch_size: int = 32,
    whole_word: bool = False,
    rate: float = 0.15,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """BERT's pretraining batches: masked-LM plus next-sentence prediction.

    The pipeline: the pairs are tokenized once (``tokenizer.encode``) and cached; every epoch
    they are shuffled, batched, packed by ``bert_inputs`` (``[CLS] A [SEP] B [SEP]``, trimmed
    to ``max_length``, padded) and masked by ``masked_lm_inputs`` in a ``Dataset.map`` after
    batching. Each batch gets its own stateless seed from ``tf.data.Dataset.random(seed)``,
    drawn anew each epoch, so every epoch masks differently (dynamic masking, as RoBERTa; BERT
    masked each sequence once, offline, and repeated the data 10 times with different masks),
    and the same ``seed`` reproduces the whole sequence of epochs.

    Masking excludes ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]`` (and ``[MASK]``): they are never
    selected nor drawn as random tokens. With ``whole_word=True`` the pieces are regrouped into
    words (``wordpiece_words``: a ``##`` piece belongs to the word before it) and whole words
    are masked; ``rate`` then counts words.

    Args:
        first, second: the segments A and B of each pair (``str``; e.g. from ``nsp_pairs``).
        is_next: one label per pair, 1 if B follows A, else 0.
        tokenizer: a ``nlpbook.text.WordPieceTokenizer`` whose vocabulary holds ``[PAD]``,
            ``[UNK]``, ``[CLS]``, ``[SEP]`` and ``[MASK]``.
        max_length: tokens per packed sequence, specials included (at least 5).
        max_predictions: the most masked tokens per sequence (the width of ``mask_positions``).
        batch_size: pairs per batch.
        whole_word: mask whole words rather than single pieces.
        rate: the fraction of tokens (or words) selected; see ``masked_lm_inputs``.
        shuffle: shuffle the pairs, with a new order every epoch.
        seed: seed of the shuffling and of the masking.
        drop_remainder: drop the last, smaller batch (gives a static batch size).

    Returns:
        A ``tf.data.Dataset`` of ``(features, labels, sample_weights)``:
        ``features = {"token_ids": int32 (batch, max_length), "segment_ids": int32 (batch,
        max_length), "padding_mask": bool (batch, max_length), "mask_positions": int32 (batch,
        max_predictions)}``, ``labels = {"mlm": int32 (batch, max_predictions), "nsp": int32
        (batch,)}``, ``sample_weights = {"mlm": float32 (batch, max_predictions), "nsp":
        float32 (batch,) of ones}``; ``batch`` is ``batch_size`` if ``drop_remainder`` else
        ``None``. ``mlm`` labels are the original ids at ``mask_positions``; their weight is 0
        on the padding after the real predictions.

    Raises:
        ValueError: empty or blank texts, lengths that differ, labels not 0/1, a tokenizer
            without the special tokens, ``max_length < 5``, ``rate`` outside ``(0, 1)``,
            non-positive sizes.

    Example:
        >>> from nlpbook.text import WordPieceTokenizer
        >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        ...                           "the", "cat", "sat", "dog", "ran", "."])
        >>> ds = bert_pretraining_dataset(["the cat sat .", "the dog ran ."],
        ...                               ["the dog ran .", "the cat sat ."], [1, 0], tok,
        ...                               max_length=12, max_predictions=3, batch_size=2)
        >>> x, y, w = next(iter(ds))
        >>> x["token_ids"].shape, y["mlm"].shape, y["nsp"].shape
        (TensorShape([2, 12]), TensorShape([2, 3]), TensorShape([2]))
    """
    first = _named_texts("first", first)
    second = _named_texts("second", second)
    if len(second) != len(first):
        raise ValueError(
            f"`first` and `second` must have the same length. Received {len(first)} and "
            f"{len(second)} texts."
        )
    labels = as_labels(is_next, len(first))
    if not np.isin(labels, [0, 1]).all():
        raise ValueError(f"`is_next` must hold 0 or 1. Received: {sorted(set(labels.tolist()))}")
    return _pretraining_dataset(
        [first, second],
        labels,
        tokenizer,
        max_length=max_length,
        max_predictions=max_predictions,
        batch_size=batch_size,
        whole_word=whole_word,
        rate=rate,
        shuffle=shuffle,
        seed=seed,
        drop_remainder=drop_remainder,
    )


def masked_lm_dataset(
    texts: Sequence[str],
    tokenizer,
    *,
    max_length: int = 128,
    max_predictions: int = 20,
    batch_size: int = 32,
    whole_word: bool = False,
    rate: float = 0.15,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Masked-LM batches without next-sentence prediction (RoBERTa dropped NSP).

    The same pipeline as ``bert_pretraining_dataset`` with one segment per example:
    ``[CLS] text [SEP]``, the text cut to ``max_length - 2`` tokens (the rest is lost: cut
    long documents into pieces first, e.g. with ``split_sentences``). ``segment_ids`` are all
    0, so a BERT model takes these batches unchanged.

    Args:
        texts: the examples (``str``).
        tokenizer, max_length, max_predictions, batch_size, whole_word, rate, shuffle, seed,
            drop_remainder: as in ``bert_pretraining_dataset`` (``max_length`` at least 3).

    Returns:
        A ``tf.data.Dataset`` of ``(features, {"mlm": mask_ids}, {"mlm": mask_weights})``,
        ``features`` as in ``bert_pretraining_dataset``.

    Example:
        >>> from nlpbook.text import WordPieceTokenizer
        >>> tok = WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
        ...                           "the", "cat", "sat", "."])
        >>> ds = masked_lm_dataset(["the cat sat ."] * 3, tok, max_length=8,
        ...                        max_predictions=2, batch_size=3)
        >>> x, y, w = next(iter(ds))
        >>> sorted(x), sorted(y), w["mlm"].numpy().sum(axis=1).tolist()  # ceil(0.15 * 4) = 1
        (['mask_positions', 'padding_mask', 'segment_ids', 'token_ids'], ['mlm'], [1.0, 1.0, 1.0])
    """
    return _pretraining_dataset(
        [_named_texts("texts", texts)],
        None,
        tokenizer,
        max_length=max_length,
        max_predictions=max_predictions,
        batch_size=batch_size,
        whole_word=whole_word,
        rate=rate,
        shuffle=shuffle,
        seed=seed,
        drop_remainder=drop_remainder,
    )


def packed_lm_blocks(
    texts: Sequence[str],
    encode: Callable[[tf.Tensor], tf.Tensor | tf.RaggedTensor],
    eos_id: int,
    block_size: int,
    *,
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = True,
) -> tf.data.Dataset:
    """GPT's pretraining data: documents packed into one stream, cut into blocks.

    A thin, named wrapper of ``language_model_dataset`` (which already does exactly this): the
    documents are encoded and joined with ``eos_id`` after each (``token_stream``), and block
    ``i`` is ``stream[i * block_size : (i + 1) * block_size + 1]``, giving ``inputs = block[:-1]``
    and ``targets = block[1:]``. Consecutive blocks of ``block_size + 1`` tokens share one
    token (the last target of a block is the first input of the next), so the inputs tile the
    stream without overlap and every token but the first is a target exactly once per epoch;
    only a tail shorter than a block is left out. Blocks cross document boundaries (the
    ``eos_id`` tells the model) but never the end of the stream: build each split with its own
    call.

    Args:
        texts: the documents, in order.
        encode: a batch of texts to ids (see ``token_stream``); ids ``>= 1``.
        eos_id: the id written after each document, ``>= 1``.
        block_size: positions per example (the model's context length).
        batch_size: blocks per batch.
        shuffle: shuffle the blocks, with a new order every epoch.
        seed: shuffle seed.
        drop_remainder: drop the last, smaller batch (the default).

    Returns:
        A ``tf.data.Dataset`` of ``(inputs, targets)``, both int32 ``(batch, block_size)``.

    Example:
        >>> lookup = keras.layers.StringLookup(vocabulary=["a", "b", "c"], mask_token="")
        >>> encode = lambda batch: lookup(tf.strings.split(batch))  # "a" = 2, "b" = 3, "c" = 4
        >>> ds = packed_lm_blocks(["a b c", "c b"], encode, eos_id=9, block_size=3,
        ...                       batch_size=2, shuffle=False)
        >>> x, y = next(iter(ds))
        >>> x.numpy().tolist(), y.numpy().tolist()
        ([[2, 3, 4], [9, 4, 3]], [[3, 4, 9], [4, 3, 9]])
    """
    return language_model_dataset(
        texts=texts,
        encode=encode,
        eos_id=eos_id,
        seq_len=block_size,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        drop_remainder=drop_remainder,
    )
