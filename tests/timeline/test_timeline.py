"""The timeline: undo, redo, goto, branches and fork restore states bit for bit.

The reference is naive on purpose: it keeps each branch as a list of commands
and rebuilds any state by replaying its commands on a fresh session from the
start (no checkpoints, no cursor), taking a deep copy of everything after every
command. The session under test must agree with it after every rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from core import Session
from core.history import SCALARS

LR_CHOICES = (0.01, 0.1, 0.5, 3.0, 100.0, 1000.0)


def do(s: Session, cmd: tuple):
    """Apply one command through the public API."""
    op, *args = cmd
    if op == "forward":
        return s.forward()
    if op == "backward":
        return s.backward()
    if op == "update":
        return s.update()
    if op == "step":
        return s.train_step()
    if op == "set_lr":
        return s.set_lr(args[0])
    if op == "set_optimizer":
        return s.set_optimizer(*args)
    if op == "set_clip":
        return s.set_clip(args[0])
    if op == "set_model":  # (a branch from the start: test_model_fork_timeline.py)
        return s.fork_model(args[0])
    raise AssertionError(op)


def _b(a) -> bytes | None:
    return None if a is None else np.ascontiguousarray(a).tobytes()


def snap(s: Session) -> dict:
    """Everything that makes a state, as bytes and plain values (NaN compares as bits)."""
    f, b, u, d = s.forward_result, s.backward_result, s.last_update, s.divergence
    opt = s.optimizer.state_dict()
    h = s.history
    return {
        "params": _b(s.model.params),
        "optimizer": s.optimizer.name,
        "opt_state": {k: _b(v) if isinstance(v, np.ndarray) else v for k, v in sorted(opt.items())},
        "lr": s.lr,
        "clip": s.clip,
        "phase": s.phase,
        "step": s.step,
        "divergence": None if d is None else (d.step, d.cause, _b(np.float64(d.value)), d.suggested_lr),
        "update": None
        if u is None
        else (_b(u.grad), _b(u.delta), u.lr, u.optimizer, u.step, _b(np.float64(u.grad_norm)), u.clip_factor),
        "forward": None if f is None else (_b(f.logits), _b(f.probs), _b(f.losses), _b(f.positions)),
        "backward": None if b is None else _b(b.grads),
        "history_len": len(h),
        "history": {name: _b(h.column(name)) for name in (*SCALARS, "target_probs", "position_losses")},
        "history_opt": [r.optimizer for r in h],
    }


class Reference:
    """Branches as command lists; states by replay from scratch."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.branches: list[list[tuple]] = [[]]
        self.snaps: list[list[dict]] = [[snap(Session.create(**config))]]
        self.cur = 0
        self.pos = 0

    def state_at(self, cmds: list[tuple]) -> Session:
        s = Session.create(**{**self.config, "undo_memory": 0})
        for c in cmds:
            do(s, c)
        return s

    def apply(self, cmd: tuple) -> None:
        # documented: a full step from a state without a fresh forward pass records that pass first
        if cmd == ("step",) and self.state["phase"] == "ready" and self.state["divergence"] is None:
            self._apply(("forward",))
            if self.state["divergence"] is not None:
                return
        self._apply(cmd)

    def _apply(self, cmd: tuple) -> None:
        cmds = self.branches[self.cur]
        s = self.state_at(cmds[: self.pos])
        before = snap(s)
        do(s, cmd)
        after = snap(s)
        if after == before:  # nothing changed: nothing to record
            return
        if self.pos < len(cmds) and cmds[self.pos] == cmd:
            assert self.snaps[self.cur][self.pos + 1] == after
        elif self.pos < len(cmds):
            self.branches.append([*cmds[: self.pos], cmd])
            self.snaps.append([*self.snaps[self.cur][: self.pos + 1], after])
            self.cur = len(self.branches) - 1
        else:
            cmds.append(cmd)
            self.snaps[self.cur].append(after)
        self.pos += 1

    @property
    def state(self) -> dict:
        return self.snaps[self.cur][self.pos]


