r"""LoRA: a low-rank update of a frozen projection (Hu et al. 2021).

A projection ``y = x W`` with ``W`` of shape ``(fan_in, fan_out)`` is fine-tuned as

.. math::
    y = x W + \frac{\alpha}{r}\, \mathrm{dropout}(x)\, A B, \qquad
    A \in \mathbb{R}^{\mathrm{fan\_in} \times r},\; B \in \mathbb{R}^{r \times \mathrm{fan\_out}}

with ``W`` frozen and only ``A`` and ``B`` trained. ``B`` starts at zero, so training starts
from the pretrained model exactly. For inference the update is *merged*:
``W ← W + (α / r) A B`` gives the same outputs (without dropout) at the original cost.

Kernels with more than two axes (an attention projection ``(d_model, heads, head_dim)``, an
output projection ``(heads, head_dim, d_model)``) are factored as the matrix they are:
input axes × output axes, as in the paper. (Keras' own ``EinsumDense.enable_lora`` factors
only the last axis of such kernels; for two-axis kernels the two agree exactly, which the
tests check.)

``LoRAAdapter``  the update itself: ``A``, ``B``, scale and dropout for one kernel
``LoRA``         a wrapper that adds an adapter to a Keras ``Dense`` or ``EinsumDense``
``LoRAMixin``    ``enable_lora`` / ``merge_lora`` for the book's layers with named kernels
                 (``MultiHeadAttention``, ``GroupedQueryAttention``, ``GatedFeedForward``)
``enable_lora``, ``merge_lora``, ``lora_parameter_counts``
                 the same for every such layer of a model, with everything else frozen
"""

from __future__ import annotations

import contextlib
import math
import re

import keras
from keras import ops

from nlpbook._checks import check_int, check_rate

_INITIALIZER_A = "he_uniform"  # as Keras' enable_lora; B is zero, so ΔW = 0 at the start


def _check_lora_args(rank, alpha, dropout):
    rank = check_int("rank", rank, 1)
    if alpha is None:
        alpha = rank
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha must be a positive number. Received alpha={alpha!r}")
    return rank, alpha, check_rate("dropout", dropout)


