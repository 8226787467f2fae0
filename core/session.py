"""The debugger engine: one training run you can step through, phase by phase.

A training step is forward -> backward -> update. ``Session`` runs each phase
on request, handles calls out of order by rule (``backward`` before
``forward`` runs the forward pass first and says so), records every step in
``history``, undoes any action exactly, and stops training when it diverges,
keeping the last good state. Every action returns an ``ActionResult``; none
raises for a reason a user can cause.

Phases (``Session.phase``):

    ready     no forward pass on the current parameters yet (after an update
              the last forward results are *stale*: computed before it)
    forward   logits, probabilities and losses are fresh
    backward  gradients are fresh too; ``update`` can apply them
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .data import Dataset, dataset_from_text
from .losses import perplexity
from .model import Backward, Forward, MLPLanguageModel, ModelConfig
from .optim import DEFAULT_LR, OPTIMIZERS, Optimizer, make_optimizer

READY, FORWARD, BACKWARD = "ready", "forward", "backward"

#: Largest learning rate accepted (anything above only makes NaNs faster).
MAX_LR = 1e3
#: Smallest learning rate accepted: below it an update changes no float64 parameter near 1.
MIN_LR = 1e-12


@dataclass(frozen=True)
class SessionConfig:
    """Everything that defines a run: data, model sizes, optimizer, seed.

    ``lr=None`` takes the optimizer's default. ``batch_positions`` caps the
    positions per step: a text with more positions trains on a fresh random
    sample of them each step (a pure function of ``seed`` and the step).
    """

    text: str | None = None
    vocab: tuple[str, ...] | None = None
    add_eos: bool = False
    unk: bool = False
    context: int = 4
    embed_dim: int = 8
    hidden1: int = 16
    hidden2: int = 16
    dtype: str = "float64"
    optimizer: str = "sgd"
    lr: float | None = None
    clip: float | None = None
    seed: int = 0
    batch_positions: int = 512
    undo_limit: int = 1_000_000  # actions undo can go back (0: undo off)
    undo_memory: int = 64 * 2**20  # bytes of state copies kept for undo; older states are replayed
    divergence_loss: float = 50.0  # mean loss per position that counts as diverged

    def validate(self) -> None:
        """Raise ``ValueError`` with a user-facing message for a bad setting."""
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
        if self.lr is not None:
            check_lr(self.lr)
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"the clipping norm must be a positive number, not {self.clip}")
        for name in ("batch_positions",):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.undo_limit < 0:
            raise ValueError("undo_limit must be 0 or more")
        if self.undo_memory < 0:
            raise ValueError("undo_memory must be 0 or more")


def check_lr(lr: float) -> float:
    """``lr`` as a float, or ``ValueError`` if it is not a usable learning rate."""
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ValueError(f"the learning rate must be a number, not {lr!r}") from None
    if not math.isfinite(lr):
        raise ValueError(f"the learning rate must be finite, not {lr}")
    if lr <= 0:
        raise ValueError(f"the learning rate must be greater than 0, not {lr:g}")
    if lr > MAX_LR:
        raise ValueError(f"the learning rate {lr:g} is absurdly large (the limit is {MAX_LR:g})")
    if lr < MIN_LR:
        raise ValueError(f"the learning rate {lr:g} is too small to change anything (the limit is {MIN_LR:g})")
    return lr


@dataclass(frozen=True, eq=False, slots=True)
class StepRecord:
    """One training step as history keeps it. ``loss`` is the total loss of the
    forward pass the step's gradients came from (before its update)."""

    step: int
    loss: float
    mean_loss: float
    perplexity: float
    position_losses: np.ndarray
    target_probs: np.ndarray
    lr: float
    optimizer: str
    grad_norm: float
    grad_norms: np.ndarray  # per tensor, in model.slices order
    update_norms: np.ndarray  # per tensor
    clipped: bool


