"""Timing: the median wall time of a call, and our recurrent cells against Keras' layers.

``median_ms(fn)`` times a call after a warm-up (tracing and compilation are not what we
time) and waits for the result, since JAX and PyTorch on a GPU return before the device has
finished. ``recurrent_speed`` times the cells of :mod:`nlpbook.layers` inside
``keras.layers.RNN`` against ``keras.layers.SimpleRNN``, ``LSTM`` and ``GRU``, which hand the
whole sequence to cuDNN on an NVIDIA GPU when they can; it copies the weights across first and
reports how far the two outputs are apart, so both timed calls compute the same function.

``gpt_training_speed`` trains our :class:`nlpbook.models.GPT` and keras-hub's
``GPT2Backbone`` of the same config (with its tied output layer, so both return the same
logits) side by side, after copying our weights into keras-hub's and checking the logits;
it reports tokens per second, their ratio, the model FLOPs per token and, given the device's
peak, the model FLOPs utilisation (MFU).

Chapter 6 prints its table for the device the chapter runs on; ``python -m nlpbook bench rnn``
prints it from the command line, which needs neither TensorFlow nor the data sets (the lent
GPU machine has JAX and no TensorFlow: ``gpu/check.sh`` runs it there).
``python -m nlpbook bench gpt`` does the same for the GPT (it needs keras-hub).

``generation_speed`` decodes greedily with our :class:`nlpbook.models.Llama` with and
without its KV cache, with and without XLA, beside keras-hub's ``LlamaCausalLM.generate``
on the same weights; ``python -m nlpbook bench generate`` runs it for SmolLM2-135M-Instruct.

``seq2seq_training_speed`` trains one encoder-decoder under cheaper training steps (XLA,
mixed bfloat16, twice the batch) beside the plain float32 step, on the same batches and
initial weights; ``python -m nlpbook bench seq2seq`` runs it for chapter 10's full-size
models on Multi30k.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np
from keras import ops

from nlpbook import results, runtime
from nlpbook._checks import check_bool, check_int
from nlpbook.layers import GRUCell, LSTMCell, SimpleRNNCell

#: name -> (our cell, Keras' layer); the weight layouts match, so ``set_weights`` copies across
RECURRENT_PAIRS = {
    "SimpleRNN": (SimpleRNNCell, keras.layers.SimpleRNN),
    "LSTM": (LSTMCell, keras.layers.LSTM),
    "GRU": (GRUCell, keras.layers.GRU),
}


def _wait(result):
    """Bring every tensor in ``result`` to the host, so the time covers the computation."""
    return keras.tree.map_structure(
        lambda x: ops.convert_to_numpy(x) if ops.is_tensor(x) else x, result
    )


def median_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """The median wall time of ``fn()`` in milliseconds, over ``repeats`` calls after ``warmup``.

    The median, not the mean: on a shared machine one slow call should not move the number.
    """
    check_int("repeats", repeats, minimum=1)
    check_int("warmup", warmup, minimum=0)
    for _ in range(warmup):
        _wait(fn())
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        _wait(fn())
        seconds.append(time.perf_counter() - start)
    return 1000 * statistics.median(seconds)


def recurrent_speed(
    batch: int = 64,
    steps: int = 100,
    features: int = 64,
    units: int = 256,
    repeats: int = 10,
    seed: int = 0,
) -> dict[str, dict]:
    """Forward pass and training step of our cells against Keras' recurrent layers.

    For each of SimpleRNN, LSTM and GRU: a ``Sequential`` model around our cell in
    ``keras.layers.RNN`` and one around Keras' layer (default arguments, which are those of the
    cuDNN path), Adam and a mean squared error on a random batch. Keras' initial weights are
    copied into ours, and the last states of the two compared, before anything is timed.

    Args:
        batch, steps, features, units: the shape of the input ``(batch, steps, features)`` and
            the state size.
        repeats: timed calls of each kind; the median is reported.
        seed: for the weights and the random batch.

    Returns:
        ``{name: {"ours": {"forward_ms", "train_step_ms"}, "keras": {...},
        "max_output_difference": float}}`` for name in ``RECURRENT_PAIRS``.
    """
    for name, value in (("batch", batch), ("steps", steps), ("features", features),
                        ("units", units), ("repeats", repeats)):  # fmt: skip
        check_int(name, value, minimum=1)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    y = rng.normal(size=(batch, units)).astype("float32")
    table = {}
    for name, (cell_cls, layer_cls) in RECURRENT_PAIRS.items():
        keras.utils.set_random_seed(seed)
        models = {
            "ours": keras.Sequential([keras.Input(x.shape[1:]), keras.layers.RNN(cell_cls(units))]),
            "keras": keras.Sequential([keras.Input(x.shape[1:]), layer_cls(units)]),
        }
        models["ours"].set_weights(models["keras"].get_weights())
        difference = np.abs(
            models["ours"].predict_on_batch(x) - models["keras"].predict_on_batch(x)
        ).max()
        row = {"max_output_difference": float(difference)}
        for kind, model in models.items():
            model.compile(optimizer="adam", loss="mse")
            row[kind] = {
                "forward_ms": median_ms(lambda m=model: m.predict_on_batch(x), repeats),
                "train_step_ms": median_ms(lambda m=model: m.train_on_batch(x, y), repeats),
            }
        table[name] = row
    return table


def speed_rows(table: dict[str, dict]) -> list[list[str]]:
    """``recurrent_speed``'s result as rows for :func:`nlpbook.display.show_table`."""
    return [
        [
            name,
            f"{row['ours']['forward_ms']:.1f}",
            f"{row['keras']['forward_ms']:.1f}",
            f"{row['ours']['train_step_ms']:.1f}",
            f"{row['keras']['train_step_ms']:.1f}",
            f"{row['ours']['train_step_ms'] / row['keras']['train_step_ms']:.2f}",
            f"{row['max_output_difference']:.1e}",
        ]
        for name, row in table.items()
    ]