@keras.saving.register_keras_serializable(package="nlpbook")
class LoRAAdapter(keras.layers.Layer):
    """The low-rank update of one kernel: ``(α / r) · dropout(x) A B``.

    Args:
        rank: ``r``, the rank of the update.
        alpha: ``α``; the update is scaled by ``α / r`` (default ``α = r``, scale 1, as Keras).
        dropout: dropout on the adapter's input while training (the frozen path has none).
        kernel_shape: the shape of the kernel it updates.
        input_axes: how many leading kernel axes the input contracts (1 for ``x W``; 2 for an
            attention output projection ``(heads, head_dim, d_model)``).
        a_initializer, b_initializer: of ``A`` (``"he_uniform"``, as Keras) and ``B``
            (zeros, so that the adapted model starts as the pretrained one).

    Call arguments:
        x: ``(..., *kernel_shape[:input_axes])``, the projection's input.
        training: whether dropout is active.

    Returns:
        ``(..., *kernel_shape[input_axes:])``: what to add to the projection's output.

    Example:
        >>> ad = LoRAAdapter(rank=2, kernel_shape=(8, 3, 4))
        >>> tuple(ad(np.ones((5, 8), "float32")).shape), tuple(ad.delta().shape)
        ((5, 3, 4), (8, 3, 4))
    """

    def __init__(self, rank, alpha=None, dropout=0.0, kernel_shape=None, input_axes=1,
                 a_initializer=_INITIALIZER_A, b_initializer="zeros", **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self._initializer_args = {"a_initializer": a_initializer, "b_initializer": b_initializer}
        self.a_initializer = keras.initializers.get(a_initializer)
        self.b_initializer = keras.initializers.get(b_initializer)
        self.rank, self.alpha, self.dropout = _check_lora_args(rank, alpha, dropout)
        if kernel_shape is None or len(kernel_shape) < 2:
            raise ValueError(f"kernel_shape needs at least two axes. Received {kernel_shape!r}")
        self.kernel_shape = tuple(check_int("kernel_shape", int(s), 1) for s in kernel_shape)
        self.input_axes = check_int("input_axes", input_axes, 1)
        if self.input_axes >= len(self.kernel_shape):
            raise ValueError(
                f"input_axes={input_axes} leaves no output axis of kernel_shape {kernel_shape}"
            )
        self.fan_in = math.prod(self.kernel_shape[: self.input_axes])
        self.fan_out = math.prod(self.kernel_shape[self.input_axes :])
        self.scale = self.alpha / self.rank
        self.input_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        # the adapter's own weights are trained in float32 (as Keras' layers keep variables)
        self.build(None)

    def build(self, input_shape=None):
        if self.built:
            return
        self.lora_a = self.add_weight(
            shape=(self.fan_in, self.rank), initializer=self.a_initializer, name="lora_a"
        )
        self.lora_b = self.add_weight(
            shape=(self.rank, self.fan_out), initializer=self.b_initializer, name="lora_b"
        )
        self.built = True

    def call(self, x, training=None):
        lead = ops.shape(x)[: len(x.shape) - self.input_axes]
        if tuple(x.shape[len(x.shape) - self.input_axes :]) != self.kernel_shape[: self.input_axes]:
            raise ValueError(
                f"the adapter expects inputs ending in {self.kernel_shape[: self.input_axes]}. "
                f"Received shape {x.shape}"
            )
        h = ops.reshape(x, (-1, self.fan_in))
        h = self.input_dropout(h, training=training)
        h = ops.matmul(
            ops.matmul(h, ops.cast(self.lora_a, h.dtype)), ops.cast(self.lora_b, h.dtype)
        )
        h = h * ops.cast(self.scale, h.dtype)
        return ops.reshape(h, (*lead, *self.kernel_shape[self.input_axes :]))

    def delta(self):
        """``ΔW = (α / r) A B`` in the kernel's shape (float32)."""
        return ops.reshape(self.scale * ops.matmul(self.lora_a, self.lora_b), self.kernel_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape[: len(input_shape) - self.input_axes],
                *self.kernel_shape[self.input_axes :])  # fmt: skip

    def get_config(self):
        return {
            **super().get_config(),
            "rank": self.rank,
            "alpha": self.alpha,
            "dropout": self.dropout,
            "kernel_shape": list(self.kernel_shape),
            "input_axes": self.input_axes,
            **{
                k: v if isinstance(v, str) else keras.initializers.serialize(v)
                for k, v in self._initializer_args.items()
            },
        }


def _untrack(layer, attribute):
    """Remove a sublayer from ``layer`` (Keras keeps a list of tracked sublayers)."""
    value = getattr(layer, attribute)
    locked = layer._tracker.locked
    layer._tracker.unlock()
    layer._tracker.untrack(value)
    if locked:
        layer._tracker.lock()
    delattr(layer, attribute)


class LoRAMixin:
    """``enable_lora`` / ``merge_lora`` for a layer whose projections are named kernels.

    A layer lists its adaptable kernels in ``_lora_kernels``: name → (kernel attribute,
    input axes). It calls ``self._lora_update(name, x, training)`` where it applies that
    kernel (``None`` when the kernel has no adapter), ``self._build_lora()`` at the end of
    ``build``, and puts ``lora`` in its config, so a ``.keras`` file keeps ``A`` and ``B``.
    """

    _lora_kernels: dict = {}

    def _init_lora(self, lora):
        self.lora = None
        if lora is not None:
            if not isinstance(lora, dict) or "rank" not in lora:
                raise ValueError(f"lora must be a dict with a rank. Received {lora!r}")
            rank, alpha, dropout = _check_lora_args(
                lora["rank"], lora.get("alpha"), lora.get("dropout", 0.0)
            )
            self.lora = {"rank": rank, "alpha": alpha, "dropout": dropout,
                         "targets": self._check_targets(lora.get("targets"))}  # fmt: skip

    def _check_targets(self, targets):
        names = list(self._lora_kernels)
        if targets is None:
            return names
        targets = [targets] if isinstance(targets, str) else list(targets)
        unknown = [t for t in targets if t not in self._lora_kernels]
        if unknown or not targets:
            raise ValueError(
                f"{type(self).__name__} adapts the kernels {names}. Received targets={targets!r}"
            )
        return [n for n in names if n in targets]

    def _build_lora(self):
        if self.lora is None:
            return
        for name in self.lora["targets"]:
            kernel_attr, input_axes = self._lora_kernels[name]
            kernel = getattr(self, kernel_attr)
            adapter = LoRAAdapter(
                self.lora["rank"], self.lora["alpha"], self.lora["dropout"],
                kernel_shape=tuple(kernel.shape), input_axes=input_axes, name=f"{name}_lora",
                dtype=self.dtype_policy,
            )  # fmt: skip
            setattr(self, f"{name}_lora", adapter)

    def _lora_update(self, name, x, training=None):
        adapter = getattr(self, f"{name}_lora", None) if self.lora is not None else None
        return None if adapter is None else adapter(x, training=training)

    def enable_lora(self, rank, alpha=None, dropout=0.0, targets=None):
        """Add adapters of rank ``rank`` to the kernels ``targets`` (default: all).

        The layer must be built (its kernels give the adapters' shapes). Freezing the base
        weights is the model's business: :func:`enable_lora` does both.
        """
        if not self.built:
            raise ValueError(f"build {self.name} before enabling LoRA (call it once on inputs)")
        if self.lora is not None:
            raise ValueError(f"LoRA is already enabled on {self.name}; merge_lora() first")
        self._init_lora({"rank": rank, "alpha": alpha, "dropout": dropout, "targets": targets})
        locked = self._tracker.locked
        self._tracker.unlock()
        # the adapters' variables go next to the kernels they adapt ("…/self_attn/query_lora/…")
        kernel_path = getattr(self, self._lora_kernels[self.lora["targets"][0]][0]).path
        try:
            with contextlib.ExitStack() as stack:
                for part in kernel_path.split("/")[:-1]:
                    stack.enter_context(keras.name_scope(part))
                self._build_lora()
        finally:
            if locked:
                self._tracker.lock()
        return self

    def lora_adapters(self):
        """``{kernel name: LoRAAdapter}`` of this layer (empty without LoRA)."""
        if self.lora is None:
            return {}
        return {n: getattr(self, f"{n}_lora") for n in self.lora["targets"]}

    def merge_lora(self):
        """Fold every ``ΔW`` into its kernel and remove the adapters: the same outputs (without
        dropout) at the cost of the plain layer."""
        for name, adapter in self.lora_adapters().items():
            kernel = getattr(self, self._lora_kernels[name][0])
            kernel.assign(ops.cast(ops.cast(kernel, "float32") + adapter.delta(), kernel.dtype))
            _untrack(self, f"{name}_lora")
        self.lora = None
        return self


@keras.saving.register_keras_serializable(package="nlpbook")
class LoRA(keras.layers.Wrapper):
    """A Keras ``Dense`` or ``EinsumDense`` with a LoRA update on its kernel.

    The wrapped layer's weights are frozen; ``A`` and ``B`` train. The update is added before
    the bias and the activation, as Keras' ``enable_lora`` adds it.

    Args:
        layer: a ``keras.layers.Dense``, or an ``EinsumDense`` whose equation contracts only the
            input's last axis with the kernel's first (``"abc,cde->abde"``).
        rank, alpha, dropout: as :class:`LoRAAdapter`.

    Example:
        >>> lora = LoRA(keras.layers.Dense(3, activation="relu"), rank=2)
        >>> tuple(lora(np.ones((4, 8), "float32")).shape), len(lora.trainable_weights)
        ((4, 3), 2)
    """

    def __init__(self, layer, rank, alpha=None, dropout=0.0, **kwargs):
        if not isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense)):
            raise TypeError(f"LoRA wraps Dense or EinsumDense. Received {type(layer).__name__}")
        if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
            raise ValueError(f"{layer.name} already has Keras' LoRA or is quantized")
        if isinstance(layer, keras.layers.EinsumDense):
            _check_equation(layer.equation)
        kwargs.setdefault("name", f"{layer.name}_lora")
        super().__init__(layer, **kwargs)
        self.rank, self.alpha, self.dropout = _check_lora_args(rank, alpha, dropout)

    def build(self, input_shape):
        if not self.layer.built:
            self.layer.build(input_shape)
        self.layer.trainable = False
        self._input_shape = tuple(input_shape)
        self.adapter = LoRAAdapter(
            self.rank, self.alpha, self.dropout, kernel_shape=tuple(self.layer.kernel.shape),
            name="adapter", dtype=self.dtype_policy,
        )  # fmt: skip
        self.built = True

    def call(self, x, training=None):
        base = self.layer
        kernel = ops.cast(base.kernel, x.dtype)
        if isinstance(base, keras.layers.Dense):
            y = ops.matmul(x, kernel)
        else:
            y = ops.einsum(base.equation, x, kernel)
        y = y + ops.cast(self.adapter(x, training=training), y.dtype)
        if base.bias is not None:
            y = y + ops.cast(base.bias, y.dtype)
        return y if base.activation is None else base.activation(y)

    def merged(self):
        """A copy of the wrapped layer with ``W + ΔW`` as its kernel (trainable again)."""
        config = self.layer.get_config()
        merged = type(self.layer).from_config(config)
        if not self.built:
            raise ValueError("call the LoRA layer once (or build it) before merging")
        merged.build(self._input_shape)
        values = self.layer.get_weights()
        values[0] = ops.convert_to_numpy(
            ops.cast(self.layer.kernel, "float32") + self.adapter.delta()
        ).astype(values[0].dtype)
        merged.set_weights(values)
        return merged

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "rank": self.rank, "alpha": self.alpha,
                "dropout": self.dropout}  # fmt: skip


