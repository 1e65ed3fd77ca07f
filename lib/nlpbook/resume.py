"""Training that survives an interruption: :func:`fit` keeps each finished epoch on disk.

A full-mode chapter trains for hours. Killed half-way (a session ends, a laptop sleeps),
plain ``model.fit`` loses everything; with ``NLPBOOK_RESUME=1`` a rerun of the chapter
picks up where it stopped:

- a fit that finished is not repeated: its final weights, history and training time are
  loaded back;
- a fit that was cut short restarts from its last finished epoch, with the weights *and* the
  optimizer's state (Adam's moments, the step count a learning-rate schedule reads), unless
  ``mid_fit=False`` asks for a restart from scratch.

:func:`value` does the same for a long computation that is not a fit (embedding a corpus
with a frozen encoder, scoring a test set): its JSON result is kept and read back.

Without ``NLPBOOK_RESUME`` (quick mode, a notebook in JupyterLab, CI) :func:`fit` is
``model.fit`` plus a stopwatch and writes nothing. ``python -m nlpbook chapters run --full``
sets ``NLPBOOK_RESUME=1``; ``--fresh`` discards what earlier runs left.

Each fit lives in ``<results_dir>/resume/<key>/``: ``state.json`` (the settings'
fingerprint, the logs and seconds of every finished epoch, whether the fit finished) and the
weights file it names: the last epoch's with the optimizer's variables while the fit runs,
the model's alone (``final.weights.npz``) once it has finished. Every write goes to a temporary file first and is renamed into place,
so a kill at any moment leaves the previous consistent state.

What a resumed fit cannot reproduce exactly: a callback's own state (``EarlyStopping``'s
patience counter and best weights start afresh, hence ``mid_fit=False`` for fits that use
it) and the order in which a shuffled dataset serves its batches after the restart.

Example:
    >>> from nlpbook import resume                                       # doctest: +SKIP
    >>> done = resume.fit(model, train_ds, key="10_seq2seq/gru",          # doctest: +SKIP
    ...                   fingerprint={"vocab": 8000}, epochs=20, validation_data=valid_ds)
    >>> done.history["val_loss"][-1], done.seconds, done.resumed_epochs  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from pathlib import Path

import keras
import numpy as np

from nlpbook import results, runtime

_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
_STATE = "state.json"
_FINAL = "final.weights.npz"
_VALUE = "value.json"


def enabled() -> bool:
    """True if ``NLPBOOK_RESUME`` is 1/true/yes/on (default off)."""
    return runtime._env_flag("NLPBOOK_RESUME", default=False)


def folder() -> Path:
    """Where resumable fits keep their state: ``<results_dir>/resume``."""
    return results.results_dir() / "resume"


@dataclasses.dataclass
class Fit:
    """What :func:`fit` returns.

    Attributes:
        history: metric name → one value per epoch, over every run that trained this fit
            (what ``model.fit(...).history`` would hold had it never stopped).
        seconds: training time, the sum of the epochs' wall times over those runs.
        epochs: epochs trained (fewer than asked when a callback stopped training early).
        resumed_epochs: epochs that came from disk rather than from this call: 0 for a fresh
            fit, all of them for a fit that had finished before.
    """

    history: dict
    seconds: float
    epochs: int
    resumed_epochs: int


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def _described(value):
    """A configuration as plain JSON values, without the parts that differ between equal
    settings: auto-numbered names ("kim_cnn_3") and object addresses."""
    value = _plain(value)
    if isinstance(value, dict):
        return {k: _described(v) for k, v in value.items() if k != "name"}
    if isinstance(value, list):
        return [_described(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "get_config"):
        return {"class": type(value).__qualname__, "config": _described(value.get_config())}
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _fingerprint(model, fit_kwargs: dict, extra) -> str:
    """A hash of everything that makes a saved state belong to this fit."""
    try:
        model_config = model.get_config()
    except NotImplementedError:
        model_config = None
    described = {
        "model": type(model).__qualname__,
        "model_config": model_config,
        "parameters": model.count_params(),
        "optimizer": model.optimizer,
        "loss": getattr(model, "loss", None),
        "epochs": fit_kwargs.get("epochs", 1),
        "quick": runtime.quick_mode(),
        "smoke": runtime.smoke_mode(),
        "backend": runtime.backend(),
        "extra": extra,
    }
    text = json.dumps(_described(described), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _save_weights(model, where: Path, name: str) -> None:
    tmp = where / f".tmp-{name}"
    model.save_weights(tmp)
    tmp.replace(where / name)


def _first_inputs(x):
    """The model inputs of one batch of ``x`` (a dataset of (inputs, targets) or arrays)."""
    if hasattr(x, "take") and hasattr(x, "element_spec"):  # tf.data.Dataset
        batch = next(iter(x.take(1)))
        return batch[0] if isinstance(batch, tuple) else batch
    if isinstance(x, (list, tuple)):
        return type(x)(np.asarray(part)[:1] for part in x)
    if isinstance(x, dict):
        return {k: np.asarray(v)[:1] for k, v in x.items()}
    if isinstance(x, np.ndarray) or hasattr(x, "shape"):
        return np.asarray(x)[:1]
    raise ValueError(
        f"cannot take a batch from x of type {type(x).__name__} to build the model: build it "
        "(call it on a batch) before resume.fit"
    )


class _EpochSaver(keras.callbacks.Callback):
    """After each epoch: its logs and wall time, and with ``weights`` the weights (with the
    optimizer's variables) first, then the state naming them."""

    def __init__(self, where: Path, state: dict, weights: bool):
        super().__init__()
        self.where = where
        self.state = state
        self.weights = weights
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        previous = self.state.get("weights")
        if self.weights:
            name = f"epoch-{epoch + 1:04d}.weights.h5"
            _save_weights(self.model, self.where, name)
            self.state["weights"] = name
        self.state["epochs"].append({"logs": _plain(dict(logs or {})), "seconds": seconds})
        results.write_json(self.where / _STATE, self.state)
        if previous and previous != self.state["weights"]:
            (self.where / previous).unlink(missing_ok=True)


def _save_final(model, where: Path) -> None:
    """The model's weights alone (a finished fit needs no optimizer state: a third the size)."""
    tmp = where / ".tmp-final.npz"
    with open(tmp, "wb") as f:
        np.savez(f, *model.get_weights())
    tmp.replace(where / _FINAL)


def _load(model, path: Path) -> None:
    if path.name == _FINAL:
        with np.load(path) as arrays:
            model.set_weights([arrays[f"arr_{i}"] for i in range(len(arrays.files))])
    else:
        model.load_weights(path)


def _check_key(key) -> None:
    if (
        not isinstance(key, str)
        or not _KEY.match(key)
        or any(set(part) == {"."} for part in key.split("/"))
    ):
        raise ValueError(
            "key must be parts of letters, digits, '_', '.' or '-' joined by '/'. "
            f"Received: key={key!r}"
        )


def value(key: str, compute, *, fingerprint=None):
    """``compute()``, kept on disk: a rerun with resuming on returns the saved result instead.

    For the long steps of a full-mode run that are not a fit: embedding 50,000 reviews with a
    frozen encoder, scoring a test set with a fine-tuned model. With ``NLPBOOK_RESUME`` off it
    is ``compute()``, and writes nothing.

    Args:
        key: names the result, as for :func:`fit` (one key, one result; a key that names a
            fit is refused).
        compute: called with no arguments; returns a JSON-able value (dicts, lists, numbers,
            strings; NumPy scalars and arrays become numbers and lists).
        fingerprint: anything JSON-able the saved result must match (with quick/smoke mode and
            the backend); on a mismatch the result is computed again and replaces it.

    Returns:
        The value as JSON gives it back (tuples become lists, NumPy values plain numbers),
        the same whether it was computed now or read from disk.

    Raises:
        ValueError: a malformed ``key``, or one that names a fit. TypeError: ``compute``
            returned something JSON cannot hold.
    """
    _check_key(key)
    described = {"quick": runtime.quick_mode(), "smoke": runtime.smoke_mode(),
                 "backend": runtime.backend(), "extra": fingerprint}  # fmt: skip
    digest = hashlib.sha256(
        json.dumps(_described(described), sort_keys=True).encode("utf-8")
    ).hexdigest()
    where = folder() / key
    if enabled() and (where / _STATE).is_file():
        raise ValueError(f"key {key!r} names a fit (resume.fit); give the value its own key")
    if enabled() and (where / _VALUE).is_file():
        try:
            saved = json.loads((where / _VALUE).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            saved = None
        if isinstance(saved, dict) and saved.get("fingerprint") == digest and "value" in saved:
            print(f"resume: {key}: computed in an earlier run; loaded")
            return saved["value"]
        print(f"resume: {key}: the saved result does not match; computing it again")
    result = json.loads(json.dumps(_plain(compute()), allow_nan=True))
    if enabled():
        where.mkdir(parents=True, exist_ok=True)
        results.write_json(where / _VALUE, {"key": key, "fingerprint": digest, "value": result})
    return result


def fit(model, x=None, y=None, *, key: str, fingerprint=None, mid_fit: bool = True, **fit_kwargs):
    """``model.fit(x, y, **fit_kwargs)``, resumable; returns a :class:`Fit`.

    Args:
        model: a compiled Keras model. Unbuilt, it is built on the first batch of ``x``
            (with resuming on only), which takes a draw from a shuffled dataset and so shifts
            the orders it serves the fit: build the model yourself where that matters.
        x, y: as for ``model.fit``.
        key: names the fit within the results folder, e.g. ``"09_text_classification/mr/
            fold3/cnn"`` (letters, digits, ``_.-``, parts joined by ``/``); one key, one fit.
        fingerprint: anything JSON-able that a saved state must match besides what is read
            off the model and optimizer (their class, configuration and size, the epochs,
            quick/smoke mode, the backend): data sizes, a vocabulary's hash, a seed. On a
            mismatch the saved state is discarded and the fit starts afresh (and says so).
        mid_fit: resume a cut-short fit from its last finished epoch (True), or train it
            again from the start (False: for fits whose callbacks keep state, such as
            ``EarlyStopping`` with ``restore_best_weights``).
        **fit_kwargs: passed to ``model.fit`` (``epochs``, ``validation_data``,
            ``callbacks``, ``verbose``...); ``initial_epoch`` is this function's to set.

    Raises:
        ValueError: a malformed ``key`` or one that names a value (:func:`value`), an
            uncompiled model, or ``initial_epoch`` given.
    """
    _check_key(key)
    if "initial_epoch" in fit_kwargs:
        raise ValueError("resume.fit sets initial_epoch itself; do not pass it")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("compile the model before resume.fit")

    if not enabled():
        # Keras on TensorFlow builds an unbuilt optimizer inside the first traced train step;
        # tf.function then traces the step a second time (variables were created), which for
        # a large model costs as much as the step's first trace (SmolLM2: ~28 s here)
        if model.built and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        start = time.perf_counter()
        history = model.fit(x, y, **fit_kwargs)
        epochs = len(next(iter(history.history.values()), []))
        return Fit(_plain(history.history), time.perf_counter() - start, epochs, 0)

    if not model.built:
        model(_first_inputs(x), training=False)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    where = folder() / key
    if (where / _VALUE).is_file():
        raise ValueError(f"key {key!r} names a value (resume.value); give the fit its own key")
    digest = _fingerprint(model, fit_kwargs, fingerprint)
    state = None
    if (where / _STATE).is_file():
        try:
            state = json.loads((where / _STATE).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            state = {}  # not written by this module (its writes are atomic): start afresh
        if not isinstance(state, dict) or not isinstance(state.get("epochs"), list):
            print(f"resume: {key}: its state file is unreadable; training afresh")
            state = None
        elif state.get("fingerprint") != digest:
            print(f"resume: {key}: the settings changed since it was saved; training afresh")
            state = None
        elif state.get("weights") and not (where / state["weights"]).is_file():
            print(f"resume: {key}: its weights file is missing; training afresh")
            state = None
        elif not state.get("finished") and not mid_fit:
            state = None
    if state is None:
        # the fit's own files go; a folder below holds another key's results and stays
        where.mkdir(parents=True, exist_ok=True)
        for stale in where.iterdir():
            if not stale.is_dir():
                stale.unlink()
        state = {"key": key, "fingerprint": digest, "epochs": [], "weights": None}
        results.write_json(where / _STATE, state)
    resumed = len(state["epochs"])
    if state.get("weights"):
        _load(model, where / state["weights"])
    if not state.get("finished"):
        if resumed:
            print(f"resume: {key}: continuing after epoch {resumed}")
        saver = _EpochSaver(where, state, weights=mid_fit)
        callbacks = [*(fit_kwargs.pop("callbacks", None) or []), saver]
        model.fit(x, y, initial_epoch=resumed, callbacks=callbacks, **fit_kwargs)
        # what fit leaves may differ from the last epoch's weights (restore_best_weights)
        _save_final(model, where)
        last = state["weights"]
        state.update(weights=_FINAL, finished=True)
        results.write_json(where / _STATE, state)
        if last and last != _FINAL:
            (where / last).unlink(missing_ok=True)
    else:
        print(f"resume: {key}: finished in an earlier run; weights loaded")
    history: dict = {}
    for epoch in state["epochs"]:
        for name, value in epoch["logs"].items():
            history.setdefault(name, []).append(value)
    seconds = float(sum(epoch["seconds"] for epoch in state["epochs"]))
    return Fit(history, seconds, len(state["epochs"]), resumed)
