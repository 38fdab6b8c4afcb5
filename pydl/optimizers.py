"""Optimizers with Keras's update rules, names and defaults. The update runs as one native kernel per parameter.

``learning_rate`` may be a float or a schedule from :mod:`pydl.optimizers.schedules`.
"""
from __future__ import annotations

import json
import math

import numpy as np

from . import _jvm
from .errors import java_errors


def _number(owner: str, key: str, value, lo=None, hi=None, hi_open=False) -> float:
    """``value`` as a finite float in [lo, hi] (or [lo, hi)); ValueError naming the received value otherwise."""
    rng = f"in [{lo}, {hi}{')' if hi_open else ']'}" if hi is not None else f">= {lo}"
    try:
        v = float(value)
        if isinstance(value, (str, bytes, bool)):
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {key} must be a number {rng}. Received: {key}={value!r}") from None
    ok = math.isfinite(v) and (lo is None or v >= lo) and (hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        raise ValueError(f"{owner}: {key} must be a finite number {rng}. Received: {key}={value!r}")
    return v


def _positive_int(owner: str, key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{owner}: {key} must be a positive integer. Received: {key}={value!r}")
    return int(value)


class _Schedule:
    def get_config(self) -> dict:
        raise NotImplementedError


class _Schedules:
    class StepDecay(_Schedule):
        """``initial_learning_rate * gamma ** (step // step_size)``, step counted in batches."""

        def __init__(self, initial_learning_rate, step_size, gamma=0.1):
            self.initial_learning_rate = _number("StepDecay", "initial_learning_rate", initial_learning_rate, 0)
            self.step_size = _positive_int("StepDecay", "step_size", step_size)
            self.gamma = _number("StepDecay", "gamma", gamma, 0)

        def get_config(self):
            return {"class": "StepDecay", "initial_learning_rate": self.initial_learning_rate,
                    "step_size": self.step_size, "gamma": self.gamma}

        def __call__(self, step):
            return self.initial_learning_rate * self.gamma ** (step // self.step_size)

    class CosineDecay(_Schedule):
        """Keras CosineDecay: cosine from ``initial_learning_rate`` to ``alpha * initial`` over ``decay_steps``."""

        def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
            self.initial_learning_rate = _number("CosineDecay", "initial_learning_rate", initial_learning_rate, 0)
            self.decay_steps = _positive_int("CosineDecay", "decay_steps", decay_steps)
            self.alpha = _number("CosineDecay", "alpha", alpha, 0, 1)

        def get_config(self):
            return {"class": "CosineDecay", "initial_learning_rate": self.initial_learning_rate,
                    "decay_steps": self.decay_steps, "alpha": self.alpha}

        def __call__(self, step):
            p = min(step, self.decay_steps) / self.decay_steps
            return self.initial_learning_rate * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * p)) + self.alpha)


schedules = _Schedules


class Optimizer:
    class_name = "Optimizer"

    def __init__(self, learning_rate):
        if isinstance(learning_rate, _Schedule):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = _number(self.class_name, "learning_rate", learning_rate, 0)

    def _hyper(self) -> dict:
        return {}

    def get_config(self) -> dict:
        lr = self.learning_rate.get_config() if isinstance(self.learning_rate, _Schedule) else self.learning_rate
        return {"class": self.class_name, "learning_rate": lr, **self._hyper()}

    def _to_java(self):
        with java_errors():
            return _jvm.jclass("org.pydl.py.PyBridge").optimizer(json.dumps(self.get_config()))

    def __repr__(self):
        return f"{self.class_name}({self.get_config()})"


class SGD(Optimizer):
    """``v = momentum * v - lr * g; w += v`` (or Nesterov). ``weight_decay`` adds ``weight_decay * w`` to ``g``."""

    class_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(learning_rate)
        self.momentum = _number("SGD", "momentum", momentum, 0, 1)
        self.nesterov = bool(nesterov)
        self.weight_decay = _number("SGD", "weight_decay", weight_decay, 0)

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    class_name = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        # beta = 1 would divide by 1 - beta^t = 0 (beta_1) or never adapt (beta_2), as PyTorch also rejects
        self.beta_1 = _number(self.class_name, "beta_1", beta_1, 0, 1, hi_open=True)
        self.beta_2 = _number(self.class_name, "beta_2", beta_2, 0, 1, hi_open=True)
        self.epsilon = _number(self.class_name, "epsilon", epsilon, 0)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= lr * weight_decay * w`` before each step)."""

    class_name = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = _number("AdamW", "weight_decay", weight_decay, 0)

    def _hyper(self):
        return {**super()._hyper(), "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    class_name = "RMSprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = _number("RMSprop", "rho", rho, 0, 1)
        self.momentum = _number("RMSprop", "momentum", momentum, 0, 1)
        self.epsilon = _number("RMSprop", "epsilon", epsilon, 0)

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(identifier) -> Optimizer:
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; use one of {sorted(_BY_NAME)} or an optimizer object")