class _KerasHubLM(keras.Model):
    """keras-hub's ``GPT2Backbone`` with its tied output layer: ids -> float32 logits.

    The backbone returns the final hidden states and takes a padding mask; with an all-ones
    mask and the token embedding reversed, it computes what our ``GPT`` computes.
    """

    def __init__(self, backbone, **kwargs):
        super().__init__(**kwargs)
        self.backbone = backbone

    def call(self, token_ids, training=None):
        mask = ops.ones_like(token_ids, dtype="int32")
        hidden = self.backbone({"token_ids": token_ids, "padding_mask": mask}, training=training)
        return ops.cast(self.backbone.token_embedding(hidden, reverse=True), "float32")


def _import_keras_hub():
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(
            "gpt_training_speed compares with keras-hub's GPT2Backbone: pip install keras-hub"
        ) from error
    return keras_hub


def _keras_hub_gpt2(config):
    """keras-hub's GPT-2 of ``config``'s sizes, wrapped to return logits like our ``GPT``."""
    keras_hub = _import_keras_hub()
    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=config.vocab_size, num_layers=config.num_layers,
        num_heads=config.num_heads, hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size, dropout=config.dropout,
        max_sequence_length=config.max_length,
    )  # fmt: skip
    return _KerasHubLM(backbone, name="keras_hub_gpt2")


def gpt_flops_per_token(config) -> int:
    r"""Model FLOPs of one training step per token of a :class:`~nlpbook.models.GPT`.

    .. math:: 6N + 12\,L\,T\,d

    PaLM's estimate (Chowdhery et al. 2022, appendix B; nanoGPT's ``estimate_mfu``): each
    weight takes part in one multiply-add per token in the forward pass and two in the
    backward pass (``6N``; Kaplan et al. 2020's ``C ≈ 6N``), and the attention scores
    ``QKᵀ`` and their weighted sum over ``V`` take ``2·2·T·d`` per token and layer forward,
    three times that with the backward pass. ``N`` is every weight that multiplies: the
    non-embedding parameters and the tied output layer ``V·d`` (the token and position
    lookups cost nothing); ``T`` is the context, the length the benchmark trains on. The
    causal mask's zeros are counted (kernels compute them), layer norms, softmax, GELU and
    the optimizer are not: "model" FLOPs, so MFU does not depend on how a kernel is written.
    """
    from nlpbook.models.gpt import count_parameters

    n = count_parameters(config, embeddings=False) + config.vocab_size * config.hidden_size
    return 6 * n + 12 * config.num_layers * config.max_length * config.hidden_size


MODELS = ("nlpbook", "keras_hub")  # gpt_training_speed's models, in its result's order


