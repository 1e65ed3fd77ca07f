"""Layers: Keras layers written from their equations in ``keras.ops``.

``SimpleRNNCell``  Elman's recurrent cell, ``h_t = tanh(x_t W + h_{t-1} U + b)``
``LSTMCell``       long short-term memory with a forget gate (gates ``[i | f | g | o]``)
``GRUCell``        gated recurrent unit, ``reset_after=True`` (Keras/cuDNN) or ``False`` (Cho 2014)
``MultiHeadAttention``, ``scaled_dot_product_attention``, ``causal_mask``, ``combine_masks``
                   attention from its equations, with Keras' weight layout

The cells compute one time step; run them over a sequence with ``keras.layers.RNN(cell)``
(which brings masking, ``return_sequences``, ``return_state``, ``initial_state``,
``go_backwards``, and ``keras.layers.Bidirectional``). Their weights have the layout of Keras'
built-in cells, so ``set_weights`` copies weights between ours and ``keras.layers.LSTM`` etc.

Example:
    >>> from nlpbook.layers import LSTMCell
    >>> lstm = keras.layers.RNN(LSTMCell(32), return_sequences=True)
"""

from nlpbook.layers.attention import (
    MultiHeadAttention,
    causal_mask,
    combine_masks,
    scaled_dot_product_attention,
)
from nlpbook.layers.gru_cell import GRUCell
from nlpbook.layers.lstm_cell import LSTMCell
from nlpbook.layers.simple_rnn_cell import SimpleRNNCell

__all__ = [
    "GRUCell",
    "LSTMCell",
    "MultiHeadAttention",
    "SimpleRNNCell",
    "causal_mask",
    "combine_masks",
    "scaled_dot_product_attention",
]
