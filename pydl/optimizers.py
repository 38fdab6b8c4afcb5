"""Optimizers with Keras's update rules, names and defaults. The update runs as one native kernel per parameter.

``learning_rate`` may be a float or a schedule from :mod:`pydl.optimizers.schedules`.
"""
from __future__ import annotations

import json
import math

from . import _jvm
from .errors import java_errors


class _Schedule:
    def get_config(self) -> dict:
        raise NotImplementedError


class _Schedules:
    class StepDecay(_Schedule):
        """``initial_learning_rate * gamma ** (step // step_size)``, step counted in batches."""

        def __init__(self, initial_learning_rate, step_size, gamma=0.1):
            if step_size <= 0:
                raise ValueError(f"StepDecay: step_size must be > 0. Received: step_size={step_size!r}")
            self.initial_learning_rate, self.step_size, self.gamma = float(initial_learning_rate), int(step_size), float(gamma)

        def get_config(self):
            return {"class": "StepDecay", "initial_learning_rate": self.initial_learning_rate,
                    "step_size": self.step_size, "gamma": self.gamma}

        def __call__(self, step):
            return self.initial_learning_rate * self.gamma ** (step // self.step_size)

    class CosineDecay(_Schedule):
        """Keras CosineDecay: cosine from ``initial_learning_rate`` to ``alpha * initial`` over ``decay_steps``."""

        def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
            if decay_steps <= 0:
                raise ValueError(f"CosineDecay: decay_steps must be > 0. Received: decay_steps={decay_steps!r}")
            self.initial_learning_rate, self.decay_steps, self.alpha = float(initial_learning_rate), int(decay_steps), float(alpha)

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
            lr = float(learning_rate)
            if not (lr >= 0 and math.isfinite(lr)):
                raise ValueError(f"{self.class_name}: learning_rate must be a finite number >= 0. "
                                 f"Received: learning_rate={learning_rate!r}")
            self.learning_rate = lr

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
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1]. Received: momentum={momentum!r}")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov, "weight_decay": self.weight_decay}


class Adam(Optimizer):
    class_name = "Adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        for k, v in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0 <= v <= 1:
                raise ValueError(f"{self.class_name}: {k} must be in [0, 1]. Received: {k}={v!r}")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (``w -= lr * weight_decay * w`` before each step)."""

    class_name = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = float(weight_decay)

    def _hyper(self):
        return {**super()._hyper(), "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    class_name = "RMSprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(identifier) -> Optimizer:
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; use one of {sorted(_BY_NAME)} or an optimizer object")
