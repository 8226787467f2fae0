"""Time for a session: every state change is a command on a branch of a tree.

A *position* on a branch is the number of commands applied since the session
began: the state at position ``p`` is what the branch's first ``p`` commands
make of the initial state. Commands are one byte each (arguments, rare, in a
dict), kept as runs of one command (``core.commandlog``), so a play's log stays a
few bytes however long it runs. The state at any position is
rebuilt exactly by restoring the nearest *checkpoint* at or before it and
applying the commands in between, through the same ``apply`` that ran them
live: there is no second copy of the phase logic.

Checkpoints (parameters, optimizer state, settings, the last update) are kept
within ``budget`` bytes: every ``stride``-th position, the stride doubling
whenever they exceed the budget, plus the newest few positions of the branch
being worked on (fast undo). The initial state is always kept, whole. Small
states (the lesson's model: 29 KB) start at a stride above 1 and keep no recent
window: replaying a few of their steps takes about a millisecond, less than
copying the state at every step costs a run (bench/README.md).

A command applied at a position before the end of its branch starts a new
branch there; the old future stays, listed by ``branches()`` and reachable with
``goto``. Applying the very command that comes next on the branch only moves
forward along it (a redo): nothing is duplicated.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .commandlog import OpLog, UpdateLog
from .history import History

#: Commands, by their one-byte code in the log.
OPS = ("forward", "backward", "update", "step", "set_lr", "set_optimizer", "set_clip", "set_model")
_CODE = {name: i for i, name in enumerate(OPS)}
#: Positions at the end of the working branch that keep a checkpoint whatever the stride.
RECENT = 16
#: A state smaller than this is checkpointed at most every ``SMALL_STATE // size`` positions
#: (rounded down to a power of two; the size of the session's initial state, its parameters),
#: without the recent window: for the lesson's model every 16th position, so going back
#: replays at most 15 steps of about 50 us.
SMALL_STATE = 256 * 1024


@dataclass(frozen=True)
class Command:
    """One state change: ``op`` (one of ``OPS``) and its arguments."""

    op: str
    args: tuple = ()


@dataclass(eq=False, slots=True)
class State:
    """A session's whole state at one position (arrays are private copies, results are
    shared: they are never written after they are made). ``forward``/``backward`` are
    None in a *lean* state when they can be recomputed from the parameters."""

    params: np.ndarray
    opt_name: str
    opt_state: dict
    lr: float
    clip: float | None
    phase: str
    step: int
    divergence: Any
    update: Any
    forward: Any
    backward: Any
    lean: bool
    nbytes: int
    model: str = ""  # the model's kind (``core.modelfork``: a branch may train another model)


@dataclass(frozen=True)
class BranchInfo:
    """A branch as ``Session.branches()`` lists it. ``fork_step`` is the step it left its
    parent at (None for the first branch); ``steps`` the step at its end."""

    id: int
    parent: int | None
    fork_position: int
    fork_step: int | None
    length: int
    steps: int
    current: bool


class Branch:
    """One line of time: the parent's first ``base`` commands, then its own."""

    __slots__ = ("args", "base", "ckpt", "ckpt_pos", "history", "id", "ops", "parent", "upd")

    def __init__(self, id: int, parent: Branch | None, base: int, history: History) -> None:
        self.id = id
        self.parent = parent
        self.base = base
        self.ops = OpLog()  # (run-length encoded: a long play is one run, memory stays flat)
        self.args: dict[int, tuple] = {}
        self.history = history
        # positions of the commands that made an update (so step -> position is a search)
        self.upd = UpdateLog()
        self.ckpt: dict[int, State] = {}
        self.ckpt_pos: list[int] = []

    @property
    def length(self) -> int:
        return self.base + len(self.ops)

    def command(self, p: int) -> Command:
        """The command at position ``p`` (the one that leads from state p to p + 1)."""
        b = self
        while p < b.base:
            b = b.parent
        return Command(OPS[b.ops[p - b.base]], b.args.get(p, ()))

    def add_update(self, p: int) -> None:
        self.upd.add(p)


