"""The command interpreter: the only place a session's state changes.

``apply(session, command)`` runs one ``Command`` (forward, backward, update, step, set_lr,
set_optimizer, set_clip, set_model: ``core.modelfork``) on the session's current state. The
session calls it for a live action and the timeline calls it to replay one, so undo, redo and
goto reach exactly the states the actions made. The phases below are its steps;
``core.divergence`` judges what they measured.

Phases (``Session.phase``):

    ready     no forward pass on the current parameters yet (after an update
              the last forward results are *stale*: computed before it)
    forward   logits, probabilities and losses are fresh
    backward  gradients are fresh too; ``update`` can apply them
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from . import modelfork
from .divergence import diverge, judge_forward
from .optim import make_optimizer
from .results import ActionResult, Divergence, Update
from .timeline import Command

if TYPE_CHECKING:
    from .session import Session

READY, FORWARD, BACKWARD = "ready", "forward", "backward"

#: An update keeps the forward pass it came from (for before/after) up to this many probabilities.
MAX_BEFORE_VALUES = 65_536


def apply(s: Session, cmd: Command) -> ActionResult:
    """Run one command on the current state of ``s``."""
    op = cmd.op
    if op == "forward":
        return _result("forward", ["forward"], forward(s))
    if op == "backward":
        ran: list[str] = []
        code, stale = None, False
        if s.phase == READY:
            code, stale = "forward_first", s.stale
            ran.append("forward")
            if bad := forward(s):
                return _result("backward", ran, bad, code, stale)
        ran.append("backward")
        return _result("backward", ran, backward(s), code, stale)
    if op in ("update", "step"):
        return _update_or_step(s, op)
    if op == "set_lr":
        s.lr = cmd.args[0]
    elif op == "set_optimizer":
        name, lr = cmd.args
        s.optimizer = make_optimizer(name, s.model.size, s.model.dtype)
        if lr is not None:
            s.lr = lr
    elif op == "set_clip":
        s.clip = cmd.args[0]
    elif op == "set_model":
        modelfork.apply(s, cmd.args[0])
    else:
        raise ValueError(f"unknown command {op!r}")
    return ActionResult(op)


def _update_or_step(s: Session, op: str) -> ActionResult:
    """An update (the phases it still needs first); a step adds the forward pass of the result."""
    stale = s.stale
    ran, bad = _ensure_gradients(s)
    code = "gradients_first" if ran and op == "update" else None
    if bad:
        return _result(op, ran, bad, code, stale)
    ran.append("update")
    bad = update(s)
    if not bad and op == "step":
        ran.append("forward")
        bad = forward(s)
        if not bad:
            mean = s.timeline.cur.history.value
            rose = int(mean("mean_loss", s.step) > mean("mean_loss", s.step - 1))
            return _step_result(op, tuple(ran), code, stale, rose)
    return _result(op, ran, bad, code, stale, steps=1)


def _result(action, ran, bad, code=None, stale=False, steps=0) -> ActionResult:
    if bad is not None:
        return ActionResult(action, tuple(ran), False, code, steps, "diverged", bad, stale=stale)
    return ActionResult(action, tuple(ran), code=code, steps=steps, stale=stale)


@functools.lru_cache(maxsize=64)
def _step_result(op: str, ran: tuple[str, ...], code: str | None, stale: bool, rose: int) -> ActionResult:
    """A full step's result. Results are frozen, so equal ones can be shared: a run makes
    the same few over and over, and building one costs about as much as a tenth of the
    lesson model's whole step."""
    return ActionResult(op, ran, code=code, steps=1, stale=stale, overshoots=rose)


def _ensure_gradients(s: Session) -> tuple[list[str], Divergence | None]:
    """Run whichever of forward and backward the current phase still needs."""
    ran: list[str] = []
    if s.phase == READY:
        ran.append("forward")
        if bad := forward(s):
            return ran, bad
    if s.phase == FORWARD:
        ran.append("backward")
        if bad := backward(s):
            return ran, bad
    return ran, None


# --- the phases -------------------------------------------------------------------------------


def forward(s: Session) -> Divergence | None:
    """The forward pass of the current parameters, measured into the history row of this step."""
    f = s.compute_forward()
    s.forward_result, s.backward_result = f, None
    s.phase = FORWARD
    total = f.total_loss
    n = f.targets.shape[0]
    mean = total / n
    if f.positions.shape[0] == s.data.n_positions:
        t = s.tracked
        probs, losses = f.probs[t, f.targets[t]], f.losses[t]
    else:  # a sampled batch: the tracked positions are measured on their own
        tf = s.model.forward_at(s.data, s.tracked)
        probs, losses = tf.target_probs, tf.losses
    history = s.timeline.cur.history
    history.measure(s.step, total, mean, probs, losses)
    if s.val_data is not None and s.step % s.config.val_every == 0:
        history.set_val(s.step, s.validation_loss())
    return judge_forward(s, total, mean)


def backward(s: Session) -> Divergence | None:
    """Every gradient of the objective, from scratch."""
    b = s.model.backward(s.forward_result, s.scale(s.forward_result))
    s.backward_result = b
    s.phase = BACKWARD
    norm = b.norm
    s.timeline.cur.history.set_grad(s.step, norm)
    if not math.isfinite(norm):
        return diverge(s, "nonfinite_grad", norm)
    return None


def update(s: Session) -> Divergence | None:
    """The optimizer's step on the fresh gradients (clipped first if clipping is on)."""
    b = s.backward_result
    grad = b.grads
    gnorm = b.norm
    factor = 1.0
    if s.clip is not None and gnorm > s.clip:
        factor = s.clip / gnorm
        grad = grad * factor
    delta = s.optimizer.step(s.model.params, grad, s.lr)
    s.timeline.cur.history.set_update(s.step, s.lr, s.optimizer.name, factor)
    s.step += 1
    predicted = float(b.grads @ delta)  # first order: dL ~ g . dtheta, with the unclipped gradient
    f = s.forward_result
    before = f if f.probs.size <= MAX_BEFORE_VALUES else None
    # the per-tensor norms of delta are left to the screen (core.readout.update_norms):
    # a run does not read them
    s.last_update = Update(grad, delta, s.lr, s.optimizer.name, s.step, None, gnorm, factor, predicted, before)
    s.phase = READY
    # delta · delta is finite exactly when every entry is (and the per-tensor norms were)
    # unless it overflows past 1e308: a change that large counts as diverged too
    if not math.isfinite(float(delta @ delta)):
        return diverge(s, "nonfinite_update", math.nan)
    return None