@dataclass(frozen=True, eq=False)
class Update:
    """The last update: the gradient it used (after clipping), the change it
    applied (new - old) and the learning rate."""

    grad: np.ndarray
    delta: np.ndarray
    lr: float
    optimizer: str
    step: int
    delta_norms: np.ndarray | None = None  # ||delta|| per tensor, in ``slices`` order


@dataclass(frozen=True)
class Divergence:
    """Why training stopped: at which step, the cause, and what to do."""

    step: int
    cause: str
    advice: str
    #: a learning rate to try when the cause is one that is too large (else None)
    suggested_lr: float | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an action did. ``ran`` lists the phases actually run, in order;
    ``note`` explains anything a user did not ask for or could not get."""

    action: str
    ran: tuple[str, ...] = ()
    ok: bool = True
    note: str = ""
    steps: int = 0
    stopped: str | None = None  # "cancelled", "diverged" or None
    divergence: Divergence | None = None


#: Undo keeps up to this many of the newest actions' states whole (restored instantly, the
#: very same objects); fewer when states are large (see ``Session._recent_window``).
UNDO_RECENT = 16


@dataclass(eq=False, slots=True)
class _Snapshot:
    """The state before one action, and the action (to replay it).

    Recent snapshots are *whole*: results by reference, and a copy of the
    parameters and optimizer state if the action changes them. Older ones are
    thinned to the action and a few numbers; every ``stride``-th one keeps a
    whole copy (a *checkpoint*), from which the states between are recomputed
    by replaying the actions, bit for bit.
    """

    action: str  # "forward", "backward", "update", "step" or "set_optimizer"
    args: tuple
    seq: int  # the action's number since the session began
    params: np.ndarray | None  # None: unchanged by the action, or thinned
    opt_name: str
    opt_state: dict | None
    lr: float
    phase: str
    step: int
    forward: Forward | None
    backward: Backward | None
    update: Update | None
    history_len: int
    divergence: Divergence | None
    whole: bool = True  # False once thinned: restore by replay
    #: a checkpoint without its results (forward, backward, update): only the parameters and
    #: optimizer state, so a large model's checkpoint is not its N x V arrays. Its action
    #: (a full step from READY) recomputes every result, so replays can start here.
    lean: bool = False
    nbytes: int = 0  # bytes of the copies and results it keeps

    @property
    def checkpoint(self) -> bool:
        return self.whole and self.params is not None

    def thin(self) -> None:
        self.params = self.opt_state = self.forward = self.backward = self.update = None
        self.whole, self.lean, self.nbytes = False, False, 0

    @property
    def can_be_lean(self) -> bool:
        """Replaying its action from here recomputes every result the state holds."""
        return self.checkpoint and self.action in ("step", "update") and self.phase == READY

    def make_lean(self) -> None:
        self.forward = self.backward = self.update = None
        self.lean = True


def _arrays(objs):
    """Every array held by ``objs`` (dataclasses, dicts or arrays), depth first."""
    for o in objs:
        if isinstance(o, np.ndarray):
            yield o
        elif isinstance(o, dict):
            yield from _arrays(o.values())
        elif hasattr(o, "__dataclass_fields__"):
            yield from _arrays(vars(o).values())


def _nbytes(*objs) -> int:
    """Bytes of the arrays held by ``objs`` (an array shared by two of them counts twice)."""
    return sum(a.nbytes for a in _arrays(objs))


@dataclass(eq=False)
class Session:
    """A training run to step through. Build one with ``Session.create(...)``."""

    config: SessionConfig
    data: Dataset
    model: MLPLanguageModel
    optimizer: Optimizer
    lr: float
    phase: str = READY
    step: int = 0
    forward_result: Forward | None = None
    backward_result: Backward | None = None
    last_update: Update | None = None
    history: list[StepRecord] = field(default_factory=list)
    divergence: Divergence | None = None
    #: held by every action; hold it to read a consistent state from another thread
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self._undo: deque[_Snapshot] = deque()
        self._undo_enabled = self.config.undo_limit > 0
        self._last_good: _Snapshot | None = None  # the state before the latest update
        self._seq = 0  # actions so far
        self._stride = 1  # every stride-th snapshot keeps a whole copy (doubles to fit undo_memory)
        self._kept_bytes = 0  # bytes held by whole snapshots
        self._state_bytes: dict[tuple, int] = {}  # bytes of a whole snapshot, by batch and optimizer

    # --- construction -------------------------------------------------------------

    @classmethod
    def create(cls, config: SessionConfig | None = None, data: Dataset | None = None, **overrides) -> Session:
        """A fresh session; keyword arguments override ``SessionConfig`` fields.

        Raises ``ValueError`` (``VocabError`` is one) with a user-facing message.
        """
        config = replace(config or SessionConfig(), **overrides)
        config.validate()
        if data is None:
            data = dataset_from_text(
                config.text, list(config.vocab) if config.vocab else None, config.context, config.add_eos, config.unk
            )
        mc = ModelConfig(
            vocab_size=len(data.vocab),
            context=data.context_size,
            embed_dim=config.embed_dim,
            hidden1=config.hidden1,
            hidden2=config.hidden2,
            dtype=config.dtype,
        )
        model = MLPLanguageModel(mc, seed=config.seed)
        opt = make_optimizer(config.optimizer, model.size, model.dtype)
        lr = config.lr if config.lr is not None else DEFAULT_LR[config.optimizer]
        return cls(config=config, data=data, model=model, optimizer=opt, lr=float(lr))

    # --- state read by the screen -------------------------------------------------

    @property
    def vocab(self):
        return self.data.vocab

    @property
    def stale(self) -> bool:
        """True when the forward results shown were computed before the last update."""
        return self.phase == READY and self.forward_result is not None

    @property
    def full_batch(self) -> bool:
        return self.data.n_positions <= self.config.batch_positions

    def batch(self, step: int | None = None) -> np.ndarray:
        """Dataset indices of the positions trained on at ``step`` (default: the current one)."""
        n = self.data.n_positions
        if n <= self.config.batch_positions:
            return np.arange(n)
        rng = np.random.default_rng((self.config.seed, self.step if step is None else step))
        return np.sort(rng.choice(n, size=self.config.batch_positions, replace=False))

    @property
    def can_undo(self) -> bool:
        # a lean snapshot is rebuilt from an older one: alone at the bottom, it cannot be
        return self._undo_enabled and bool(self._undo) and not (len(self._undo) == 1 and self._undo[0].lean)

    @property
    def undo_depth(self) -> int:
        return len(self._undo) if self._undo_enabled else 0

    def tensor_names(self) -> list[str]:
        return list(self.model.slices)

    def param(self, name: str) -> np.ndarray:
        """A parameter tensor (a view: do not write to it)."""
        return self.model.p[name]

    # --- the phases -------------------------------------------------------------------

    def forward(self) -> ActionResult:
        """Run the forward pass on the current parameters, all positions at once."""
        with self.lock:
            self._push("forward")
            note = (
                "Forward pass recomputed: the parameters have not changed, so neither did the numbers."
                if (self.phase != READY)
                else ""
            )
            bad = self._forward()
            if bad:
                return ActionResult(
                    "forward", ("forward",), ok=False, note=bad.cause, stopped="diverged", divergence=bad
                )
            self.phase = FORWARD
            return ActionResult("forward", ("forward",), note=note)

    def backward(self) -> ActionResult:
        """Compute every gradient from scratch (running the forward pass first if needed)."""
        with self.lock:
            self._push("backward")
            ran: list[str] = []
            note = ""
            if self.phase == READY:
                why = "the parameters changed since the last one" if self.stale else "there was none yet"
                note = f"Ran the forward pass first: backward needs fresh activations ({why})."
                bad = self._forward()
                ran.append("forward")
                if bad:
                    return ActionResult("backward", tuple(ran), False, bad.cause, stopped="diverged", divergence=bad)
            elif self.phase == BACKWARD:
                note = "Gradients recomputed from scratch: the same values, not doubled."
            bad = self._backward()
            ran.append("backward")
            if bad:
                return ActionResult("backward", tuple(ran), False, bad.cause, stopped="diverged", divergence=bad)
            self.phase = BACKWARD
            return ActionResult("backward", tuple(ran), note=note)

    def update(self) -> ActionResult:
        """Apply the optimizer to the fresh gradients (computing them first if needed)."""
        with self.lock:
            snap = self._push("update", changes_params=True)
            ran, bad = self._ensure_gradients()
            note = f"Ran {' and '.join(ran)} first: an update needs fresh gradients." if ran else ""
            if bad:
                return ActionResult("update", tuple(ran), False, bad.cause, 0, "diverged", bad)
            self._last_good = snap
            bad = self._update()
            ran.append("update")
            if bad:
                return ActionResult("update", tuple(ran), False, bad.cause, 1, "diverged", bad)
            return ActionResult("update", tuple(ran), note=note, steps=1)

    def train_step(self) -> ActionResult:
        """One full step: forward, backward, update (reusing fresh results if present)."""
        with self.lock:
            snap = self._push("step", changes_params=True)
            ran, bad = self._ensure_gradients()
            if bad:
                return ActionResult("step", tuple(ran), False, bad.cause, 0, "diverged", bad)
            self._last_good = snap
            bad = self._update()
            ran.append("update")
            if bad:
                return ActionResult("step", tuple(ran), False, bad.cause, 1, "diverged", bad)
            return ActionResult("step", tuple(ran), steps=1)

    def run(
        self,
        n: int,
        should_stop: Callable[[], bool] | None = None,
        on_step: Callable[[Session], None] | None = None,
    ) -> ActionResult:
        """``n`` full steps; ``should_stop()`` is asked between steps and ends the run
        early ("cancelled"); divergence ends it too. ``on_step`` is called after each
        step with the lock released."""
        if n < 0:
            return ActionResult("run", ok=False, note=f"cannot run {n} steps: the count must be 0 or more")
        start = self.step
        done = 0
        for _ in range(n):
            if should_stop is not None and should_stop():
                return ActionResult(
                    "run", ok=True, note=f"stopped after {done} of {n} steps", steps=done, stopped="cancelled"
                )
            r = self.train_step()
            if not r.ok:
                return ActionResult("run", r.ran, False, r.note, self.step - start, r.stopped, r.divergence)
            done += 1
            if on_step is not None:
                on_step(self)
        return ActionResult("run", steps=done)

    # --- settings -------------------------------------------------------------------

    def set_lr(self, lr: float) -> ActionResult:
        """Change the learning rate for the next update (rejects non-positive or non-finite values)."""
        with self.lock:
            try:
                lr = check_lr(lr)
            except ValueError as e:
                return ActionResult("set_lr", ok=False, note=str(e))
            self.lr = lr
            self.divergence = None
            return ActionResult("set_lr", note=f"learning rate {lr:g}")

    def set_optimizer(self, name: str, lr: float | None = None) -> ActionResult:
        """Switch optimizer (its state starts from zero); ``lr`` defaults to the current one."""
        with self.lock:
            if name not in OPTIMIZERS:
                return ActionResult("set_optimizer", ok=False, note=f"unknown optimizer {name!r}")
            if lr is not None:
                try:
                    lr = check_lr(lr)
                except ValueError as e:
                    return ActionResult("set_optimizer", ok=False, note=str(e))
            self._push("set_optimizer", (name, lr), changes_params=True)
            self._switch_optimizer(name, lr)
            return ActionResult("set_optimizer", note=f"optimizer {name}, state reset")

    def _switch_optimizer(self, name: str, lr: float | None) -> None:
        self.optimizer = make_optimizer(name, self.model.size, self.model.dtype)
        if lr is not None:
            self.lr = lr
        self.divergence = None

    # --- undo -----------------------------------------------------------------------

    def undo(self) -> ActionResult:
        """Return to the state before the last action, exactly (parameters, optimizer
        state, phase, results, history)."""
        with self.lock:
            if not self.can_undo:
                if self._seq > self.config.undo_limit or self._undo:
                    why = f"nothing more to undo (only the last {self.config.undo_limit:,} actions are kept)"
                elif self.step == 0 and not self.history:
                    why = "nothing to undo yet"
                else:  # e.g. restored from a checkpoint: it has no actions before that
                    why = f"nothing more to undo: this session began at step {self.step} (from a checkpoint)"
                return ActionResult("undo", ok=False, note=why)
            snap = self._undo[-1]
            if snap.whole and not snap.lean:  # recent: restore it as it is
                self._restore(snap)
            else:
                self._replay_to(len(self._undo) - 1)
            self._drop(self._undo.pop())
            self._last_good = None
            return ActionResult("undo", note=f"back to step {self.step}, phase {self.phase}")

    # --- internals ----------------------------------------------------------------------

    def _ensure_gradients(self) -> tuple[list[str], Divergence | None]:
        """Run whichever of forward and backward the current phase still needs."""
        ran: list[str] = []
        if self.phase == READY:
            ran.append("forward")
            if bad := self._forward():
                return ran, bad
        if self.phase == FORWARD:
            ran.append("backward")
            if bad := self._backward():
                return ran, bad
        return ran, None

    def _forward(self) -> Divergence | None:
        idx = self.batch()
        d = self.data
        if idx.shape[0] == d.n_positions:  # every position, in order: no need to gather them
            f = self.model.forward(d.contexts, d.targets)
        else:
            f = self.model.forward(d.contexts[idx], d.targets[idx])
        f.positions = idx
        total = f.total_loss
        n = f.targets.shape[0]
        if not math.isfinite(total) or total / n > self.config.divergence_loss:
            cause = "non-finite loss" if not math.isfinite(total) else f"loss exploded to {total / n:.3g} per position"
            return self._diverge(cause)
        self.forward_result = f
        self.phase = FORWARD
        return None

    def _backward(self) -> Divergence | None:
        b = self.model.backward(self.forward_result)
        if not math.isfinite(float(b.grads @ b.grads)):
            return self._diverge("non-finite gradient")
        self.backward_result = b
        self.phase = BACKWARD
        return None

    def _update(self) -> Divergence | None:
        b, f = self.backward_result, self.forward_result
        grad = b.grads
        norms = self.model.tensor_norms(grad)
        gnorm = float(np.sqrt(norms @ norms))
        clipped = self.config.clip is not None and gnorm > self.config.clip
        if clipped:
            grad = grad * (self.config.clip / gnorm)
        delta = self.optimizer.step(self.model.params, grad, self.lr)
        unorms = self.model.tensor_norms(delta)
        if not np.isfinite(unorms).all():
            return self._diverge("non-finite update")
        self.step += 1
        self.last_update = Update(grad, delta, self.lr, self.optimizer.name, self.step, unorms)
        n = f.targets.shape[0]
        total = f.total_loss
        self.history.append(
            StepRecord(
                step=self.step,
                loss=total,
                mean_loss=total / n,
                perplexity=perplexity(total / n),
                position_losses=f.losses,
                target_probs=f.target_probs,
                lr=self.lr,
                optimizer=self.optimizer.name,
                grad_norm=gnorm,
                grad_norms=norms,
                update_norms=unorms,
                clipped=bool(clipped),
            )
        )
        self.phase = READY
        self.divergence = None  # a step went through: whatever diverged before is behind us
        return None

    def _diverge(self, cause: str) -> Divergence:
        """Stop training: go back to the state before the update that went wrong, and say why."""
        good = self._last_good
        # the step being attempted: the update that went wrong, or the next one when the
        # current parameters themselves give a non-finite or exploding loss
        at = self.step + 1 if good is None else good.step + 1
        if good is not None:
            # drop every undo entry newer than the last good state, then restore it
            while self._undo:
                s = self._undo.pop()
                self._drop(s)
                if s is good:
                    break
            self._restore(good)
            self._last_good = None
        big = self.lr >= 1.0 or (self.optimizer.name == "adam" and self.lr >= 0.1)
        suggested = self.lr / 10 if big else None
        advice = (
            f"the learning rate {self.lr:g} is too large: lower it (e.g. to {suggested:g}) and step again"
            if big
            else "lower the learning rate or enable gradient clipping, then step again"
        )
        self.divergence = Divergence(step=at, cause=cause, advice=advice, suggested_lr=suggested)
        return self.divergence

    def _push(self, action: str, args: tuple = (), changes_params: bool = False) -> _Snapshot:
        """Remember the state before an action (parameters only if it may change
        them, or if this snapshot is to be a checkpoint), then keep undo's memory
        within ``undo_memory``."""
        seq, self._seq = self._seq, self._seq + 1
        copy = changes_params or not self._undo or seq % self._stride == 0
        snap = _Snapshot(
            action=action,
            args=args,
            seq=seq,
            params=self.model.params.copy() if copy else None,
            opt_name=self.optimizer.name,
            opt_state=self.optimizer.state_dict() if copy else None,
            lr=self.lr,
            phase=self.phase,
            step=self.step,
            forward=self.forward_result,
            backward=self.backward_result,
            update=self.last_update,
            history_len=len(self.history),
            divergence=self.divergence,
        )
        if self._undo_enabled:
            self._undo.append(snap)
            self._compact()
        return snap

    def _recent_window(self) -> int:
        """How many of the newest states stay whole: ``UNDO_RECENT``, or as many as fit in
        ``undo_memory`` when one state is large (V = 10,000 and 2,048 positions: ~300 MB
        each, mostly the N x V logits, probabilities and dLoss/dlogits), at least one."""
        newest = self._undo[-1]
        f = newest.forward
        key = (None if f is None else f.probs.shape, newest.opt_name)
        size = self._state_bytes.get(key)
        if size is None:
            copies = 1 + sum(isinstance(v, np.ndarray) for v in vars(self.optimizer).values())
            params = self.model.params.nbytes * copies  # the parameters and optimizer state
            size = params + _nbytes(newest.forward, newest.backward, newest.update)
            if newest.forward is not None and newest.update is not None:
                self._state_bytes[key] = size  # a state with every result: typical
        return max(1, min(UNDO_RECENT, self.config.undo_memory // max(size, 1)))

    def _compact(self) -> None:
        """Settle the snapshots that just left the recent window: a checkpoint stays whole
        (lean when it can be: parameters and optimizer state, no results) and counts against
        ``undo_memory``, any other is thinned; double the checkpoint stride while the
        checkpoints exceed ``undo_memory``; drop the oldest actions beyond ``undo_limit``."""
        log = self._undo
        recent = self._recent_window()
        if self._last_good is not None:  # divergence restores it whole: keep it in the window
            for back in range(1, min(len(log), 64) + 1):
                if log[-back] is self._last_good:
                    recent = max(recent, back)
                    break
        i = len(log) - recent - 1
        # whole and not yet counted: left the window now (several when the window shrank)
        while i >= 0 and log[i].whole and not log[i].nbytes:
            old = log[i]
            keep = (old.checkpoint and (old.seq % self._stride == 0 or i == 0)) or old is self._last_good
            if keep:
                if old.can_be_lean and old is not self._last_good and i > 0:
                    old.make_lean()
                old.nbytes = _nbytes(old.params, old.opt_state, old.forward, old.backward, old.update)
                self._kept_bytes += old.nbytes
            else:
                old.thin()
            i -= 1
        while self._kept_bytes > self.config.undo_memory and self._stride < 2**40:
            self._stride *= 2
            for old in list(log)[1 : len(log) - recent]:  # the oldest stays whole: replays start there
                if old.whole and old.seq % self._stride and old is not self._last_good:
                    self._drop(old)
                    old.thin()
        while len(log) > self.config.undo_limit or (len(log) > 1 and not log[0].checkpoint and not log[0].whole):
            self._drop(log.popleft())
        # replays need a checkpoint at the bottom: drop what is below the first one
        while len(log) > recent and not log[0].checkpoint:
            self._drop(log.popleft())

    def _drop(self, s: _Snapshot) -> None:
        """Account for a snapshot leaving (or being thinned)."""
        self._kept_bytes -= s.nbytes
        s.nbytes = 0

    def _replay_to(self, i: int) -> None:
        """Recompute the state of snapshot ``i`` (the state before its action):
        restore the newest checkpoint below it and redo the actions in between,
        keeping the recent ones whole again on the way."""
        log = self._undo
        recent_n = self._recent_window()
        c = max(j for j in range(i) if log[j].checkpoint)  # a lean one too: its action is replayed
        self._restore(log[c])
        for j in range(c, i):
            s = log[j]
            self.lr, self.divergence = s.lr, s.divergence
            if bad := self._redo(s):
                raise RuntimeError(f"undo: replaying {s.action} did not reproduce it ({bad.cause})")
            nxt = log[j + 1]
            if j + 1 >= i or (nxt.whole and not nxt.lean):
                continue
            recent = j + 1 >= i - recent_n  # the next undos land here: keep it whole again
            # and a few checkpoints on the way while the budget allows, so the undo after
            # the recent ones replays a fraction of this distance, not all of it again
            waypoint = (j + 1 - c) % max(1, (i - c) // UNDO_RECENT) == 0
            if nxt.lean and recent:  # give it its results back
                self._drop(nxt)
            elif nxt.whole or not (recent or (waypoint and self._kept_bytes < self.config.undo_memory)):
                continue
            nxt.params, nxt.opt_state = self.model.params.copy(), self.optimizer.state_dict()
            nxt.forward, nxt.backward, nxt.update = self.forward_result, self.backward_result, self.last_update
            nxt.whole, nxt.lean = True, False
            if not recent:  # a waypoint, counted now (lean); a recent one is counted when it leaves the window
                if nxt.can_be_lean:
                    nxt.make_lean()
                nxt.nbytes = _nbytes(nxt.params, nxt.opt_state, nxt.forward, nxt.backward, nxt.update)
                self._kept_bytes += nxt.nbytes
        target = log[i]
        assert (self.phase, self.step, len(self.history)) == (target.phase, target.step, target.history_len)
        self.lr, self.divergence = target.lr, target.divergence

    def _redo(self, s: _Snapshot) -> Divergence | None:
        """Do ``s``'s action again, as the public method did (without the undo snapshot)."""
        if s.action == "set_optimizer":
            self._switch_optimizer(*s.args)
            return None
        if s.action == "forward":
            return self._forward()
        if s.action == "backward":
            if self.phase == READY and (bad := self._forward()):
                return bad
            return self._backward()
        _, bad = self._ensure_gradients()  # "update" and "step"
        return bad or self._update()

    def undo_held_bytes(self) -> int:
        """Bytes of the arrays undo keeps alive beyond the current state, each counted once
        (recent states share their results with each other): what undo costs in memory."""
        current = {id(a) for a in _arrays((self.forward_result, self.backward_result, self.last_update))}
        held: dict[int, int] = {}
        for x in self._undo:
            for a in _arrays((x.params, x.opt_state, x.forward, x.backward, x.update)):
                if id(a) not in current:
                    held[id(a)] = a.nbytes
        return sum(held.values())

    @property
    def undo_bytes(self) -> int:
        """Bytes held by undo's checkpoints, kept within ``undo_memory`` (the newest
        states are kept whole on top of it: up to ``UNDO_RECENT``, as many as fit in
        ``undo_memory``, at least one)."""
        return self._kept_bytes

    def _restore(self, s: _Snapshot) -> None:
        if s.params is not None:
            self.model.params[...] = s.params
            if s.opt_name != self.optimizer.name:
                self.optimizer = make_optimizer(s.opt_name, self.model.size, self.model.dtype)
            self.optimizer.load_state_dict(s.opt_state)
        self.lr = s.lr
        self.phase = s.phase
        self.step = s.step
        self.forward_result = s.forward
        self.backward_result = s.backward
        self.last_update = s.update
        del self.history[s.history_len :]
        self.divergence = s.divergence
