"""Models: complete language models and task models built from the layers below.

``NGramLM``            count-based n-gram language model (interpolated Kneser-Ney, add-k)
``FeedForwardLM``      Bengio et al.'s neural probabilistic LM over a fixed context window
``RecurrentLM``        embedding, stacked LSTM/GRU/SimpleRNN layers, softmax
``stream_perplexity``  perplexity of a neural LM on a continuous token stream
"""

from nlpbook.models.ngram import NGramLM
from nlpbook.models.nnlm import FeedForwardLM, RecurrentLM, stream_perplexity

__all__ = ["FeedForwardLM", "NGramLM", "RecurrentLM", "stream_perplexity"]
