"""Decoding: turning a next-token model into text.

Every decoder here drives a *step function*, the one interface a model has to offer::

    step(tokens, state) -> (logits, state)

``tokens`` holds the last token of each sequence, shape ``(n,)``; ``logits`` the scores of
the next token, ``(n, vocab)``; ``state`` is whatever the model carries between steps (a
recurrent state, a key/value cache, or the whole prefix for a model without a cache): a
tensor or a nested list/tuple/dict of tensors whose leading axis is the ``n`` sequences.
Beam search reorders that axis as beams are kept or dropped, so the model never has to know
about beams.

``greedy_search``      the most probable token at every step
``sample``             ancestral sampling with temperature, top-k, top-p (nucleus) and min-p
                       filtering, repetition/presence/frequency penalties, stop strings and a
                       per-step ``stream`` callback
``beam_search``        the ``beam_width`` best sequences by log-probability, with GNMT's
                       length penalty
``length_penalty``     GNMT's ((5 + length) / 6) ** alpha
``prefix_step``        a step function for a model that only maps whole prefixes to logits
``generate``           prompts in, continuations out, for a model with a KV cache (prefill and
                       decode_step), by sampling or beam search; ``cached_step`` its step

Logits warpers (:mod:`nlpbook.generation.warpers`), NumPy functions over ``(n, vocab)`` scores
that ``sample`` applies in this order (penalties on the raw logits, filters on the
log-probabilities):

``repetition_penalty`` CTRL's: a seen token's logit divided by the penalty if positive,
                       multiplied if negative
``presence_penalty``   OpenAI's: a seen token's logit minus the penalty
``frequency_penalty``  OpenAI's: a token's logit minus the penalty times its count
``top_k_filter``       keep the k most probable tokens
``top_p_filter``       keep the smallest set of most probable tokens of mass >= p
``min_p_filter``       keep the tokens with p >= min_p * max p

``TextStreamer``       hands out a sequence's text as its tokens arrive, never splitting a
                       UTF-8 character (:mod:`nlpbook.generation.streaming`)
``continuation_nll``   a model's mean negative log-likelihood of each output given its prompt
                       (exp: its own perplexity of the output)
"""

from nlpbook.generation.generate import cached_step, generate
from nlpbook.generation.scoring import continuation_nll
from nlpbook.generation.search import (
    beam_search,
    greedy_search,
    length_penalty,
    prefix_step,
    sample,
)
from nlpbook.generation.streaming import TextStreamer
from nlpbook.generation.warpers import (
    frequency_penalty,
    min_p_filter,
    presence_penalty,
    repetition_penalty,
    top_k_filter,
    top_p_filter,
)

__all__ = [
    "TextStreamer",
    "beam_search",
    "cached_step",
    "continuation_nll",
    "frequency_penalty",
    "generate",
    "greedy_search",
    "length_penalty",
    "min_p_filter",
    "prefix_step",
    "presence_penalty",
    "repetition_penalty",
    "sample",
    "top_k_filter",
    "top_p_filter",
]
