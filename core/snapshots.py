"""A session's whole state as a value, for the timeline: capture it, restore it, fork its history.

The timeline (``core.timeline``) keeps some states as checkpoints and replays commands from the
nearest one, so going back restores any state bit for bit. A *lean* state leaves out the forward
and backward results, which restoring recomputes from the parameters (the same code on the same
parameters gives the same bits).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import modelfork
from .history import History
from .interpreter import BACKWARD, READY
from .optim import make_optimizer
from .timeline import State

if TYPE_CHECKING:
    from .session import Session


def _arrays(objs):
    """Every array held by ``objs`` (dataclasses, dicts or arrays), depth first."""
    for o in objs:
        if isinstance(o, np.ndarray):
            yield o
        elif isinstance(o, dict):
            yield from _arrays(o.values())
        elif hasattr(o, "__dataclass_fields__"):
            yield from _arrays(getattr(o, f) for f in o.__dataclass_fields__)


def nbytes(*objs) -> int:
    """Bytes of the arrays held by ``objs``."""
    return sum(a.nbytes for a in _arrays(objs))


def capture(s: Session, lean: bool) -> State | None:
    """The whole state; ``lean``: without the forward and backward results, which are
    recomputed from the parameters on restore (None if they could not be: stale ones)."""
    if lean and s.stale:
        return None
    params = s.model.params.copy()
    opt = s.optimizer.state_dict()
    fwd = None if lean else s.forward_result
    bwd = None if lean else s.backward_result
    st = State(
        params, s.optimizer.name, opt, s.lr, s.clip, s.phase, s.step, s.divergence, s.last_update, fwd, bwd, lean, 0
    )
    st.model = s.config.model
    u = s.last_update
    st.nbytes = params.nbytes * len(opt)  # the parameters, and each optimizer vector beside "t"
    if u is not None:
        st.nbytes += u.grad.nbytes + u.delta.nbytes
        if (b := u.before) is not None:
            st.nbytes += b.nbytes()
    if not lean:
        st.nbytes += nbytes(fwd, bwd)
    return st


def restore(s: Session, st: State) -> None:
    """Put state ``st`` back into ``s``, exactly."""
    if st.model and st.model != s.config.model:  # a branch of the other model (``core.modelfork``)
        modelfork.switch(s, st.model)
    s.model.params[...] = st.params
    if s.optimizer.name != st.opt_name:
        s.optimizer = make_optimizer(st.opt_name, s.model.size, s.model.dtype)
    s.optimizer.load_state_dict(st.opt_state)
    s.lr, s.clip, s.phase, s.step = st.lr, st.clip, st.phase, st.step
    s.divergence, s.last_update = st.divergence, st.update
    if not st.lean or st.phase == READY:
        s.forward_result, s.backward_result = st.forward, st.backward
        return
    # recompute the fresh results: the same code on the same parameters gives the same bits
    s.forward_result = f = s.compute_forward()
    s.backward_result = s.model.backward(f, s.scale(f)) if st.phase == BACKWARD else None


def history_for_fork(s: Session) -> History:
    """This branch's history as this state has it, for a branch that starts here."""
    view = s.history
    new = view.branch_rows()
    rows = new.n
    if rows and view.last_step == s.step:  # the state's own row: no update from it yet
        new.cols["lr"][rows - 1] = math.nan
        new.cols["clip_factor"][rows - 1] = math.nan
        new.opt[rows - 1] = -1
        if s.phase != BACKWARD:
            new.cols["grad_norm"][rows - 1] = math.nan
    return new
