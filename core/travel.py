"""Moving through time: undo, redo, and going to a step or a position on a branch of the timeline.

A refused move changes nothing: the session stays in the state it was in.
"""

from __future__ import annotations

from collections.abc import Callable

from .results import ActionResult
from .timeline import Branch, Timeline


def _branch(tl: Timeline, branch: int | None) -> Branch | None:
    """The branch numbered ``branch`` (None: the current one), or None if there is none."""
    try:
        return tl.cur if branch is None else tl.branch(branch)
    except KeyError:
        return None


def goto(tl: Timeline, phase_now: Callable[[], str], step: int, phase: str | None, branch: int | None) -> ActionResult:
    """The last state at ``step`` on ``branch``, or its last one in ``phase`` (``phase_now()``
    reads the phase of the state the timeline has just restored)."""
    b = _branch(tl, branch)
    if b is None:
        return ActionResult("goto", ok=False, code="no_such_branch", value=branch)
    span = tl.positions_of_step(step, b)
    if span is None:
        return ActionResult("goto", ok=False, code="no_such_step", value=step)
    lo, hi = span
    if phase is None:
        tl.seek(hi, b)
        return ActionResult("goto")
    back = (tl.pos, tl.cur)
    found = None
    for p in range(lo, hi + 1):
        tl.seek(p, b)
        if phase_now() == phase:
            found = p
    if found is None:
        tl.seek(*back)
        return ActionResult("goto", ok=False, code="no_such_step", value=step, detail=phase)
    tl.seek(found, b)
    return ActionResult("goto")


def goto_position(tl: Timeline, position: int, branch: int | None) -> ActionResult:
    """The state after ``position`` commands on ``branch`` (default: the current one)."""
    b = _branch(tl, branch)
    if b is None:
        return ActionResult("goto", ok=False, code="no_such_branch", value=branch)
    if not 0 <= position <= b.length:
        return ActionResult("goto", ok=False, code="no_such_step", value=position)
    tl.seek(position, b)
    return ActionResult("goto")


def undo(tl: Timeline) -> ActionResult:
    """Back one command on the current branch (``at_start``, with the first step, at its start)."""
    if tl.pos == 0:
        return ActionResult("undo", ok=False, code="at_start", value=tl.start_step)
    cmd = tl.cur.command(tl.pos - 1)
    tl.seek(tl.pos - 1)
    return ActionResult("undo", command=cmd)


def redo(tl: Timeline) -> ActionResult:
    """The command after this state on the current branch, again."""
    if tl.at_end:
        return ActionResult("redo", ok=False, code="at_end")
    cmd = tl.cur.command(tl.pos)
    tl.seek(tl.pos + 1)
    return ActionResult("redo", command=cmd)