def gpt_training_speed(
    config,
    batch_size: int,
    steps: int = 10,
    warmup: int = 2,
    jit_compile: bool = True,
    seed: int = 0,
    rounds: int = 3,
    peak_flops: float | None = None,
) -> dict:
    """Training throughput of our GPT against keras-hub's ``GPT2Backbone`` of the same config.

    Both models are built here from ``config``: ours, and keras-hub's backbone with its tied
    output layer (``token_embedding(hidden, reverse=True)``, float32 logits), into which our
    weights are copied. Before anything is timed, the two compute the logits of the training
    batch in inference mode (dropout off) and the largest difference is reported: the timed
    steps compute the same function. The training steps use ``config``'s dropout in both
    (keras-hub's one rate is used for its attention weights too, hence the check below): a
    dropout mask costs time, and both pay it. Use ``dataclasses.replace(config, dropout=0.0,
    attention_dropout=0.0)`` to time training without dropout.

    Each model is compiled with AdamW (learning rate 1e-4) and sparse categorical
    cross-entropy from logits, ``jit_compile`` as given, and trained with
    ``train_on_batch`` on one fixed batch of random ids of full context length (the targets
    are the ids shifted by one). ``warmup`` steps each are not timed (tracing and XLA
    compilation); then ``rounds`` rounds of ``steps`` timed steps alternate between the two
    models, which goes first swapping every round, so a shared machine's drift hits both;
    the median round is reported. ``train_on_batch`` returns the loss as a Python float, so
    every step waits for the device: the timed region covers the computation, and one host
    round trip per step, as a loop that logs every step's loss has.

    Args:
        config: a :class:`~nlpbook.models.GPTConfig` (or its dict). keras-hub's GPT-2 fixes
            GELU's tanh form, layer norm epsilon 1e-5 and one dropout rate, so the config
            must have ``activation="gelu_tanh"``, ``layer_norm_epsilon=1e-5`` and
            ``dropout == attention_dropout``.
        batch_size: sequences per step, each ``config.max_length`` tokens.
        steps: timed training steps per round.
        warmup: untimed training steps per model first.
        jit_compile: compile the training step with XLA (``torch.compile`` on PyTorch).
            Keras compiles without XLA on TensorFlow while op determinism is on (as
            ``runtime.setup`` leaves it), so it is switched off for this call and restored
            after; ``result["jit_compile"]`` says what each model got.
        seed: for our initial weights, the dropout masks and the random batch.
        rounds: timed rounds per model; the median is reported.
        peak_flops: the device's peak FLOP/s at the dtype policy in use (e.g. ``989e12`` for
            an H100 SXM at bfloat16, dense), for the MFU; None for no MFU.

    Returns:
        A dict: ``"tokens_per_s"``, ``"seconds_per_step"`` (the median round),
        ``"rounds_seconds_per_step"`` (every round, in order), ``"parameters"``, ``"mfu"``
        (None without ``peak_flops``) and ``"jit_compile"``, each ``{"nlpbook": …,
        "keras_hub": …}``; ``"ratio"`` (our tokens per second over keras-hub's),
        ``"max_abs_logit_diff"``, ``"flops_per_token"`` (:func:`gpt_flops_per_token`),
        ``"peak_flops"``, ``"device"`` (:func:`nlpbook.runtime.describe`), ``"backend"``,
        ``"dtype_policy"``, ``"config"`` (as a dict), ``"batch_size"``,
        ``"tokens_per_step"``, ``"steps"``, ``"warmup"`` and ``"rounds"``.

    Raises:
        ValueError: a count below its minimum, a bad ``peak_flops``, or a config that
            keras-hub's GPT-2 cannot express.
        ImportError: keras-hub is not installed.
    """
    from nlpbook.models import _config
    from nlpbook.models.gpt import GPT, GPTConfig

    config = _config.as_config(GPTConfig, config)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    rounds = check_int("rounds", rounds, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    jit_compile = check_bool("jit_compile", jit_compile)
    if peak_flops is not None and (
        isinstance(peak_flops, bool)
        or not isinstance(peak_flops, (int, float, np.number))
        or not peak_flops > 0
    ):
        raise ValueError(f"peak_flops must be a number > 0 or None. Received: {peak_flops!r}")
    fixed = {"activation": "gelu_tanh", "layer_norm_epsilon": 1e-5}
    for name, value in fixed.items():
        if getattr(config, name) != value:
            raise ValueError(
                f"keras-hub's GPT2Backbone has {name}={value!r}. "
                f"Received: {name}={getattr(config, name)!r}"
            )
    if config.dropout != config.attention_dropout:
        raise ValueError(
            "keras-hub's GPT2Backbone has one dropout rate, for the attention weights too: "
            "dropout must equal attention_dropout. Received: "
            f"dropout={config.dropout}, attention_dropout={config.attention_dropout}"
        )
    _import_keras_hub()  # before anything is built

    rng = np.random.default_rng(seed)
    stream = rng.integers(0, config.vocab_size, size=(batch_size, config.max_length + 1))
    x, y = stream[:, :-1].astype("int32"), stream[:, 1:].astype("int32")
    keras.utils.set_random_seed(seed)
    models = {"nlpbook": GPT(config), "keras_hub": _keras_hub_gpt2(config)}
    for model in models.values():
        model(x[:1])  # build
    models["keras_hub"].set_weights(models["nlpbook"].get_weights())
    logits = {name: ops.convert_to_numpy(model(x)) for name, model in models.items()}
    difference = float(np.abs(logits["nlpbook"] - logits["keras_hub"]).max())
    del logits

    restore_determinism = _pause_op_determinism() if jit_compile else None
    try:
        seconds = _time_training(models, x, y, jit_compile, warmup, rounds, steps)
    finally:
        if restore_determinism is not None:
            restore_determinism()

    per_step = {name: statistics.median(seconds[name]) for name in MODELS}
    tokens = batch_size * config.max_length
    tokens_per_s = {name: tokens / per_step[name] for name in MODELS}
    flops = gpt_flops_per_token(config)
    return {
        "tokens_per_s": tokens_per_s,
        "ratio": tokens_per_s["nlpbook"] / tokens_per_s["keras_hub"],
        "seconds_per_step": per_step,
        "rounds_seconds_per_step": seconds,
        "parameters": {name: models[name].count_params() for name in MODELS},
        "max_abs_logit_diff": difference,
        "flops_per_token": flops,
        "peak_flops": None if peak_flops is None else float(peak_flops),
        "mfu": None
        if peak_flops is None
        else {name: tokens_per_s[name] * flops / peak_flops for name in MODELS},
        "jit_compile": {name: bool(models[name].jit_compile) for name in MODELS},
        "device": runtime.describe(),
        "backend": runtime.backend(),
        "dtype_policy": keras.config.dtype_policy().name,
        "config": config.to_dict(),
        "batch_size": batch_size,
        "tokens_per_step": tokens,
        "steps": steps,
        "warmup": warmup,
        "rounds": rounds,
    }


def _pause_op_determinism():
    """On TensorFlow with op determinism on, switch it off; return how to switch it back."""
    if runtime.backend() != "tensorflow":
        return None
    from tensorflow.python.framework import config as tf_config

    if not tf_config.is_op_determinism_enabled():
        return None
    tf_config.disable_op_determinism()
    return tf_config.enable_op_determinism


def _time_training(models, x, y, jit_compile, warmup, rounds, steps) -> dict[str, list[float]]:
    """Compile each model, run ``warmup`` steps, then alternate timed rounds of ``steps``."""
    for model in models.values():
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate=1e-4),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
        )
        for _ in range(warmup):
            _wait(model.train_on_batch(x, y))
    seconds = {name: [] for name in models}
    for round_ in range(rounds):
        for name in MODELS if round_ % 2 == 0 else MODELS[::-1]:
            model = models[name]
            start = time.perf_counter()
            for _ in range(steps):
                loss = model.train_on_batch(x, y)
            _wait(loss)
            seconds[name].append((time.perf_counter() - start) / steps)
    return seconds


GPT_SPEED_HEADERS = ["model", "tokens/s", "ms per step", "vs keras-hub", "parameters", "MFU", "XLA"]


