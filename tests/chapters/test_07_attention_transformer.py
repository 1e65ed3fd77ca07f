"""Chapter 7 runs in quick mode: attention equals its references, masks and positions keep
their promises, the scale matters, and a small Transformer learns movie-review polarity."""

import math

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]


@pytest.fixture(scope="module")
def result(run_chapter):
    return run_chapter("07_attention_transformer", needs=["rt-polarity"])


def test_attention_equals_numpy_and_keras(result):
    m = result["metrics"]
    assert m["sdpa_numpy_max_abs_diff"] < 1e-6
    # float32 round-off, not a different function
    assert m["mha_keras_max_abs_diff_outputs"] < 1e-5
    assert m["mha_keras_max_abs_diff_weights"] < 1e-6


def test_seed_code_is_unscaled_and_breaks_on_batches(result):
    m = result["metrics"]
    assert m["seed_code_vs_unscaled_max_abs_diff"] < 1e-5  # it is softmax(Q Kᵀ) V ...
    assert m["seed_code_vs_scaled_max_abs_diff"] > 1e-3  # ... not the formula it states
    assert m["seed_code_square_batch_max_abs_diff"] > 0.1  # batch = time = hidden: garbage


def test_unscaled_softmax_saturates_and_the_scale_prevents_it(result):
    m = result["metrics"]
    assert result["info"]["scale_experiment"]["d_k"] == [4, 16, 64, 256, 1024]
    for ratio in m["qk_variance_over_dk"]:  # Var(q·k) = d_k for unit-variance components
        assert ratio == pytest.approx(1.0, abs=0.1)
    raw, scaled = m["max_weight_unscaled"], m["max_weight_scaled"]
    assert all(a < b for a, b in zip(raw, raw[1:], strict=False))  # sharper as d_k grows
    assert raw[-1] > 0.9
    assert max(scaled) - min(scaled) < 0.05 and max(scaled) < 0.3  # flat, far from one-hot
    jac_raw, jac_scaled = m["softmax_jacobian_unscaled"], m["softmax_jacobian_scaled"]
    assert jac_raw[-1] < 0.25 * jac_scaled[-1]  # the gradient through the softmax vanishes
    assert max(jac_scaled) - min(jac_scaled) < 0.03
    assert m["seed_code_mean_max_weight_d512"] > 3 * m["scaled_mean_max_weight_d512"]


def test_masks_keep_their_promises(result):
    m = result["metrics"]
    assert m["mask_padding_invariance_max_diff"] < 1e-6
    assert m["mask_padding_no_mask_diff"] > 0.1  # without the mask, padding leaks in
    assert m["mask_causal_prefix_max_diff"] < 1e-5
    assert m["decoder_causal_max_diff"] < 1e-5
    assert m["self_attention_permutation_max_diff"] < 1e-5


def test_positions(result):
    m = result["metrics"]
    assert m["sinusoidal_numpy_max_abs_diff"] < 1e-4
    assert m["pe_dot_product_shift_max_diff"] < 1e-3  # PE(p)·PE(p+k) depends on k only
    # the seed's "i is the dimension" reading leaves about half the 64 columns constant
    assert m["pe_flat_columns_literal_reading"] > 25 and m["pe_flat_columns_correct"] < 8
    assert m["rotary_relative_max_diff"] < 1e-4


def test_movie_review_transformer_learns(result):
    m, info = result["metrics"], result["info"]
    assert info["mr_sizes"] == {"train": 9_595, "test": 1_067}
    assert m["mr_majority_accuracy"] == pytest.approx(0.509, abs=0.01)
    assert m["mr_transformer_test_accuracy"] > 0.70  # two epochs, 2 small blocks
    # each query's weights are spread over the real words only: at most ln(n) nats
    assert m["mr_attention_mean_entropy"] <= m["mr_attention_uniform_entropy"] + 1e-6


def test_layer_norm_comparison_is_recorded(result):
    m, info = result["metrics"], result["info"]
    low, high = info["layer_norm_rates"]
    for norm in ("post", "pre"):
        for lr in (low, high):
            accuracy = m[f"ln_{norm}_lr{lr:g}_test_accuracy"]
            assert 0.0 <= accuracy <= 1.0
    assert m[f"ln_post_lr{low:g}_test_accuracy"] == m["mr_transformer_test_accuracy"]
    # pre-LN trains through the high learning rate without warm-up
    assert m[f"ln_pre_lr{high:g}_test_accuracy"] > m["mr_majority_accuracy"] + 0.05
    assert math.isfinite(m[f"ln_pre_lr{high:g}_final_loss"])
    assert m[f"ln_pre_lr{high:g}_final_loss"] < math.log(2)
