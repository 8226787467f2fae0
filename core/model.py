"""The language model: embeddings -> context -> layer1 (tanh) -> layer2 (tanh) -> logits.

A feed-forward neural language model in the style of Bengio et al. (2003):
the context of a position is the embeddings of its last ``k`` tokens,
concatenated. Every parameter tensor is a named view into one flat buffer
``params`` (and every gradient a view into ``grads``), so optimizers, undo
and checkpoints each handle a single vector.

Shapes: N positions, k context tokens, d embedding size, H1/H2 hidden sizes,
V vocabulary size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .losses import softmax_cross_entropy


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the model. The defaults are the teaching model (1,100 parameters)."""

    vocab_size: int = 12
    context: int = 4  # k: tokens of context, enough for "<BOS> we love deep"
    embed_dim: int = 8  # d
    hidden1: int = 16  # H1: layer1 width
    hidden2: int = 16  # H2: layer2 width
    dtype: str = "float64"  # float32 for large models

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter tensor's name and shape, in forward order."""
        kd = self.context * self.embed_dim
        return {
            "embedding": (self.vocab_size, self.embed_dim),
            "layer1.W": (kd, self.hidden1),
            "layer1.b": (self.hidden1,),
            "layer2.W": (self.hidden1, self.hidden2),
            "layer2.b": (self.hidden2,),
            "output.W": (self.hidden2, self.vocab_size),
            "output.b": (self.vocab_size,),
        }

    def validate(self) -> None:
        for name in ("vocab_size", "context", "embed_dim", "hidden1", "hidden2"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, not {v!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, not {self.dtype!r}")


#: The layers as the gradient flows back through them, loss first.
BACKWARD_ORDER = ("output", "layer2", "layer1", "embedding")


@dataclass(eq=False)
class Forward:
    """What a forward pass computed, kept for the backward pass and the screen.

    ``ctx`` (N, k) and ``targets`` (N,) are the positions' ids; ``x`` (N, k*d)
    the concatenated embeddings; ``h1``, ``h2`` the tanh activations; ``logits``
    and ``probs`` (N, V); ``losses`` (N,) = -log P(target).
    """

    ctx: np.ndarray
    targets: np.ndarray
    x: np.ndarray
    h1: np.ndarray
    h2: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    losses: np.ndarray
    #: indices of these positions in the dataset (set by the session)
    positions: np.ndarray | None = None

    @property
    def total_loss(self) -> float:
        """The lesson's loss: the sum of -log P(target) over positions."""
        return float(np.add.reduce(self.losses))  # (= losses.sum(), without its Python wrapper)

    @property
    def target_probs(self) -> np.ndarray:
        """P(target) at each position, (N,)."""
        return self.probs[np.arange(self.targets.shape[0]), self.targets]


@dataclass(eq=False)
class Backward:
    """Gradients of the objective (``scale`` x the total loss).

    ``grads`` is a private copy of the flat gradient vector (``grad(name)``
    gives one tensor); ``upstream`` holds dLoss/d(output of each layer), in
    ``BACKWARD_ORDER``: dlogits (N, V), dh2 (N, H2), dh1 (N, H1), dx (N, k*d).
    """

    grads: np.ndarray
    upstream: dict[str, np.ndarray]
    slices: dict[str, tuple[slice, tuple[int, ...]]]
    #: the objective is ``scale`` x the summed loss (1/N: the mean); ``upstream["output"]``
    #: is per position, unscaled (the lesson's P - target), the other layers' are the objective's
    scale: float = 1.0
    #: summaries computed from these gradients once, for the screen (see ``core.readout``)
    memo: dict = field(default_factory=dict, repr=False)

    @property
    def norm(self) -> float:
        """||grads||, the whole gradient's length (computed once: history and update share it)."""
        n = self.memo.get("norm")
        if n is None:
            n = self.memo["norm"] = float(np.sqrt(self.grads @ self.grads))  # in the model's dtype
        return n

    def grad(self, name: str) -> np.ndarray:
        sl, shape = self.slices[name]
        return self.grads[sl].reshape(shape)

    @property
    def dlogits(self) -> np.ndarray:
        """dLoss/dlogit = P - onehot(target), (N, V): the lesson's 'P_i - target_i'."""
        return self.upstream["output"]


class MLPLanguageModel:
    """The model. ``forward(ctx, targets) -> Forward``; ``backward(fwd) -> Backward``."""

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        config.validate()
        self.config = config
        self.dtype = np.dtype(config.dtype)
        shapes = config.shapes()
        self.slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            self.slices[name] = (slice(offset, offset + n), shape)
            offset += n
        self.size = offset
        self.params = np.zeros(offset, dtype=self.dtype)
        self.grads = np.zeros(offset, dtype=self.dtype)
        # Named views: writing to self.p["layer1.W"] writes into self.params.
        self.p = {n: self.params[sl].reshape(sh) for n, (sl, sh) in self.slices.items()}
        self.g = {n: self.grads[sl].reshape(sh) for n, (sl, sh) in self.slices.items()}
        self._offsets = np.array([sl.start for sl, _ in self.slices.values()], dtype=np.intp)
        self._rows: np.ndarray = np.arange(0)  # 0..N-1, kept to pick each row's target
        self.init(seed)

    # --- parameters -------------------------------------------------------------

    def init(self, seed: int) -> None:
        """Random initial weights from ``seed``: embeddings N(0, 1), weights
        N(0, 1/fan_in) (keeps tanh out of saturation), biases zero."""
        rng = np.random.default_rng(seed)
        for name, (_, shape) in self.slices.items():
            if name.endswith(".b"):
                self.p[name][...] = 0.0
            elif name == "embedding":
                self.p[name][...] = rng.standard_normal(shape)
            else:
                self.p[name][...] = rng.standard_normal(shape) / np.sqrt(shape[0])

    def tensor_norms(self, flat: np.ndarray) -> np.ndarray:
        """L2 norm of each tensor's part of a flat vector, in ``slices`` order."""
        return np.sqrt(np.add.reduceat(flat * flat, self._offsets))

    def rows(self, n: int) -> np.ndarray:
        """``np.arange(n)``, cached: with ``targets`` it picks each row's target entry."""
        if self._rows.shape[0] != n:
            self._rows = np.arange(n)
        return self._rows

    # --- forward ----------------------------------------------------------------

    def forward(self, ctx: np.ndarray, targets: np.ndarray) -> Forward:
        """All positions at once (teacher forcing)."""
        p = self.p
        N = ctx.shape[0]
        x = p["embedding"].take(ctx, axis=0).reshape(N, -1)  # (N, k*d) embeddings, concatenated
        h1 = np.tanh(x @ p["layer1.W"] + p["layer1.b"])  # (N, H1)
        h2 = np.tanh(h1 @ p["layer2.W"] + p["layer2.b"])  # (N, H2)
        logits = h2 @ p["output.W"]  # (N, V)
        logits += p["output.b"]  # (in place: a large vocabulary's N x V is allocated once, not twice)
        # softmax and -log P(target), stable (each row's max subtracted first), in one pass
        probs, losses = softmax_cross_entropy(logits, targets, self.rows(N))  # (N, V), (N,)
        return Forward(ctx, targets, x, h1, h2, logits, probs, losses)

    # --- backward ---------------------------------------------------------------

    def backward(self, f: Forward, scale: float = 1.0) -> Backward:
        """Gradients of ``scale`` x the summed loss, from scratch (calling it twice gives
        the same gradients, never double): ``scale`` 1 is the lesson's total, 1/N the
        mean per position that training uses."""
        p, g = self.p, self.g
        N = f.targets.shape[0]
        # softmax + cross-entropy in one step: dLoss/dlogits = P - onehot(target), per position
        dlogits = f.probs.copy()  # (N, V)
        dlogits[self.rows(N), f.targets] -= 1.0
        # output layer: logits = h2 @ Wo + bo (the scale goes on after the big matmul).
        # np.dot(..., out=) writes each weight gradient into its place in the flat buffer
        # (the same BLAS call as @, with less overhead per call: it counts at the lesson's size)
        np.dot(f.h2.T, dlogits, out=g["output.W"])  # (H2, V)
        np.add.reduce(dlogits, axis=0, out=g["output.b"])  # the sum over positions (= .sum(axis=0))
        dh2 = dlogits @ p["output.W"].T  # (N, H2)
        if scale != 1.0:
            g["output.W"] *= scale
            g["output.b"] *= scale
            dh2 *= scale
        # layer2: h2 = tanh(h1 @ W2 + b2); tanh' = 1 - tanh^2
        dz2 = dh2 * (1.0 - f.h2 * f.h2)
        np.dot(f.h1.T, dz2, out=g["layer2.W"])  # (H1, H2)
        np.add.reduce(dz2, axis=0, out=g["layer2.b"])
        dh1 = dz2 @ p["layer2.W"].T  # (N, H1)
        # layer1: h1 = tanh(x @ W1 + b1)
        dz1 = dh1 * (1.0 - f.h1 * f.h1)
        np.dot(f.x.T, dz1, out=g["layer1.W"])  # (k*d, H1)
        np.add.reduce(dz1, axis=0, out=g["layer1.b"])
        dx = dz1 @ p["layer1.W"].T  # (N, k*d)
        # embedding: each context slot adds its slice of dx to its token's row
        gE = g["embedding"]
        gE[...] = 0.0
        np.add.at(gE, f.ctx.ravel(), dx.reshape(-1, self.config.embed_dim))
        upstream = {"output": dlogits, "layer2": dh2, "layer1": dh1, "embedding": dx}
        return Backward(self.grads.copy(), upstream, self.slices, scale)
