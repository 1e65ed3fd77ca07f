"""Chapter 02, foundations and optimizers: run in quick mode, then check what it recorded."""

import math

import pytest

pytestmark = [pytest.mark.chapter, pytest.mark.slow]

CHAPTER = "02_foundations"
NEEDS = ("rt-polarity",)  # the only dataset the chapter reads
OPTIMIZERS = ("SGD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adam")


@pytest.fixture(scope="module")
def run(run_chapter):
    return run_chapter(CHAPTER, needs=NEEDS)


@pytest.fixture(scope="module")
def metrics(run):
    return run["metrics"]


def test_data_is_mr_fold_zero(run, metrics):
    assert run["info"]["sizes"] == {"train": 8636, "validation": 959, "test": 1067}
    assert run["info"]["features"] == 2000  # quick mode vocabulary
    assert 0.45 <= metrics["majority_baseline"] <= 0.55  # MR is balanced


def test_hand_written_backprop_equals_autodiff(metrics):
    # float64 on both sides: agreement to rounding, not to a loose tolerance
    assert metrics["neuron_grad_max_abs_diff"] < 1e-12
    assert metrics["mlp_grad_max_abs_diff"] < 1e-12
    # the seed's backward step gets the first layer's gradient badly wrong
    assert metrics["seed_backward_w1_relative_error"] > 0.5


def test_numpy_network_learns(metrics):
    losses = metrics["numpy_mlp_loss_by_epoch"]
    assert len(losses) == 3
    assert losses[0] < math.log(2) + 0.01  # starts near chance
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert metrics["numpy_mlp_test_accuracy"] >= metrics["majority_baseline"] + 0.12


def test_sgd_needs_a_random_order(metrics):
    # in file order (positives, then negatives) one epoch ends predicting one class
    assert metrics["sgd_file_order_test_accuracy"] < metrics["majority_baseline"] + 0.05
    assert metrics["sgd_shuffled_test_accuracy"] > 0.65


def test_optimizers_equal_keras(metrics):
    diffs = metrics["optimizer_vs_keras_max_abs_diff"]
    assert set(diffs) == set(OPTIMIZERS)
    assert max(diffs.values()) < 1e-6
    assert metrics["optimizer_vs_keras_worst"] == max(diffs.values())


def test_seed_optimizer_errors_are_reproduced(metrics):
    assert metrics["seed_momentum_syntax_error"] == 1
    assert metrics["seed_adam_first_step_nonfinite_fraction"] == 1.0  # every weight nan
    # Adam's first step is about the learning rate (1e-3), not nan
    assert 0.9e-3 < metrics["adam_first_step_max_abs"] <= 1.0e-3 + 1e-9
    assert metrics["seed_adam_epoch10_step_ratio"] > 4  # epoch-counted correction: too small
    # the seed's "AGA" is SGD with inverse-time decay (float32 learning rate: ~1e-8)
    assert metrics["seed_aga_equals_inverse_time_sgd_max_abs_diff"] < 1e-6
    assert metrics["adagrad_effective_rate_ratio"] > 5  # real Adagrad: per coordinate


def test_surfaces(metrics):
    assert metrics["sgd_bowl_closed_form_max_abs_diff"] < 1e-12
    final = metrics["surface_final"]
    assert len(final) == 12
    for name in OPTIMIZERS:
        assert final[f"bowl/{name}"]["final_value"] < 0.05 * 12.0, name  # f(start) = 12
        assert final[f"Rosenbrock/{name}"]["final_value"] < 12.5, name  # f(start) = 12.5
    # momentum and Adam get much further along Rosenbrock's valley than plain SGD
    sgd = final["Rosenbrock/SGD"]["final_value"]
    assert final["Rosenbrock/momentum"]["final_value"] < 0.1 * sgd
    assert final["Rosenbrock/Adam"]["final_value"] < 0.1 * sgd


def test_schedule_matches_keras(metrics):
    assert metrics["warmup_cosine_vs_keras_max_abs_diff"] < 1e-9


def test_every_optimizer_trains_the_text_model(run, metrics):
    runs = (*OPTIMIZERS, "Adam + warm-up/cosine")
    assert run["info"]["curve_epochs"] == 4
    assert set(metrics["test_accuracy"]) == set(runs)
    initial = metrics["initial_val_loss"]
    assert abs(initial - math.log(2)) < 0.05
    for name in runs:
        assert metrics["best_val_loss"][name] < initial - 0.05, name
        assert 1 <= metrics["best_epoch"][name] <= 4, name
        assert metrics["final_train_loss"][name] < 0.6, name
        assert metrics["test_accuracy"][name] >= metrics["majority_baseline"] + 0.15, name
        curve = metrics["val_accuracy_by_epoch"][name]
        assert len(curve) == 4 and curve[-1] > curve[0], name  # 4 epochs: no early stop yet
    # the adaptive methods are ahead of plain SGD after a few epochs at default rates
    assert metrics["final_train_loss"]["Adam"] < metrics["final_train_loss"]["SGD"]
    # a bag-of-words MLP does not beat what published MR models do: more would mean a leak
    assert max(metrics["test_accuracy"].values()) < 0.82


def test_keras_apis_and_tensorflow_1(metrics):
    assert metrics["three_apis_max_abs_diff"] < 1e-6
    assert metrics["tf1_names_removed"] == 5
    assert metrics["tf1_uninitialised_fails"] == 1
    assert metrics["tf1_one_epoch_test_accuracy"] > metrics["majority_baseline"] + 0.1
    assert metrics["tf2_loop_one_epoch_test_accuracy"] > metrics["majority_baseline"] + 0.1
    assert metrics["keras_input_shape_warns"] == 1


def test_quick_mode_budget(run):
    assert run["quick"] is True
    assert run["wall_time_s"] < 120  # quick mode must fit in 2 minutes on 2 CPU cores
