"""The generic test every nlpbook layer and model passes, written once.

:func:`run_layer_test` checks the contract a Keras layer owes its users, in the spirit of
KerasHub's ``run_layer_test`` (our own code): the config round trip, symbolic and eager calls
that agree, a ``.keras`` save/load under ``safe_mode=True`` that gives the same outputs, one
``fit`` step that leaves every weight finite and moves the trainable ones, and a
``mixed_bfloat16`` run that computes in bfloat16, keeps float32 variables and stays close to
the float32 result. Reference tests (equal outputs to keras built-ins or NumPy) are separate:
they check the maths; this checks the plumbing.

Two helpers keep reference tests that compare *decisions* (an argmax, a beam) across two
float32 paths independent of the CPU's rounding: :func:`argmax_margin` (assert the decision is
clear of float32 error) and :func:`jittered` (a decoding step with its logits perturbed).

Example:
    >>> run_layer_test(keras.layers.Dense, {"units": 4}, np.ones((2, 3), "float32"),
    ...                expected_output_shape=(2, 4), expected_num_trainable_weights=2)
"""

from __future__ import annotations

import copy
import inspect
import tempfile
from pathlib import Path

import keras
import numpy as np


def argmax_margin(logits, relative: bool = False) -> np.ndarray:
    """Per row (the last axis), the largest value minus the second largest.

    Two float32 computations of the same logits (another batch shape, another CPU's BLAS or
    oneDNN kernel) differ in their last bits, a relative 1e-7 to 1e-6 of the values summed,
    so an argmax compared across them is only decided where this margin is far larger. Tests
    assert it before comparing argmax decisions: a near-tie then fails here, with its margin
    in the message, rather than as a different token on someone else's CPU.

    Args:
        logits: ``(..., classes)``, at least two classes; ``-inf`` entries (masked) allowed.
        relative: divide each margin by the row's largest finite absolute value, for models
            whose logits are far from order one (an untrained model's are ~1e-3).

    Example:
        >>> argmax_margin(np.array([[1.0, 3.0, 2.5], [0.0, 0.0, -1.0]]))
        array([0.5, 0. ])
    """
    values = np.asarray(keras.ops.convert_to_numpy(logits), np.float64)
    if values.ndim == 0 or values.shape[-1] < 2:
        raise ValueError(f"need at least two values per row; got shape {values.shape}")
    top2 = np.sort(values, axis=-1)[..., -2:]
    margin = top2[..., 1] - top2[..., 0]
    if relative:
        scale = np.max(np.where(np.isfinite(values), np.abs(values), 0.0), axis=-1)
        margin = margin / np.where(scale > 0, scale, 1.0)
    return margin


