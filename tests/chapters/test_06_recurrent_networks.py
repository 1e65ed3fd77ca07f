"""Chapter 6 runs in quick mode: its cells equal the equations and Keras, and gates matter."""

import math

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]


@pytest.fixture(scope="module")
def result(run_chapter):
    return run_chapter("06_recurrent_networks", needs=["rt-polarity"])


def test_cells_equal_numpy_and_keras(result):
    m = result["metrics"]
    assert m["numpy_step_max_abs_diff"] < 1e-6
    # float32 round-off, not a different function
    assert m["builtin_max_abs_diff_outputs"] < 2e-6
    assert m["builtin_max_abs_diff_gradients"] < 5e-6


def test_gradient_norms_at_initialization(result):
    m = result["metrics"]
    simple = m["grad_norm_init_d99_simplernn"]
    # with Keras' default initial weights every cell's gradient vanishes over 99 steps ...
    assert simple < 1e-6
    assert m["grad_norm_init_d99_lstm"] < 1e-6 and m["grad_norm_init_d99_gru"] < 1e-6
    # ... and opening the gate (a bias of 3) keeps it: the gate sets the time scale
    assert m["grad_norm_init_d99_lstm_forget_bias_3"] > 1e4 * simple
    assert m["grad_norm_init_d99_gru_update_bias_3"] > 1e4 * simple


def test_adding_problem_needs_gates(result):
    m = result["metrics"]
    steps = result["info"]["adding"]["steps"]
    baseline = m["adding_baseline_mse"]
    assert baseline == pytest.approx(1 / 6, abs=0.015)  # Var(v1 + v2) for uniform values
    # solved: at least 70% of the variance explained; failed: at most 20%
    assert m["adding_lstm_mse"] < 0.05
    assert m["adding_gru_mse"] < 0.05
    assert m["adding_simplernn_mse"] > 0.8 * baseline
    for name in ("simplernn", "lstm", "gru"):
        norms = m[f"grad_norm_trained_{name}"]
        assert len(norms) == steps and norms[0] == pytest.approx(math.sqrt(32), rel=1e-5)
    # the trained gated cells keep the gradient within a factor 10 across the sequence
    assert m["grad_drop_trained_lstm"] < 10 and m["grad_drop_trained_gru"] < 10


def test_speed_table_and_device_are_recorded(result):
    info = result["info"]
    assert set(info["speed"]) == {"SimpleRNN", "LSTM", "GRU"}
    for row in info["speed"].values():
        assert row["max_output_difference"] < 1e-5  # the two timed layers compute one function
        for kind in ("ours", "keras"):
            assert row[kind]["forward_ms"] > 0 and row[kind]["train_step_ms"] > 0
    assert info["speed_device"] and info["speed_backend"] in {"tensorflow", "jax", "torch"}
    assert result["metrics"]["speed_lstm_ours_over_keras_train"] > 0


def test_movie_review_classifiers_learn(result):
    m = result["metrics"]
    assert result["info"]["mr_sizes"] == {"train": 9_595, "test": 1_067}
    # two epochs: well above chance (0.5) for every cell
    for name in ("simplernn", "lstm", "gru"):
        assert m[f"mr_{name}_test_accuracy"] > 0.68
