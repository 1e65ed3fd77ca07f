"""Chapter 10 runs in quick mode: the seed's model ignores its source, ours translate."""

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]

MODELS = ("gru", "attention_gru", "transformer")


@pytest.fixture(scope="module")
def result(run_chapter):
    return run_chapter("10_seq2seq_translation", needs=["multi30k", "tatoeba"])


def test_data_sizes(result):
    info = result["info"]
    sizes = info["multi30k_sizes"]
    assert (sizes["train"], sizes["valid"], sizes["test_2016_flickr"]) == (29_000, 1_014, 1_000)
    assert info["used_sizes"] == {"train": 4_000, "valid": 200, "test": 150}
    assert info["vocab_sizes"] == {"de": 1_000, "en": 1_000}
    assert info["tatoeba_sizes"] == {"all": 21_116, "train": 4_000, "test": 150}


def test_seed_model_ignores_its_source(result):
    m = result["metrics"]
    # two different sources give bit-identical outputs and the encoder gets no gradient ...
    assert m["seed_source_independence_max_diff"] == 0.0
    assert m["seed_encoder_gets_gradient"] is False
    # ... its decoder's shapes (256 inputs expected, 50 given) do not even fit
    assert m["seed_decoder_shapes_run"] is False
    # the corrected encoder-decoder's output depends on the source
    assert m["gru_source_dependence_max_diff"] > 1e-4


def test_models_learn_and_read_the_source(result):
    m = result["metrics"]
    for name in MODELS:
        # quick mode measures 4.00 -> 2.79 (GRU), 4.21 -> 2.97 (attention GRU, 3 epochs),
        # 5.00 -> 3.03 (Transformer)
        assert m[f"{name}_loss"][-1] < m[f"{name}_loss"][0] - 0.8
        # a model that ignores its source scores its own and a wrong source alike (gap 0);
        # quick mode measures gaps of 0.86 (GRU), 1.50 (attention GRU) and 1.10 nats/token
        # (Transformer)
        gap = m[f"{name}_valid_xent_wrong_source"] - m[f"{name}_valid_xent"]
        assert gap > (0.4 if name == "gru" else 0.5), name


def test_bleu_floors(result):
    m = result["metrics"]
    # degenerate systems: the most frequent training sentence for every input, or the input
    # itself, score about 1 BLEU; a GRU that ignores its source reached about 2.4 here
    assert m["baseline_most_frequent_bleu"] < 2 and m["baseline_copy_source_bleu"] < 2
    # quick mode measures 15.0 (greedy) and 16.6 (beam 5) for the one-layer Transformer,
    # 20.4 and 18.9 for the attention GRU (3 epochs), 10.7 and 10.0 for the GRU (4 epochs on
    # 4,000 short pairs; another training order moved the Transformer's and attention GRU's
    # scores by up to 4 points)
    for name in ("transformer", "attention_gru"):
        assert m[f"{name}_bleu_beam1"] > 9, name
        assert m[f"{name}_bleu_beam5"] > 10, name
    assert max(m["gru_bleu_beam1"], m["gru_bleu_beam5"]) > 6.0
    # the second test set (test_2017_flickr, its 150 shortest sentences), beam 5: quick mode
    # measures 6.1 (GRU), 13.4 (attention GRU), 11.4 (Transformer)
    assert m["attention_gru_bleu2017_beam5"] > 6 and m["transformer_bleu2017_beam5"] > 6
    assert m["gru_bleu2017_beam5"] > 2.5


def test_decoding_and_bleu_agree(result):
    m = result["metrics"]
    for name in MODELS:
        assert m[f"{name}_beam1_equals_greedy"] is True, name
    assert m["sacrebleu_vs_ours_max_abs_diff"] < 0.01
    assert "tok:13a" in result["info"]["sacrebleu_signature"]


def test_tatoeba_chinese_english(result):
    m = result["metrics"]
    # quick mode (attention GRU, 3 epochs on the 4,000 shortest pairs) measures a loss of
    # 3.83 -> 2.75 and BLEU 8.3, against 0.18 for the most frequent training sentence
    assert m["tatoeba_loss"][-1] < m["tatoeba_loss"][0] - 0.8
    assert m["tatoeba_bleu_beam5"] > 3.0
    assert m["tatoeba_baseline_most_frequent_bleu"] < 1.0
