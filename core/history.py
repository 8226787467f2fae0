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
its record within a budget of rows (``BUDGET_ROWS``): a run that outgrows it keeps
its newest steps whole and every ``stride``-th older one, as the timeline keeps
its checkpoints. ``HistoryView`` is the history as seen from a state on it (what
a session that never went back in time would hold); its rows are numbered from 0
and each knows its step (they are the same while nothing is thinned).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .losses import perplexity

#: rows a branch's history keeps, whatever the run's length (about 190 bytes each with 8
#: tracked positions: 25 MB); the newest quarter of them one a step, the older thinned
BUDGET_ROWS = 1 << 17
#: rows written in the thinned past kept aside (a replayed state's own row and a few before it)
SCRATCH = 64

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
    def perplexity(self) -> float:
        return perplexity(self.mean_loss)

    @property
    def clipped(self) -> bool:
        return self.clip_factor < 1.0


class _Row:
    """One row kept aside (``History.scratch``): a step written after it was thinned away."""

    __slots__ = ("losses", "opt", "probs", "scalars")

    def __init__(self, n_tracked: int) -> None:
        self.scalars = np.full(len(SCALARS), np.nan)
        self.opt = -1
        self.probs = np.full(n_tracked, np.nan)
        self.losses = np.full(n_tracked, np.nan)


class History:
    """Columns of a branch's rows; ``n`` rows are in use, ``steps[i]`` is row i's step.

    Within ``budget`` rows whatever the run's length: when the rows fill it, the rows older
    than the newest ``budget // 4`` steps keep every ``stride``-th step only (the stride
    doubling until a quarter of the budget is free), so every step that is a multiple of the
    stride always has its row. A write to a step thinned away goes to a small scratch of the
    newest such rows: a state replayed in the thinned past still sees its own row and the few
    before it (``core.divergence`` looks back three steps)."""

    def __init__(
        self, n_tracked: int, optimizers: tuple[str, ...], capacity: int = 64, budget: int | None = None
    ) -> None:
        self.n_tracked = n_tracked
        self.optimizers = optimizers
        self.budget = max(16, BUDGET_ROWS if budget is None else budget)
        self.n = 0
        #: older rows keep every ``stride``-th step (1: every step, nothing thinned yet)
        self.stride = 1
        #: writes so far: a view taken before a write may show a row that has changed since
        self.writes = 0
        self.last_step = -1  # the newest row's step
        self.scratch: dict[int, _Row] = {}
        self._alloc(min(capacity, self.budget))

    def _alloc(self, capacity: int) -> None:
        self.cols = {name: np.full(capacity, np.nan) for name in SCALARS}
        self.steps = np.zeros(capacity, dtype=np.int64)
        self.opt = np.full(capacity, -1, dtype=np.int8)
        self.probs = np.full((capacity, self.n_tracked), np.nan)
        self.losses = np.full((capacity, self.n_tracked), np.nan)

    @property
    def capacity(self) -> int:
        return self.opt.shape[0]

    def _arrays(self) -> list[np.ndarray]:
        return [*self.cols.values(), self.steps, self.opt, self.probs, self.losses]

    def _grow(self, need: int) -> None:
        if need <= self.capacity:
            return
        old, n = self._arrays(), self.n
        self._alloc(max(need, min(2 * self.capacity, self.budget)))
        for new, o in zip(self._arrays(), old, strict=True):
            new[:n] = o[:n]

    def _thin(self) -> None:
        """Make room (the rows fill the budget): keep the newest quarter of the budget's steps
        and the older rows on the stride, doubling it until a quarter of the budget is free."""
        n, steps = self.n, self.steps[: self.n]
        recent = steps > self.last_step - self.budget // 4
        while True:
            keep = recent | (steps % self.stride == 0)
            if np.count_nonzero(keep) <= self.budget - self.budget // 4:
                break
            self.stride *= 2
        idx = np.flatnonzero(keep)
        # into new arrays: a view or a column taken before (a frame on screen) keeps its rows
        old = self._arrays()
        self._alloc(self.capacity)
        for new, o in zip(self._arrays(), old, strict=True):
            new[: idx.size] = o[:n][idx]
        self.n = int(idx.size)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self._arrays())

    def index(self, step: int) -> int | None:
        """The row of ``step``, or None (not reached, or thinned away)."""
        n = self.n
        i = n - 1 - (self.last_step - step)  # the newest rows are one a step: no search
        if 0 <= i < n and self.steps[i] == step:
            return i
        i = int(np.searchsorted(self.steps[:n], step))
        return i if i < n and self.steps[i] == step else None

    def value(self, name: str, step: int) -> float:
        """A scalar of ``step``'s row (from the scratch when thinned away); NaN if there is none."""
        i = self.index(step)
        if i is not None:
            return float(self.cols[name][i])
        r = self.scratch.get(step)
        return float(r.scalars[SCALARS.index(name)]) if r is not None else math.nan

    def _row(self, k: int) -> int | _Row:
        """Where step ``k``'s values go: its row (a new one after the newest), or a scratch row."""
        if k > self.last_step:
            if self.n == self.capacity:
                if self.n >= self.budget:
                    self._thin()
                self._grow(self.n + 1)
            i = self.n
            self.n, self.last_step = i + 1, k
            self.steps[i] = k  # (rows from n on are as _alloc made them, NaN and -1: nothing to reset)
            return i
        i = self.index(k)
        if i is not None:
            return i
        r = self.scratch.get(k)
        if r is None:
            if len(self.scratch) >= SCRATCH:
                del self.scratch[next(iter(self.scratch))]  # the oldest written
            r = self.scratch[k] = _Row(self.n_tracked)
        return r

    # --- writes (each is idempotent: replaying a step writes the same values) -----------

    def measure(self, k: int, total: float, mean: float, probs: np.ndarray, losses: np.ndarray) -> None:
        self.writes += 1
        i = self._row(k)
        if isinstance(i, _Row):
            i.scalars[0], i.scalars[1] = total, mean
            i.probs[:], i.losses[:] = probs, losses
            return
        self.cols["total_loss"][i] = total
        self.cols["mean_loss"][i] = mean
        self.probs[i] = probs
        self.losses[i] = losses

    def _set(self, k: int, values: dict[str, float]) -> int | _Row:
        self.writes += 1
        i = self._row(k)
        if isinstance(i, _Row):
            for name, v in values.items():
                i.scalars[SCALARS.index(name)] = v
        else:
            cols = self.cols
            for name, v in values.items():
                cols[name][i] = v
        return i

    def set_val(self, k: int, loss: float) -> None:
        self._set(k, {"val_loss": loss})

    def set_grad(self, k: int, norm: float) -> None:
        self._set(k, {"grad_norm": norm})

    def set_update(self, k: int, lr: float, optimizer: str, clip_factor: float) -> None:
        i = self._set(k, {"lr": lr, "clip_factor": clip_factor})
        if isinstance(i, _Row):
            i.opt = self.optimizers.index(optimizer)
        else:
            self.opt[i] = self.optimizers.index(optimizer)

    # --- whole histories ------------------------------------------------------------------

    @classmethod
    def from_columns(
        cls,
        optimizers: tuple[str, ...],
        steps: np.ndarray,
        cols: dict[str, np.ndarray],
        opt: np.ndarray,
        probs: np.ndarray,
        losses: np.ndarray,
        stride: int = 1,
        budget: int | None = None,
    ) -> History:
        """A history holding these rows (``steps`` increasing; ``probs`` and ``losses`` (n, T))."""
        n = len(steps)
        h = cls(probs.shape[1], optimizers, capacity=max(64, n), budget=budget)
        h._grow(n)  # (a loaded history longer than the budget is thinned at its next new row)
        h.n, h.stride = n, stride
        h.last_step = int(steps[-1]) if n else -1
        h.steps[:n] = steps
        for name in SCALARS:
            h.cols[name][:n] = cols[name]
        h.opt[:n], h.probs[:n], h.losses[:n] = opt, probs, losses
        return h

    def copy(self, rows: int) -> History:
        """A new history holding the first ``rows`` rows."""
        cols = {name: self.cols[name][:rows] for name in SCALARS}
        return History.from_columns(
            self.optimizers, self.steps[:rows], cols, self.opt[:rows], self.probs[:rows], self.losses[:rows],
            self.stride, self.budget,
        )  # fmt: skip


