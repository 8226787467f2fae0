"""The timeline in bounded memory: old states are rebuilt from sparse checkpoints, bit for bit."""

import numpy as np
import pytest
from test_timeline import snap

from core import Session

ACTIONS = ["step", "step", "forward", "backward", "update", "forward", "step", "backward", "update"]


def _do(s: Session, a: str):
    return s.train_step() if a == "step" else getattr(s, a)()


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_undo_over_the_whole_history_is_exact_with_a_tiny_memory_cap(optimizer):
    # a cap of a few checkpoints forces thinning: most old states are replayed
    s = Session.create(optimizer=optimizer, undo_memory=60_000)
    states = [(s.position, snap(s))]
    for i in range(120):
        if i == 57:
            r = s.set_optimizer("momentum", lr=0.02)
        elif i == 83:
            r = s.set_lr(0.05)
        else:
            r = _do(s, ACTIONS[i % len(ACTIONS)])
        assert r.ok
        if r.code != "unchanged":
            states.append((s.position, snap(s)))
    assert s.timeline.stride > 1  # the cap was hit: checkpoints were thinned
    assert s.timeline.bytes <= 60_000
    for pos, state in reversed(states[:-1]):
        while s.position > pos:  # (a step from a stale state is two commands: its forward pass, the step)
            assert s.undo().ok
        assert snap(s) == state, pos
    assert not s.undo().ok
    # and all the way forward again
    for pos, state in states[1:]:
        while s.position < pos:
            assert s.redo().ok
        assert snap(s) == state, pos


def test_checkpoint_memory_stays_within_the_budget_while_history_grows():
    s = Session.create(undo_memory=200_000)
    s.run(3000)
    assert s.timeline.bytes <= 200_000
    # the history is columns: tens of bytes a step, not a record object each
    assert s.timeline.cur.history.nbytes() < 3000 * 200
    ref = Session.create()
    ref.run(1234)
    assert s.goto(1234).ok and snap(s) == snap(ref)


@pytest.mark.slow
def test_a_big_vocabulary_keeps_no_copies_of_its_logits():
    words = " ".join(f"w{i}" for i in range(3000))
    s = Session.create(text=words, undo_memory=8 * 2**20, hidden1=16)  # (the logits are the subject)
    s.run(30)
    # lean checkpoints hold parameters, optimizer state and the last update, never N x V results
    for b in s.timeline.branches:
        for p, st in b.ckpt.items():
            assert p == 0 or (st.lean and st.forward is None and st.backward is None)
    assert s.timeline.bytes <= 8 * 2**20
    start = snap(s)
    s.run(5)
    for _ in range(5):
        assert s.undo().ok
    assert snap(s) == start


def test_goto_far_back_in_a_long_session_is_exact():
    s = Session.create(undo_memory=1_000_000)
    s.run(2000)
    ref = Session.create()
    ref.run(17)
    assert s.goto(17).ok
    assert np.array_equal(s.model.params, ref.model.params) and snap(s) == snap(ref)
    assert s.goto(2000).ok and s.step == 2000 and not s.can_redo