def _check_equation(equation):
    match = re.fullmatch(r"\s*(\.\.\.)?(\w+)\s*,\s*(\w+)\s*->\s*(\.\.\.)?(\w+)\s*", equation)
    if match is None:
        raise ValueError(f"LoRA cannot read the EinsumDense equation {equation!r}")
    x, kernel, out = match.group(2), match.group(3), match.group(5)
    contracted = [c for c in kernel if c in x and c not in out]
    if contracted != [x[-1]] or kernel[0] != x[-1] or any(c in x for c in kernel[1:]):
        raise ValueError(
            "LoRA adapts EinsumDense layers that contract only the input's last axis with the "
            f"kernel's first, as 'abc,cde->abde'. Received {equation!r}"
        )
    if out[-(len(kernel) - 1) :] != kernel[1:]:
        raise ValueError(
            f"LoRA needs the kernel's output axes last in the output. Received {equation!r}"
        )


def _lora_layers(model):
    return [layer for layer in model._flatten_layers(include_self=True)
            if isinstance(layer, LoRAMixin)]  # fmt: skip


def enable_lora(model, rank, alpha=None, dropout=0.0, targets=None, train=()):
    """Add LoRA adapters to every adaptable layer of ``model`` and freeze everything else.

    Args:
        model: a built model (or layer) holding the book's attention / feed-forward layers.
        rank, alpha, dropout: as :class:`LoRAAdapter`.
        targets: kernel names to adapt, e.g. ``("query", "value")`` (Hu et al.'s choice);
            a layer adapts those of its kernels that it has. Default: every kernel.
        train: layers (or their names) that stay fully trainable, e.g. a classifier head.

    Returns:
        the number of layers given adapters. ``model.trainable_weights`` is then exactly the
        adapters' ``A`` and ``B`` plus the weights of ``train``. (Freezing is not stored in a
        ``.keras`` file: after loading, freeze by hand, or load into a model before enabling.)
    """
    layers = _lora_layers(model)
    if not layers:
        raise ValueError(f"{model.name} has no layer that supports LoRA")
    if targets is not None:
        targets = [targets] if isinstance(targets, str) else list(targets)
        known = {t for layer in layers for t in layer._lora_kernels}
        missing = [t for t in targets if t not in known]
        if missing:
            raise ValueError(f"no layer of {model.name} has the kernels {missing}; known: "
                             f"{sorted(known)}")  # fmt: skip
    _check_lora_args(rank, alpha, dropout)
    adapted = 0
    for layer in layers:
        wanted = None if targets is None else [t for t in targets if t in layer._lora_kernels]
        if wanted == []:
            continue
        layer.enable_lora(rank, alpha, dropout, wanted)
        adapted += 1
    keep = {id(v) for layer in layers for a in layer.lora_adapters().values() for v in a.weights}
    for item in train:
        layer = model.get_layer(item) if isinstance(item, str) else item
        keep.update(id(v) for v in layer.weights)
    for variable in model.trainable_weights:
        if id(variable) not in keep:
            variable.trainable = False
    return adapted


def merge_lora(model):
    """Merge every adapter of ``model`` into its kernel (see ``LoRAMixin.merge_lora``).
    Which weights are trainable is left as it was. Returns the number of layers merged."""
    merged = 0
    for layer in _lora_layers(model):
        if layer.lora is not None:
            layer.merge_lora()
            merged += 1
    return merged


def lora_parameter_counts(model):
    """``{"trainable": n, "total": n, "adapters": n}``: parameter counts of ``model``."""

    def size(variables):
        return int(sum(math.prod(v.shape) for v in variables))

    adapters = [v for layer in _lora_layers(model) for a in layer.lora_adapters().values()
                for v in a.weights]  # fmt: skip
    return {"trainable": size(model.trainable_weights), "total": size(model.weights),
            "adapters": size(adapters)}  # fmt: skip
