"""The training history: one row per step, kept as NumPy columns.

Row ``k`` describes the model after ``k`` updates (step 0 is the untrained
model, the lesson's iteration 0):

    total_loss, mean_loss     what the forward pass measured on those parameters
    val_loss                  the mean loss on held-out sentences (every few steps)
    p_<i>, loss_<i>           P(target) and -log P(target) at tracked position i
    grad_norm                 ||gradient|| at those parameters, before clipping
    lr, optimizer, clip_factor  the update that left step k (clip_factor 1: not clipped)

A field not measured yet is NaN (``optimizer`` -1). Columns grow by doubling,
so a step costs tens of bytes and the loss curve reads a column without
collecting records. ``History`` belongs to one branch of the timeline and holds
its whole record; ``HistoryView`` is the history as seen from a state on it
(what a session that never went back in time would hold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .losses import perplexity

SCALARS = ("total_loss", "mean_loss", "grad_norm", "lr", "clip_factor", "val_loss")


@dataclass(frozen=True, eq=False, slots=True)
class StepRecord:
    """One row of the history, as a record (built on request from the columns)."""

    step: int
    total_loss: float
    mean_loss: float
    target_probs: np.ndarray  # (T,) at the tracked positions
    position_losses: np.ndarray  # (T,)
    grad_norm: float  # NaN when no backward pass was made at this step
    lr: float
    optimizer: str
    clip_factor: float  # NaN before the update; 1.0 when not clipped
    val_loss: float = math.nan  # the validation mean loss, where measured

    @property
    def loss(self) -> float:
        """The lesson's loss: the total over the step's positions."""
        return self.total_loss

    @property
    def perplexity(self) -> float:
        return perplexity(self.mean_loss)

    @property
    def clipped(self) -> bool:
        return self.clip_factor < 1.0


class History:
    """Columns of a branch's rows; ``n`` rows are in use."""

    def __init__(self, n_tracked: int, optimizers: tuple[str, ...], capacity: int = 64) -> None:
        self.n_tracked = n_tracked
        self.optimizers = optimizers
        self.n = 0
        #: writes so far: a view taken before a write may show a row that has changed since
        self.writes = 0
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        self.cols = {name: np.full(capacity, np.nan) for name in SCALARS}
        self.opt = np.full(capacity, -1, dtype=np.int8)
        self.probs = np.full((capacity, self.n_tracked), np.nan)
        self.losses = np.full((capacity, self.n_tracked), np.nan)

    @property
    def capacity(self) -> int:
        return self.opt.shape[0]

    def _grow(self, need: int) -> None:
        if need <= self.capacity:
            return
        old = (self.cols, self.opt, self.probs, self.losses)
        n = self.n
        self._alloc(max(need, 2 * self.capacity))
        for name in SCALARS:
            self.cols[name][:n] = old[0][name][:n]
        self.opt[:n], self.probs[:n], self.losses[:n] = old[1][:n], old[2][:n], old[3][:n]

    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.cols.values()) + self.opt.nbytes + self.probs.nbytes + self.losses.nbytes

    # --- writes (each is idempotent: replaying a step writes the same values) -----------

    def measure(self, k: int, total: float, mean: float, probs: np.ndarray, losses: np.ndarray) -> None:
        self.writes += 1
        self._grow(k + 1)
        if k >= self.n:
            self.n = k + 1
        self.cols["total_loss"][k] = total
        self.cols["mean_loss"][k] = mean
        self.probs[k] = probs
        self.losses[k] = losses

    def set_val(self, k: int, loss: float) -> None:
        self.writes += 1
        self.cols["val_loss"][k] = loss

    def set_grad(self, k: int, norm: float) -> None:
        self.writes += 1
        self.cols["grad_norm"][k] = norm

    def set_update(self, k: int, lr: float, optimizer: str, clip_factor: float) -> None:
        self.writes += 1
        self.cols["lr"][k] = lr
        self.cols["clip_factor"][k] = clip_factor
        self.opt[k] = self.optimizers.index(optimizer)

    def copy(self, rows: int) -> History:
        """A new history holding the first ``rows`` rows."""
        h = History(self.n_tracked, self.optimizers, capacity=max(64, rows))
        h.n = rows
        for name in SCALARS:
            h.cols[name][:rows] = self.cols[name][:rows]
        h.opt[:rows], h.probs[:rows], h.losses[:rows] = self.opt[:rows], self.probs[:rows], self.losses[:rows]
        return h


class HistoryView:
    """The rows of ``history`` seen from a state at ``step``: rows before it whole; the row
    of ``step`` itself (when the state has measured it) with the settings now in force and
    no update yet. Indexing gives ``StepRecord``; ``column(name)`` gives a read-only array."""

    def __init__(self, history: History, step: int, measured: bool, grad_known: bool, lr: float, optimizer: str):
        self._h = history
        self._n = min(history.n, step + 1 if measured else step)
        self._last = step if measured else -1
        self._grad_known = grad_known
        self._lr, self._opt = lr, optimizer
        self._writes = history.writes

    def __eq__(self, other: object) -> bool:
        """The same rows with the same values: one history, seen from the same state, with no
        write between (rows are written in place as a step's phases measure them)."""
        if not isinstance(other, HistoryView):
            return NotImplemented
        return (
            self._h is other._h
            and self._writes == other._writes
            and (self._n, self._last, self._grad_known) == (other._n, other._last, other._grad_known)
            and self._opt == other._opt
            and (self._lr == other._lr or (math.isnan(self._lr) and math.isnan(other._lr)))
        )

    __hash__ = None  # type: ignore[assignment]  # (equal views of a history that changes)

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __iter__(self):
        for i in range(self._n):
            yield self[i]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("history index out of range")
        h = self._h
        c = {name: float(h.cols[name][i]) for name in SCALARS}
        opt = h.optimizers[h.opt[i]] if h.opt[i] >= 0 else ""
        if i == self._last:
            c["lr"], opt, c["clip_factor"] = self._lr, self._opt, math.nan
            if not self._grad_known:
                c["grad_norm"] = math.nan
        return StepRecord(
            step=i,
            total_loss=c["total_loss"],
            mean_loss=c["mean_loss"],
            target_probs=h.probs[i].copy(),
            position_losses=h.losses[i].copy(),
            grad_norm=c["grad_norm"],
            lr=c["lr"],
            optimizer=opt,
            clip_factor=c["clip_factor"],
            val_loss=c["val_loss"],
        )

    def column(self, name: str) -> np.ndarray:
        """A column of the visible rows (read-only): one of ``SCALARS``, ``"step"``,
        ``"perplexity"``, ``"target_probs"`` (n, T) or ``"position_losses"`` (n, T)."""
        n, h = self._n, self._h
        if name == "step":
            out = np.arange(n)
        elif name == "perplexity":
            with np.errstate(over="ignore", invalid="ignore"):
                out = np.exp(h.cols["mean_loss"][:n])
        elif name == "target_probs":
            out = h.probs[:n]
        elif name == "optimizer":  # index into ``optimizers`` of the update leaving each step (-1: none yet)
            out = h.opt[:n].copy()
            if self._last == n - 1 and n:
                out[-1] = h.optimizers.index(self._opt) if self._opt in h.optimizers else -1
        elif name == "position_losses":
            out = h.losses[:n]
        elif self._last == n - 1 and n:  # the state's own row differs from the branch's record
            out = h.cols[name][:n].copy()
            out[-1] = getattr(self[n - 1], name)
        else:
            out = h.cols[name][:n]
        out = out.view()
        out.flags.writeable = False
        return out