def gpt_speed_rows(result: dict) -> list[list[str]]:
    """``gpt_training_speed``'s result as rows for :func:`nlpbook.display.show_table`."""
    reference = result["tokens_per_s"]["keras_hub"]
    return [
        [
            name.replace("_", "-"),
            f"{result['tokens_per_s'][name]:,.0f}",
            f"{1000 * result['seconds_per_step'][name]:.1f}",
            f"{result['tokens_per_s'][name] / reference:.2f}",
            f"{result['parameters'][name]:,}",
            "-" if result["mfu"] is None else f"{100 * result['mfu'][name]:.3g}%",
            "yes" if result["jit_compile"][name] else "no",
        ]
        for name in MODELS
    ]


#: generation_speed's variants: (name, uses our KV cache, XLA, model)
GENERATION_VARIANTS = {
    "cache, one loop, XLA": ("nlpbook-loop", True, True),
    "cache, one loop, no XLA": ("nlpbook-loop", True, False),
    "cache, XLA": ("nlpbook", True, True),
    "cache, no XLA": ("nlpbook", True, False),
    "no cache, XLA": ("nlpbook", False, True),
    "no cache, no XLA": ("nlpbook", False, False),
    "keras-hub, XLA": ("keras_hub", True, True),
    "keras-hub, no XLA": ("keras_hub", True, False),
}


def _argmax_row(logits) -> int:
    return int(np.argmax(ops.convert_to_numpy(logits)[0]))


def _ours_cached(model, prompt, n, jit):
    model.decoding_jit_compile = jit
    width = len(prompt)
    warm_logits, warm = model.prefill(prompt[None], max_length=width + n)  # compile both
    model.decode_step(np.array([_argmax_row(warm_logits)], "int32"), warm)
    start = time.perf_counter()
    logits, state = model.prefill(prompt[None], max_length=width + n)
    tokens = [_argmax_row(logits)]
    first = time.perf_counter() - start
    for _ in range(n - 1):
        logits, state = model.decode_step(np.array(tokens[-1:], "int32"), state)
        tokens.append(_argmax_row(logits))
    return tokens, first, time.perf_counter() - start


def _ours_loop(model, prompt, n, jit):
    """The whole greedy loop compiled (``Llama.greedy_decode``), as keras-hub's ``generate``;
    the first token is timed alone, from a separate run of the prefill."""
    model.decoding_jit_compile = jit
    width = len(prompt)
    logits, state = model.prefill(prompt[None], max_length=width + n)  # compile both
    model.greedy_decode(logits, state, n)
    start = time.perf_counter()
    _argmax_row(model.prefill(prompt[None], max_length=width + n)[0])
    first = time.perf_counter() - start
    start = time.perf_counter()
    logits, state = model.prefill(prompt[None], max_length=width + n)
    tokens, _ = model.greedy_decode(logits, state, n)
    return [int(t) for t in tokens[0]], first, time.perf_counter() - start


def _ours_uncached(model, prompt, n, jit):
    """Recompute every position at every step: the prefix (eager), or, under XLA, which needs
    one static shape, the whole buffer of ``len(prompt) + n`` slots (later slots are padding
    that causal attention keeps out of the earlier positions)."""
    from nlpbook.models._decoding import compile_function

    width = len(prompt)
    buffer = np.zeros((1, width + n), "int32")
    buffer[0, :width] = prompt
    forward = compile_function(model, lambda ids: model(ids), jit)
    if jit:
        forward(ops.convert_to_tensor(buffer))  # compile
    start = time.perf_counter()
    tokens, first = [], None
    for i in range(n):
        end = width + i
        ids = buffer if jit else buffer[:, :end]
        logits = forward(ops.convert_to_tensor(ids))[:, end - 1]
        tokens.append(_argmax_row(logits))
        buffer[0, end] = tokens[-1] if end < buffer.shape[1] else 0
        first = time.perf_counter() - start if first is None else first
    return tokens, first, time.perf_counter() - start


def _keras_hub_generate(backbone, prompt, n, jit):
    keras_hub = _import_keras_hub()
    lm = keras_hub.models.LlamaCausalLM(backbone=backbone, preprocessor=None)
    lm.compile(sampler="greedy")
    lm.jit_compile = jit
    width = len(prompt)
    inputs = {"token_ids": np.zeros((1, width + n), "int32"),
              "padding_mask": np.zeros((1, width + n), "int32")}  # fmt: skip
    inputs["token_ids"][0, :width] = prompt
    inputs["padding_mask"][0, :width] = 1
    lm.generate(inputs, stop_token_ids=None)  # compile
    start = time.perf_counter()
    out = lm.generate(inputs, stop_token_ids=None)
    seconds = time.perf_counter() - start
    return [int(t) for t in np.asarray(out["token_ids"])[0, width:]], None, seconds


