"""Learning-rate schedules: linear warm-up followed by cosine or linear decay."""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from nlpbook.optim import _checks


def _steps(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


class _Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak_learning_rate`` over ``warmup_steps``, then the
    subclass's ``_decay(progress)`` (progress from 0 to 1 over ``decay_steps``), then the
    final rate."""

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        decay_steps,
        final_learning_rate=0.0,
        name=None,
    ):
        super().__init__()
        self.peak_learning_rate = _checks.positive("peak_learning_rate", peak_learning_rate)
        self.warmup_steps = _steps("warmup_steps", warmup_steps, 0)
        self.decay_steps = _steps("decay_steps", decay_steps, 1)
        self.final_learning_rate = _checks.non_negative("final_learning_rate", final_learning_rate)
        if self.final_learning_rate > self.peak_learning_rate:
            raise ValueError(
                "final_learning_rate must not exceed peak_learning_rate. Received: "
                f"final_learning_rate={final_learning_rate!r}, "
                f"peak_learning_rate={peak_learning_rate!r}"
            )
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.peak_learning_rate
        # max(..., 1) only avoids 0/0 when there is no warm-up; that branch is unused then.
        warmup = peak * step / max(self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / self.decay_steps, 0.0, 1.0)
        return ops.where(step < self.warmup_steps, warmup, self._decay(progress))

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "final_learning_rate": self.final_learning_rate,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="nlpbook")
class WarmupCosine(_Warmup):
    r"""Linear warm-up from 0 to a peak, cosine decay to a final rate, then constant.

    With ``W = warmup_steps``, ``D = decay_steps``, peak ``p`` and final rate ``f``, the rate
    at optimizer step ``s`` (``optimizer.iterations``, 0 for the first update) is::

        s < W:           p * s / W
        W <= s < W + D:  f + (p - f) * (1 + cos(pi * (s - W) / D)) / 2
        s >= W + D:      f

    Warm-up keeps the first updates small while Adam's second-moment estimate ``v`` is still
    based on a handful of gradients (and while a fresh network's gradients are large); the
    cosine then lowers the rate smoothly, spending little time at either end.

    This is Keras' ``CosineDecay(initial_learning_rate=0.0, decay_steps=D, warmup_target=p,
    warmup_steps=W, alpha=f / p)``, with the final rate given as a rate rather than a fraction
    of the peak. The conventions match Keras (and Hugging Face's
    ``get_cosine_schedule_with_warmup``): the first update, at step 0, has rate 0, and the
    peak is reached at step ``W``.

    Args:
        peak_learning_rate: the rate at the end of the warm-up, > 0.
        warmup_steps: number of warm-up steps, an int >= 0 (0: start the decay at the peak).
        decay_steps: number of steps of the cosine decay, an int >= 1.
        final_learning_rate: the rate after the decay, in ``[0, peak_learning_rate]``.
            Defaults to 0.
        name: an optional name for the schedule.

    Returns:
        Called with a step (int or scalar tensor), a float32 scalar tensor: the rate.

    Example:
        >>> schedule = WarmupCosine(1e-3, warmup_steps=10, decay_steps=90)
        >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 55, 100, 200)]
        [0.0, 0.0005, 0.001, 0.0005, 0.0, 0.0]
        >>> opt = keras.optimizers.Adam(learning_rate=schedule)  # doctest: +SKIP

    References:
        - Loshchilov and Hutter (2017), "SGDR: Stochastic Gradient Descent with Warm
          Restarts", ICLR, arXiv:1608.03983 (cosine decay).
        - Goyal et al. (2017), "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
          arXiv:1706.02677 (linear warm-up).
    """

    def _decay(self, progress):
        peak, final = self.peak_learning_rate, self.final_learning_rate
        return final + (peak - final) * 0.5 * (1.0 + ops.cos(math.pi * progress))


@keras.saving.register_keras_serializable(package="nlpbook")
class WarmupLinear(_Warmup):
    r"""Linear warm-up from 0 to a peak, then linear decay to a final rate, then constant.

    With ``W = warmup_steps``, ``D = decay_steps``, peak ``p`` and final rate ``f``::

        s < W:           p * s / W
        W <= s < W + D:  p + (f - p) * (s - W) / D
        s >= W + D:      f

    BERT's fine-tuning schedule (Devlin et al. 2019; Hugging Face's
    ``get_linear_schedule_with_warmup`` with ``f = 0``). After the warm-up it is Keras'
    ``PolynomialDecay(p, D, end_learning_rate=f, power=1)`` shifted by ``W`` steps; the tests
    check both.

    Args:
        peak_learning_rate: the rate at the end of the warm-up, > 0.
        warmup_steps: number of warm-up steps, an int >= 0.
        decay_steps: number of steps of the linear decay, an int >= 1.
        final_learning_rate: the rate after the decay, in ``[0, peak_learning_rate]``.
        name: an optional name for the schedule.

    Example:
        >>> schedule = WarmupLinear(1e-3, warmup_steps=10, decay_steps=90)
        >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 55, 100, 200)]
        [0.0, 0.0005, 0.001, 0.0005, 0.0, 0.0]
    """

    def _decay(self, progress):
        peak, final = self.peak_learning_rate, self.final_learning_rate
        return peak + (final - peak) * progress
