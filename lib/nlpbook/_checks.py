"""Argument checks shared by the models and decoders, so every error reads the same way."""

from __future__ import annotations

import numpy as np


def check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, or ``ValueError`` naming ``name`` if it is not an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)
