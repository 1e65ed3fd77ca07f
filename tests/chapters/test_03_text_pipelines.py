"""Chapter 3 runs in quick mode and its numbers say what the chapter claims."""

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]

CORPORA = ("PTB", "Shakespeare", "Chinese reviews")


@pytest.fixture(scope="module")
def metrics(run_chapter):
    return run_chapter("03_text_pipelines")["metrics"]


def test_lossless_tokenizers_round_trip_exactly(metrics):
    tok = metrics["tokenizers"]
    for corpus in CORPORA:
        for name in ("bytes", "SentencePiece-unigram", "SentencePiece-bpe"):
            assert tok[f"{corpus}/{name}"]["round_trip"] == 1.0, (corpus, name)
            assert tok[f"{corpus}/{name}"]["unknown_rate"] == 0.0, (corpus, name)
    # WordPiece joins words with spaces, so Shakespeare's punctuation cannot come back exactly
    assert tok["Shakespeare/WordPiece"]["round_trip"] < 0.5
    assert tok["PTB/bytes"]["vocab"] == 257


def test_tokenizer_statistics_are_sane(metrics):
    tok = metrics["tokenizers"]
    assert 1.0 < tok["PTB/WordPiece"]["tokens_per_word"] < 2.5
    assert tok["PTB/whitespace"]["tokens_per_word"] == 1.0
    assert tok["PTB/bytes"]["tokens_per_100_chars"] == pytest.approx(100.0)  # PTB is ASCII
    # a Chinese character is three UTF-8 bytes
    assert 250 < tok["Chinese reviews/bytes"]["tokens_per_100_chars"] < 300
    # whitespace splitting does not segment Chinese: almost every "word" is unknown
    assert tok["Chinese reviews/whitespace"]["unknown_rate"] > 0.5


def test_jieba_words_versus_characters(metrics):
    assert metrics["jieba_unknown_rate"] > 3 * metrics["zh_char_unknown_rate"]
    assert metrics["jieba_vocab"] > metrics["zh_char_vocab"]
    assert metrics["jieba_tokens_per_review"] < metrics["zh_char_tokens_per_review"]


def test_normalisation_and_stop_words(metrics):
    assert metrics["normalize_idempotent"] == 1
    assert (
        metrics["shakespeare_word_types_case_folded"] < metrics["shakespeare_word_types_case_kept"]
    )
    assert 0.35 < metrics["stopword_punct_token_share_shakespeare"] < 0.75


def test_keras_text_vectorization_gives_our_ids(metrics):
    assert metrics["textvectorization_matches"] == 1


def test_every_example_once_per_epoch(metrics):
    n = metrics["examples_in_train"]
    assert metrics["every_example_once_per_epoch"] == 1
    assert len(metrics["examples_seen_per_epoch"]) == 4
    assert set(metrics["examples_seen_per_epoch"].values()) == {n}


def test_bucketing_and_truncation_cut_padding(metrics):
    plain, bucketed = metrics["padding_fraction_plain"], metrics["padding_fraction_bucketed"]
    assert plain > 0.6  # review lengths vary a lot: random batches are mostly padding
    assert bucketed < plain - 0.15
    assert metrics["padding_fraction_truncated_bucketed"] < 0.25
    assert (
        metrics["padding_fraction_truncated_bucketed"] < metrics["padding_fraction_truncated_plain"]
    )


def test_language_model_windows_tile_the_stream(metrics):
    assert metrics["lm_windows_tile_stream"] == 1
    assert metrics["lm_windows"] == (metrics["lm_stream_tokens"] - 1) // 64


def test_throughput_table(metrics):
    rows = {(r["tokenizer"], r["pipeline"]): r for r in metrics["throughput"]}
    assert len(rows) == 9
    for r in rows.values():
        assert r["examples"] == 2 * metrics["examples_in_train"]
        assert r["examples_per_s"] > 0 and r["tokens_per_s"] > r["examples_per_s"]
    sp = "SentencePiece-unigram"
    # reading cached ids skips tokenization entirely
    assert rows[(sp, "cache")]["examples_per_s"] > rows[(sp, "plain")]["examples_per_s"]