commands = st.one_of(
    st.sampled_from([("forward",), ("backward",), ("update",), ("step",), ("step",)]),
    st.tuples(st.just("set_lr"), st.sampled_from(LR_CHOICES)),
    st.tuples(
        st.just("set_optimizer"), st.sampled_from(["sgd", "momentum", "adam"]), st.sampled_from([None, 0.01, 0.3])
    ),
    st.tuples(st.just("set_clip"), st.sampled_from([None, 0.5, 5.0])),
)


def machine(config: dict):
    class TimelineMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.s = Session.create(**config)
            self.ref = Reference(config)

        @rule(cmd=commands)
        def command(self, cmd):
            do(self.s, cmd)
            self.ref.apply(cmd)

        @rule(n=st.integers(0, 4))
        def run(self, n):
            r = self.s.run(n)
            assert r.steps >= 0
            for _ in range(n):
                before = self.ref.state
                self.ref.apply(("step",))
                if self.ref.state is before or self.ref.state["divergence"] is not None:
                    break

        @rule()
        def undo(self):
            r = self.s.undo()
            assert r.ok == (self.ref.pos > 0)
            self.ref.pos = max(0, self.ref.pos - 1)

        @rule()
        def redo(self):
            r = self.s.redo()
            assert r.ok == (self.ref.pos < len(self.ref.branches[self.ref.cur]))
            self.ref.pos = min(len(self.ref.branches[self.ref.cur]), self.ref.pos + 1)

        @rule(data=st.data())
        def goto_step(self, data):
            steps = [sn["step"] for sn in self.ref.snaps[self.ref.cur]]
            k = data.draw(st.sampled_from(sorted(set(steps))))
            assert self.s.goto(k).ok
            self.ref.pos = max(i for i, v in enumerate(steps) if v == k)

        @rule(data=st.data())
        def goto_branch(self, data):
            b = data.draw(st.integers(0, len(self.ref.branches) - 1))
            steps = [sn["step"] for sn in self.ref.snaps[b]]
            k = data.draw(st.sampled_from(sorted(set(steps))))
            assert self.s.goto(k, branch=b).ok
            self.ref.cur, self.ref.pos = b, max(i for i, v in enumerate(steps) if v == k)

        @rule(cmd=commands)
        def fork(self, cmd):
            f = self.s.fork()
            assert snap(f) == snap(self.s)
            before = snap(self.s)
            do(f, cmd)
            do(f, ("step",))
            assert snap(self.s) == before  # the fork shares nothing mutable
            if f.can_undo:
                f.undo()

        @precondition(lambda self: True)
        @invariant()
        def same_state(self):
            assert snap(self.s) == self.ref.state
            assert len(self.s.branches()) == len(self.ref.branches)

    return TimelineMachine


