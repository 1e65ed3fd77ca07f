"""tf.data builders that the chapters share.

Every builder is a pure function returning a ``tf.data.Dataset`` that encodes with a parallel
``map``, optionally caches, shuffles with a seed (a new, reproducible order each epoch) and
prefetches. Token id 0 is padding everywhere; encoders must emit ids ``>= 1``.

- ``text_classification_dataset``: texts + labels → ``(ids (batch, time), labels (batch,))``.
- ``language_model_dataset`` / ``token_stream``: a token stream → ``(inputs, targets)`` windows.
- ``translation_dataset``: sentence pairs → ``((source, BOS + target), target + EOS)``,
  each side padded on its own.
- ``word2vec_dataset``: sentences → skip-gram or CBOW examples with a dynamic window,
  subsampling (``keep_probabilities``) and negatives (``noise_distribution``).
- ``cooccurrence_matrix``, ``glove_dataset``: GloVe's distance-weighted counts and their batches.
- ``padded_batches``, ``quantile_boundaries``, ``padding_fraction``: padding and bucketing.
- ``measure_throughput``: examples/s and tokens/s of a pipeline.
- ``bert_pretraining_dataset`` / ``masked_lm_dataset``: sentence pairs (or texts) → BERT's
  ``(features, labels, sample_weights)`` for masked-LM (+ next-sentence prediction), masked
  anew every epoch; built from ``split_sentences``, ``nsp_pairs`` (pairs from documents),
  ``bert_inputs`` (``[CLS] A [SEP] B [SEP]``, trimmed, padded), ``masked_lm_inputs`` (BERT's
  80/10/10 masking, per token or whole word) and ``wordpiece_words``.
- ``tagging_dataset``: tokenized sentences + tags → ``({"words", "chars"[, "bigrams"]}, tag
  ids)`` batches, features from ``TokenFeatures`` (vocabularies: ``tagging_vocabularies``).
- ``chat_example`` / ``instruction_dataset``: (prompt, response) pairs in a chat template →
  next-token ``(inputs, targets, weights)`` batches whose weights count the responses only.
- ``packed_lm_blocks``: GPT's documents packed into one stream, cut into ``(inputs, targets)``
  blocks (a named ``language_model_dataset``).
"""

from nlpbook.pipelines.bucketing import padded_batches, padding_fraction, quantile_boundaries
from nlpbook.pipelines.classification import text_classification_dataset
from nlpbook.pipelines.cooccurrence import cooccurrence_matrix, glove_dataset
from nlpbook.pipelines.instructions import chat_example, instruction_dataset
from nlpbook.pipelines.language_model import language_model_dataset, token_stream
from nlpbook.pipelines.pretraining import (
    bert_inputs,
    bert_pretraining_dataset,
    masked_lm_dataset,
    masked_lm_inputs,
    nsp_pairs,
    packed_lm_blocks,
    split_sentences,
    wordpiece_words,
)
from nlpbook.pipelines.seq2seq import translation_dataset
from nlpbook.pipelines.tagging import TokenFeatures, tagging_dataset, tagging_vocabularies
from nlpbook.pipelines.throughput import measure_throughput
from nlpbook.pipelines.word2vec import keep_probabilities, noise_distribution, word2vec_dataset

__all__ = [
    "TokenFeatures",
    "tagging_dataset",
    "tagging_vocabularies",
    "bert_inputs",
    "bert_pretraining_dataset",
    "chat_example",
    "cooccurrence_matrix",
    "glove_dataset",
    "instruction_dataset",
    "keep_probabilities",
    "language_model_dataset",
    "masked_lm_dataset",
    "masked_lm_inputs",
    "measure_throughput",
    "noise_distribution",
    "nsp_pairs",
    "packed_lm_blocks",
    "padded_batches",
    "padding_fraction",
    "quantile_boundaries",
    "split_sentences",
    "text_classification_dataset",
    "token_stream",
    "translation_dataset",
    "word2vec_dataset",
    "wordpiece_words",
]
