"""The interface every model implements, and the pieces they share.

A model is one module behind one interface, so the session, the timeline, checkpoints, readouts
and panes work with any of them (the lesson's MLP, a transformer):

- **named tensors in one flat buffer** (``Tensors``): ``params`` and ``grads`` are single vectors
  (optimizers, undo and checkpoints each handle one array); ``p[name]`` / ``g[name]`` are views;
  ``locate(flat)`` and ``flat_index(name, idx)`` translate between the two.
- ``forward(inputs, targets) -> Forward``: logits, probabilities, per-position losses and the
  named intermediates (``Forward.named``) the screen and the chain rule read.
- ``backward(forward, scale) -> Backward``: every gradient of ``scale`` x the summed loss, from
  scratch, with the upstream gradient at each layer's output and the pieces the chain rule uses.
- ``chain_factors(forward, backward, tensor, index)``: one weight's gradient as a sum over
  positions of products of those stored pieces (never a second copy of the backward pass).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from ..reasons import CodedError

#: the dtypes a model computes in
DTYPES = ("float32", "float64")


class ModelConfigError(CodedError):
    """Sizes or a dtype a model cannot be built with (``ModelConfig``, ``GPTConfig``): a reason code
    and the value given, worded by ``tui_trainer.narrate_errors``."""

    CODES = {
        "not_positive_integer": ("name", "value"),  # name: the model config's field
        "heads_split": ("embed_dim", "heads"),  # the GPT's embedding is not divisible by its heads
        "bad_dtype": ("dtype", "choices"),
    }


class Tensors:
    """Named tensors laid out one after another in a flat vector, in the order given."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]) -> None:
        self.shapes: dict[str, tuple[int, ...]] = dict(shapes)
        self.slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name, shape in self.shapes.items():
            n = int(np.prod(shape))
            self.slices[name] = (slice(offset, offset + n), shape)
            offset += n
        self.size = offset
        self.offsets = np.array([sl.start for sl, _ in self.slices.values()], dtype=np.intp)

    @property
    def names(self) -> list[str]:
        return list(self.shapes)

    def views(self, flat: np.ndarray) -> dict[str, np.ndarray]:
        """name -> a view of ``flat`` (writing to it writes into ``flat``)."""
        return {n: flat[sl].reshape(sh) for n, (sl, sh) in self.slices.items()}

    def flat_index(self, name: str, index: tuple[int, ...]) -> int:
        """The position of ``name[index]`` in the flat vector (KeyError / ValueError if there is none)."""
        sl, shape = self.slices[name]
        return sl.start + int(np.ravel_multi_index(tuple(int(i) for i in index), shape))

    def locate(self, flat: int) -> tuple[str, tuple[int, ...]]:
        """``(name, index)`` of entry ``flat`` of the flat vector."""
        if not 0 <= flat < self.size:
            raise IndexError(f"flat index {flat} outside 0..{self.size - 1}")
        k = int(np.searchsorted(self.offsets, flat, side="right")) - 1
        name = self.names[k]
        sl, shape = self.slices[name]
        return name, tuple(int(v) for v in np.unravel_index(flat - sl.start, shape))

    def norms(self, flat: np.ndarray) -> np.ndarray:
        """L2 norm of each tensor's part of a flat vector, in order."""
        return np.sqrt(np.add.reduceat(flat * flat, self.offsets))


@dataclass(eq=False)
class Forward:
    """What a forward pass computed, kept for the backward pass and the screen.

    ``inputs`` are the model's input ids for these positions (the MLP's contexts, (N, k));
    ``targets`` (N,); ``logits`` and ``probs`` (N, V); ``losses`` (N,) = -log P(target).
    A model's subclass adds its intermediates as fields; ``named()`` lists them.
    """

    inputs: np.ndarray
    targets: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    losses: np.ndarray
    #: indices of these positions in the dataset (set by the session)
    positions: np.ndarray | None = field(default=None, kw_only=True)

    @property
    def total_loss(self) -> float:
        """The lesson's loss: the sum of -log P(target) over positions."""
        return float(np.add.reduce(self.losses))  # (= losses.sum(), without its Python wrapper)

    @property
    def target_probs(self) -> np.ndarray:
        """P(target) at each position, (N,)."""
        return self.probs[np.arange(self.targets.shape[0]), self.targets]

    def named(self) -> dict[str, np.ndarray]:
        """Every array this pass computed, by name (inputs, intermediates, logits, probs, losses)."""
        return {f.name: v for f in fields(self) if isinstance(v := getattr(self, f.name), np.ndarray)}

    def nbytes(self) -> int:
        """Bytes of the arrays this pass computed (the ids excepted: the dataset holds them)."""
        return sum(getattr(self, name).nbytes for name in _computed(type(self)))


@functools.cache
def _computed(cls: type) -> tuple[str, ...]:
    """The fields of a ``Forward`` class the pass computes (asked every step: found once)."""
    return tuple(f.name for f in fields(cls) if f.name not in ("inputs", "targets", "positions"))


