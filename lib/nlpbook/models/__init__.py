"""Models: complete language models and task models built from the layers below.

``NGramLM``  count-based n-gram language model (interpolated Kneser-Ney, add-k)
"""

from nlpbook.models.ngram import NGramLM

__all__ = ["NGramLM"]
