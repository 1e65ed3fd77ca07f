"""nlpbook.resume: a fit cut short and resumed ends where the uninterrupted fit ends."""

import json

import keras
import numpy as np
import pytest

from nlpbook import resume

EPOCHS = 6


class Interrupt(Exception):
    pass


class StopAt(keras.callbacks.Callback):
    """Raises at the start of epoch ``epoch`` (0-based), as a kill would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupt(f"stopped at epoch {epoch}")


class CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1)) + 0.1).astype("float32")
    return x, y


def model(seed=1):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, "tanh"), keras.layers.Dense(1)])
    # a schedule read off the optimizer's step count: resuming must restore it, and Adam's
    # moments, for the weights to come out the same
    rate = keras.optimizers.schedules.ExponentialDecay(0.05, decay_steps=4, decay_rate=0.7)
    m.compile(keras.optimizers.Adam(rate), "mse")
    return m


def fit(m, **kwargs):
    x, y = data()
    kwargs.setdefault("epochs", EPOCHS)
    return resume.fit(
        m, x, y, key="t/fit", batch_size=16, shuffle=False, verbose=0, validation_data=(x, y),
        **kwargs,
    )  # fmt: skip


def weights(m):
    return [np.asarray(w) for w in m.get_weights()]


@pytest.fixture
def resumable(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    monkeypatch.setenv("NLPBOOK_RESUME", "1")
    return tmp_path / "resume" / "t" / "fit"


@pytest.fixture
def reference(tmp_path, monkeypatch):
    """The uninterrupted fit, with resuming off."""
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path / "plain"))
    monkeypatch.delenv("NLPBOOK_RESUME", raising=False)
    m = model()
    done = fit(m)
    assert not (tmp_path / "plain").exists(), "resuming off must write nothing"
    return m, done


def test_off_it_is_model_fit_with_a_stopwatch(reference):
    m, done = reference
    assert done.epochs == EPOCHS and done.resumed_epochs == 0 and done.seconds > 0
    assert sorted(done.history) == ["loss", "val_loss"]
    assert len(done.history["loss"]) == EPOCHS
    assert done.history["loss"][-1] < done.history["loss"][0] / 2


class CountCalls(keras.layers.Layer):
    """Identity that counts how often its ``call`` runs: once per trace of a compiled step."""

    calls = 0

    def call(self, x):
        CountCalls.calls += 1
        return x


def test_off_the_train_step_is_traced_once_and_trains_as_model_fit(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    monkeypatch.delenv("NLPBOOK_RESUME", raising=False)
    # Keras builds an unbuilt optimizer inside the first traced step, so tf.function traces
    # that step twice; resume.fit builds it first. Same weights either way.
    x, y = data()
    trained, traces = [], []
    for use_resume in (False, True):
        keras.utils.set_random_seed(1)
        m = keras.Sequential([keras.Input((5,)), CountCalls(), keras.layers.Dense(1)])
        m.compile(keras.optimizers.Adam(0.05), "mse")
        CountCalls.calls = 0
        kwargs = dict(batch_size=16, shuffle=False, epochs=2, verbose=0)
        if use_resume:
            resume.fit(m, x, y, key="t/traces", **kwargs)
        else:
            m.fit(x, y, **kwargs)
        traces.append(CountCalls.calls)
        trained.append(m.get_weights())
    for a, b in zip(*trained, strict=True):
        np.testing.assert_array_equal(a, b)
    if keras.backend.backend() == "tensorflow":
        assert traces == [2, 1]


def test_a_cut_short_fit_resumes_and_ends_where_the_uninterrupted_one_ends(reference, resumable):
    m_ref, ref = reference
    with pytest.raises(Interrupt):
        fit(model(), callbacks=[StopAt(3)])
    state = json.loads((resumable / "state.json").read_text())
    assert len(state["epochs"]) == 3 and not state.get("finished")
    assert sorted(p.name for p in resumable.iterdir()) == ["epoch-0003.weights.h5", "state.json"]

    counter = CountBatches()
    m = model(seed=99)  # other initial weights: the saved ones must replace them
    done = fit(m, callbacks=[counter])
    assert counter.batches == (EPOCHS - 3) * 4  # only the missing epochs were trained
    assert done.resumed_epochs == 3 and done.epochs == EPOCHS
    for got, want in zip(weights(m), weights(m_ref), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(done.history["loss"], ref.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(done.history["val_loss"], ref.history["val_loss"], rtol=1e-5)
    assert sorted(p.name for p in resumable.iterdir()) == ["final.weights.npz", "state.json"]


def test_a_finished_fit_is_loaded_not_trained_again(resumable):
    m = model()
    first = fit(m, callbacks=None)  # as model.fit takes it
    counter = CountBatches()
    again = model(seed=5)
    second = fit(again, callbacks=[counter])
    assert counter.batches == 0
    assert second.resumed_epochs == EPOCHS == second.epochs
    assert second.seconds == pytest.approx(first.seconds)
    assert second.history == first.history
    for got, want in zip(weights(again), weights(m), strict=True):
        np.testing.assert_array_equal(got, want)


def test_changed_settings_discard_the_saved_state(resumable, capsys):
    fit(model())
    counter = CountBatches()
    done = fit(model(), callbacks=[counter], fingerprint={"vocabulary": 2})
    assert "settings changed" in capsys.readouterr().out
    assert done.resumed_epochs == 0 and counter.batches == EPOCHS * 4
    # the model's own settings count without being named: a wider layer is another fit
    counter = CountBatches()
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(9), keras.layers.Dense(1)])
    other.compile(keras.optimizers.Adam(0.01), "mse")
    fit(other, callbacks=[counter], fingerprint={"vocabulary": 2})
    assert counter.batches == EPOCHS * 4


def test_mid_fit_false_trains_a_cut_short_fit_again_from_the_start(reference, resumable):
    m_ref, ref = reference
    with pytest.raises(Interrupt):
        fit(model(), callbacks=[StopAt(2)], mid_fit=False)
    # nothing to resume from is written: no weights, only the epochs' logs
    assert [p.name for p in resumable.iterdir()] == ["state.json"]
    m = model()
    done = fit(m, mid_fit=False)
    assert done.resumed_epochs == 0 and done.epochs == EPOCHS
    np.testing.assert_allclose(done.history["loss"], ref.history["loss"], rtol=1e-5)
    for got, want in zip(weights(m), weights(m_ref), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_what_fit_leaves_is_saved_not_the_last_epoch(resumable):
    """EarlyStopping(restore_best_weights) changes the weights after the last epoch."""
    x, y = data()
    m = model()
    best = keras.callbacks.EarlyStopping(
        monitor="loss", mode="max", patience=1, restore_best_weights=True
    )  # the highest loss is the first epoch's: it stops after 2 and restores epoch 1
    done = fit(m, callbacks=[best], mid_fit=False)
    assert done.epochs == 2
    again = model(seed=3)
    fit(again, mid_fit=False)
    np.testing.assert_array_equal(again.predict(x, verbose=0), m.predict(x, verbose=0))


def test_a_missing_weights_file_means_training_afresh(resumable, capsys):
    with pytest.raises(Interrupt):
        fit(model(), callbacks=[StopAt(2)])
    (resumable / "epoch-0002.weights.h5").unlink()
    done = fit(model())
    assert "weights file is missing" in capsys.readouterr().out
    assert done.resumed_epochs == 0 and done.epochs == EPOCHS


def test_an_unbuilt_subclassed_model_is_built_on_the_first_batch(resumable):
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    import tensorflow as tf

    x, y = data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    for expect_resumed in (0, 2):
        keras.utils.set_random_seed(0)
        net = Net()
        net.compile(keras.optimizers.Adam(0.01), "mse")
        done = resume.fit(net, ds, key="t/net", epochs=2, verbose=0)
        assert done.resumed_epochs == expect_resumed
    assert net.built and net.count_params() == 6


def test_an_unreadable_state_file_means_training_afresh(resumable, capsys):
    fit(model())
    (resumable / "state.json").write_bytes(b"\xff{ not json")
    done = fit(model())
    assert "unreadable" in capsys.readouterr().out
    assert done.resumed_epochs == 0 and done.epochs == EPOCHS
    assert json.loads((resumable / "state.json").read_text())["finished"] is True


def test_an_unbuilt_model_on_data_it_cannot_sample_is_refused(resumable):
    m = keras.Sequential([keras.layers.Dense(1)])
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match="build it"):
        resume.fit(m, iter([]), key="t/gen")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"key": "../escape"}, "key must be"),
        ({"key": ""}, "key must be"),
        ({"key": "a//b"}, "key must be"),
        ({"key": "ok", "initial_epoch": 2}, "initial_epoch"),
    ],
)
def test_bad_arguments_are_refused(resumable, kwargs, message):
    x, y = data()
    with pytest.raises(ValueError, match=message):
        resume.fit(model(), x, y, **kwargs)


def test_an_uncompiled_model_is_refused(resumable):
    x, y = data()
    m = keras.Sequential([keras.Input((5,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        resume.fit(m, x, y, key="t/x")


def test_the_switch_reads_the_environment(monkeypatch):
    monkeypatch.setenv("NLPBOOK_RESUME", "0")
    assert not resume.enabled()
    monkeypatch.setenv("NLPBOOK_RESUME", "yes")
    assert resume.enabled()
    monkeypatch.setenv("NLPBOOK_RESUME", "maybe")
    with pytest.raises(ValueError, match="NLPBOOK_RESUME"):
        resume.enabled()


def test_value_is_computed_once_and_loaded_after(resumable, capsys):
    calls = []

    def compute():
        calls.append(1)
        return {"accuracy": np.float32(0.5), "rows": np.arange(3), "pair": (1, "a")}

    first = resume.value("t/score", compute, fingerprint={"n": 10})
    assert first == {"accuracy": 0.5, "rows": [0, 1, 2], "pair": [1, "a"]}
    again = resume.value("t/score", compute, fingerprint={"n": 10})
    assert again == first and len(calls) == 1
    assert "computed in an earlier run" in capsys.readouterr().out
    saved = json.loads((resumable.parent / "score" / "value.json").read_text())
    assert saved["value"] == first
    # other settings: computed again, and the new result replaces the old
    assert resume.value("t/score", lambda: 7, fingerprint={"n": 11}) == 7
    assert "does not match" in capsys.readouterr().out
    assert resume.value("t/score", compute, fingerprint={"n": 11}) == 7 and len(calls) == 1
    # a file not written by this module: computed again
    (resumable.parent / "score" / "value.json").write_text("{half")
    assert resume.value("t/score", lambda: 8, fingerprint={"n": 11}) == 8


def test_value_off_computes_every_time_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("NLPBOOK_RESULTS", str(tmp_path))
    monkeypatch.delenv("NLPBOOK_RESUME", raising=False)
    calls = []
    for _ in range(2):
        assert resume.value("t/v", lambda: calls.append(1) or [1.5]) == [1.5]
    assert len(calls) == 2 and not (tmp_path / "resume").exists()


def test_value_refuses_a_bad_key_and_a_result_json_cannot_hold(resumable):
    with pytest.raises(ValueError, match="key must be"):
        resume.value("../x", lambda: 1)
    with pytest.raises(TypeError):
        resume.value("t/obj", lambda: object())
    assert not (resumable.parent / "obj" / "value.json").exists()


def test_a_key_names_a_fit_or_a_value_and_a_fresh_fit_keeps_the_keys_below_it(resumable, capsys):
    fit(model(), epochs=2)  # key t/fit
    with pytest.raises(ValueError, match="names a fit"):
        resume.value("t/fit", lambda: 1)
    assert resume.value("t/score", lambda: 1) == 1
    x, y = data()
    with pytest.raises(ValueError, match="names a value"):
        resume.fit(model(), x, y, key="t/score", epochs=1, verbose=0)
    # a result kept below a fit's key survives that fit starting afresh
    assert resume.value("t/fit/extra", lambda: 2) == 2
    fit(model(), epochs=3)
    assert "training afresh" in capsys.readouterr().out
    assert resume.value("t/fit/extra", lambda: 3) == 2
    assert sorted(p.name for p in resumable.iterdir()) == ["extra", "final.weights.npz",
                                                          "state.json"]  # fmt: skip
