"""Models: complete language models and task models built from the layers below.

``NGramLM``            count-based n-gram language model (interpolated Kneser-Ney, add-k)
``FeedForwardLM``      Bengio et al.'s neural probabilistic LM over a fixed context window
``RecurrentLM``        embedding, stacked LSTM/GRU/SimpleRNN layers, softmax
``stream_perplexity``  perplexity of a neural LM on a continuous token stream
``BagOfNgramsClassifier``  TF-IDF unigrams + bigrams of token ids, logistic regression
``KimCNN``             Kim's (2014) CNN for sentences: filters 3/4/5, max-over-time pooling
``RecurrentClassifier``  (bidirectional) LSTM/GRU or any recurrent layer, then softmax
``TransformerClassifier``  Transformer encoder (chapter 7's blocks), mean-pooled
``string_input_classifier``  TextVectorization + classifier: one model from raw strings
``pretrained_embedding_matrix``  embedding rows from pretrained word vectors (GloVe)
``SkipGram``, ``CBOW``  word2vec with negative sampling
``GloVe``, ``GloVeLoss``  GloVe's log-bilinear model and its weighted least-squares loss
``FastTextSkipGram``   FastText: word + character n-gram vectors, trained skip-gram style
``GRUSeq2Seq``, ``AttentionGRUSeq2Seq``, ``TransformerSeq2Seq``  translation models with
                       ``encode``/``decode_step`` for greedy and beam search
``MaskedSequenceCrossentropy``  token-mean cross-entropy over real target tokens, label smoothing
``BertConfig``, ``BertEncoder``, ``BertPretrainer``, ``BertClassifier``  BERT (models.bert):
                       the encoder, its masked-LM + next-sentence pretraining heads, a
                       fine-tuning classifier; ``load_checkpoint`` reads Hugging Face BERT
                       checkpoints (MiniLM); ``mean_pool`` makes sentence embeddings
``GPTConfig``, ``GPT``  a GPT-2-style decoder-only LM (models.gpt)
``Tagger``, ``TextTagger``  BiLSTM taggers (softmax or CRF, character features) and the
                     raw-text wrapper that saves as one file (models.tagger); the classic
                     peers (most-frequent tag, HMM, sklearn-crfsuite) in models.classic_taggers
``LlamaConfig``, ``Llama``, ``load_smollm2``
                       the Llama decoder; SmolLM2-135M-Instruct from its GGUF file (models.llama)
"""

from nlpbook.models.bert import (
    BertClassifier,
    BertConfig,
    BertEncoder,
    BertPretrainer,
    load_checkpoint,
    mean_pool,
)
from nlpbook.models.classifiers import (
    BagOfNgramsClassifier,
    KimCNN,
    RecurrentClassifier,
    TransformerClassifier,
    pretrained_embedding_matrix,
    string_input_classifier,
)
from nlpbook.models.fasttext import FastTextSkipGram
from nlpbook.models.glove import GloVe, GloVeLoss
from nlpbook.models.gpt import GPT, GPTConfig
from nlpbook.models.llama import Llama, LlamaConfig, load_smollm2
from nlpbook.models.losses import MaskedSequenceCrossentropy
from nlpbook.models.ngram import NGramLM
from nlpbook.models.nnlm import FeedForwardLM, RecurrentLM, stream_perplexity
from nlpbook.models.seq2seq import AttentionGRUSeq2Seq, GRUSeq2Seq, TransformerSeq2Seq
from nlpbook.models.tagger import Tagger, TextTagger
from nlpbook.models.word2vec import CBOW, SkipGram

__all__ = [
    "Tagger",
    "TextTagger",
    "CBOW",
    "GPT",
    "BertClassifier",
    "BertConfig",
    "BertEncoder",
    "BertPretrainer",
    "GPTConfig",
    "Llama",
    "LlamaConfig",
    "AttentionGRUSeq2Seq",
    "BagOfNgramsClassifier",
    "FastTextSkipGram",
    "FeedForwardLM",
    "GloVe",
    "GloVeLoss",
    "GRUSeq2Seq",
    "KimCNN",
    "MaskedSequenceCrossentropy",
    "NGramLM",
    "RecurrentClassifier",
    "RecurrentLM",
    "SkipGram",
    "TransformerClassifier",
    "TransformerSeq2Seq",
    "load_checkpoint",
    "mean_pool",
    "pretrained_embedding_matrix",
    "stream_perplexity",
    "string_input_classifier",
    "load_smollm2",
]
