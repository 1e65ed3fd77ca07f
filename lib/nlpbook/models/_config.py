"""What the model configs (``BertConfig``, ``GPTConfig``) share: checks, dict round trip."""

from __future__ import annotations

import dataclasses

import keras

from nlpbook._checks import check_heads, check_int, check_rate
from nlpbook.layers.activations import gelu_tanh

# names a config may give; Keras' "gelu" is the exact (erf) form
ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": gelu_tanh, "relu": "relu"}


def activation(name: str):
    """The Keras activation for a config's activation name."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}. Received: {name!r}")
    return ACTIVATIONS[name]


def check_sizes(config, width_field: str) -> None:
    """Validate the fields every config has; errors name the field and the value."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name.endswith("_id"):
            check_int(field.name, value, 0)
        elif field.type in ("int", int):
            check_int(field.name, value, 1)
        elif field.name.endswith("dropout"):
            check_rate(field.name, value)
    check_heads(width_field, getattr(config, width_field), config.num_heads)
    activation(config.activation)
    if not config.layer_norm_epsilon > 0:
        raise ValueError(f"layer_norm_epsilon must be > 0. Received: {config.layer_norm_epsilon}")
    if not config.initializer_range > 0:
        raise ValueError(f"initializer_range must be > 0. Received: {config.initializer_range}")


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def from_dict(cls, values: dict):
    """A config from :func:`to_dict`'s dict; unknown keys are an error, not ignored."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {unknown}. Fields: {sorted(names)}")
    return cls(**values)


def as_config(cls, config):
    """Accept a config object or its dict (what ``get_config`` stored)."""
    if isinstance(config, cls):
        return config
    if isinstance(config, dict):
        return from_dict(cls, config)
    raise TypeError(f"config must be a {cls.__name__} or a dict. Received: {type(config).__name__}")


def initializer(config):
    """Weights drawn as BERT and GPT-2 draw them: a normal of standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=config.initializer_range)


def init_blocks(blocks, config, *, scale_residual: bool, seed: int | None = None) -> None:
    """Redraw the blocks' kernels as BERT and GPT-2 draw them (chapter 7's blocks use Glorot).

    Every attention and feed-forward kernel gets a truncated normal of std
    ``initializer_range``; with ``scale_residual`` (GPT-2 §2.3) the two kernels that write
    into the residual stream (attention output, feed-forward output) get that std divided by
    ``sqrt(2 · num_layers)``, so the stream's variance does not grow with depth.
    """
    std = config.initializer_range
    residual_std = std / (2 * len(blocks)) ** 0.5 if scale_residual else std
    generator = keras.random.SeedGenerator(seed)
    for block in blocks:
        attention = block.self_attn
        kernels = [
            (attention.query_kernel, std),
            (attention.key_kernel, std),
            (attention.value_kernel, std),
            (attention.output_kernel, residual_std),
            (block.ffn_inner.kernel, std),
            (block.ffn_output.kernel, residual_std),
        ]
        for variable, s in kernels:
            value = keras.random.truncated_normal(
                variable.shape, stddev=s, dtype=variable.dtype, seed=generator
            )
            variable.assign(value)