CONFIGS = {
    "float64-default-memory": {},
    "float64-no-memory": {"undo_memory": 0},
    "float64-20kB": {"undo_memory": 20_000},
    "float32-20kB": {"undo_memory": 20_000, "dtype": "float32"},
    "float32-sampled": {"dtype": "float32", "batch_positions": 3},
    "float64-sampled-no-memory": {"batch_positions": 2, "undo_memory": 0, "text": "we love deep learning\nwe love it"},
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_timeline_matches_a_naive_reference(name):
    m = machine(CONFIGS[name])
    m.TestCase.settings = settings(
        max_examples=12, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    m.TestCase().runTest()


# --- the bugs of the undo stack this replaced ---------------------------------------------------


@pytest.mark.parametrize("undo_memory", [0, 64 * 2**20])
def test_undo_after_a_diverged_update_and_many_forwards_never_raises(undo_memory):
    s = Session.create(undo_memory=undo_memory)
    s.set_lr(1000)
    s.update()
    s.set_optimizer("sgd", 0.1)
    s.undo()
    for _ in range(20):
        s.forward()
    states = []
    while s.can_undo:
        states.append((s.step, s.phase))
        assert s.undo().ok
    assert (s.step, s.phase) == (0, "ready")
    assert np.array_equal(s.model.params, Session.create().model.params)


def test_a_run_after_a_diverged_update_reports_real_steps_and_keeps_the_lr():
    s = Session.create()
    s.set_lr(1000)
    s.update()
    s.set_lr(0.1)
    r = s.run(5)
    assert r.steps == 0 and not r.ok and r.stopped == "diverged"
    assert s.lr == 0.1


def test_undo_after_a_learning_rate_change_takes_back_only_that():
    s = Session.create()
    s.run(3)
    params = s.model.params.copy()
    s.set_lr(0.3)
    r = s.undo()
    assert r.ok and r.command.op == "set_lr"
    assert s.lr == 1.0 and s.step == 3 and np.array_equal(s.model.params, params)


def test_divergence_is_a_state_to_look_at_and_undo_leaves_it():
    s = Session.create(lr=1000.0)
    r = s.train_step()
    assert not r.ok and r.stopped == "diverged" and r.steps == 1
    d = s.divergence
    assert d is not None and d.step == 1 and d.suggested_lr == 100.0
    # the exploded forward pass is there to look at
    mean = float(s.forward_result.losses.mean())
    assert not math.isfinite(mean) or mean > 50
    assert s.step == 1 and s.history[-1].step == 1
    # training from it is refused, settings stay
    r = s.train_step()
    assert not r.ok and r.code == "diverged" and s.step == 1
    r = s.run(3)
    assert r.steps == 0 and r.code == "diverged"
    assert s.undo().ok and s.step == 0 and s.divergence is None


def test_step_convention_row_k_is_the_model_after_k_updates():
    s = Session.create()
    s.run(3)
    h = s.history
    assert [r.step for r in h] == [0, 1, 2, 3]
    # row 0 is the untrained model's loss, measured independently
    fresh = Session.create()
    f = fresh.model.forward(fresh.data.contexts, fresh.data.targets)
    assert h[0].total_loss == float(f.losses.sum())
    # row 3 is the current parameters' forward pass
    f3 = s.model.forward(s.data.contexts, s.data.targets)
    assert h[3].total_loss == float(f3.losses.sum())
    # rows before the current one carry the update that left them
    assert h[0].lr == 1.0 and h[0].optimizer == "sgd" and h[0].clip_factor == 1.0


def test_a_new_action_in_the_past_starts_a_branch_and_keeps_the_old_future():
    s = Session.create()
    s.run(10)
    end = s.model.params.copy()
    s.goto(4)
    s.set_lr(0.3)
    s.run(3)
    infos = s.branches()
    assert len(infos) == 2
    old, new = infos
    assert old.steps == 10 and not old.current
    assert new.current and new.parent == 0 and new.fork_step == 4 and new.steps == 7
    assert s.goto(10, branch=0).ok and np.array_equal(s.model.params, end)


def test_doing_the_next_command_again_is_a_redo_not_a_branch():
    s = Session.create()
    s.run(5)
    s.goto(2)
    s.run(3)
    assert len(s.branches()) == 1 and s.step == 5 and not s.can_redo


def test_goto_a_step_and_a_phase():
    s = Session.create()
    s.forward()
    s.backward()
    s.update()
    s.forward()
    s.backward()
    assert s.goto(0, "forward").ok and (s.step, s.phase) == (0, "forward")
    assert s.goto(1, "backward").ok and (s.step, s.phase) == (1, "backward")
    r = s.goto(7)
    assert not r.ok and r.code == "no_such_step"


def test_check_fork_gives_fork_branchs_refusal_and_changes_nothing():
    s = Session.create()
    s.run(2)
    before = (s.position, s.branch, len(s.branches()))
    for opt, lr, code in [("rmsprop", None, "unknown_optimizer"), (None, -1.0, "bad_lr"), (None, None, "unchanged")]:
        checked = s.check_fork(opt, lr)
        assert checked is not None and checked.code == code
        assert s.fork_branch(opt, lr).code == code
    assert s.check_fork("adam", None) is None and s.check_fork(None, 0.3) is None
    assert (s.position, s.branch, len(s.branches())) == before
    assert s.fork_branch(None, 0.3).ok and len(s.branches()) == before[2] + 1
