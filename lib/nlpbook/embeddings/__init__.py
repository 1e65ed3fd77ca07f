"""Word vectors: how good they are (similarity, analogies, neighbours), by gensim's protocol.

``read_word_pairs``, ``read_analogies``  the WordSim-353 / SimLex-999 and Google-analogy formats
``word_pair_correlation``                Spearman and Pearson correlation with human scores
``analogy_accuracy``                     3CosAdd accuracy per section and in total
``nearest_neighbours``                   the most similar words by cosine
``export_projector``                     TSV files for TensorBoard's Embedding Projector
"""

from nlpbook.embeddings.evaluation import (
    analogy_accuracy,
    nearest_neighbours,
    read_analogies,
    read_word_pairs,
    word_pair_correlation,
)
from nlpbook.embeddings.projector import export_projector

__all__ = [
    "analogy_accuracy",
    "export_projector",
    "nearest_neighbours",
    "read_analogies",
    "read_word_pairs",
    "word_pair_correlation",
]
