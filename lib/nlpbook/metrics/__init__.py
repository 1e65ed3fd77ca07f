"""Metrics: evaluation measures, one per file, beside the models they score.

``Perplexity``              Keras metric: exp(summed token cross-entropy / token count)
``perplexity_from_logits``  the same in NumPy, for one batch of logits
``confusion_matrix``        counts of (true class, predicted class), NumPy
``classification_scores``   accuracy, per-class precision/recall/F1, macro-F1, NumPy
``macro_f1``                the unweighted mean of the per-class F1 scores
``corpus_bleu``             corpus BLEU from its definition (equal to sacreBLEU on tokens)
``distinct_n``              distinct n-grams / all n-grams of generated outputs (diversity)
``repetition_rate``         share of an output's n-grams that repeat an earlier one (loops)
``entities``                the (type, first, last) entities of a tag sequence (conlleval, strict)
``entity_scores``           entity-level precision/recall/F1, micro and per type (= seqeval)
``token_accuracy``          share of tokens tagged right (POS tagging)
"""

from nlpbook.metrics.bleu import corpus_bleu
from nlpbook.metrics.classification import classification_scores, confusion_matrix, macro_f1
from nlpbook.metrics.diversity import distinct_n, repetition_rate
from nlpbook.metrics.perplexity import Perplexity, perplexity_from_logits
from nlpbook.metrics.tagging import entities, entity_scores, token_accuracy

__all__ = [
    "Perplexity",
    "classification_scores",
    "confusion_matrix",
    "corpus_bleu",
    "distinct_n",
    "entities",
    "entity_scores",
    "macro_f1",
    "perplexity_from_logits",
    "repetition_rate",
    "token_accuracy",
]
