"""What the three recurrent cells share: argument checks, weights, config, initial state.

A cell computes one time step, ``output, new_states = cell(x_t, states)``; ``keras.layers.RNN``
runs it over the time axis and takes care of masks, ``go_backwards``, ``return_sequences``,
``return_state`` and ``initial_state``. The subclasses only write their step equations.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from nlpbook._checks import check_bool


def check_units(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"units must be a positive int. Received: units={value!r}")
    return int(value)


def get_activation(name: str, value):
    """A Keras activation from its name or a callable, with an error that names the argument."""
    if value is None:
        raise ValueError(f"{name} must be an activation name or a callable. Received: None")
    try:
        return keras.activations.get(value)
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"{name} must be an activation name or a callable. Received: {name}={value!r}"
        ) from err


class RecurrentCell(keras.layers.Layer):
    """Base of the cells: ``gates`` blocks of ``units`` columns in each weight matrix.

    Subclasses set ``gates`` (1, 3 or 4) and ``state_size``, and write the step equations as
    ``step(x, states) -> (output, new_states)``. Weights follow
    Keras' built-in cells: ``kernel`` ``(input_dim, gates * units)``, ``recurrent_kernel``
    ``(units, gates * units)`` and ``bias`` ``(gates * units,)``, so ``set_weights`` copies
    them across in either direction.
    """

    gates = 1

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = get_activation("activation", activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.output_size = self.units

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def make_bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known feature size (last axis). "
                f"Received input shape {tuple(input_shape)}"
            )
        self.kernel = self.add_weight(
            shape=(input_dim, self.gates * self.units),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.gates * self.units),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
        )
        self.bias = (
            self.add_weight(
                shape=self.bias_shape(), initializer=self.make_bias_initializer(), name="bias"
            )
            if self.use_bias
            else None
        )

    def call(self, inputs, states, training=None):
        if len(inputs.shape) != 2:
            raise ValueError(
                f"{type(self).__name__} computes one time step: inputs must be "
                f"(batch, features). Received shape {tuple(inputs.shape)}; "
                "wrap the cell in keras.layers.RNN to run it over a sequence"
            )
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.units]
        if len(states) != len(sizes):
            raise ValueError(
                f"{type(self).__name__} has {len(sizes)} state tensor(s). Received {len(states)}"
            )
        output, new_states = self.step(inputs, states)
        # the caller gets the states back in the structure it passed them
        return output, (new_states if nested or len(new_states) > 1 else new_states[0])

    def linear(self, x, kernel, bias=None):
        """``x @ kernel (+ bias)``, the affine maps of every gate equation."""
        y = ops.matmul(x, kernel)
        return y if bias is None else y + bias

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.units]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
