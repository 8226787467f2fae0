"""The lesson's model: embeddings -> context -> layer1 (tanh) -> layer2 (tanh) -> logits.

A feed-forward neural language model in the style of Bengio et al. (2003): the context of a
position is the embeddings of its last ``k`` tokens, concatenated. Every parameter tensor is a
named view into one flat buffer ``params`` (and every gradient a view into ``grads``).

Shapes: N positions, k context tokens, d embedding size, H1/H2 hidden sizes, V vocabulary size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..losses import softmax_cross_entropy
from .base import DTYPES, Backward, Factors, Forward, LanguageModel, ModelConfigError


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
                raise ModelConfigError("not_positive_integer", name=name, value=v)
        if self.dtype not in DTYPES:
            raise ModelConfigError("bad_dtype", dtype=self.dtype, choices=DTYPES)


#: The layers as the gradient flows back through them, loss first.
BACKWARD_ORDER = ("output", "layer2", "layer1", "embedding")


@dataclass(eq=False)
class MLPForward(Forward):
    """``inputs`` (N, k) are the context ids; ``x`` (N, k*d) the concatenated embeddings;
    ``h1``, ``h2`` the tanh activations."""

    x: np.ndarray
    h1: np.ndarray
    h2: np.ndarray

    @property
    def ctx(self) -> np.ndarray:
        """The context ids, (N, k)."""
        return self.inputs


class MLPLanguageModel(LanguageModel):
    """The model. ``forward(ctx, targets) -> MLPForward``; ``backward(fwd) -> Backward``."""

    kind = "mlp"
    layers = BACKWARD_ORDER
    layer_outputs = {"output": "logits", "layer2": "h2", "layer1": "h1", "embedding": "x"}

    def __init__(self, config: ModelConfig, seed: int = 0) -> None:
        config.validate()
        super().__init__(config, config.shapes(), config.dtype)
        self._rows: np.ndarray = np.arange(0)  # 0..N-1, kept to pick each row's target
        self.init(seed)

    @staticmethod
    def _config(settings: Any, vocab_size: int, context: int) -> ModelConfig:
        return ModelConfig(vocab_size, context, settings.embed_dim, settings.hidden1, settings.hidden2, settings.dtype)

    @classmethod
    def shapes_for(cls, settings: Any, vocab_size: int, context: int) -> dict[str, tuple[int, ...]]:
        return cls._config(settings, vocab_size, context).shapes()

    @classmethod
    def build(cls, settings: Any, vocab_size: int, context: int) -> MLPLanguageModel:
        """The model a session's settings (``SessionConfig``) describe for this data."""
        return cls(cls._config(settings, vocab_size, context), seed=settings.seed)

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

    def rows(self, n: int) -> np.ndarray:
        """``np.arange(n)``, cached: with ``targets`` it picks each row's target entry."""
        if self._rows.shape[0] != n:
            self._rows = np.arange(n)
        return self._rows

    # --- forward ----------------------------------------------------------------

    def forward(self, ctx: np.ndarray, targets: np.ndarray) -> MLPForward:
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
        return MLPForward(ctx, targets, logits, probs, losses, x, h1, h2)

    # --- backward ---------------------------------------------------------------

    def backward(self, f: MLPForward, scale: float = 1.0) -> Backward:
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
        pieces = {"dz_layer2": dz2, "dz_layer1": dz1}
        return Backward(self.grads.copy(), upstream, self.slices, scale, pieces)

    # --- the chain rule for one weight -------------------------------------------

    def chain_factors(self, f: MLPForward, b: Backward, tensor: str, index: tuple[int, ...]) -> Factors:
        """The products whose sum over positions the backward pass computed for ``tensor[index]``:
        output.W[i,j] = Σ_p h2[p,i] x dlogits[p,j] x scale (dlogits per position, unscaled);
        layer.W[i,j] = Σ_p input[p,i] x dz[p,j] (dz: the objective's gradient times tanh');
        a bias the dz (or dlogits) alone; embedding[t,k] the slices of dx of the slots holding t."""
        dlogits, dz = b.upstream["output"], b.pieces
        layer, kind = tensor.split(".") if "." in tensor else (tensor, "")
        j = index[-1]
        if tensor == "output.W":
            names = (("h2", index[0]), ("dlogits", j))
            return Factors(names, np.stack([f.h2[:, index[0]], dlogits[:, j]], 1), b.scale)
        if tensor == "output.b":
            return Factors((("dlogits", j),), dlogits[:, j : j + 1], b.scale)
        if kind == "W":  # layer2.W: h1 x dz2; layer1.W: x x dz1
            inp, name = (f.h1, "h1") if layer == "layer2" else (f.x, "x")
            d = dz[f"dz_{layer}"]
            return Factors(((name, index[0]), (f"dz_{layer}", j)), np.stack([inp[:, index[0]], d[:, j]], 1), 1.0)
        if kind == "b":
            return Factors(((f"dz_{layer}", j),), dz[f"dz_{layer}"][:, j : j + 1], 1.0)
        # embedding[t, k]: every context slot that holds token t adds its slice of dx
        dx = b.upstream["embedding"]  # (N, k*d)
        hits = (f.ctx == index[0]).astype(dx.dtype)  # (N, k)
        per_slot = dx.reshape(dx.shape[0], -1, self.config.embed_dim)[:, :, j]  # (N, k)
        return Factors((("dx_where_token", index[0]),), (hits * per_slot).sum(1)[:, None], 1.0)
