"""Datasets: a registry of every dataset the book uses, a verified cache, and loaders.

Every file is declared once (:mod:`.catalog`) with its sources and their sha256, fetched in
the order installed package → cache (``$NLPBOOK_DATA``) → mirror (``$NLPBOOK_MIRROR``) →
canonical URL, and verified before use (:mod:`.registry`). Loaders (:mod:`.loaders`) return
plain Python lists and NumPy arrays.

Example:
    >>> from nlpbook import datasets
    >>> datasets.names()[:3]
    ['all-minilm-l6-v2', 'chinese-reviews', 'chnsenticorp']
    >>> ptb = datasets.load_ptb()
    >>> len(ptb["train"]), len(ptb["valid"]), len(ptb["test"])
    (42068, 3370, 3761)
"""

from .catalog import DATASETS, fetch, get, names, verify
from .loaders import (
    load_chinese_reviews,
    load_chnsenticorp,
    load_conll2003,
    load_glove,
    load_imdb,
    load_mr_polarity,
    load_msra_ner,
    load_multi30k,
    load_peoples_daily,
    load_ptb,
    load_squad_dev,
    load_tatoeba,
    load_tinyshakespeare,
    load_ud_english_lines,
)
from .registry import (
    Check,
    ChecksumError,
    DataFile,
    Dataset,
    DatasetError,
    DatasetUnavailable,
    Resolved,
    Source,
    UnknownDataset,
    data_dir,
    mirror,
    mirror_dir,
    package,
    resolve,
    url,
)
from .testing import in_ci, require, skip_unavailable, test_mirror

__all__ = [
    "DATASETS",
    "Check",
    "ChecksumError",
    "DataFile",
    "Dataset",
    "DatasetError",
    "DatasetUnavailable",
    "Resolved",
    "Source",
    "UnknownDataset",
    "data_dir",
    "fetch",
    "get",
    "in_ci",
    "load_chinese_reviews",
    "load_chnsenticorp",
    "load_conll2003",
    "load_glove",
    "load_imdb",
    "load_mr_polarity",
    "load_msra_ner",
    "load_multi30k",
    "load_peoples_daily",
    "load_ptb",
    "load_squad_dev",
    "load_tatoeba",
    "load_tinyshakespeare",
    "load_ud_english_lines",
    "mirror",
    "mirror_dir",
    "names",
    "package",
    "require",
    "resolve",
    "skip_unavailable",
    "test_mirror",
    "url",
    "verify",
]
