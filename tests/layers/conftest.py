"""Shared by the recurrent-cell tests: the cells next to their Keras built-in counterparts.

Each case builds our cell and the Keras layer with the same arguments, so that copying the
weights across with ``set_weights`` must give the same numbers.
"""

import keras
import pytest

from nlpbook.layers import GRUCell, LSTMCell, SimpleRNNCell

UNITS = 6

CASES = {
    "simple": (SimpleRNNCell, keras.layers.SimpleRNN, {}),
    "simple-relu-nobias": (
        SimpleRNNCell,
        keras.layers.SimpleRNN,
        {"activation": "relu", "use_bias": False},
    ),
    "lstm": (LSTMCell, keras.layers.LSTM, {}),
    "lstm-hard-sigmoid": (LSTMCell, keras.layers.LSTM, {"recurrent_activation": "hard_sigmoid"}),
    "gru": (GRUCell, keras.layers.GRU, {"reset_after": True}),
    "gru-cho2014": (GRUCell, keras.layers.GRU, {"reset_after": False}),
    "gru-nobias": (GRUCell, keras.layers.GRU, {"reset_after": True, "use_bias": False}),
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    """``(name, make_ours(**rnn_kwargs), make_keras(**rnn_kwargs))`` for one cell type."""
    cell_cls, keras_cls, kwargs = CASES[request.param]

    def ours(**rnn_kwargs):
        return keras.layers.RNN(cell_cls(UNITS, **kwargs), **rnn_kwargs)

    def reference(**rnn_kwargs):
        return keras_cls(UNITS, **kwargs, **rnn_kwargs)

    return request.param, ours, reference