@dataclass(eq=False)
class Backward:
    """Gradients of the objective (``scale`` x the total loss).

    ``grads`` is a private copy of the flat gradient vector (``grad(name)`` gives one tensor);
    ``upstream`` holds dLoss/d(output of each layer), in the model's ``layers`` order (loss
    first), the first (the logits') per position and unscaled (the lesson's P - target), the
    others the objective's; ``pieces`` the other gradients the chain rule reads."""

    grads: np.ndarray
    upstream: dict[str, np.ndarray]
    slices: dict[str, tuple[slice, tuple[int, ...]]]
    #: the objective is ``scale`` x the summed loss (1/N: the mean)
    scale: float = 1.0
    pieces: dict[str, np.ndarray] = field(default_factory=dict)
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
        return next(iter(self.upstream.values()))


@dataclass(frozen=True)
class Factors:
    """One weight's gradient as a sum over positions: term_p = prod(values[p]) x ``scale``.

    ``names`` say what each factor is (an intermediate or gradient of the model, and the index
    it is read at), e.g. ``(("h2", 8), ("dlogits", 1))`` for the MLP's output.W[8,1]."""

    names: tuple[tuple[str, int], ...]
    values: np.ndarray  # (N, len(names))
    scale: float


class LanguageModel(ABC):
    """A model behind the interface. Subclasses set ``kind``, ``layers`` and ``layer_outputs``,
    build ``self.tensors`` from their config, and implement forward, backward and the chain rule."""

    #: the name ``--model`` takes and checkpoints record
    kind: ClassVar[str]
    #: the layers as the gradient flows back through them, loss first (``Backward.upstream``'s keys)
    layers: ClassVar[tuple[str, ...]]
    #: each layer's output, by the name its intermediate has in ``Forward`` (what dL/d... is of)
    layer_outputs: ClassVar[dict[str, str]]
    #: ``SessionConfig`` fields left unset take these for this model (``core.config``), e.g. the
    #: GPT's context 16; the MLP's are the config's own
    defaults: ClassVar[dict[str, int]] = {}

    def __init__(self, config: Any, shapes: dict[str, tuple[int, ...]], dtype: str) -> None:
        self.config = config
        self.dtype = np.dtype(dtype)
        self.tensors = Tensors(shapes)
        self.slices = self.tensors.slices
        self.size = self.tensors.size
        self.params = np.zeros(self.size, dtype=self.dtype)
        self.grads = np.zeros(self.size, dtype=self.dtype)
        #: named views: writing to ``p["layer1.W"]`` writes into ``params``
        self.p = self.tensors.views(self.params)
        self.g = self.tensors.views(self.grads)

    def tensor_norms(self, flat: np.ndarray) -> np.ndarray:
        """L2 norm of each tensor's part of a flat vector, in ``slices`` order."""
        return self.tensors.norms(flat)

    def groups(self) -> list[tuple[str, list[str]]]:
        """The tensors by layer, in forward order: ``[("layer1", ["layer1.W", "layer1.b"]), ...]``."""
        out: dict[str, list[str]] = {}
        for name in self.tensors.names:
            out.setdefault(name.rsplit(".", 1)[0], []).append(name)
        return list(out.items())

    def copy(self) -> LanguageModel:
        """An independent model with the same config and parameters (every model is built as
        ``Model(config, seed)``)."""
        new = type(self)(self.config, 0)
        new.params[...] = self.params
        return new

    @classmethod
    @abstractmethod
    def shapes_for(cls, settings: Any, vocab_size: int, context: int) -> dict[str, tuple[int, ...]]:
        """The tensors ``build`` would make, without making them (to refuse a model too large)."""

    @classmethod
    @abstractmethod
    def build(cls, settings: Any, vocab_size: int, context: int) -> LanguageModel:
        """The model a session's settings (``core.config.SessionConfig``: sizes, dtype, seed)
        describe for data of ``vocab_size`` tokens and ``context`` positions of input."""

    @abstractmethod
    def init(self, seed: int) -> None:
        """Random initial weights from ``seed``."""

    def forward_at(self, data: Any, idx: np.ndarray | None = None) -> Forward:
        """The forward pass at positions ``idx`` of ``data`` (a ``core.data.Dataset``; None: every
        position, in order). A model that reads more than a position's context window (a
        transformer reads whole sequences) gathers its inputs here."""
        if idx is None:  # every position, in order: no need to gather them
            return self.forward(data.contexts, data.targets)
        return self.forward(data.contexts[idx], data.targets[idx])

    def next_logits(self, data: Any, sentence: list[int]) -> np.ndarray:
        """The logits of the token after ``sentence`` (ids, ``<BOS>`` first), read as training reads
        a position: its last ``data.context_size`` tokens, ``<BOS>`` padding the start."""
        k = data.context_size
        window = np.array([([sentence[0]] * k + sentence)[-k:]], dtype=np.intp)  # (1, k)
        return self.forward(window, np.zeros(1, dtype=np.intp)).logits[0]

    def sample_batch(self, data: Any, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` positions of ``data`` to train on, sorted (a transformer picks whole windows)."""
        return np.sort(rng.choice(data.n_positions, size=size, replace=False))

    @abstractmethod
    def forward(self, inputs: np.ndarray, targets: np.ndarray) -> Forward:
        """Every position at once (teacher forcing)."""

    @abstractmethod
    def backward(self, f: Forward, scale: float = 1.0) -> Backward:
        """Gradients of ``scale`` x the summed loss, from scratch (calling it twice gives the same
        gradients, never double)."""

    @abstractmethod
    def chain_factors(self, f: Forward, b: Backward, tensor: str, index: tuple[int, ...]) -> Factors:
        """``tensor[index]``'s gradient as a sum over positions, from ``f`` and ``b``'s pieces."""