class Timeline:
    """The command tree of one session, its cursor and its checkpoints.

    The session supplies ``capture(lean) -> State``, ``restore(State)`` and
    ``apply(Command)``; the timeline decides where states are kept and replays.
    """

    def __init__(
        self,
        root: State,
        history: History,
        start_step: int,
        budget: int,
        capture: Callable[[bool], State],
        restore: Callable[[State], None],
        apply: Callable[[Command], Any],
    ) -> None:
        self.start_step = start_step
        self.budget = budget
        self._capture, self._restore, self._apply = capture, restore, apply
        self.branches: list[Branch] = [Branch(0, None, 0, history)]
        self.cur = self.branches[0]
        self.pos = 0
        self.stride = _first_stride(root.nbytes)
        self.bytes = 0
        self._put(self.cur, 0, root)
        self.bytes = 0  # the initial state is the session's own, not the budget's
        self._set_state_size(root.nbytes)
        self._redoing = False  # the command being applied is the branch's next one

    # --- where we are -------------------------------------------------------------------

    @property
    def length(self) -> int:
        return self.cur.length

    @property
    def at_end(self) -> bool:
        return self.pos == self.cur.length

    def step_at(self, p: int, branch: Branch | None = None) -> int:
        b = branch or self.cur
        return self.start_step + b.upd.count_before(p)

    def last_step(self, branch: Branch | None = None) -> int:
        b = branch or self.cur
        return self.start_step + len(b.upd)

    def positions_of_step(self, step: int, branch: Branch | None = None) -> tuple[int, int] | None:
        """The first and last positions whose state is at ``step`` on ``branch``, or None."""
        b = branch or self.cur
        j = step - self.start_step
        upd = b.upd
        if not 0 <= j <= len(upd):
            return None
        lo = 0 if j == 0 else int(upd[j - 1]) + 1
        hi = int(upd[j]) if j < len(upd) else b.length
        return lo, hi

    def info(self) -> list[BranchInfo]:
        out = []
        for b in self.branches:
            fork_step = None if b.parent is None else self.step_at(b.base, b.parent)
            out.append(
                BranchInfo(
                    b.id,
                    None if b.parent is None else b.parent.id,
                    b.base,
                    fork_step,
                    b.length,
                    self.last_step(b),
                    b is self.cur,
                )
            )
        return out

    def branch(self, id: int) -> Branch:
        if not 0 <= id < len(self.branches):
            raise KeyError(id)
        return self.branches[id]

    # --- recording ------------------------------------------------------------------------

    def begin(self, cmd: Command, fork_history: Callable[[], History], new_branch: bool = False) -> None:
        """Before ``cmd`` is applied at the cursor: if the cursor is before the end of its
        branch, either ``cmd`` is the branch's next command (a redo) or a branch starts here;
        ``new_branch`` starts one in any case (a fork at the end of a branch, too)."""
        self._redoing = False
        if not new_branch:
            if self.at_end:
                return
            if self.cur.command(self.pos) == cmd:
                self._redoing = True
                return
        b = Branch(len(self.branches), self.cur, self.pos, fork_history())
        b.upd = self.cur.upd.prefix(self.pos)
        self.branches.append(b)
        self.cur = b

    def commit(self, cmd: Command, updated: bool) -> None:
        """After ``cmd`` was applied at the cursor: log it (unless it was a redo), move on,
        keep a checkpoint if one is due."""
        b, p = self.cur, self.pos
        if not self._redoing:
            b.ops.append(_CODE[cmd.op])
            if cmd.args:
                b.args[p] = cmd.args
            if updated:
                b.add_update(p)
        self._redoing = False
        self.pos = p + 1
        self._maybe_checkpoint()

    def recover(self) -> None:
        """After a command raised half-way through ``_apply`` (it was never committed): drop the
        branch ``begin`` started for it, if any, and rebuild the state at the cursor exactly,
        from its nearest checkpoint, as a seek would."""
        b = self.cur
        if not b.ops and b.parent is not None and b is self.branches[-1] and self.pos == b.base:
            self.branches.pop()
            self.cur = b.parent
        self._redoing = False
        c_pos, c_state = self._nearest(self.cur, self.pos)
        self._restore(c_state)
        for q in range(c_pos, self.pos):
            self._apply(self.cur.command(q))

    # --- moving -----------------------------------------------------------------------------

    def seek(self, p: int, branch: Branch | None = None) -> None:
        """Make the session's state the one at position ``p`` of ``branch`` (default: the
        current one), exactly: from the nearest checkpoint, replaying the commands between."""
        b = branch or self.cur
        if not 0 <= p <= b.length:
            raise IndexError(p)
        if b is self.cur and p == self.pos:
            return
        c_pos, c_state = self._nearest(b, p)
        if b is self.cur and c_pos <= self.pos < p:
            start = self.pos  # forward on the same branch: go on from the live state
        else:
            self.cur = b  # (before restoring: replays write the history of the branch they are on)
            self._restore(c_state)
            start = c_pos
        for q in range(start, p):
            self._apply(b.command(q))
        self.pos = p
        self._maybe_checkpoint()

    def _nearest(self, b: Branch, p: int) -> tuple[int, State]:
        """The newest checkpoint at or before ``p`` on ``b``'s path."""
        limit = p
        while True:
            i = bisect_right(b.ckpt_pos, limit) - 1
            # a branch's own checkpoints lie after its base; the base state is its parent's
            if i >= 0 and b.ckpt_pos[i] > (b.base if b.parent is not None else -1):
                q = b.ckpt_pos[i]
                return q, b.ckpt[q]
            limit = min(limit, b.base)
            b = b.parent

    # --- checkpoints --------------------------------------------------------------------------

    def _put(self, b: Branch, p: int, st: State) -> None:
        b.ckpt[p] = st
        insort(b.ckpt_pos, p)
        self.bytes += st.nbytes

    def _drop(self, b: Branch, p: int) -> None:
        st = b.ckpt.pop(p)
        del b.ckpt_pos[bisect_left(b.ckpt_pos, p)]  # (near the end, usually: no scan)
        self.bytes -= st.nbytes

    def _keeps(self, b: Branch, p: int) -> bool:
        return (b.parent is None and p == 0) or p % self.stride == 0

    def _maybe_checkpoint(self) -> None:
        b, p = self.cur, self.pos
        if self.budget <= 0 or p in b.ckpt or (b.parent is not None and p <= b.base):
            return
        recent = self._recent
        if recent == 0 and p % self.stride:
            return
        st = self._capture(True)
        if st is None:  # this state cannot be rebuilt from its parameters alone: skip it
            return
        if st.nbytes != self._state_size:
            self._set_state_size(st.nbytes)
        self._put(b, p, st)
        # the checkpoint that just left the recent window stays only if it is on the stride
        old = p - recent - 1
        if recent and old in b.ckpt and not self._keeps(b, old):
            self._drop(b, old)
        while self.bytes > self.budget and self.stride < 2**40:
            self.stride *= 2
            for br in self.branches:
                for q in list(br.ckpt_pos):
                    near = br is b and q >= p - recent
                    if not near and not self._keeps(br, q):
                        self._drop(br, q)

    def _set_state_size(self, nbytes: int) -> None:
        self._state_size = nbytes
        # the newest positions keep a checkpoint whatever the stride, as many as fit a quarter of the budget
        self._recent = max(0, min(RECENT, self.budget // (4 * max(nbytes, 1))))
        if nbytes < SMALL_STATE:
            self._recent = 0

    def checkpoint_count(self) -> int:
        return sum(len(b.ckpt) for b in self.branches)

    def nbytes(self) -> int:
        """Bytes the timeline holds: checkpoints, command logs, branch histories."""
        logs = sum(b.ops.nbytes() + b.upd.nbytes() + b.history.nbytes() for b in self.branches)
        return self.bytes + logs


def _first_stride(state_bytes: int) -> int:
    """The stride a timeline starts with: 1, or for a state smaller than ``SMALL_STATE`` the
    largest power of two at most ``SMALL_STATE / state_bytes``."""
    stride = 1
    while stride * 2 * max(state_bytes, 1) <= SMALL_STATE:
        stride *= 2
    return stride
