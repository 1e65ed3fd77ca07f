"""Optimizers written from their update rules, as ``keras.optimizers.Optimizer`` subclasses.

Each class states its rule in its docstring, in the notation of its code, and is checked
against the Keras built-in of the same name (equal parameter trajectories on a real model)
and against a NumPy transcription of the rule. They plug into ``model.compile`` like any
Keras optimizer and save with the model (``.keras``, ``safe_mode=True``).

Example:
    >>> from nlpbook import optim
    >>> model.compile(optimizer=optim.Adam(learning_rate=1e-3), loss="mse")  # doctest: +SKIP
"""

from nlpbook.optim.adagrad import Adagrad
from nlpbook.optim.adam import Adam
from nlpbook.optim.rmsprop import RMSprop
from nlpbook.optim.schedules import WarmupCosine, WarmupLinear
from nlpbook.optim.sgd import SGD
from nlpbook.optim.surfaces import QuadraticBowl, Rosenbrock, Surface, trajectory

__all__ = [
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "WarmupCosine",
    "WarmupLinear",
    "Surface",
    "Rosenbrock",
    "QuadraticBowl",
    "trajectory",
]