def jittered(step, scale: float = 1e-5, seed: int = 0):
    """A decoding step (``step(tokens, state) -> (logits, state)``) whose logits carry
    uniform noise in ``[-scale, scale]``.

    Beam search decides by sums of log-probabilities across beams, so its near-ties are not
    one row's argmax margin. A search compared across two paths (a batch against one sentence
    at a time, a cached state against a recomputed prefix) that still agrees when one side is
    jittered by ``scale`` is unlikely to rest on a margin below ``scale`` (each such margin
    would flip with a sizeable chance), so another kernel's float32 rounding (about 1e-6 on
    log-probabilities of order one) is unlikely to change it. Fresh noise at every call.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale}")
    rng = np.random.default_rng(seed)

    def noisy(tokens, state):
        logits, state = step(tokens, state)
        logits = np.asarray(keras.ops.convert_to_numpy(logits), np.float32)
        return logits + rng.uniform(-scale, scale, logits.shape).astype(np.float32), state

    return noisy


def _as_tuple(data) -> tuple:
    return tuple(data) if isinstance(data, (list, tuple)) else (data,)


def _numpy(outputs) -> list[np.ndarray]:
    if isinstance(outputs, dict):  # a model's named outputs, in key order
        outputs = [outputs[k] for k in sorted(outputs)]
    flat = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(o, "float32"))) for o in flat]


def _assert_close(actual, expected, atol, rtol, what):
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        if a.shape != e.shape:
            raise AssertionError(f"{what}: output {i} has shape {a.shape}, expected {e.shape}")
        if not np.allclose(a, e, atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(a - e)))
            raise AssertionError(f"{what}: output {i} differs by up to {worst:.3g} (atol={atol})")


def _check_config(layer_cls, init_kwargs):
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    for name, value in init_kwargs.items():
        if name not in config:
            raise AssertionError(f"get_config() of {layer_cls.__name__} lacks argument {name!r}")
        stored = config[name]
        if isinstance(value, (int, float, str, bool, type(None))) and stored != value:
            raise AssertionError(
                f"get_config()[{name!r}] is {stored!r}, but the layer was made with {value!r}"
            )
    # a copy: some from_config (keras.layers.RNN's) consume entries of the dict they get
    again = layer_cls.from_config(copy.deepcopy(config)).get_config()
    if again != config:
        changed = sorted(k for k in set(config) | set(again) if config.get(k) != again.get(k))
        raise AssertionError(f"config round trip changed {changed}")
    return config


def _symbolic_model(layer, inputs, call_kwargs):
    symbolic = [keras.Input(shape=x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    outputs = layer(*symbolic, **call_kwargs)
    return keras.Model(symbolic if len(symbolic) > 1 else symbolic[0], outputs)


def _model_call(model, inputs):
    return model(list(inputs) if len(inputs) > 1 else inputs[0])


def _check_fit_step(model, inputs, outputs):
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    targets = [np.zeros_like(o) for o in _numpy(outputs)]
    if isinstance(outputs, dict):
        targets = [dict(zip(sorted(outputs), targets, strict=True))]
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    try:
        history = model.fit(
            list(inputs) if len(inputs) > 1 else inputs[0],
            targets if len(targets) > 1 else targets[0],
            batch_size=len(inputs[0]),
            epochs=1,
            verbose=0,
        )
    except Exception as err:  # each backend words a missing gradient its own way
        raise AssertionError(f"one fit step failed: {type(err).__name__}: {err}") from err
    loss = history.history["loss"][-1]
    if not np.isfinite(loss):
        raise AssertionError(f"one fit step gave a non-finite loss: {loss}")
    for weight in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(weight))):
            raise AssertionError(f"weight {weight.path} is not finite after one fit step")
    if before and all(
        np.array_equal(b, keras.ops.convert_to_numpy(w))
        for b, w in zip(before, model.trainable_weights, strict=True)
    ):
        raise AssertionError("one fit step changed no trainable weight (no gradient flows?)")


def _check_mixed_precision(
    layer_cls, config, layer, inputs, call_kwargs, reference, atol, output_dtype
):
    mixed = layer_cls.from_config({**config, "dtype": "mixed_bfloat16"})
    mixed(*inputs, **call_kwargs)  # build
    mixed.set_weights(layer.get_weights())
    outputs = mixed(*inputs, **call_kwargs)
    flat = list(outputs.values()) if isinstance(outputs, dict) else outputs
    for out in flat if isinstance(flat, (list, tuple)) else [flat]:
        dtype = keras.backend.standardize_dtype(out.dtype)
        if "float" in dtype and dtype != output_dtype:
            raise AssertionError(f"under mixed_bfloat16 the output is {dtype}, not {output_dtype}")
    for weight in mixed.weights:
        if weight.trainable and weight.dtype != "float32":
            raise AssertionError(f"under mixed_bfloat16 variable {weight.path} is {weight.dtype}")
    got = _numpy(outputs)
    for a in got:
        if not np.all(np.isfinite(a)):
            raise AssertionError("mixed_bfloat16 output is not finite")
    _assert_close(got, reference, atol=atol, rtol=atol, what="mixed_bfloat16 vs float32")


def run_layer_test(
    layer_cls,
    init_kwargs: dict,
    input_data,
    *,
    call_kwargs: dict | None = None,
    expected_output_shape=None,
    expected_num_trainable_weights: int | None = None,
    expected_num_non_trainable_weights: int | None = None,
    run_training: bool = True,
    run_saving: bool = True,
    run_mixed_precision: bool = True,
    atol: float = 1e-5,
    bfloat16_atol: float = 5e-2,
    mixed_output_dtype: str = "bfloat16",
) -> None:
    """Check the contract of a Keras layer; raise ``AssertionError`` naming what broke.

    Args:
        layer_cls: the layer class (registered as Keras-serializable for the saving check).
        init_kwargs: constructor arguments; each must be stored in ``get_config()``.
        input_data: a NumPy array, or a tuple of arrays for a layer called with several
            positional inputs. The first axis is the batch.
        call_kwargs: extra non-tensor call arguments (``training=False``, ...).
        expected_output_shape: the eager output shape (a tuple, or a list of tuples; for a
            dict of outputs, a list in the order of the sorted keys).
        expected_num_trainable_weights / expected_num_non_trainable_weights: weight counts.
        run_training: run one ``fit`` step (mean squared error towards zeros).
        run_saving: save to ``.keras`` and load back with ``safe_mode=True``.
        run_mixed_precision: run under ``mixed_bfloat16`` with the same weights.
        atol: tolerance for equal outputs (eager vs symbolic vs reloaded).
        bfloat16_atol: tolerance between the bfloat16 and float32 outputs.
        mixed_output_dtype: the float outputs' dtype under ``mixed_bfloat16``; ``"float32"``
            for a model whose last layer computes in float32 on purpose (a softmax head).
    """
    if not (inspect.isclass(layer_cls) and issubclass(layer_cls, keras.layers.Layer)):
        raise TypeError(f"layer_cls must be a keras Layer class. Received: {layer_cls!r}")
    call_kwargs = dict(call_kwargs or {})
    inputs = tuple(np.asarray(x) for x in _as_tuple(input_data))
    name = layer_cls.__name__

    config = _check_config(layer_cls, init_kwargs)

    layer = layer_cls(**init_kwargs)
    eager = layer(*inputs, **call_kwargs)
    eager_np = _numpy(eager)
    if expected_output_shape is not None:
        expected = (
            expected_output_shape
            if isinstance(expected_output_shape, list)
            else [expected_output_shape]
        )
        got = [tuple(a.shape) for a in eager_np]
        if got != [tuple(s) for s in expected]:
            raise AssertionError(f"{name} output shape {got}, expected {expected}")
    if expected_num_trainable_weights is not None:
        n = len(layer.trainable_weights)
        if n != expected_num_trainable_weights:
            raise AssertionError(
                f"{name} has {n} trainable weights, expected {expected_num_trainable_weights}"
            )
    if expected_num_non_trainable_weights is not None:
        n = len(layer.non_trainable_weights)
        if n != expected_num_non_trainable_weights:
            raise AssertionError(
                f"{name} has {n} non-trainable weights, expected {expected_num_non_trainable_weights}"
            )

    model = _symbolic_model(layer, inputs, call_kwargs)
    _assert_close(
        _numpy(_model_call(model, inputs)), eager_np, atol, atol, f"{name} symbolic vs eager"
    )

    if run_saving:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "layer.keras"
            model.save(path)
            loaded = keras.models.load_model(path, safe_mode=True)
        _assert_close(
            _numpy(_model_call(loaded, inputs)), eager_np, atol, atol, f"{name} reloaded .keras"
        )

    if run_mixed_precision:
        _check_mixed_precision(
            layer_cls,
            config,
            layer,
            inputs,
            call_kwargs,
            eager_np,
            bfloat16_atol,
            mixed_output_dtype,
        )

    if run_training:
        _check_fit_step(model, inputs, eager)