def generation_speed(model, prompt, new_tokens=(32, 128, 512), variants=None) -> dict:
    """Greedy decoding speed of our :class:`~nlpbook.models.Llama`: with and without the KV
    cache, with and without XLA, and keras-hub's ``LlamaCausalLM.generate`` on the same
    weights (its own cache), one prompt, on this device.

    Our cache runs two ways: ``decode_step`` called from Python once per token ("cache"),
    and ``greedy_decode``, every step in one compiled loop ("cache, one loop"), as keras-hub's
    ``generate``. Every variant and length is run once untimed first where it compiles (XLA
    traces, the cached step for that cache size), then once timed. Time to first token covers
    the prompt and the first new token; tokens per second is ``new tokens / total time``
    (prompt included). Tokens are compared with the first variant's: greedy decoding of the
    same function must agree (keras-hub's float32 arithmetic differs in the last bits, so a near
    tie may go the other way; ``same_tokens`` says).

    Args:
        model: a :class:`~nlpbook.models.Llama`.
        prompt: 1-D int ids.
        new_tokens: the lengths to generate.
        variants: names from :data:`GENERATION_VARIANTS` (default: all).

    Returns:
        ``{"rows": [{"variant", "new_tokens", "tokens_per_s", "seconds",
        "time_to_first_token_s", "same_tokens", "cache_mb"}, …], "prompt_tokens",
        "device", "backend", "parameters"}``; ``cache_mb`` is the float32 KV cache of a cached
        run, ``2 × layers × (prompt + new) × kv_heads × head_dim × 4`` bytes.
    """
    prompt = np.asarray(prompt, "int32").reshape(-1)
    variants = list(GENERATION_VARIANTS) if variants is None else list(variants)
    unknown = sorted(set(variants) - set(GENERATION_VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(GENERATION_VARIANTS)}")
    for n in new_tokens:
        check_int("new_tokens", n, 1)
    backbone = None
    if any(GENERATION_VARIANTS[v][0] == "keras_hub" for v in variants):
        from nlpbook.models.llama import keras_hub_llama

        backbone = keras_hub_llama(model)
    restore = _pause_op_determinism()
    c = model.config
    rows = []
    try:
        for n in new_tokens:
            reference = None
            for name in variants:
                which, cached, jit = GENERATION_VARIANTS[name]
                if which == "keras_hub":
                    tokens, first, seconds = _keras_hub_generate(backbone, prompt, n, jit)
                elif which == "nlpbook-loop":
                    tokens, first, seconds = _ours_loop(model, prompt, n, jit)
                elif cached:
                    tokens, first, seconds = _ours_cached(model, prompt, n, jit)
                else:
                    tokens, first, seconds = _ours_uncached(model, prompt, n, jit)
                if reference is None:
                    reference = tokens
                slots = len(prompt) + n
                cache_mb = 2 * c.num_layers * slots * c.num_kv_heads * c.head_dim * 4 / 2**20
                rows.append({
                    "variant": name, "new_tokens": n, "tokens_per_s": n / seconds,
                    "seconds": seconds, "time_to_first_token_s": first,
                    "same_tokens": tokens == reference, "cache_mb": cache_mb if cached else 0.0,
                })  # fmt: skip
    finally:
        if restore is not None:
            restore()
        model.decoding_jit_compile = None
    return {"rows": rows, "prompt_tokens": len(prompt), "device": runtime.describe(),
            "backend": runtime.backend(), "parameters": model.count_params()}  # fmt: skip


GENERATION_HEADERS = ["new tokens", "variant", "tokens/s", "seconds", "first token (s)",
                      "vs no cache", "vs keras-hub", "KV cache (MB)", "same tokens"]  # fmt: skip


def generation_speed_rows(result: dict) -> list[list[str]]:
    """``generation_speed``'s result as rows for :func:`nlpbook.display.show_table`; the
    ratios compare with the no-cache and keras-hub runs of the same XLA setting."""
    by = {(r["new_tokens"], r["variant"]): r for r in result["rows"]}
    out = []
    for r in result["rows"]:
        xla = "no XLA" if r["variant"].endswith("no XLA") else "XLA"
        nocache = by.get((r["new_tokens"], f"no cache, {xla}"))
        hub = by.get((r["new_tokens"], f"keras-hub, {xla}"))
        first = r["time_to_first_token_s"]
        out.append([
            str(r["new_tokens"]), r["variant"], f"{r['tokens_per_s']:,.1f}",
            f"{r['seconds']:.2f}", "-" if first is None else f"{first:.3f}",
            "-" if nocache is None else f"{r['tokens_per_s'] / nocache['tokens_per_s']:.1f}×",
            "-" if hub is None else f"{r['tokens_per_s'] / hub['tokens_per_s']:.2f}×",
            f"{r['cache_mb']:.1f}" if r["cache_mb"] else "-",
            "yes" if r["same_tokens"] else "no",
        ])  # fmt: skip
    return out


SIZES = ("batch", "steps", "features", "units", "repeats")  # recurrent_speed's, on the command line

SPEED_HEADERS = [
    "cell",
    "forward ours (ms)",
    "forward Keras",
    "train step ours",
    "train step Keras",
    "ours / Keras (train)",
    "max difference",
]


#: ``bench gpt``'s options -> GPTConfig's fields; defaults are GPTConfig.char_shakespeare()'s
GPT_OPTIONS = {
    "layers": "num_layers",
    "width": "hidden_size",
    "heads": "num_heads",
    "intermediate": "intermediate_size",
    "context": "max_length",
    "vocab": "vocab_size",
    "dropout": "dropout",
}


#: name -> (XLA, dtype policy, batch multiplier): the cheaper training steps chapter 10 weighs
SEQ2SEQ_VARIANTS = {
    "float32": (False, "float32", 1),
    "xla": (True, "float32", 1),
    "bfloat16": (False, "mixed_bfloat16", 1),
    "xla_bfloat16": (True, "mixed_bfloat16", 1),
    "batch_x2": (False, "float32", 2),
}


def seq2seq_training_speed(
    build_model: Callable[[], keras.Model],
    make_batches: Callable[[int, bool], list],
    batch_size: int,
    variants: Sequence[str] = tuple(SEQ2SEQ_VARIANTS),
    steps: int = 60,
    seed: int = 0,
) -> dict:
    """Training throughput of one encoder-decoder under cheaper steps, side by side.

    Each variant of :data:`SEQ2SEQ_VARIANTS` (XLA or not, ``float32`` or ``mixed_bfloat16``,
    ``batch_size`` or twice it) builds a fresh model with the same seed, compiles it with
    Adam (clip norm 1) and :class:`~nlpbook.models.MaskedSequenceCrossentropy` (label
    smoothing 0.1, padding id 0) and trains on real batches. Under XLA the batches are padded
    to their bucket's boundary (``make_batches(size, True)``), so that only one program per
    bucket is compiled. First one untimed step per distinct batch shape (tracing, XLA
    compilation; its time is reported as ``"warmup_s"``), then ``steps`` batches drawn at
    random (seeded, the same positions for every variant of the same batch size) are timed
    and their real target tokens (labels that are not padding) counted. Before training,
    every variant computes the loss of the first batch with the same initial weights: the
    ``float32`` variants must agree to round-off, ``bfloat16`` shows its own error.

    Keras compiles without XLA on TensorFlow while op determinism is on (as
    ``runtime.setup`` leaves it), so it is switched off for the XLA variants and restored.

    Args:
        build_model: returns a new, uncompiled encoder-decoder called as
            ``model((source, decoder_input))``.
        make_batches: ``(batch_size, pad_to_bucket_boundary) -> [((source, decoder_input),
            labels), ...]`` as NumPy arrays or tensors (e.g. a list of
            :func:`nlpbook.pipelines.translation_dataset`).
        batch_size: pairs per step (``batch_x2`` uses twice as many).
        variants: names from :data:`SEQ2SEQ_VARIANTS`, the first being the baseline.
        steps: timed steps per variant.
        seed: for the initial weights, dropout and the batches drawn.

    Returns:
        A dict: ``"variants"``, name → ``{"tokens_per_s", "seconds_per_step",
        "speedup"`` (over the first variant's tokens per second), ``"warmup_s"``,
        ``"shapes"``, ``"padding"`` (share of label positions that are padding),
        ``"initial_loss"``, ``"jit_compile"`` (what Keras really used), ``"dtype_policy"``,
        ``"batch_size"}``; and ``"device"``, ``"backend"``, ``"steps"``, ``"seed"``.

    Raises:
        ValueError: an unknown variant, none at all, or a count below its minimum.
    """
    from nlpbook.models import MaskedSequenceCrossentropy

    batch_size = check_int("batch_size", batch_size, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    variants = list(variants)
    unknown = [v for v in variants if v not in SEQ2SEQ_VARIANTS]
    if not variants or unknown:
        raise ValueError(
            f"variants must be a non-empty list of {list(SEQ2SEQ_VARIANTS)}. Received: {variants!r}"
        )
    policy = keras.config.dtype_policy()
    # every batch list first: seeding TensorFlow below clears its kernel cache, which can
    # drop the resources of a tokenizer that ``make_batches`` still needs (SentencePiece)
    data = {}
    for name in variants:
        jit, _, factor = SEQ2SEQ_VARIANTS[name]
        key = (batch_size * factor, jit)
        if key not in data:
            data[key] = [keras.tree.map_structure(ops.convert_to_numpy, b)
                         for b in make_batches(*key)]  # fmt: skip
    report = {}
    try:
        for name in variants:
            jit, dtype_policy, factor = SEQ2SEQ_VARIANTS[name]
            batches = data[(batch_size * factor, jit)]
            keras.config.set_dtype_policy(dtype_policy)
            keras.utils.set_random_seed(seed)
            model = build_model()
            (source, decoder_input), labels = batches[0]
            loss = MaskedSequenceCrossentropy(label_smoothing=0.1, pad_id=0)
            initial = float(ops.convert_to_numpy(loss(labels, model((source, decoder_input)))))
            # Keras decides on XLA at compile time: determinism must be off before it
            restore = _pause_op_determinism() if jit else None
            try:
                model.compile(keras.optimizers.Adam(1e-4, clipnorm=1.0), loss, jit_compile=jit)
                start, shapes = time.perf_counter(), set()
                for x, y in batches:
                    shape = (x[0].shape, x[1].shape)
                    if shape not in shapes:
                        shapes.add(shape)
                        model.train_on_batch(x, y)
                warmup = time.perf_counter() - start
                picks = np.random.default_rng(seed).integers(0, len(batches), steps)
                tokens, start = 0, time.perf_counter()
                for i in picks:
                    x, y = batches[i]
                    model.train_on_batch(x, y)  # returns a float: waits for the step
                    tokens += int(np.sum(y != 0))
                seconds = time.perf_counter() - start
            finally:
                if restore is not None:
                    restore()
            label_positions = sum(y.size for _, y in batches)
            report[name] = {
                "tokens_per_s": tokens / seconds,
                "seconds_per_step": seconds / steps,
                "warmup_s": warmup,
                "shapes": len(shapes),
                "padding": 1 - sum(int(np.sum(y != 0)) for _, y in batches) / label_positions,
                "initial_loss": initial,
                "jit_compile": bool(model.jit_compile),
                "dtype_policy": dtype_policy,
                "batch_size": batch_size * factor,
            }
    finally:
        keras.config.set_dtype_policy(policy)
    base = report[variants[0]]["tokens_per_s"]
    for row in report.values():
        row["speedup"] = row["tokens_per_s"] / base
    return {"variants": report, "device": runtime.describe(), "backend": runtime.backend(),
            "steps": steps, "seed": seed}  # fmt: skip


SEQ2SEQ_HEADERS = ["variant", "XLA", "dtype", "batch", "tokens/s", "× first", "warm-up s",
                   "shapes", "padding", "initial loss"]  # fmt: skip


def seq2seq_speed_rows(result: dict) -> list[list]:
    """Rows for :data:`SEQ2SEQ_HEADERS` from :func:`seq2seq_training_speed`'s result."""
    return [
        [name, r["jit_compile"], r["dtype_policy"], r["batch_size"], f"{r['tokens_per_s']:,.0f}",
         f"{r['speedup']:.2f}", f"{r['warmup_s']:.1f}", r["shapes"], f"{r['padding']:.3f}",
         f"{r['initial_loss']:.5f}"]
        for name, r in result["variants"].items()
    ]  # fmt: skip


def _rnn_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    sizes = {k: getattr(args, k) for k in SIZES}
    runtime.full_float32_matmuls()  # as chapter 6 does, so the two tables compare
    try:
        table = recurrent_speed(**sizes)
    except ValueError as error:
        parser.error(str(error))
    from nlpbook.display import show_table

    print(runtime.describe())
    print(", ".join(f"{k} {v}" for k, v in sizes.items()) + "; median of the repeats")
    show_table(SPEED_HEADERS, speed_rows(table))
    if args.json:
        report = {"sizes": sizes, "backend": runtime.backend(), "devices": runtime.devices(),
                  "runtime": runtime.describe(), "speed": table}  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        results.write_json(args.json, report)  # never a half-written report
    return 0


def _gpt_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from nlpbook.models.gpt import GPTConfig

    sizes = {field: getattr(args, option) for option, field in GPT_OPTIONS.items()}
    if sizes["intermediate_size"] is None:
        sizes["intermediate_size"] = 4 * sizes["hidden_size"]
    policy = keras.config.dtype_policy()
    try:
        config = GPTConfig(**sizes, attention_dropout=sizes["dropout"])
        keras.config.set_dtype_policy(args.dtype_policy)
        if args.dtype_policy == "float32":
            runtime.full_float32_matmuls()  # no TF32: float32 means float32, as bench rnn
        result = gpt_training_speed(
            config, args.batch, steps=args.steps, warmup=args.warmup, rounds=args.rounds,
            jit_compile=not args.no_jit_compile, peak_flops=args.peak_flops,
        )  # fmt: skip
    except ValueError as error:
        parser.error(str(error))
    finally:
        keras.config.set_dtype_policy(policy)
    from nlpbook.display import show_table

    c = config
    print(result["device"])
    print(
        f"GPT {c.num_layers} layers × {c.hidden_size}, {c.num_heads} heads, context "
        f"{c.max_length}, vocab {c.vocab_size}, dropout {c.dropout}; batch {args.batch}, "
        f"{result['dtype_policy']}; median of {args.rounds} rounds of {args.steps} steps; "
        f"{result['flops_per_token'] / 1e6:,.1f} MFLOP per token; largest logit difference "
        f"{result['max_abs_logit_diff']:.1e}"
    )
    show_table(GPT_SPEED_HEADERS, gpt_speed_rows(result))
    _write_report(args.json, result)
    return 0


def _write_report(path: Path | None, result: dict) -> None:
    """With ``--json PATH``: the result and the device, written whole or not at all."""
    if path:
        report = {"backend": runtime.backend(), "devices": runtime.devices(),
                  "runtime": runtime.describe(), "speed": result}  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        results.write_json(path, report)  # never a half-written report


GENERATE_PROMPT = "Write a short story about a robot who learns to paint."


def _generate_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from nlpbook.display import show_table
    from nlpbook.models.llama import load_smollm2

    model, tokenizer = load_smollm2()
    prompt = tokenizer.encode_ids(
        tokenizer.apply_chat_template([{"role": "user", "content": args.prompt}])
    )
    try:
        result = generation_speed(model, prompt, args.new_tokens, args.variants)
    except ValueError as error:
        parser.error(str(error))
    print(result["device"])
    print(f"SmolLM2-135M-Instruct (float32), greedy, a chat prompt of {len(prompt)} tokens")
    show_table(GENERATION_HEADERS, generation_speed_rows(result))
    _write_report(args.json, result)
    return 0


#: chapter 10's full-mode settings: length buckets and model sizes
SEQ2SEQ_BUCKETS = (8, 12, 16, 20, 24, 32, 48)
SEQ2SEQ_SIZES = {
    "gru": dict(embed_dim=256, units=512, dropout=0.3),
    "attention_gru": dict(embed_dim=256, units=512, dropout=0.3),
    "transformer": dict(d_model=256, num_heads=8, ff_dim=1024, num_layers=3, dropout=0.1),
}


def _seq2seq_main(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from nlpbook import datasets
    from nlpbook.display import show_table
    from nlpbook.models import AttentionGRUSeq2Seq, GRUSeq2Seq, TransformerSeq2Seq
    from nlpbook.pipelines import translation_dataset
    from nlpbook.text import SentencePieceTokenizer

    for name in ("vocab", "max_length", "pairs"):
        value = getattr(args, name)
        if value is not None and value < (2 if name == "max_length" else 1):
            parser.error(f"--{name.replace('_', '-')} must be a positive size. Received: {value}")
    de, en = datasets.load_multi30k("de", "en")["train"]
    de, en = de[: args.pairs], en[: args.pairs]
    tok_de = SentencePieceTokenizer.train(de, args.vocab)
    tok_en = SentencePieceTokenizer.train(en, args.vocab)
    bos, eos = tok_en.token_to_id("<s>"), tok_en.token_to_id("</s>")

    def make_batches(batch_size, pad_to_bucket_boundary):
        return list(translation_dataset(
            de, en, tok_de.encode, tok_en.encode, bos_id=bos, eos_id=eos, batch_size=batch_size,
            max_source_length=args.max_length, max_target_length=args.max_length - 1,
            seed=args.seed, bucket_boundaries=SEQ2SEQ_BUCKETS,
            pad_to_bucket_boundary=pad_to_bucket_boundary,
        ))  # fmt: skip

    sizes = SEQ2SEQ_SIZES[args.model]
    classes = {"gru": GRUSeq2Seq, "attention_gru": AttentionGRUSeq2Seq,
               "transformer": TransformerSeq2Seq}  # fmt: skip
    extra = {"max_length": args.max_length} if args.model == "transformer" else {}

    def build_model():
        return classes[args.model](tok_de.vocab_size, tok_en.vocab_size, **sizes, **extra)

    try:
        result = seq2seq_training_speed(
            build_model, make_batches, args.batch, args.variants, steps=args.steps, seed=args.seed
        )
    except ValueError as error:
        parser.error(str(error))
    print(result["device"])
    print(f"{args.model} {sizes} on Multi30k de→en ({len(de):,} pairs, {args.vocab:,} subwords "
          f"per side, at most {args.max_length} tokens); {args.steps} timed steps per variant")  # fmt: skip
    show_table(SEQ2SEQ_HEADERS, seq2seq_speed_rows(result))
    _write_report(args.json, result | {"model": args.model, "sizes": sizes, "pairs": len(de)})
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nlpbook bench rnn [--batch N] ... [--json PATH]``, or ``bench gpt | generate |
    seq2seq [...]``."""
    parser = argparse.ArgumentParser(
        prog="python -m nlpbook bench", description="Time our models against a reference here."
    )
    commands = parser.add_subparsers(dest="what", required=True)
    rnn = commands.add_parser(
        "rnn",
        help="our recurrent cells against Keras' layers",
        description="Time our recurrent cells against Keras' layers on this device, in full "
        "float32 (no TF32), at chapter 6's full-mode sizes unless told otherwise.",
    )
    defaults = inspect.signature(recurrent_speed).parameters  # chapter 6's full-mode sizes
    for name in SIZES:
        rnn.add_argument(f"--{name}", type=int, default=defaults[name].default)
    gpt = commands.add_parser(
        "gpt",
        help="our GPT against keras-hub's GPT-2, training",
        description="Train our GPT and keras-hub's GPT2Backbone of the same sizes with the same "
        "weights on this device, and time them (tokens per second, MFU). Sizes default to "
        "nanoGPT's character-level Shakespeare model; float32 means full float32 (no TF32).",
    )
    from nlpbook.models.gpt import GPTConfig

    named = GPTConfig.char_shakespeare()
    for option, field in GPT_OPTIONS.items():
        if option == "intermediate":
            gpt.add_argument("--intermediate", type=int, help="default: 4 × width")
        else:
            kind = float if field == "dropout" else int
            gpt.add_argument(f"--{option}", type=kind, default=getattr(named, field))
    gpt.add_argument("--batch", type=int, default=64, help="sequences per step")
    gpt.add_argument("--steps", type=int, default=10, help="timed steps per round")
    gpt.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    gpt.add_argument("--rounds", type=int, default=3, help="timed rounds per model")
    gpt.add_argument("--peak-flops", type=float, help="the device's FLOP/s, for the MFU")
    gpt.add_argument(
        "--dtype-policy", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"]
    )
    gpt.add_argument("--no-jit-compile", action="store_true", help="no XLA (torch.compile)")
    generate = commands.add_parser(
        "generate",
        help="SmolLM2's greedy decoding: KV cache or not, XLA or not, against keras-hub",
        description="Decode greedily with SmolLM2-135M-Instruct on this device: our Llama with "
        "and without its KV cache, with and without XLA, and keras-hub's LlamaCausalLM on the "
        "same weights (tokens per second, time to first token, cache size).",
    )
    generate.add_argument("--new-tokens", type=int, nargs="+", default=[32, 128, 512])
    generate.add_argument("--variants", nargs="+", choices=list(GENERATION_VARIANTS),
                          help="default: all")  # fmt: skip
    generate.add_argument("--prompt", default=GENERATE_PROMPT, help="the user's message")
    seq2seq = commands.add_parser(
        "seq2seq",
        help="chapter 10's translation models: XLA, bfloat16 and larger batches",
        description="Train one of chapter 10's full-size translation models on Multi30k de→en "
        "on this device under cheaper training steps (XLA, mixed bfloat16, twice the batch) "
        "and time them side by side (real target tokens per second).",
    )
    seq2seq.add_argument("--model", choices=list(SEQ2SEQ_SIZES), default="transformer")
    seq2seq.add_argument("--variants", nargs="+", default=list(SEQ2SEQ_VARIANTS),
                         choices=list(SEQ2SEQ_VARIANTS), help="the first is the baseline")  # fmt: skip
    seq2seq.add_argument("--batch", type=int, default=128, help="pairs per step")
    seq2seq.add_argument("--steps", type=int, default=60, help="timed steps per variant")
    seq2seq.add_argument("--vocab", type=int, default=8_000, help="subwords per language")
    seq2seq.add_argument("--max-length", type=int, default=64, help="tokens per side")
    seq2seq.add_argument("--pairs", type=int, help="the first training pairs only (default all)")
    seq2seq.add_argument("--seed", type=int, default=0)
    for command in (rnn, gpt, generate, seq2seq):
        command.add_argument("--json", type=Path, help="also write the table and the device here")
    args = parser.parse_args(argv)
    if args.what == "rnn":
        return _rnn_main(rnn, args)
    if args.what == "generate":
        return _generate_main(generate, args)
    if args.what == "seq2seq":
        return _seq2seq_main(seq2seq, args)
    return _gpt_main(gpt, args)
