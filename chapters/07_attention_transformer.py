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
# # Chapter 7 — Attention and the Transformer
#
# A recurrent network (chapter 6) carries everything it has read in one state vector, passed
# from step to step. **Attention** lets every position look at every other position directly:
# each position asks a question (a *query*), every position offers a *key* to be matched
# against and a *value* to be read, and the answer is an average of the values weighted by
# how well each key matches the query. The Transformer (Vaswani et al. 2017) builds a whole
# network from this, with no recurrence: attention, a small feed-forward network at each
# position, residual connections and layer normalisation, and a signal for the position of
# each token, since attention by itself is blind to order.
#
# This chapter builds it up from the equation: scaled dot-product attention next to a NumPy
# transcription, a measured answer to *why divide by* $\sqrt{d_k}$, masks (padding and
# causal) with the invariances they guarantee, multi-head attention checked against Keras'
# built-in layer with the same weights, three ways to give attention positions (sinusoidal,
# learned, rotary), and the encoder and decoder blocks in their two layouts (post-LN and
# pre-LN). Last, a small Transformer classifies movie-review sentences, and we look at what
# it attends to.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `000` (自然语言处理大模型的实战与进阶) §2.5 Transformer (核心概念与联系), §3.5 Transformer
#   (核心算法原理和具体操作步骤以及数学模型公式详细讲解)
# - `001` (利用大规模语言模型进行自然语言处理) §3.2 变压器（Transformer）的原理,
#   §3.3 数学模型公式详细讲解 (3.3.1 多头注意力机制, 3.3.2 自注意力机制, 3.3.3 位置编码)
# - `002` (NLP领域的大模型标准) 2.2.3 注意力机制
# - `003` (大规模语言模型（理论/算法/应用）) §2 核心概念与联系
#
# The seeds state the attention formula correctly, but their self-attention code leaves out
# the $1/\sqrt{d_k}$ it states and mixes the batch and time axes, the positional encoding is
# called "a one-dimensional convolution that learns positions", and the structure of the
# Transformer is given without its residual connections and normalisation. Each error is
# run or computed where its topic comes up and collected in the **Errata** box at the end.

# %% [markdown]
# ## Setup
#
# Everything computes in float32: the checks compare our layers with NumPy and with Keras to
# float32 round-off, so we also ask for full float32 matrix products (NVIDIA GPUs since
# Ampere otherwise round them to TF32, 10 mantissa bits).

# %%
import inspect
import re
import time

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from keras import ops

from nlpbook import datasets, results, runtime
from nlpbook.display import show_table
from nlpbook.layers import (
    MultiHeadAttention,
    PositionEmbedding,
    SinusoidalPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
    apply_rotary,
    combine_masks,
    scaled_dot_product_attention,
    sinusoidal_positions,
)
from nlpbook.models import TransformerClassifier

print(runtime.setup(seed=0, mixed_precision=False))
runtime.full_float32_matmuls()  # no TF32 on a GPU: the reference comparisons need float32

# %% [markdown]
# Parameters: quick mode (the default) runs in about a minute and a half on two CPU cores;
# full mode (`NLPBOOK_QUICK=0`) uses more samples and a deeper, wider classifier trained for
# longer.

# %%
QUICK = runtime.quick_mode()
# section 2: key sizes, and queries per size (each against SCALE_KEYS keys)
DK_VALUES = [4, 16, 64, 256, 1024]
SCALE_QUERIES, SCALE_KEYS = (400, 32) if QUICK else (4_000, 32)
# section 6: the movie-review classifier (tokens per sentence, width, heads, FFN, blocks)
MR = (
    dict(max_len=24, d_model=64, heads=4, ff_dim=128, blocks=2, epochs=2, lr=1e-3)
    if QUICK
    else dict(max_len=48, d_model=128, heads=4, ff_dim=256, blocks=4, epochs=6, lr=5e-4)
)
# section 6.3: post-LN against pre-LN at MR["lr"] and at a high rate, both without warm-up
HIGH_LR = 2e-2

# %%
rec = results.Recorder("07_attention_transformer")
rec.info(
    quick=QUICK,
    scale_experiment={"d_k": DK_VALUES, "queries": SCALE_QUERIES, "keys": SCALE_KEYS},
    mr=MR,
    layer_norm_rates=[MR["lr"], HIGH_LR],
    device=runtime.describe(),
)


def np_(x):
    """A backend tensor as a float64 NumPy array."""
    return np.asarray(ops.convert_to_numpy(x), dtype=np.float64)


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np_(a) - np_(b))))


# %% [markdown]
# ## 1. Scaled dot-product attention
#
# Seed `000` §3.5 and `001` §3.3.1 give the equation, and it is the right one:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big)\, V .$$
#
# Row $t$ of $Q$ ($T \times d_k$) is the query of position $t$; row $s$ of $K$ ($S \times
# d_k$) and of $V$ ($S \times d_v$) are the key and the value of position $s$. $Q K^\top$ is a
# matrix product (the seed's `Q * K^T` reads like an elementwise product, which would not even
# have a shape): entry $(t, s)$ is the dot product of query $t$ with key $s$, a score of how
# well they match. The softmax runs along each **row**, over the keys, so each query gets
# weights $\alpha_{t,s} \ge 0$ with $\sum_s \alpha_{t,s} = 1$, and its output is the weighted
# average $\sum_s \alpha_{t,s} v_s$ of the values. $d_k$ is the size of **one** key vector
# (the seed's "键矩阵的维度", the dimension of the key matrix, is ambiguous: $K$ has two).
#
# First as teaching code in NumPy, one head, then against the library's
# `scaled_dot_product_attention`, which works on `(batch, time, heads, d_k)` tensors and
# returns the weights as `(batch, heads, T, S)`:


# %%
def numpy_attention(Q, K, V, mask=None):
    """Teaching code: softmax(Q Kᵀ / √d_k) V for one head.

    Q (T, d_k), K (S, d_k), V (S, d_v); mask (T, S), True where a query may see a key.
    """
    scores = Q @ K.T / np.sqrt(K.shape[-1])  # (T, S)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    # the softmax does not change when a row is shifted: shift by its max so exp cannot overflow
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)  # each row sums to 1
    return weights @ V, weights


rng = np.random.default_rng(0)
T, S, d_k, d_v = 4, 6, 8, 3
Q, K, V = rng.normal(size=(T, d_k)), rng.normal(size=(S, d_k)), rng.normal(size=(S, d_v))
mask = rng.random((T, S)) > 0.4
mask[:, 0] = True  # every query sees at least one key

out_np, w_np = numpy_attention(Q, K, V, mask)
as_heads = [a.astype("float32")[None, :, None, :] for a in (Q, K, V)]  # (1, time, 1 head, d)
out_lib, w_lib = scaled_dot_product_attention(*as_heads, mask=mask[None])
sdpa_diff = max(max_diff(out_lib[0, :, 0], out_np), max_diff(w_lib[0, 0], w_np))
print("weights (rows = queries, columns = keys; masked keys get 0):")
print(np.round(np_(w_lib[0, 0]), 3))
print("row sums:", np.round(np_(w_lib[0, 0]).sum(axis=-1), 6))
print(f"library vs NumPy transcription: max |difference| = {sdpa_diff:.1e}")
rec.metric("sdpa_numpy_max_abs_diff", sdpa_diff)
assert sdpa_diff < 1e-6

# %% [markdown]
# The difference is float32 round-off: the library computes in float32, the transcription in
# float64.
#
# ### 1.1 The seed's self-attention code
#
# Seed `002` 2.2.3 gives a `SelfAttention` module in PyTorch. PyTorch is not a dependency of
# this book, so here is its `forward`, transcribed line by line into NumPy (`nn.Linear(x)` is
# `x Wᵀ + b`, `torch.matmul` is `np.matmul`, `.transpose(0, 1)` swaps axes 0 and 1,
# `torch.softmax(…, dim=1)` is a softmax over axis 1); the weights are drawn as `nn.Linear`
# draws them, uniform in $\pm 1/\sqrt{d}$:


# %%
def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def seed_self_attention(inputs, linear):
    """The seed's SelfAttention.forward (002 §2.2.3) transcribed into NumPy, line by line."""
    queries = inputs @ linear["query"][0].T + linear["query"][1]
    keys = inputs @ linear["key"][0].T + linear["key"][1]
    values = inputs @ linear["value"][0].T + linear["value"][1]
    similarity_matrix = np.matmul(queries, keys.swapaxes(0, 1))  # keys.transpose(0, 1)
    attention_weights = softmax(similarity_matrix, axis=1)  # torch.softmax(..., dim=1)
    return np.matmul(attention_weights, values)


def torch_like_linear(hidden_size, rng):
    """nn.Linear(hidden_size, hidden_size)'s initial weight and bias."""
    bound = 1 / np.sqrt(hidden_size)
    return (
        rng.uniform(-bound, bound, (hidden_size, hidden_size)),
        rng.uniform(-bound, bound, hidden_size),
    )


def correct_self_attention(inputs, linear, scale=True):
    """The same projections, then the library's attention over (batch, time) inputs."""
    q, k, v = (inputs @ linear[n][0].T + linear[n][1] for n in ("query", "key", "value"))
    if not scale:  # multiplying q by √d cancels the library's 1/√d: softmax(Q Kᵀ) V
        q = q * np.sqrt(q.shape[-1])
    out, _ = scaled_dot_product_attention(*(a.astype("float32")[:, :, None, :] for a in (q, k, v)))
    return np_(out)[:, :, 0, :]


hidden = 8
linear = {name: torch_like_linear(hidden, rng) for name in ("query", "key", "value")}

# (a) one sentence, (time, hidden): it runs, and it is attention without the 1/√d_k
sentence = rng.normal(size=(5, hidden))
seed_out = seed_self_attention(sentence, linear)
unscaled_out = correct_self_attention(sentence[None], linear, scale=False)[0]
seed_vs_unscaled = float(np.abs(seed_out - unscaled_out).max())
seed_vs_scaled = float(np.abs(seed_out - correct_self_attention(sentence[None], linear)[0]).max())
print(f"one sentence: seed vs attention without the scale: max |Δ| = {seed_vs_unscaled:.1e}")
print(f"one sentence: seed vs attention with the scale:    max |Δ| = {seed_vs_scaled:.1e}")

# (b) a batch of 2 sentences, (batch, time, hidden): the transpose swaps batch and time
batch = rng.normal(size=(2, 5, hidden))
try:
    seed_self_attention(batch, linear)
    seed_batch_error = None
except ValueError as error:
    seed_batch_error = f"{type(error).__name__}: {error}"
print("a batch (2, 5, 8):", seed_batch_error)

# (c) when batch = time = hidden the shapes happen to agree, and the result is garbage
square = rng.normal(size=(4, 4, 4))
linear4 = {name: torch_like_linear(4, rng) for name in ("query", "key", "value")}
seed_square = seed_self_attention(square, linear4)
square_error = float(np.abs(seed_square - correct_self_attention(square, linear4, False)).max())
print(f"a batch (4, 4, 4): runs, shape {seed_square.shape}, "
      f"max |Δ| from per-sentence attention = {square_error:.2f}")  # fmt: skip
rec.metric("seed_code_vs_unscaled_max_abs_diff", seed_vs_unscaled)
rec.metric("seed_code_vs_scaled_max_abs_diff", seed_vs_scaled)
rec.metric("seed_code_square_batch_max_abs_diff", square_error)
assert seed_vs_unscaled < 1e-5 and seed_vs_scaled > 1e-3
assert seed_batch_error is not None and square_error > 0.1

# %% [markdown]
# Three things, all from the code itself:
#
# - On one sentence (a `(time, hidden)` matrix) the code computes $\mathrm{softmax}(Q
#   K^\top) V$: equal to the library with the scale undone, different from the attention
#   the seed's own formula defines. The missing $1/\sqrt{d_k}$ matters, as section 2 shows.
# - On a batch `(batch, time, hidden)`, the layout every framework trains with,
#   `keys.transpose(0, 1)` swaps the **batch and time** axes instead of the last two, and
#   `np.matmul` (like `torch.matmul`) refuses the shapes.
# - When the sizes happen to agree (batch = time = hidden = 4) it runs silently and returns
#   numbers that have nothing to do with attention: each "score" multiplies one sentence's
#   features with another axis of the keys; and `softmax(dim=1)` then normalises over the
#   queries, not over the keys.
#
# The fix is `keys.transpose(-2, -1)`, a softmax over the last axis, and a division by
# $\sqrt{d_k}$; the library also keeps a `heads` axis, `(batch, time, heads, d_k)`.
#
# ## 2. Why divide by $\sqrt{d_k}$
#
# Take a query $q$ and a key $k$ with independent components of mean 0 and variance 1. Their
# dot product $q \cdot k = \sum_{i=1}^{d_k} q_i k_i$ is a sum of $d_k$ independent terms of
# variance 1, so its variance is $d_k$: scores grow like $\sqrt{d_k}$. A softmax of scores
# spread over $\pm 3\sqrt{d_k}$ puts almost all its weight on the largest one, and there its
# gradient vanishes. The softmax $p = \mathrm{softmax}(z)$ has the Jacobian
#
# $$\frac{\partial p}{\partial z} = \mathrm{diag}(p) - p\,p^\top,$$
#
# which is the zero matrix when $p$ is one-hot: no gradient reaches the queries and keys
# through a saturated softmax. Dividing by $\sqrt{d_k}$ brings the scores back to variance
# 1 for every $d_k$ (Vaswani et al. 2017, footnote 4).
#
# The experiment: for each $d_k$, random queries, each against 32 random keys; the variance
# of $q \cdot k$, the mean largest softmax weight (1/32 would be uniform, 1 one-hot) and
# the mean Frobenius norm of the softmax Jacobian, with and without the scale. The weights
# come from the library (the unscaled ones by multiplying $q$ by $\sqrt{d_k}$ first).

# %%
scale_rows = []
qk_var, top_scaled, top_raw, jac_scaled, jac_raw = [], [], [], [], []


def jacobian_norm(p):
    """Mean Frobenius norm of diag(p) - p pᵀ over the rows of p (rows, keys)."""
    jac = np.einsum("ni,ij->nij", p, np.eye(p.shape[-1])) - p[:, :, None] * p[:, None, :]
    return float(np.sqrt((jac**2).sum(axis=(1, 2))).mean())


for dk in DK_VALUES:
    q = rng.standard_normal((SCALE_QUERIES, 1, 1, dk)).astype("float32")  # (n, T=1, H=1, d_k)
    k = rng.standard_normal((SCALE_QUERIES, SCALE_KEYS, 1, dk)).astype("float32")
    dots = np.einsum("nd,nsd->ns", q[:, 0, 0].astype(np.float64), k[:, :, 0].astype(np.float64))
    _, w = scaled_dot_product_attention(q, k, k)
    _, w_unscaled = scaled_dot_product_attention(q * np.float32(np.sqrt(dk)), k, k)
    p, p_raw = np_(w)[:, 0, 0], np_(w_unscaled)[:, 0, 0]  # (n, keys)
    qk_var.append(float(dots.var()))
    top_scaled.append(float(p.max(axis=-1).mean()))
    top_raw.append(float(p_raw.max(axis=-1).mean()))
    jac_scaled.append(jacobian_norm(p))
    jac_raw.append(jacobian_norm(p_raw))
    scale_rows.append([dk, f"{qk_var[-1]:.1f}", f"{qk_var[-1] / dk:.2f}"])
    scale_rows[-1] += [f"{v[-1]:.3f}" for v in (top_raw, top_scaled, jac_raw, jac_scaled)]

