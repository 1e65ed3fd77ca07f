"""Layers: Keras layers written from their equations in ``keras.ops``.

``SimpleRNNCell``  Elman's recurrent cell, ``h_t = tanh(x_t W + h_{t-1} U + b)``
``LSTMCell``       long short-term memory with a forget gate (gates ``[i | f | g | o]``)
``GRUCell``        gated recurrent unit, ``reset_after=True`` (Keras/cuDNN) or ``False`` (Cho 2014)
``MultiHeadAttention``, ``scaled_dot_product_attention``, ``causal_mask``, ``combine_masks``
                   attention from its equations, with Keras' weight layout
``AdditiveAttention``  Bahdanau's ``v^T tanh(W_q s + W_k h_j)`` attention over encoder outputs
``sinusoidal_positions``, ``SinusoidalPositionEmbedding``, ``PositionEmbedding``, ``apply_rotary``
                   position information: fixed sinusoids, a learned table, rotary (RoPE)
``gelu_tanh``       GELU's tanh approximation (GPT-2), serializable by name
``TransformerEncoderBlock``, ``TransformerDecoderBlock``
                   post-LN (the paper) or pre-LN (GPT-2); decoders with or without cross-attention
``GroupedQueryAttention``, ``RMSNorm``, ``GatedFeedForward``
                   Llama's parts: grouped-query attention with rotary positions, RMS
                   normalisation, the SwiGLU feed-forward network
``update_cache``, ``cache_attention_mask``
                   a preallocated key/value cache for incremental decoding (chapter 12)
``CRF``            a linear-chain conditional random field: forward algorithm, Viterbi (chapter 8)
``LoRA``, ``LoRAAdapter``, ``enable_lora``, ``merge_lora``, ``lora_parameter_counts``
                   low-rank adaptation of frozen projections (chapter 13): a wrapper for
                   Keras' ``Dense``/``EinsumDense``, and adapters inside the attention and
                   feed-forward layers above

The cells compute one time step; run them over a sequence with ``keras.layers.RNN(cell)``
(which brings masking, ``return_sequences``, ``return_state``, ``initial_state``,
``go_backwards``, and ``keras.layers.Bidirectional``). Their weights have the layout of Keras'
built-in cells, so ``set_weights`` copies weights between ours and ``keras.layers.LSTM`` etc.

Example:
    >>> from nlpbook.layers import LSTMCell
    >>> lstm = keras.layers.RNN(LSTMCell(32), return_sequences=True)
"""

from nlpbook.layers.activations import gelu_tanh
from nlpbook.layers.additive_attention import AdditiveAttention
from nlpbook.layers.attention import (
    GroupedQueryAttention,
    MultiHeadAttention,
    cache_attention_mask,
    causal_mask,
    combine_masks,
    scaled_dot_product_attention,
    update_cache,
)
from nlpbook.layers.crf import CRF
from nlpbook.layers.feedforward import GatedFeedForward
from nlpbook.layers.gru_cell import GRUCell
from nlpbook.layers.lora import LoRA, LoRAAdapter, enable_lora, lora_parameter_counts, merge_lora
from nlpbook.layers.lstm_cell import LSTMCell
from nlpbook.layers.normalization import RMSNorm
from nlpbook.layers.positional import (
    PositionEmbedding,
    SinusoidalPositionEmbedding,
    apply_rotary,
    sinusoidal_positions,
)
from nlpbook.layers.simple_rnn_cell import SimpleRNNCell
from nlpbook.layers.transformer import TransformerDecoderBlock, TransformerEncoderBlock

__all__ = [
    "AdditiveAttention",
    "CRF",
    "GRUCell",
    "GatedFeedForward",
    "GroupedQueryAttention",
    "LSTMCell",
    "LoRA",
    "LoRAAdapter",
    "MultiHeadAttention",
    "PositionEmbedding",
    "RMSNorm",
    "SimpleRNNCell",
    "SinusoidalPositionEmbedding",
    "TransformerDecoderBlock",
    "TransformerEncoderBlock",
    "apply_rotary",
    "cache_attention_mask",
    "causal_mask",
    "combine_masks",
    "enable_lora",
    "gelu_tanh",
    "lora_parameter_counts",
    "merge_lora",
    "scaled_dot_product_attention",
    "sinusoidal_positions",
    "update_cache",
]
