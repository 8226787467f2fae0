"""The debugger engine: one training run you can step through, phase by phase.

A training step is forward -> backward -> update. ``Session`` runs each phase
on request and handles calls out of order by rule (``backward`` before
``forward`` runs the forward pass first and says so). Every state change is a
``Command`` applied by one function, ``core.interpreter.apply``, live and when the timeline
(``core.timeline``) replays it, so ``undo``, ``redo``, ``goto`` and branches
restore any state bit for bit. Every action returns an ``ActionResult`` of
reason codes and numbers (the app's ``narrate`` turns them into sentences);
none raises for a reason a user can cause.

Steps: *step k* is the model after k updates; step 0 is the untrained model.
A full step (``train_step``, ``run``) ends with the forward pass of the new
parameters, so the state shows the model as it now is, and history row k holds
what that forward pass measured.

The phases (``Session.phase``: ready, forward, backward) are explained in
``core.interpreter``, the rules for divergence (a state, not a rollback) in
``core.divergence``; a state as a value for the timeline is ``core.snapshots``.
"""

from __future__ import annotations

import copy
import functools
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import interpreter, modelfork, runs, snapshots, travel, validation
from .breakpoints import Breakpoint
from .config import MAX_LR, MIN_LR, SessionConfig, check_lr, lr_problem
from .data import Dataset, dataset_from_text, split_validation
from .history import History, HistoryView, StepRecord
from .interpreter import BACKWARD, FORWARD, READY
from .models import MODELS, Backward, Forward, LanguageModel
from .optim import DEFAULT_LR, OPTIMIZERS, Optimizer, make_optimizer
from .results import ActionResult, Divergence, Update
from .timeline import OPS, BranchInfo, Command, Timeline

#: Positions whose per-position values the history keeps: the first sentence's, at most this many.
MAX_TRACKED = 8

# re-exported: scripts import them from here
__all__ = ["BACKWARD", "FORWARD", "MAX_LR", "MIN_LR", "OPS", "READY", "ActionResult", "Divergence"]
__all__ += ["SessionConfig", "StepRecord", "Update", "check_lr", "lr_problem"]