show_table(
    ["d_k", "Var(q·k)", "Var / d_k", "max weight, q·k", "max weight, q·k/√d_k",
     "‖Jacobian‖, q·k", "‖Jacobian‖, q·k/√d_k"],
    scale_rows,
)  # fmt: skip
rec.metric("qk_variance_over_dk", [v / d for v, d in zip(qk_var, DK_VALUES, strict=True)])
rec.metric("max_weight_unscaled", top_raw)
rec.metric("max_weight_scaled", top_scaled)
rec.metric("softmax_jacobian_unscaled", jac_raw)
rec.metric("softmax_jacobian_scaled", jac_scaled)

fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
axes[0].loglog(DK_VALUES, qk_var, "o-", label="measured")
axes[0].loglog(DK_VALUES, DK_VALUES, "k:", label="$d_k$")
axes[0].set(xlabel="$d_k$", ylabel="Var($q \\cdot k$)", title="score variance")
for ax, raw, scaled, title in [
    (axes[1], top_raw, top_scaled, "mean largest weight"),
    (axes[2], jac_raw, jac_scaled, "mean ‖softmax Jacobian‖"),
]:
    ax.semilogx(DK_VALUES, raw, "o-", label="$q \\cdot k$ (unscaled)")
    ax.semilogx(DK_VALUES, scaled, "s-", label="$q \\cdot k / \\sqrt{d_k}$")
    ax.set(xlabel="$d_k$", title=title, ylim=(0, None))
for ax in axes:
    ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The variance of $q \cdot k$ is $d_k$ to within sampling error. Unscaled, the softmax
# saturates as $d_k$ grows: the largest weight tends to 1 and the Jacobian, the only path of
# the gradient to $Q$ and $K$, shrinks towards 0. Scaled, both stay flat across $d_k$:
# scores of unit variance over 32 keys, whatever the key size. Typical head sizes are 64 to
# 128, where the unscaled softmax already puts most of the weight on one key.
#
# The seed's code (section 1.1) has no scale. With its own `nn.Linear` initialisation and
# unit-variance inputs of size 512, each projected component has variance $1/3$ and
# the scores a standard deviation of $\sqrt{512}/3 \approx 7.5$:

# %%
hidden = 512
linear512 = {name: torch_like_linear(hidden, rng) for name in ("query", "key", "value")}
words = rng.normal(size=(10, hidden))
q512, k512 = (words @ linear512[n][0].T + linear512[n][1] for n in ("query", "key"))
seed_weights = softmax(q512 @ k512.T, axis=1)  # what the seed's code computes
scaled_weights = softmax(q512 @ k512.T / np.sqrt(hidden), axis=1)
print(f"score standard deviation: {np.std(q512 @ k512.T):.1f}")
print("largest weight per query, seed's code:", np.round(seed_weights.max(axis=1), 3))
print("largest weight per query, with 1/√d_k:", np.round(scaled_weights.max(axis=1), 3))
rec.metric("seed_code_mean_max_weight_d512", float(seed_weights.max(axis=1).mean()))
rec.metric("scaled_mean_max_weight_d512", float(scaled_weights.max(axis=1).mean()))

# %% [markdown]
# Under the seed's code each query's largest weight is several times what it is with the
# scale, and for some queries it is nearly 1, where the softmax passes almost no gradient;
# with the scale the weights are spread over the words from the start.
#
# ## 3. Masks
#
# A mask says which keys each query may see. Two kinds, and their combination:
#
# - **padding**: sentences in a batch have different lengths and are padded to one length;
#   no query may attend to a padded key (`value_mask`, `(batch, S)`, True at real tokens);
# - **causal**: in a language model or a decoder, position $t$ may not see positions after
#   it, which it has to predict (`use_causal_mask`, the lower triangle);
# - `combine_masks` ANDs them into one `(batch, T, S)` boolean mask.
#
# Masked scores are replaced by $-10^9$ before the softmax, so their weights are $e^{-10^9}
# = 0$ exactly in float32; the library also zeroes them after the softmax, so a query with no
# key to see (a padded query, given `query_mask`) gets all-zero weights rather than a
# uniform average over padding. Here are the weights of one head for a sentence of 4 real
# tokens padded to 6:

# %%
lengths = np.array([6, 4])
padding = np.arange(6)[None] < lengths[:, None]  # (batch, time): True at real tokens
xq = rng.normal(size=(2, 6, 1, 8)).astype("float32")  # (batch, time, 1 head, d_k)
xk = rng.normal(size=(2, 6, 1, 8)).astype("float32")
x6 = np.zeros((2, 6, 1), "float32")  # combine_masks only reads shapes from query and value
mask_kinds = {
    "padding": combine_masks(x6, x6, value_mask=padding),
    "causal": combine_masks(x6, x6, use_causal_mask=True),
    "padding + causal": combine_masks(x6, x6, value_mask=padding, use_causal_mask=True),
}
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
for ax, (name, m) in zip(axes, mask_kinds.items(), strict=True):
    _, w = scaled_dot_product_attention(xq, xk, xk, mask=m)
    ax.imshow(np_(w)[1, 0], cmap="viridis", vmin=0, vmax=1)
    ax.set(title=name, xlabel="key position", ylabel="query position")
    ax.set_xticks(range(6))
    ax.set_yticks(range(6))
    ax.axvline(3.5, color="w", ls="--")
fig.suptitle("attention weights of the second sentence (4 real tokens, 2 padded)")
fig.tight_layout()
plt.show()

# %% [markdown]
# Rows 4 and 5 (padded queries) still attend to the real keys under a padding mask: their
# outputs are computed and ignored by everything downstream (the pooling, the loss).
#
# Two promises a mask makes, checked on a `MultiHeadAttention` layer (section 4): (1) with
# a padding mask, whatever sits at the padded positions never changes the outputs of the
# real ones; (2) with a causal mask, the outputs for a prefix of a sequence equal the
# first outputs for the whole sequence: the future changes nothing.

# %%
mha = MultiHeadAttention(num_heads=2, key_dim=8)
x = rng.normal(size=(2, 6, 16)).astype("float32")
noisy = x.copy()
noisy[1, 4:] = rng.normal(size=(2, 16)) * 100  # only the padded tokens change
real = padding  # (batch, time) True at the real positions
masked_clean = np_(mha(x, x, value_mask=padding))[real]
with_mask = max_diff(masked_clean, np_(mha(noisy, noisy, value_mask=padding))[real])
without_mask = max_diff(np_(mha(x, x))[real], np_(mha(noisy, noisy))[real])
full = mha(x, x, use_causal_mask=True)
prefix = mha(x[:, :3], x[:, :3], use_causal_mask=True)
causal_prefix = max_diff(prefix, np_(full)[:, :3])
print(f"padded tokens changed: real outputs move by {with_mask:.1e} with the padding mask, "
      f"{without_mask:.2f} without it")  # fmt: skip
print(f"causal: prefix of 3 vs first 3 of 6, max |Δ| = {causal_prefix:.1e}")
rec.metric("mask_padding_invariance_max_diff", with_mask)
rec.metric("mask_padding_no_mask_diff", without_mask)
rec.metric("mask_causal_prefix_max_diff", causal_prefix)
assert with_mask < 1e-6 and without_mask > 0.1 and causal_prefix < 1e-5

