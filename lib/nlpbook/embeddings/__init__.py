"""Word vectors: how good they are (similarity, analogies, neighbours), by gensim's protocol.

``read_word_pairs``, ``read_analogies``  the WordSim-353 / SimLex-999 and Google-analogy formats
``word_pair_correlation``                Spearman and Pearson correlation with human scores
``analogy_accuracy``                     3CosAdd accuracy per section and in total
``nearest_neighbours``                   the most similar words by cosine
"""

from nlpbook.embeddings.evaluation import (
    analogy_accuracy,
    nearest_neighbours,
    read_analogies,
    read_word_pairs,
    word_pair_correlation,
)

__all__ = [
    "analogy_accuracy",
    "nearest_neighbours",
    "read_analogies",
    "read_word_pairs",
    "word_pair_correlation",
]