class HistoryView:
    """The rows of ``history`` seen from a state at ``step``: rows before it whole; the row
    of ``step`` itself (when the state has measured it) with the settings now in force and
    no update yet. Indexing gives ``StepRecord`` (row 0 first; ``StepRecord.step`` says its
    step, the same as its index while nothing is thinned); ``column(name)`` gives a read-only
    array. A state in the thinned past sees the rows kept before it, then its own last row
    (from the history's scratch, as its replay wrote it)."""

    def __init__(self, history: History, step: int, measured: bool, grad_known: bool, lr: float, optimizer: str):
        h = self._h = history
        # the arrays as they are now (growing or thinning makes new ones: this view keeps its rows)
        self._cols, self._steps, self._opts, self._probs, self._losses = h.cols, h.steps, h.opt, h.probs, h.losses
        limit = step + 1 if measured else step
        # the rows kept before ``limit`` (all of them, at the end of the branch: no search)
        m = h.n if h.last_step < limit else int(np.searchsorted(h.steps[: h.n], limit))
        self._m = max(m, 0)
        self._extra: tuple[int, _Row] | None = None
        want = limit - 1
        if want >= 0 and (m == 0 or h.steps[m - 1] != want) and want in h.scratch:
            r, c = h.scratch[want], _Row(h.n_tracked)
            c.scalars[:], c.opt, c.probs[:], c.losses[:] = r.scalars, r.opt, r.probs, r.losses
            self._extra = (want, c)
        self._n = self._m + (self._extra is not None)
        self._limit = limit
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

    @property
    def stride(self) -> int:
        """1 while every step has its row; else the older rows keep every ``stride``-th step."""
        return self._h.stride

    @property
    def last_step(self) -> int:
        """The step of the last row (-1: no row)."""
        if not self._n:
            return -1
        return self._extra[0] if self._extra is not None else int(self._steps[self._m - 1])

    def index(self, step: int) -> int | None:
        """The row of ``step`` in this view, or None (not seen from here, or thinned away)."""
        if self._extra is not None and step == self._extra[0]:
            return self._m
        m, steps = self._m, self._steps
        i = m - 1 - (int(steps[m - 1]) - step) if m else -1  # the newest rows are one a step: no search
        if not (0 <= i < m and steps[i] == step):
            i = int(np.searchsorted(steps[:m], step))
        return i if i < m and steps[i] == step else None

    def at(self, step: int) -> StepRecord | None:
        """The row of ``step`` (in the thinned past, as its replay wrote it, if it is one of the
        newest the scratch keeps), or None."""
        i = self.index(step)
        if i is not None:
            return self[i]
        r = self._h.scratch.get(step) if 0 <= step < self._limit else None
        return None if r is None else self._record(step, r.scalars, r.opt, r.probs, r.losses)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("history index out of range")
        if i < self._m:
            scalars = [self._cols[name][i] for name in SCALARS]
            return self._record(int(self._steps[i]), scalars, self._opts[i], self._probs[i], self._losses[i])
        step, r = self._extra
        return self._record(step, r.scalars, r.opt, r.probs, r.losses)

    def _record(self, step: int, sc, o, probs: np.ndarray, losses: np.ndarray) -> StepRecord:
        h = self._h
        c = {name: float(x) for name, x in zip(SCALARS, sc, strict=True)}
        opt = h.optimizers[o] if o >= 0 else ""
        if step == self._last:
            c["lr"], opt, c["clip_factor"] = self._lr, self._opt, math.nan
            if not self._grad_known:
                c["grad_norm"] = math.nan
        return StepRecord(
            step=step,
            total_loss=c["total_loss"],
            mean_loss=c["mean_loss"],
            target_probs=probs.copy(),
            position_losses=losses.copy(),
            grad_norm=c["grad_norm"],
            lr=c["lr"],
            optimizer=opt,
            clip_factor=c["clip_factor"],
            val_loss=c["val_loss"],
        )

    def _raw(self, name: str) -> np.ndarray:
        """A column as the branch holds it (the extra row appended), before the state's own settings."""
        m = self._m
        if name == "step":
            col, extra = self._steps[:m], (lambda r: self._extra[0])
        elif name == "optimizer":
            col, extra = self._opts[:m], (lambda r: r.opt)
        elif name == "target_probs":
            col, extra = self._probs[:m], (lambda r: r.probs)
        elif name == "position_losses":
            col, extra = self._losses[:m], (lambda r: r.losses)
        else:
            col, extra = self._cols[name][:m], (lambda r: r.scalars[SCALARS.index(name)])
        if self._extra is None:
            return col
        return np.concatenate([col, np.asarray([extra(self._extra[1])], dtype=col.dtype).reshape(1, *col.shape[1:])])

    def column(self, name: str) -> np.ndarray:
        """A column of the visible rows (read-only): one of ``SCALARS``, ``"step"``,
        ``"perplexity"``, ``"target_probs"`` (n, T) or ``"position_losses"`` (n, T)."""
        n, h = self._n, self._h
        own = n and self.last_step == self._last  # the state's own row differs from the branch's record
        if name == "perplexity":
            with np.errstate(over="ignore", invalid="ignore"):
                out = np.exp(self._raw("mean_loss"))
        elif name == "optimizer":  # index into ``optimizers`` of the update leaving each step (-1: none yet)
            out = self._raw(name).copy()
            if own:
                out[-1] = h.optimizers.index(self._opt) if self._opt in h.optimizers else -1
        elif name in ("step", "target_probs", "position_losses") or not own:
            out = self._raw(name)
        else:
            out = self._raw(name).copy()
            out[-1] = getattr(self[n - 1], name)
        out = out.view()
        out.flags.writeable = False
        return out

    def on_grid(self, name: str, every: int) -> np.ndarray:
        """``column(name)`` at steps 0, ``every``, 2 ``every``... up to the last row's step
        (NaN where a step has no row): the columns on one step axis, however thinned."""
        steps, col = self.column("step"), self.column(name)
        if every == 1 and (not len(steps) or steps[-1] == len(steps) - 1):
            return col  # (nothing thinned: the rows are the grid)
        grid = np.arange(0, self.last_step + 1, every)
        at = np.minimum(np.searchsorted(steps, grid), max(len(steps) - 1, 0))
        ok = steps[at] == grid if len(steps) else np.zeros(0, dtype=bool)
        out = np.full((len(grid), *col.shape[1:]), np.nan)
        out[ok] = col[at[ok]]
        return out

    def branch_rows(self) -> History:
        """A new history holding these rows as the branch has them (a branch forking here)."""
        h = self._h
        names = ("step", "optimizer", "target_probs", "position_losses")
        steps, opt, probs, losses = (np.array(self._raw(c)) for c in names)
        cols = {c: np.array(self._raw(c)) for c in SCALARS}
        return History.from_columns(h.optimizers, steps, cols, opt, probs, losses, h.stride, h.budget)