# %% [markdown]
# ## 4. Multi-head attention
#
# Seed `000` §3.5 calls the equation of section 1 "the formula of multi-head attention"; it
# is the formula of one head. Multi-head attention (Vaswani et al. 2017 §3.2.2) projects
# the queries, keys and values $h$ times with different learned matrices, attends in each
# projection, concatenates the $h$ results and projects back:
#
# $$\mathrm{head}_i = \mathrm{Attention}(X_q W_i^Q,\; X_k W_i^K,\; X_v W_i^V), \qquad
# \mathrm{MHA}(X_q, X_k, X_v) = [\mathrm{head}_1; \dots; \mathrm{head}_h]\, W^O .$$
#
# Each head can match on something different (one on the previous word, one on the subject
# of a verb…) at the cost of one head of size $d_{model}$, when $d_k = d_{model}/h$.
# **Self-attention** (seed `001` §3.3.2) is the case $X_q = X_k = X_v = X$; seed `001` §3.2
# lists it next to multi-head attention as if it were another component, but it is the
# same layer called on one sequence, as opposed to **cross-attention** (a decoder's queries
# over an encoder's outputs).
#
# `nlpbook.layers.MultiHeadAttention` stores its weights as Keras' built-in layer does:
# kernels `(d_in, heads, d_k)` for the three input projections and `(heads, d_v, d_out)`
# for the output, so `set_weights` copies across. Queries of length 5 and width 16 attend
# over keys of length 7 and width 12:


