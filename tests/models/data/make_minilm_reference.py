"""Writes minilm_reference.npz: all-MiniLM-L6-v2 sentence embeddings from its own runtime.

The reference for tests/models/test_models_bert.py: token ids from the checkpoint's own
tokenizer (tokenizer.json through Hugging Face ``tokenizers``) and the embeddings that
sentence-transformers computes (PyTorch, float32, CPU). Not run by the tests or CI (they have
no PyTorch); rerun by hand to regenerate:

    pip install sentence-transformers==6.3.0 torch   # outside the project's environment
    python tests/models/data/make_minilm_reference.py
"""

from pathlib import Path

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

from nlpbook.datasets import fetch

SENTENCES = [
    "A man is playing a guitar on the stage.",
    "The movie was a complete waste of two hours.",
    "BERT reads a sentence in both directions at once.",
    "Café prices in Zürich are high, naïvely speaking!",
    "中文句子也可以编码。",
]

folder = fetch("all-minilm-l6-v2")["model.safetensors"].parent
model = SentenceTransformer(str(folder), device="cpu")
features = model.tokenize(SENTENCES)
with torch.no_grad():
    embeddings = model.encode(SENTENCES, convert_to_numpy=True, normalize_embeddings=False)
np.savez_compressed(
    Path(__file__).with_name("minilm_reference.npz"),
    sentences=np.array(SENTENCES),
    token_ids=features["input_ids"].numpy().astype("int32"),
    padding_mask=features["attention_mask"].numpy().astype("int32"),
    embeddings=embeddings.astype("float32"),
    versions=np.array(
        [f"sentence-transformers {sentence_transformers.__version__}", f"torch {torch.__version__}"]
    ),
)
print(embeddings.shape, features["input_ids"].shape)
