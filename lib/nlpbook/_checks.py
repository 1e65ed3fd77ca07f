"""Argument checks shared by layers, models and decoders, so every error reads the same way."""

from __future__ import annotations

import numpy as np


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` if it is not an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_rate(name: str, value) -> float:
    """``value`` as a float in ``[0, 1)`` (a dropout rate), or ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_bool(name: str, value) -> bool:
    """``value`` as a bool, or ``ValueError`` naming ``name`` if it is not True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False. Received: {name}={value!r}")
    return bool(value)


def check_heads(width_name: str, width: int, num_heads: int) -> None:
    """``ValueError`` unless the model width ``width`` splits evenly over ``num_heads`` heads."""
    if width % num_heads:
        raise ValueError(
            f"{width_name} must be a multiple of num_heads. Received: {width_name}={width}, "
            f"num_heads={num_heads}"
        )
