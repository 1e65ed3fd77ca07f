"""Decoding: turning a next-token model into text.

Every decoder here drives a *step function*, the one interface a model has to offer::

    step(tokens, state) -> (logits, state)

``tokens`` holds the last token of each sequence, shape ``(n,)``; ``logits`` the scores of
the next token, ``(n, vocab)``; ``state`` is whatever the model carries between steps (a
recurrent state, a key/value cache, or the whole prefix for a model without a cache): a
tensor or a nested list/tuple/dict of tensors whose leading axis is the ``n`` sequences.
Beam search reorders that axis as beams are kept or dropped, so the model never has to know
about beams.

``greedy_search``  the most probable token at every step
``sample``         ancestral sampling with temperature, top-k and top-p (nucleus) filtering
``beam_search``    the ``beam_width`` best sequences by log-probability, with GNMT's length
                   penalty
``length_penalty`` GNMT's ((5 + length) / 6) ** alpha
``prefix_step``    a step function for a model that only maps whole prefixes to logits
"""

from nlpbook.generation.search import (
    beam_search,
    greedy_search,
    length_penalty,
    prefix_step,
    sample,
)

__all__ = ["beam_search", "greedy_search", "length_penalty", "prefix_step", "sample"]
