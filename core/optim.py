"""Optimizers over one flat parameter vector.

All parameters live in one buffer (see ``core.models``), so an optimizer step
is a handful of vector operations for the whole model, and its state (``m``,
``v``, ``velocity``) is a vector of the same size, easy to inspect and to
snapshot for undo. Each ``step`` updates ``params`` in place and returns the
change it applied (new - old).
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Base class: ``step(params, grad, lr) -> delta``; state via ``state_dict``."""

    name = "base"

    def __init__(self, size: int, dtype: np.dtype | type = np.float64) -> None:
        self.size = size
        self.dtype = np.dtype(dtype)
        self.t = 0  # number of updates taken

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        raise NotImplementedError

    def state_dict(self) -> dict:
        """A deep copy of the state (arrays copied), for undo and checkpoints."""
        return {"t": self.t}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])


class SGD(Optimizer):
    """Plain gradient descent, the lesson's rule: new = old - lr x grad."""

    name = "sgd"

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        delta = grad * -lr
        params += delta
        self.t += 1
        return delta


class Momentum(Optimizer):
    """SGD with momentum: velocity = beta x velocity + grad; new = old - lr x velocity."""

    name = "momentum"

    def __init__(self, size: int, dtype=np.float64, beta: float = 0.9) -> None:
        super().__init__(size, dtype)
        self.beta = beta
        self.velocity = np.zeros(size, dtype=self.dtype)

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        self.velocity *= self.beta
        self.velocity += grad
        delta = self.velocity * -lr
        params += delta
        self.t += 1
        return delta

    def state_dict(self) -> dict:
        return {"t": self.t, "velocity": self.velocity.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        self.velocity[...] = state["velocity"]


class Adam(Optimizer):
    """Adam, as in the lesson:

    m = beta1 m + (1 - beta1) g            v = beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t)              v_hat = v / (1 - beta2^t)
    new = old - lr x m_hat / (sqrt(v_hat) + eps)
    """

    name = "adam"

    def __init__(
        self, size: int, dtype=np.float64, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(size, dtype)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = np.zeros(size, dtype=self.dtype)
        self.v = np.zeros(size, dtype=self.dtype)

    def step(self, params: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        self.m *= b1
        self.m += (1 - b1) * grad
        self.v *= b2
        self.v += (1 - b2) * grad * grad
        m_hat = self.m / (1 - b1**self.t)
        v_hat = self.v / (1 - b2**self.t)
        delta = m_hat / (np.sqrt(v_hat) + self.eps)
        delta *= -lr
        params += delta
        return delta

    def state_dict(self) -> dict:
        return {"t": self.t, "m": self.m.copy(), "v": self.v.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        self.m[...] = state["m"]
        self.v[...] = state["v"]


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
#: Each optimizer's default learning rate for the mean loss per position (the objective), tuned
#: so the lesson's sentence and real texts (licences, manuals, 4 to 512 positions a step) all
#: learn without diverging. Adam's is the lesson's alpha = 0.001 x 10: the teaching model is tiny
#: and should learn within a few hundred steps.
DEFAULT_LR = {"sgd": 1.0, "momentum": 0.3, "adam": 0.01}


def make_optimizer(name: str, size: int, dtype=np.float64) -> Optimizer:
    """An optimizer by name: ``sgd``, ``momentum`` or ``adam``."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r} (choose from {', '.join(OPTIMIZERS)})") from None
    return cls(size, dtype)