@dataclass(eq=False)
class Session:
    """A training run to step through. Build one with ``Session.create(...)``."""

    config: SessionConfig
    data: Dataset
    model: LanguageModel
    optimizer: Optimizer
    lr: float
    clip: float | None = None
    phase: str = READY
    step: int = 0
    forward_result: Forward | None = None
    backward_result: Backward | None = None
    last_update: Update | None = None
    divergence: Divergence | None = None
    #: held by every action; hold it to read a consistent state from another thread
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    #: held-out sentences (None for texts of one batch), measured every ``config.val_every`` steps
    val_data: Dataset | None = None

    def __post_init__(self) -> None:
        first = self.data.sentence_of == self.data.sentence_of[0]
        #: dataset positions whose values every history row keeps (the first sentence's, at most 8)
        self.tracked: np.ndarray = np.flatnonzero(first)[:MAX_TRACKED]
        self._start(History(len(self.tracked), tuple(OPTIMIZERS)))

    def _start(self, history: History) -> None:
        """Begin the timeline at the current state (a new session, a load, a fork)."""
        capture, restore = functools.partial(snapshots.capture, self), functools.partial(snapshots.restore, self)
        apply = functools.partial(interpreter.apply, self)
        self.timeline = Timeline(
            capture(lean=False), history, self.step, self.config.undo_memory, capture, restore, apply
        )

    # --- construction -------------------------------------------------------------

    @classmethod
    def create(cls, config: SessionConfig | None = None, data: Dataset | None = None, **overrides) -> Session:
        """A fresh session; keyword arguments override ``SessionConfig`` fields.

        Raises ``ValueError``: a ``core.reasons.CodedError`` (``VocabError``, ``TokensError``: a code and
        data, worded by ``tui_trainer.narrate_errors``) or a message for another bad setting.
        """
        config = replace(config or SessionConfig(), **overrides)
        config.validate()
        if data is None:
            vocab = list(config.vocab) if config.vocab else None
            data = dataset_from_text(
                config.text, vocab, config.context, config.add_eos, config.unk, tokens=config.tokens
            )
        config = config.for_vocab(len(data.vocab))
        val = None
        if data.n_positions > config.batch_positions:  # larger than one batch: hold some sentences out
            data, val = split_validation(data, config.val_fraction, config.seed)
        model = MODELS[config.model].build(config, len(data.vocab), data.context_size)
        opt = make_optimizer(config.optimizer, model.size, model.dtype)
        lr = config.lr if config.lr is not None else DEFAULT_LR[config.optimizer]
        s = cls(config=config, data=data, model=model, optimizer=opt, lr=float(lr), clip=config.clip)
        s.val_data = val
        return s

    def fork(self) -> Session:
        """An independent session at this state (its timeline starts here; nothing mutable
        is shared): try something else without touching this one."""
        with self.lock:
            s = copy.copy(self)
            # results are never written after they are made: sharing them shares nothing mutable
            s.model = self.model.copy()
            s.optimizer = make_optimizer(self.optimizer.name, s.model.size, s.model.dtype)
            s.optimizer.load_state_dict(self.optimizer.state_dict())
            s.lock = threading.RLock()
            s._start(snapshots.history_for_fork(self))
            return s

    def load_state(self, params: np.ndarray, optimizer: str, opt_state: dict, lr: float, step: int, history: History):
        """Put a saved state into this fresh session, measure it, and make it the start of its
        time (``core.checkpoint`` loads through this). Raises ``ValueError`` if it does not fit."""
        with self.lock:
            opt = make_optimizer(optimizer, self.model.size, self.model.dtype)
            try:
                opt.load_state_dict(opt_state)
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError("optimizer state does not fit") from e
            self.model.params[...] = params
            self.optimizer, self.lr, self.step, self.phase = opt, float(lr), int(step), READY
            self.forward_result = self.backward_result = self.last_update = self.divergence = None
            # the forward pass of the loaded parameters (no parameter changes), so the state
            # shows the model as it is; then time starts here
            self._start(history)
            interpreter.forward(self)
            self._start(self.timeline.cur.history)

    # --- state read by the screen -------------------------------------------------

    @property
    def vocab(self):
        return self.data.vocab

    @functools.cached_property
    def _all_positions(self) -> np.ndarray:
        """0..n-1, the batch of a full-batch session (read-only: every forward pass shares it)."""
        idx = np.arange(self.data.n_positions)
        idx.flags.writeable = False
        return idx

    @functools.cached_property
    def log_vocab(self) -> float:
        """ln V, the uniform guess's loss per position (the data never changes)."""
        return math.log(len(self.data.vocab))

    @property
    def stale(self) -> bool:
        """True when the forward results shown were computed before the last update."""
        return self.phase == READY and self.forward_result is not None

    @property
    def full_batch(self) -> bool:
        return self.data.n_positions <= self.config.batch_positions

    @property
    def history(self) -> HistoryView:
        """One row per step so far (see ``core.history``), as this state has it."""
        measured = self.phase != READY
        return HistoryView(
            self.timeline.cur.history, self.step, measured, self.phase == BACKWARD, self.lr, self.optimizer.name
        )

    def branch_history(self, branch: int | None = None) -> HistoryView:
        """The whole record of a branch (default: the current one), including its steps
        after the cursor: what the loss curve draws when looking back in time."""
        tl = self.timeline
        b = tl.cur if branch is None else tl.branch(branch)
        return HistoryView(b.history, b.history.last_step, True, True, math.nan, "")

    def batch(self, step: int | None = None) -> np.ndarray:
        """Dataset indices of the positions trained on at ``step`` (default: the current one)."""
        n = self.data.n_positions
        if n <= self.config.batch_positions:
            return self._all_positions
        rng = np.random.default_rng((self.config.seed, self.step if step is None else step))
        return self.model.sample_batch(self.data, self.config.batch_positions, rng)

    # --- the phases -------------------------------------------------------------------

    def forward(self) -> ActionResult:
        """Run the forward pass on the current parameters, all positions at once."""
        with self.lock:
            if self.phase != READY:
                return ActionResult("forward", code="unchanged")
            return self._do(Command("forward"))

    def backward(self) -> ActionResult:
        """Compute every gradient from scratch (running the forward pass first if needed)."""
        with self.lock:
            if self.phase == BACKWARD:
                return ActionResult("backward", code="unchanged")
            return self._do(Command("backward"))

    def update(self) -> ActionResult:
        """Apply the optimizer to the fresh gradients (computing them first if needed)."""
        with self.lock:
            if self.divergence is not None:
                return self.refuse("update")
            return self._do(Command("update"))

    def train_step(self) -> ActionResult:
        """One full step: forward, backward, update (reusing fresh results if present),
        then the forward pass of the new parameters."""
        with self.lock:
            if self.divergence is not None:
                return self.refuse("step")
            if self.phase != READY:
                return self._do(Command("step"))
            # the forward pass first, as its own command: every step has a state that shows it
            first = self._do(Command("forward"))
            if not first.ok:
                return replace(first, action="step")
            r = self._do(Command("step"))
            return replace(r, ran=("forward", *r.ran), branch=r.branch or first.branch)

    def run(
        self,
        n: int,
        should_stop: Callable[[], bool] | None = None,
        on_step: Callable[[Session], None] | None = None,
        until: Breakpoint | None = None,
    ) -> ActionResult:
        """``n`` full steps; ``should_stop()`` is asked between steps and ends the run
        early ("cancelled"); divergence ends it too, and so does the first state where a
        condition of ``until`` holds ("breakpoint"; ``detail``: the condition). ``on_step``
        is called after each step with the lock released (``core.runs``)."""
        return runs.run(self, n, should_stop, on_step, until)

    def sweep(
        self,
        lrs: Sequence[float],
        steps: int,
        optimizers: Sequence[str] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_step: Callable[[Session], None] | None = None,
        on_run: Callable[[runs.SweepRun], None] | None = None,
    ) -> list[runs.SweepRun]:
        """``steps`` steps from this state per optimizer and learning rate, a branch each
        (``core.runs``): the lesson's learning-rate table, measured."""
        return runs.sweep(self, lrs, steps, optimizers, should_stop, on_step, on_run)

    # --- settings -------------------------------------------------------------------

    def set_lr(self, lr: float) -> ActionResult:
        """Change the learning rate for the next update (an action: undo takes it back)."""
        with self.lock:
            why = lr_problem(lr)
            if why:
                return ActionResult("set_lr", ok=False, code="bad_lr", detail=why, value=_as_float(lr))
            if float(lr) == self.lr:
                return ActionResult("set_lr", code="unchanged", value=self.lr)
            return self._do(Command("set_lr", (float(lr),)))

    def set_optimizer(self, name: str, lr: float | None = None) -> ActionResult:
        """Switch optimizer (its state starts from zero); ``lr`` defaults to the current one."""
        with self.lock:
            if name not in OPTIMIZERS:
                return ActionResult("set_optimizer", ok=False, code="unknown_optimizer", detail=str(name))
            if lr is not None and (why := lr_problem(lr)):
                return ActionResult("set_optimizer", ok=False, code="bad_lr", detail=why, value=_as_float(lr))
            fresh = self.optimizer.t == 0  # no step taken yet: its state is all zeros
            if name == self.optimizer.name and fresh and (lr is None or float(lr) == self.lr):
                return ActionResult("set_optimizer", code="unchanged")
            return self._do(Command("set_optimizer", (name, None if lr is None else float(lr))))

    def fork_branch(self, optimizer: str | None = None, lr: float | None = None) -> ActionResult:
        """Start a branch here with another optimizer and/or learning rate (the current branch,
        and anything after this state on it, stays as it is): try both and compare them."""
        with self.lock:
            if (refused := self.check_fork(optimizer, lr)) is not None:
                return refused
            name = optimizer or self.optimizer.name
            lr = None if lr is None else float(lr)
            if name != self.optimizer.name:
                r = self._do(Command("set_optimizer", (name, lr)), new_branch=True)
            else:
                r = self._do(Command("set_lr", (lr,)), new_branch=True)
            return replace(r, action="fork", branch=self.timeline.cur.id)

    def check_fork(self, optimizer: str | None = None, lr: float | None = None) -> ActionResult | None:
        """The refusal ``fork_branch(optimizer, lr)`` would give here (None: it would fork), without
        forking: a form can check what is typed with the session's own rules."""
        with self.lock:
            name = optimizer or self.optimizer.name
            if name not in OPTIMIZERS:
                return ActionResult("fork", ok=False, code="unknown_optimizer", detail=str(name))
            if lr is not None and (why := lr_problem(lr)):
                return ActionResult("fork", ok=False, code="bad_lr", detail=why, value=_as_float(lr))
            if name == self.optimizer.name and (lr is None or float(lr) == self.lr):
                return ActionResult("fork", ok=False, code="unchanged")
            return None

    def fork_model(self, kind: str) -> ActionResult:
        """A branch from the start (step 0) with a fresh ``kind`` model ("gpt", "mlp") on the same text,
        tokens and seed (``core.modelfork``): both models' curves on one chart. ``check_model``: its refusal."""
        return modelfork.fork(self, kind)

    def check_model(self, kind: str) -> ActionResult | None:
        return modelfork.check(self, kind)

    def set_clip(self, norm: float | None) -> ActionResult:
        """Clip the gradient's norm to ``norm`` in updates (None: no clipping)."""
        with self.lock:
            if norm is not None:
                v = _as_float(norm)
                if v is None or not (math.isfinite(v) and v > 0):
                    return ActionResult("set_clip", ok=False, code="bad_clip", value=v)
                norm = v
            if norm == self.clip:
                return ActionResult("set_clip", code="unchanged")
            return self._do(Command("set_clip", (norm,)))

    # --- time ------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Commands applied on the current branch to reach this state."""
        return self.timeline.pos

    @property
    def can_undo(self) -> bool:
        return self.timeline.pos > 0

    @property
    def can_redo(self) -> bool:
        return not self.timeline.at_end

    @property
    def start_step(self) -> int:
        """The step the session began at (0, or a loaded checkpoint's)."""
        return self.timeline.start_step

    @property
    def last_step(self) -> int:
        """The step at the end of the current branch (the newest, when viewing the past)."""
        return self.timeline.last_step()

    @property
    def branch(self) -> int:
        return self.timeline.cur.id

    def undo(self) -> ActionResult:
        """Back to the state before the last command, exactly (parameters, optimizer state,
        settings, phase, results, history). The command stays ahead: ``redo`` does it again."""
        with self.lock:
            return travel.undo(self.timeline)

    def redo(self) -> ActionResult:
        """Do the command after this state on the current branch again (exactly as before)."""
        with self.lock:
            return travel.redo(self.timeline)

    def goto(self, step: int, phase: str | None = None, branch: int | None = None) -> ActionResult:
        """The state at ``step`` on ``branch`` (default: the current one), exactly: its last
        state at that step, or its last one in ``phase``. A refused goto changes nothing."""
        with self.lock:
            return travel.goto(self.timeline, lambda: self.phase, step, phase, branch)

    def goto_position(self, position: int, branch: int | None = None) -> ActionResult:
        """The state after ``position`` commands on ``branch`` (default: the current one)."""
        with self.lock:
            return travel.goto_position(self.timeline, position, branch)

    def recover(self) -> None:
        """Back to the state of the last complete action, exactly, after an action raised half
        way (a bug, or memory running out in a thread): the session is usable again."""
        with self.lock:
            self.timeline.recover()

    def branches(self) -> list[BranchInfo]:
        """Every branch of the timeline (a new action in the past starts one; none is lost)."""
        with self.lock:
            return self.timeline.info()

    def timeline_bytes(self) -> int:
        """Bytes the timeline keeps: checkpoints (within ``undo_memory``), logs, histories."""
        return self.timeline.nbytes()

    # --- commands ----------------------------------------------------------------------

    def refuse(self, action: str, **kw) -> ActionResult:
        """The refusal of ``action`` in a diverged state."""
        return ActionResult(action, ok=False, code="diverged", divergence=self.divergence, **kw)

    def _do(self, cmd: Command, new_branch: bool = False, history: Callable[[], History] | None = None) -> ActionResult:
        """Apply ``cmd`` live: the timeline records it (starting a branch if the state is in the past, or
        if ``new_branch``, with ``history`` or this one's), then the ``interpreter.apply`` replays use."""
        tl = self.timeline
        before = tl.cur
        tl.begin(cmd, history or functools.partial(snapshots.history_for_fork, self), new_branch)
        step = self.step
        r = interpreter.apply(self, cmd)
        tl.commit(cmd, self.step != step)
        if tl.cur is not before:
            r = replace(r, branch=tl.cur.id)
        return r

    def compute_forward(self) -> Forward:
        """The forward pass of the current parameters on this step's batch, without keeping it
        (what a forward pass would measure now: the nudge probe and restores use it)."""
        idx = self.batch()
        f = self.model.forward_at(self.data, None if idx.shape[0] == self.data.n_positions else idx)
        f.positions = idx
        return f

    def scale(self, f: Forward) -> float:
        """The objective's weight on the summed loss: 1/N for the mean, 1 for the sum."""
        return 1.0 / f.targets.shape[0] if self.config.reduction == "mean" else 1.0

    def validation_positions(self) -> int:
        """The most held-out positions one validation loss measures (``core.validation``)."""
        return validation.positions(len(self.vocab), self.config.batch_positions)

    def validation_loss(self) -> float:
        """The mean loss on the held-out sentences at the current parameters (NaN without
        them); at most ``validation_positions()`` of them, spread evenly, so it stays quick."""
        return validation.loss(self.model, self.val_data, self.validation_positions())


def _as_float(x) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None