# %%
def copy_pair(d_query, d_value, rng):
    """Our MultiHeadAttention and Keras', built on the same shapes, with the same weights."""
    ours = MultiHeadAttention(num_heads=4, key_dim=8)
    theirs = keras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
    q = rng.normal(size=(2, 5, d_query)).astype("float32")
    v = rng.normal(size=(2, 7, d_value)).astype("float32")
    # return the scores: Keras 3.15's fused path fails on JAX when value_dim != key_dim
    theirs(q, v, return_attention_scores=True)
    ours(q, v)
    weights = [rng.normal(size=w.shape).astype("float32") * 0.3 for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


ours, theirs = copy_pair(16, 12, rng)
show_table(["weight", "shape"], [[w.path.split("/", 1)[1], tuple(w.shape)] for w in ours.weights])
q, v = rng.normal(size=(2, 5, 16)).astype("float32"), rng.normal(size=(2, 7, 12)).astype("float32")
key_padding = np.arange(7)[None] < np.array([[7], [4]])  # (batch, S)
self_ours, self_theirs = copy_pair(16, 16, rng)
x = rng.normal(size=(2, 5, 16)).astype("float32")
x_padding = np.arange(5)[None] < np.array([[5], [3]])

# Keras reads padding from its inputs' Keras masks; an explicit (batch, T, S) mask is the same
mha_cases = {
    "cross, no mask": (ours(q, v, return_attention_scores=True),
                       theirs(q, v, return_attention_scores=True)),
    "cross, key padding": (
        ours(q, v, value_mask=key_padding, return_attention_scores=True),
        theirs(q, v, attention_mask=np.broadcast_to(key_padding[:, None], (2, 5, 7)),
               return_attention_scores=True)),
    "self, causal": (self_ours(x, x, use_causal_mask=True, return_attention_scores=True),
                     self_theirs(x, x, use_causal_mask=True, return_attention_scores=True)),
    "self, causal + padding": (
        self_ours(x, x, value_mask=x_padding, use_causal_mask=True, return_attention_scores=True),
        self_theirs(x, x, attention_mask=np.broadcast_to(x_padding[:, None], (2, 5, 5)),
                    use_causal_mask=True, return_attention_scores=True)),
}  # fmt: skip
mha_out_diff = max(max_diff(a[0], b[0]) for a, b in mha_cases.values())
mha_w_diff = max(max_diff(a[1], b[1]) for a, b in mha_cases.values())
show_table(
    ["case", "output shape", "max |Δ| outputs", "max |Δ| weights"],
    [[name, tuple(a[0].shape), f"{max_diff(a[0], b[0]):.1e}", f"{max_diff(a[1], b[1]):.1e}"]
     for name, (a, b) in mha_cases.items()],
)  # fmt: skip
rec.metric("mha_keras_max_abs_diff_outputs", mha_out_diff)
rec.metric("mha_keras_max_abs_diff_weights", mha_w_diff)
assert mha_out_diff < 1e-5 and mha_w_diff < 1e-6

# %% [markdown]
# Same weights, same numbers, to float32 round-off, with and without masks and for
# different query and key lengths. (On a GPU, `keras.ops.dot_product_attention` runs the
# same maths as one fused kernel, FlashAttention-style, that never stores the $T \times S$
# weights; the library keeps the plain path, which returns them for plots like the ones
# below, and `tests/layers/test_layers_fused_attention.py` checks the two agree.)
#
# ## 5. Positions
#
# Self-attention has no idea of order. Permute the tokens and the outputs are permuted the
# same way, nothing else changes: "dog bites man" and "man bites dog" give the same bag of
# output vectors.

# %%
perm = rng.permutation(5)
permutation_diff = max_diff(self_ours(x[:, perm], x[:, perm]), np_(self_ours(x, x))[:, perm])
print(f"attention(permuted x) vs permuted attention(x): max |Δ| = {permutation_diff:.1e}")
rec.metric("self_attention_permutation_max_diff", permutation_diff)
assert permutation_diff < 1e-5

# %% [markdown]
# So the position has to be put into the vectors.
#
# ### 5.1 Sinusoidal positions
#
# Vaswani et al. add to the embedding of the token at position $pos$ a fixed vector
#
# $$PE_{pos,\,2i} = \sin\!\big(pos / 10000^{2i/d}\big), \qquad
#   PE_{pos,\,2i+1} = \cos\!\big(pos / 10000^{2i/d}\big), \qquad 0 \le i < d/2,$$
#
# where $i$ numbers the **pairs** of dimensions: columns $2i$ and $2i+1$ share one frequency
# $\omega_i = 10000^{-2i/d}$, from 1 (a wavelength of $2\pi$ positions) down to nearly
# $1/10000$ (a wavelength of nearly $2\pi \cdot 10000$). Seed `001` §3.3.3 gives these two equations with the
# exponent written `10000^(2i/d)` (in LaTeX only the `(` is raised: it needs braces,
# `10000^{2i/d}`), calls $i$ "the dimension of the encoding" (it is the pair index), and
# calls the whole "a special one-dimensional convolution that lets the model learn the
# positions". It is neither: $PE$ is a fixed table, a function of the position alone, the
# same whatever the tokens are; it has no weights, so nothing in it is learned; and it is
# *added* to the embeddings, while a convolution slides a kernel of weights along the
# sequence and mixes neighbouring tokens.
#
# The library's `sinusoidal_positions` against a NumPy transcription of the formula, and the
# table as an image (each row is one position's vector):


# %%
def numpy_sinusoids(length, d, base=10000.0):
    """Teaching code: PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(same)."""
    pos = np.arange(length)[:, None]  # (length, 1)
    i = np.arange(d // 2)[None]  # (1, d/2): the pair index
    angle = pos / base ** (2 * i / d)
    pe = np.zeros((length, d))
    pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)
    return pe


PE_LEN, PE_DIM = 128, 64
pe = np_(sinusoidal_positions(PE_LEN, PE_DIM))
pe_diff = float(np.abs(pe - numpy_sinusoids(PE_LEN, PE_DIM)).max())
print(f"sinusoidal_positions vs the formula: max |Δ| = {pe_diff:.1e}")
rec.metric("sinusoidal_numpy_max_abs_diff", pe_diff)
assert pe_diff < 1e-4

fig, ax = plt.subplots(figsize=(7, 3.6))
image = ax.imshow(pe, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1)
ax.set(xlabel="dimension (columns 2i: sine, 2i+1: cosine)", ylabel="position",
       title=f"sinusoidal positions, {PE_LEN} positions × {PE_DIM} dimensions")  # fmt: skip
fig.colorbar(image, ax=ax)
plt.show()

# %% [markdown]
# The left columns oscillate fast, the right ones barely move over 128 positions: together
# they give each position a distinct code, like the digits of a number in a smooth base.
# (The difference to NumPy grows with the position: in float32 an angle near 127 is itself
# only known to a few millionths.)
#
# Why sines and cosines? Because the dot product of two position vectors depends only on
# their distance. With $a = pos\cdot\omega_i$, $\sin a \sin b + \cos a \cos b = \cos(a - b)$,
# so
#
# $$PE_{p} \cdot PE_{p+k} = \sum_{i=0}^{d/2-1} \cos(k\,\omega_i),$$
#
# the same for every $p$ (and for $-k$: it does not tell left from right). Measured on the
# table:

# %%
gram = pe @ pe.T  # (position, position) dot products
offsets = np.arange(0, 64)
along = np.array([[gram[p, p + k] for k in offsets] for p in range(PE_LEN - offsets[-1])])
shift_diff = float(np.abs(along - along[0]).max())
theory = np.cos(offsets[:, None] * 10000.0 ** (-2 * np.arange(PE_DIM // 2) / PE_DIM)).sum(axis=1)
theory_diff = float(np.abs(along[0] - theory).max())
print(f"PE(p)·PE(p+k) over all p, largest spread for one k: {shift_diff:.1e}; "
      f"vs Σ cos(k ω_i): {theory_diff:.1e}")  # fmt: skip
rec.metric("pe_dot_product_shift_max_diff", shift_diff)
assert shift_diff < 1e-3 and theory_diff < 1e-3

fig, ax = plt.subplots(figsize=(6.5, 3.2))
for p in (0, 20, 60):
    ax.plot(offsets, along[p], label=f"p = {p}", lw=3 - p / 40)
ax.set(xlabel="offset k", ylabel="PE(p) · PE(p+k)", title="dot products depend on k only")
ax.legend()
plt.show()

# %% [markdown]
# Read literally, the seed's words "$i$ is the dimension" (a column index $0 \le i < d$)
# give frequencies $10000^{-2i/d}$ down to $10000^{-2}$: wavelengths up to $2\pi \cdot
# 10^8$ positions. Then about half the columns are constant over any real sequence:

# %%
literal = np.arange(PE_DIM)  # i as the column index, as the seed's words have it
literal_angle = np.arange(512)[:, None] / 10000.0 ** (2 * literal / PE_DIM)
literal_pe = np.where(literal % 2 == 0, np.sin(literal_angle), np.cos(literal_angle))
correct_pe = numpy_sinusoids(512, PE_DIM)


def flat_columns(table):
    """Columns whose values change by less than 0.01 over the table's positions."""
    return int((np.ptp(table, axis=0) < 0.01).sum())


print(f"columns that change by < 0.01 over 512 positions: pair index {flat_columns(correct_pe)}, "
      f"column index {flat_columns(literal_pe)} of {PE_DIM}")  # fmt: skip
rec.metric("pe_flat_columns_literal_reading", flat_columns(literal_pe))
rec.metric("pe_flat_columns_correct", flat_columns(correct_pe))

# %% [markdown]
# ### 5.2 Learned positions
#
# BERT and GPT-2 learn a table instead: one trainable vector per position, added the same
# way (`PositionEmbedding`). It can fit whatever the task needs, costs
# `max_length × d` weights, and knows no position past `max_length`:

# %%
learned = PositionEmbedding(max_length=16)
print("table shape:", tuple(learned(np.zeros((1, 16, 8), "float32")).shape),
      "weights:", tuple(learned.embeddings.shape))  # fmt: skip
try:
    learned(np.zeros((1, 20, 8), "float32"))
    learned_error = None
except ValueError as error:
    # Keras wraps the layer's message in its own (with terminal colour codes): keep ours
    message = next(line for line in str(error).splitlines() if "max_length" in line)
    learned_error = re.sub(r"\x1b\[[0-9;]*m", "", message)
print("a sequence of 20:", learned_error)
assert learned_error is not None
long_input = np.zeros((1, 20, 8), "float32")
print("sinusoids have no limit:", tuple(SinusoidalPositionEmbedding()(long_input).shape))

# %% [markdown]
# ### 5.3 Rotary positions
#
# Most recent language models (LLaMA, Qwen, Mistral…) put the position into the attention
# scores instead: RoPE (Su et al. 2021) rotates each pair of dimensions of a query or key at
# position $m$ by the angle $m\,\theta_i$. Rotations compose, $R_m^\top R_n = R_{n-m}$, so
#
# $$(R_m q) \cdot (R_n k) = q^\top R_{n-m}\, k ,$$
#
# a function of the content and of the **relative** position $n - m$ only, exactly what a
# score should be. Numerically: one query vector and one key vector, placed at every
# position 0…23, rotated by `apply_rotary`; the score matrix should be constant along each
# diagonal (each $n - m$):

# %%
T_ROT, D_ROT = 24, 16
q_vec, k_vec = rng.normal(size=D_ROT), rng.normal(size=D_ROT)
q_rot = np_(apply_rotary(np.tile(q_vec, (1, T_ROT, 1, 1)).astype("float32")))[0, :, 0]  # (T, d)
k_rot = np_(apply_rotary(np.tile(k_vec, (1, T_ROT, 1, 1)).astype("float32")))[0, :, 0]
scores = q_rot @ k_rot.T  # (query position m, key position n)
m_idx, n_idx = np.indices(scores.shape)
by_offset = {o: scores[n_idx - m_idx == o] for o in range(-T_ROT + 1, T_ROT)}
rotary_diff = max(float(np.ptp(v)) for v in by_offset.values())
norm_diff = float(np.abs(np.linalg.norm(q_rot, axis=1) - np.linalg.norm(q_vec)).max())
print(f"rotary scores: largest spread along a diagonal = {rotary_diff:.1e} (scores range "
      f"over ±{np.abs(scores).max():.1f}); norms kept to {norm_diff:.1e}")  # fmt: skip
rec.metric("rotary_relative_max_diff", rotary_diff)
assert rotary_diff < 1e-4 and norm_diff < 1e-5

# the same query and key with sinusoids added instead: the scores change along the diagonals
q_add = q_vec + numpy_sinusoids(T_ROT, D_ROT)
k_add = k_vec + numpy_sinusoids(T_ROT, D_ROT)
added = q_add @ k_add.T
added_spread = max(float(np.ptp(added[n_idx - m_idx == o])) for o in range(-T_ROT + 1, T_ROT))
print(f"added sinusoids instead: largest spread along a diagonal = {added_spread:.2f}")

fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
for ax, matrix, title in [(axes[0], scores, "rotary: $R_m q \\cdot R_n k$"),
                          (axes[1], added, "added: $(q + PE_m)\\cdot(k + PE_n)$")]:  # fmt: skip
    ax.imshow(matrix, cmap="RdBu_r")
    ax.set(title=title, xlabel="key position n", ylabel="query position m")
fig.tight_layout()
plt.show()

# %% [markdown]
# Rotary scores are constant along each diagonal (float32 round-off); with added sinusoids
# the score also depends on the absolute positions (the cross terms $q \cdot PE_n$ and
# $PE_m \cdot k$), and only the $PE_m \cdot PE_n$ term is relative.
#
# ## 6. The Transformer blocks
#
# Seed `000` §3.5 lists the Transformer as positional encoding, multi-head attention, a
# feed-forward network and an output layer. The two pieces that make a deep stack trainable
# are missing: every sub-layer $f$ (attention, or the position-wise feed-forward network
# $\mathrm{FFN}(x) = \max(0, x W_1 + b_1) W_2 + b_2$) sits in a **residual connection** with
# **layer normalisation**, in one of two orders:
#
# - **post-LN**, the paper's: $x \leftarrow \mathrm{LN}(x + f(x))$. The residual stream is
#   normalised after every sub-layer, so the gradient to early layers passes through every
#   LayerNorm above it.
# - **pre-LN** (GPT-2 and most models since): $x \leftarrow x + f(\mathrm{LN}(x))$. The
#   residual stream $x$ runs from the input to the output untouched except for additions, so
#   the identity path carries the gradient straight down; the stack ends with one more
#   LayerNorm. Xiong et al. (2020) show that at initialisation post-LN's gradients near the
#   output are large, which is why post-LN needs a learning-rate warm-up and pre-LN does not.
#
# An **encoder** block is self-attention then FFN; a **decoder** block is causal
# self-attention, cross-attention over the encoder's outputs, then FFN (GPT's decoder-only
# block drops the cross-attention). Seed `001` §3.2's decoder that "encodes the input
# sequence into the target sequence" is neither: the encoder encodes; the decoder produces
# the target one token at a time, each position seeing the target's prefix and the whole
# encoded input. In `nlpbook.layers.transformer` both blocks wrap each sub-layer in one
# method; `norm_first` picks the order:

# %%
print(inspect.getsource(TransformerEncoderBlock._residual))

# %% [markdown]
# The decoder keeps the causal promise of section 3 through the whole block (attention,
# cross-attention, FFN, norms): change the target after position 2 and positions 0–2 of the
# output do not move.

# %%
decoder = TransformerDecoderBlock(num_heads=2, ff_dim=32)
target = rng.normal(size=(2, 6, 16)).astype("float32")  # (batch, T, d_model)
memory = rng.normal(size=(2, 9, 16)).astype("float32")  # (batch, S, d_model): encoder outputs
changed = target.copy()
changed[:, 3:] = rng.normal(size=(2, 3, 16))
decoder_diff = max_diff(np_(decoder(target, memory))[:, :3], np_(decoder(changed, memory))[:, :3])
print(f"decoder outputs 0-2 after changing target tokens 3-5: max |Δ| = {decoder_diff:.1e}")
rec.metric("decoder_causal_max_diff", decoder_diff)
assert decoder_diff < 1e-5

# %% [markdown]
# Seed `000` §2.5 says the Transformer "processes the sequence in parallel, with higher
# computational efficiency". In parallel, yes: all positions of a layer are computed at once,
# while an RNN needs $T$ steps one after another. But the work grows differently. Counting
# multiply-adds per layer for width $d$ (the four projections $4Td^2$, scores and weighted
# sum $2T^2d$; an LSTM layer $8Td^2$, four gates each reading input and state):

# %%
width = 512
cost_rows = []
for length in (128, 512, 2_048, 8_192):
    attention_flops = 4 * length * width**2 + 2 * length**2 * width
    lstm_flops = 8 * length * width**2
    cost_rows.append([length, f"{attention_flops / 1e9:.2f}", f"{lstm_flops / 1e9:.2f}",
                      f"{attention_flops / lstm_flops:.2f}", length, 1])  # fmt: skip
show_table(
    ["T", "self-attention GMAC", "LSTM GMAC", "ratio", "LSTM sequential steps",
     "attention sequential steps"],
    cost_rows,
)  # fmt: skip

# %% [markdown]
# Past $T = 2d$ attention does more arithmetic than an LSTM, and its $T \times T$ weights
# grow quadratically; what it gains is one parallel step instead of $T$, which is what a GPU
# wants. Long inputs are exactly where attention is expensive (FlashAttention makes the
# memory linear, not the work).
#
# ### 6.1 A Transformer classifier on movie reviews
#
# A small encoder on **MR** (Pang & Lee 2005; fold 0: 9,595 training and 1,067 test
# sentences): word ids (10,000 most frequent training words, `TextVectorization`'s default
# lower-casing and punctuation stripping), embeddings plus sinusoidal positions, the
# encoder block(s), the mean of the outputs over the real tokens, and a softmax layer over
# the two classes. The library's `TransformerClassifier` (`nlpbook.models`, built from the
# blocks of section 5; chapter 9 uses it too) is exactly this; it hands the padding mask
# (token id 0) to every block and to the pooling. Its forward pass:

# %%
print(inspect.getsource(TransformerClassifier._encode))
print(inspect.getsource(TransformerClassifier.call))

# %%
mr = datasets.load_mr_polarity(test_fold=0)
vectorizer = keras.layers.TextVectorization(max_tokens=10_000, output_sequence_length=MR["max_len"])
vectorizer.adapt(mr["train"]["text"], batch_size=1024)
vocabulary = np.array(vectorizer.get_vocabulary())
mr_x = {s: np.asarray(ops.convert_to_numpy(vectorizer(tf.constant(mr[s]["text"])))) for s in mr}
mr_y = {s: mr[s]["label"].astype("int32") for s in mr}
majority = max(mr_y["test"].mean(), 1 - mr_y["test"].mean())
print({s: len(v) for s, v in mr_x.items()},
      f"| majority-class test accuracy {majority:.3f}")  # fmt: skip
rec.info(mr_sizes={s: len(v) for s, v in mr_x.items()})
rec.metric("mr_majority_accuracy", float(majority))


def compile_classifier(model, lr):
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


class StepLosses(keras.callbacks.Callback):
    """The loss of each training step (Keras logs the running mean over the epoch)."""

    def on_train_begin(self, logs=None):
        self.losses = []

    def on_epoch_begin(self, epoch, logs=None):
        self.previous_sum = 0.0

    def on_train_batch_end(self, batch, logs=None):
        running_sum = logs["loss"] * (batch + 1)  # the sum of this epoch's losses so far
        self.losses.append(float(running_sum - self.previous_sum))
        self.previous_sum = running_sum


def train_classifier(norm_first, lr):
    """A fresh classifier (seed 0) trained on MR: (model, history, step losses, test accuracy)."""
    keras.utils.set_random_seed(0)
    model = TransformerClassifier(
        vocabulary.size, max_length=MR["max_len"], embed_dim=MR["d_model"],
        num_heads=MR["heads"], ff_dim=MR["ff_dim"], num_layers=MR["blocks"], dropout=0.1,
        positions="sinusoidal", norm_first=norm_first,
    )  # fmt: skip
    model = compile_classifier(model, lr)
    steps = StepLosses()
    history = model.fit(mr_x["train"], mr_y["train"], batch_size=64, epochs=MR["epochs"],
                        callbacks=[steps], verbose=0)  # fmt: skip
    accuracy = float(model.evaluate(mr_x["test"], mr_y["test"], verbose=0)[1])
    return model, history, np.array(steps.losses), accuracy


t0 = time.time()
classifier, history, post_ln_steps, mr_accuracy = train_classifier(norm_first=False, lr=MR["lr"])
mr_seconds = time.time() - t0
print(f"{classifier.count_params():,} weights; {MR['blocks']} post-LN block(s), "
      f"d_model {MR['d_model']}, {MR['heads']} heads")  # fmt: skip
show_table(
    ["epoch", "train loss", "train accuracy"],
    [[e + 1, f"{history.history['loss'][e]:.3f}", f"{history.history['accuracy'][e]:.3f}"]
     for e in range(MR["epochs"])],
)  # fmt: skip
print(f"test accuracy {mr_accuracy:.3f} after {MR['epochs']} epochs ({mr_seconds:.0f} s)")
rec.metric("mr_transformer_test_accuracy", mr_accuracy)
rec.info(mr_train_seconds=mr_seconds)
assert mr_accuracy > majority + 0.1

# %% [markdown]
# Well above the majority class, and about where chapter 6's recurrent cells were after two
# epochs: on sentences of 18 words, most of the evidence is a few sentiment words, which
# any of these models finds. The embeddings start small (Keras' default, uniform in
# $\pm 0.05$) next to positions of size 1, so at first the positions dominate the input;
# the word embeddings grow as they learn.
#
# Bigger is not better here. Full mode (4 blocks of width 128, 1.8 million weights, six
# epochs at $5 \cdot 10^{-4}$) reached a *lower* test accuracy when we ran it on two CPU
# cores: 0.714, while its training accuracy climbed to 0.911. On 9,595 sentences a deeper
# encoder learned from scratch memorises more than it generalises; Transformers earn their
# keep with more data or with pretraining (chapter 13), and the bag of n-grams of chapter 9
# stays ahead on MR.
#
# ### 6.2 What the classifier attends to
#
# The weights of the first block's self-attention on a few short test sentences, averaged
# over the heads (rows: the query word; columns: the words it attends to; `[UNK]` is a word
# outside the 10,000):

# %%
lengths_test = (mr_x["test"] > 0).sum(axis=1)
examples = [i for i in np.flatnonzero((lengths_test >= 6) & (lengths_test <= 9))][:4]
ids = mr_x["test"][examples]
weights = np_(classifier.attention_scores(ids)[0])  # the first block's: (examples, heads, T, T)
probabilities = np_(ops.softmax(classifier(ids)))[:, 1]

fig, axes = plt.subplots(2, 2, figsize=(10, 9))
for ax, row, i in zip(axes.flat, range(len(examples)), examples, strict=True):
    n = lengths_test[i]
    tokens = vocabulary[mr_x["test"][i, :n]]
    image = ax.imshow(weights[row, :, :n, :n].mean(axis=0), cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(n), tokens, rotation=60, ha="right")
    ax.set_yticks(range(n), tokens)
    label = "positive" if mr_y["test"][i] else "negative"
    ax.set_title(f"{label}; P(positive) = {probabilities[row]:.2f}", fontsize=10)
fig.tight_layout()
plt.show()
for row, i in enumerate(examples):
    sign = "+" if mr_y["test"][i] else "-"
    print(f"[{sign}] P(positive)={probabilities[row]:.2f}  {mr['test']['text'][i]}")

# %% [markdown]
# And the heads of the first sentence one by one (with the mean over heads, the picture
# above blurs them):

# %%
n = lengths_test[examples[0]]
tokens = vocabulary[mr_x["test"][examples[0], :n]]
fig, axes = plt.subplots(1, MR["heads"], figsize=(3.2 * MR["heads"], 3.6))
for head, ax in enumerate(axes):
    image = ax.imshow(weights[0, head, :n, :n], cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(n), tokens, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), tokens if head == 0 else [], fontsize=8)
    ax.set_title(f"head {head}")
fig.tight_layout()
plt.show()
# entropy of each real query's weights, against log(n), the entropy of a uniform average
entropy = -(weights * np.log(np.where(weights > 0, weights, 1))).sum(axis=-1)  # (ex, heads, T)
rows = np.arange(MR["max_len"])[None, None] < lengths_test[examples][:, None, None]
rows = np.broadcast_to(rows, entropy.shape)
uniform = np.broadcast_to(np.log(lengths_test[examples])[:, None, None], entropy.shape)
mean_entropy, uniform_entropy = float(entropy[rows].mean()), float(uniform[rows].mean())
print(f"mean entropy of a query's weights: {mean_entropy:.2f} nats "
      f"(uniform over the sentence: {uniform_entropy:.2f})")  # fmt: skip
rec.metric("mr_attention_mean_entropy", mean_entropy)
rec.metric("mr_attention_uniform_entropy", uniform_entropy)

# %% [markdown]
# Read the colour bars before the colours: each map is scaled to its own largest weight.
# The entropy says how selective the queries are: $\ln n$ is a uniform average over the
# $n$ words, lower values mean sharper attention. In quick mode this classifier attends
# almost uniformly, and there is a reason: it classifies from the **mean** of its outputs,
# so a bag of words, which uniform attention gives, already does most of the job, and two
# epochs from small initial embeddings (section 6.1: the positions dominate the input at
# first) leave the scores nearly flat (exercise 7 starts from larger embeddings). A sharp pattern is something a task has to ask for
# (a language model must find the word it continues, a tagger the words next to it).
#
# Two cautions when a map does light up: the pooled output mixes everything after the
# block, so a bright column is not by itself the reason for the prediction (attention
# weights are not explanations: Jain & Wallace 2019, Wiegreffe & Pinter 2019); and one
# head's map is one of many paths through the network.

# %% [markdown]
# ### 6.3 Post-LN against pre-LN
#
# A small, honest comparison: the classifier of section 6.1 (post-LN, Adam at the learning
# rate above) against the same network in the pre-LN layout, from the same seed, and both
# again at a high learning rate, $2 \cdot 10^{-2}$; no warm-up anywhere. The curves are the
# training loss of each step, averaged over windows of 20 steps.

# %%
ln_curves, ln_rows = {("post", MR["lr"]): post_ln_steps}, []
ln_accuracy = {("post", MR["lr"]): mr_accuracy}
for norm, lr in [("pre", MR["lr"]), ("post", HIGH_LR), ("pre", HIGH_LR)]:
    _, _, ln_curves[norm, lr], ln_accuracy[norm, lr] = train_classifier(norm == "pre", lr)

for (norm, lr), curve in ln_curves.items():
    last = float(curve[-50:].mean())
    ln_rows.append([f"{norm}-LN", f"{lr:g}", f"{curve[:20].mean():.3f}", f"{last:.3f}",
                    f"{ln_accuracy[norm, lr]:.3f}"])  # fmt: skip
    if np.isfinite(last):  # a diverged run (NaN loss) is reported in the table, not recorded
        rec.metric(f"ln_{norm}_lr{lr:g}_final_loss", last)
    rec.metric(f"ln_{norm}_lr{lr:g}_test_accuracy", ln_accuracy[norm, lr])
show_table(["layout", "learning rate", "loss, first 20 steps", "loss, last 50 steps",
            "test accuracy"], ln_rows)  # fmt: skip

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, lr in zip(axes, (MR["lr"], HIGH_LR), strict=True):
    for norm in ("post", "pre"):
        window = np.convolve(ln_curves[norm, lr], np.ones(20) / 20, mode="valid")
        ax.plot(np.arange(len(window)) + 20, window, label=f"{norm}-LN")
    ax.axhline(np.log(2), color="k", ls=":", lw=1)
    ax.set(title=f"Adam, lr {lr:g}, no warm-up", xlabel="step")
    ax.legend()
axes[0].set_ylabel("training loss (20-step mean)")
fig.tight_layout()
plt.show()
stuck = [f"{norm}-LN at lr {lr:g}" for (norm, lr), a in ln_accuracy.items() if a < majority + 0.05]
print("runs that ended at chance level (test accuracy within 0.05 of the majority class):",
      ", ".join(stuck) or "none")  # fmt: skip
rec.info(layer_norm_runs_at_chance=stuck)

# %% [markdown]
# The dotted line is $\ln 2 = 0.693$, the loss of a coin flip. In the run this chapter was
# written with (quick mode: 2 blocks of width 64, two epochs, seed 0), post-LN learned
# faster than pre-LN at $10^{-3}$, and at $2 \cdot 10^{-2}$ post-LN stayed at the coin-flip
# loss while pre-LN learned; the printout above says what this run did. Full mode (4 blocks
# of width 128, six epochs) told the same story on two CPU cores: at $2 \cdot 10^{-2}$
# post-LN ended at chance (test accuracy 0.491) and pre-LN at 0.704; at $5 \cdot 10^{-4}$
# both trained (0.714 and 0.735). One seed and at most four blocks are thin evidence, and
# we draw no more from them than this: a high learning rate
# without warm-up can stall a post-LN stack that the pre-LN layout trains through, as
# Xiong et al. (2020) found at scale (6 to 24 blocks of width 512 and more), where post-LN
# needs a warm-up at learning rates that pre-LN takes without one.

# %% [markdown]
# ## 7. Results
#
# The numbers of this run (the chapter test asserts them in quick mode):

# %%
summary = [
    ["attention = NumPy transcription (max |Δ|)", f"{sdpa_diff:.1e}"],
    [
        "MultiHeadAttention = keras.layers.MultiHeadAttention, outputs (max |Δ|)",
        f"{mha_out_diff:.1e}",
    ],  # fmt: skip
    ["same, attention weights (max |Δ|)", f"{mha_w_diff:.1e}"],
    [
        f"max softmax weight at d_k={DK_VALUES[-1]}, unscaled / scaled",
        f"{top_raw[-1]:.3f} / {top_scaled[-1]:.3f}",
    ],  # fmt: skip
    [
        f"softmax Jacobian norm at d_k={DK_VALUES[-1]}, unscaled / scaled",
        f"{jac_raw[-1]:.3f} / {jac_scaled[-1]:.3f}",
    ],  # fmt: skip
    ["padded tokens changed: real outputs move by (with mask)", f"{with_mask:.1e}"],
    ["causal prefix vs full sequence (max |Δ|)", f"{causal_prefix:.1e}"],
    ["PE(p)·PE(p+k) spread over p", f"{shift_diff:.1e}"],
    ["rotary score spread along a diagonal", f"{rotary_diff:.1e}"],
    [f"MR test accuracy, Transformer ({MR['epochs']} epochs)", f"{mr_accuracy:.3f}"],
    ["MR majority class", f"{majority:.3f}"],
]
show_table(["result", "value"], summary)

# %% [markdown]
# ## Summary
#
# - Attention is $\mathrm{softmax}(QK^\top/\sqrt{d_k})V$: each query's output is an average
#   of the values, weighted by a softmax over the keys of query–key dot products.
# - Without $1/\sqrt{d_k}$, scores have variance $d_k$ and the softmax saturates: one key
#   takes all the weight and the softmax Jacobian, the gradient's only path to $Q$ and $K$,
#   vanishes.
# - Masks: padding (no query sees a padded key) and causal (no query sees a later key),
#   ANDed together; they guarantee that padding never changes real outputs and that a
#   prefix's outputs do not depend on what follows it.
# - Multi-head attention runs $h$ attentions in learned projections and mixes them with
#   $W^O$; ours equals Keras' with the same weights. Self-attention is multi-head attention
#   of a sequence with itself.
# - Self-attention ignores order. Sinusoidal positions are a fixed table (no weights, no
#   convolution) whose dot products depend on the offset only; learned positions are a
#   trainable table up to a maximum length; rotary positions rotate queries and keys so
#   that scores depend on relative position exactly.
# - Encoder and decoder blocks wrap attention and a feed-forward network in residual
#   connections and layer normalisation, post-LN (the paper) or pre-LN (GPT-2 and later).
#
# ## Exercises
#
# 1. Train the MR classifier with `PositionEmbedding` instead of the sinusoids, and with no
#    position layer at all. Does word order matter for sentence polarity, and how much?
# 2. Repeat section 2 with keys drawn from a distribution with variance 4. Which scale makes
#    the scores unit-variance again? What does LayerNorm before the projections do to this?
# 3. Make the unscaled attention trainable: replace $1/\sqrt{d_k}$ by a learned temperature
#    (initialised at 1) in a copy of the classifier. Which value does it learn?
# 4. Write a causal-mask check for `TransformerDecoderBlock(cross_attention=False)` over
#    two stacked blocks: change the last token and measure which outputs move.
# 5. Run section 6.3 with 6 blocks and learning rates 3e-4 to 1e-2, then add a linear
#    warm-up over the first 500 steps (`keras.optimizers.schedules`). For which learning
#    rates does post-LN need it?
# 6. Time `scaled_dot_product_attention` against `keras.ops.dot_product_attention` for
#    $T$ = 128 to 4,096 on your machine (CPU or GPU). Where does the quadratic term show?
# 7. Initialise the classifier's embeddings with standard deviation 1 (what the paper's
#    scaling of the embeddings by $\sqrt{d_{model}}$ amounts to). Are the attention maps of
#    section 6.2 sharper (entropy further below $\ln n$)? What happens to the accuracy after
#    two epochs, and after ten?

# %% [markdown]
# ## Errata
#
# > **Errata — where the seed articles are wrong** (each also in Appendix A)
# >
# > 1. **`002` 2.2.3 注意力机制 (code)**: the `SelfAttention` module (a) leaves out the
# >    $1/\sqrt{d_k}$ of the formula it implements, so its softmax saturates as the width
# >    grows (section 2: with its own `nn.Linear` initialisation and width 512 each query's
# >    largest weight is several times what the scale gives); (b) transposes `keys.transpose(0, 1)`,
# >    which on a batch `(batch, time, hidden)` swaps the batch and time axes: the product
# >    fails, or, when batch = time = hidden, silently returns numbers unrelated to attention
# >    (section 1.1); (c) takes the softmax over `dim=1`, the queries of a batch, not the
# >    keys. Fix: `keys.transpose(-2, -1)`, divide by $\sqrt{d_k}$, softmax over the last
# >    axis. The same section calls *hard attention* "the top-k weights, weighted and
# >    summed"; hard attention (Xu et al. 2015) samples one position; top-k is sparse attention.
# > 2. **`000` §3.5 Transformer**: the structure "位置编码, 多头注意力, 前馈网络, 输出层"
# >    leaves out the residual connections and layer normalisation around every sub-layer,
# >    which are what make the stack trainable (section 6); the formula given as "the
# >    multi-head attention formula" is single-head scaled dot-product attention (multi-head
# >    attention adds $h$ learned projections and $W^O$, section 4); `Q * K^T` is a matrix
# >    product, and $d_k$ is the size of one key vector (per head), not "the dimension of
# >    the key matrix".
# > 3. **`000` §2.5 Transformer**: "并行处理输入序列，具有更高的计算效率". Parallel over
# >    positions, yes; but a self-attention layer costs $4Td^2 + 2T^2d$ multiply-adds against
# >    an LSTM's $8Td^2$, more as soon as $T > 2d$, with $T^2$ attention weights (section 6).
# >    It is faster on parallel hardware, not cheaper, and long sequences are its weak spot.
# > 4. **`001` §3.3.3 位置编码**: "一种特殊的一维卷积，它可以让模型自动学习序列中的位置信息".
# >    The sinusoidal encoding is a fixed table added to the embeddings: no weights (nothing
# >    is learned), no kernel sliding over tokens (not a convolution); its useful property
# >    is that $PE_p \cdot PE_{p+k}$ depends on $k$ only (section 5.1). In the formula the
# >    exponent must be braced, $10000^{2i/d}$, and $i$ is the index of a pair of dimensions
# >    ($0 \le i < d/2$), not "the dimension of the encoding"; read as a column index the
# >    frequencies fall to $10^{-8}$ and about half the columns are constant over 512 positions
# >    (section 5.1). Learned position tables (BERT, GPT-2) exist, but they are another method.
# > 5. **`001` §3.2 变压器的原理**: lists "多头注意力机制" and "自注意力机制" as two components;
# >    self-attention is multi-head attention with queries, keys and values from one
# >    sequence (section 4). "解码器…将输入序列编码为目标序列": the encoder encodes the
# >    input; the decoder generates the target, attending causally to its own prefix and to
# >    the encoder's outputs (section 6).
# > 6. **`003` §2 核心概念与联系**: the concept graph 词嵌入 → 神经网络 → RNN → LSTM → 注意力机制
# >    puts attention on top of the LSTM; the Transformer has no recurrence at all (sections
# >    4–6), and §4.1's "$a_t = \mathrm{softmax}(V \cdot h_t)$" is a softmax of one state's
# >    projection (over its components; identically 1 if $V \cdot h_t$ is a number);
# >    attention weights are a softmax over **positions** $s$ of a
# >    score between a query and each key, $\alpha_{t,s} = \mathrm{softmax}_s(q_t \cdot
# >    k_s / \sqrt{d_k})$ (section 1).

# %%
path = rec.save()
print("results written to", path)
