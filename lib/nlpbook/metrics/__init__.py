"""Metrics: evaluation measures, one per file, beside the models they score.

``Perplexity``              Keras metric: exp(summed token cross-entropy / token count)
``perplexity_from_logits``  the same in NumPy, for one batch of logits
"""

from nlpbook.metrics.perplexity import Perplexity, perplexity_from_logits

__all__ = ["Perplexity", "perplexity_from_logits"]
