"""The frame of readouts (core/frame.py): equal when it shows the same, and only then.

The panes skip painting a frame equal to the one they show, so an equality that says "same" for
a state that reads differently would leave a stale number on screen: every action below must
give a frame unequal to the one before it, and the same state twice must give equal ones."""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from core import History, HistoryView, Session
from core.frame import build_frame, same


def frame(s: Session, position: int = 0):
    with s.lock:
        return build_frame(s, position)


ACTIONS = {
    "forward": lambda s: s.forward(),
    "backward": lambda s: s.backward(),
    "update": lambda s: s.update(),
    "a whole step": lambda s: s.train_step(),
    "a new learning rate": lambda s: s.set_lr(0.05),
    "clipping": lambda s: s.set_clip(1.0),
    "an optimizer": lambda s: s.set_optimizer("adam"),
    "undo": lambda s: s.undo(),
    "redo": lambda s: s.redo(),
    "a branch": lambda s: s.fork_branch(lr=0.2),
    "three steps": lambda s: s.run(3),
    "back to step 1": lambda s: s.goto(1),
}


def test_every_action_gives_a_frame_that_differs_and_the_same_state_an_equal_one():
    s = Session.create()
    before = frame(s)
    assert before == frame(s) and not before != frame(s)
    for name, act in ACTIONS.items():
        act(s)
        now = frame(s)
        assert now == frame(s), name  # built again from the same state
        assert now != before, name
        before = now


def test_another_position_is_another_frame():
    s = Session.create()
    s.train_step()
    s.forward()
    assert frame(s, 0) != frame(s, 1)
    assert frame(s, 1) == frame(s, 1)


def test_same_is_bit_for_bit():
    tiny = np.nextafter(1.0, 2.0)
    assert same(math.nan, float("nan")) and same(np.float64("nan"), np.float64("nan"))
    assert not same(0.0, -0.0)  # "-0.0000" on screen is not "0.0000"
    assert not same(1.0, tiny)
    assert not same(1, 1.0)  # another type reads differently ("1" and "1.0000")
    a = np.array([1.0, np.nan, 3.0])
    assert same(a, a.copy())
    assert not same(a, np.array([1.0, np.nan, tiny]))
    assert not same(a, a.astype(np.float32))
    assert not same(a, a.reshape(3, 1))
    assert not same([("w", 1.0)], [("w", 1.0), ("x", 2.0)])
    assert same(np.int64(3), np.int64(3)) and not same(np.int64(3), np.int64(4))
    assert same({"a": a}, {"a": a.copy()}) and not same({"a": a}, {"b": a})
    assert same(a[::2], np.array([1.0, 3.0]))  # (a view that is not contiguous)
    assert not same(a[::2], np.array([1.0, 3.5]))

    class Odd:  # compares to an array: not a readout this function can judge
        def __eq__(self, other):
            return np.array([True, False])

    with pytest.raises(TypeError):
        same(Odd(), Odd())

    @dataclass(frozen=True, eq=False)
    class Row:  # like the frame's parts: identity equality of their own
        word: str
        values: np.ndarray

    assert same(Row("we", a), Row("we", a.copy()))
    assert not same(Row("we", a), Row("love", a))


def test_a_history_view_taken_before_a_write_is_not_equal_to_one_after():
    """A view reads the history's rows in place: an old view shows a row written since, so
    two views compare by the history's writes, not by what they read now."""
    h = History(n_tracked=2, optimizers=("sgd",))
    h.measure(0, 2.0, 1.0, np.array([0.5, 0.5]), np.array([1.0, 1.0]))
    old = HistoryView(h, 0, True, True, 0.1, "sgd")
    assert old == HistoryView(h, 0, True, True, 0.1, "sgd")
    h.set_val(0, 1.5)
    new = HistoryView(h, 0, True, True, 0.1, "sgd")
    assert old.column("val_loss")[0] == new.column("val_loss")[0] == 1.5  # the old view reads it too
    assert old != new
    assert new != HistoryView(h, 0, True, True, 0.2, "sgd")  # the state's own settings
    assert new != HistoryView(h.copy(1), 0, True, True, 0.1, "sgd")  # another history


@pytest.mark.parametrize("lr", [math.nan, 0.1])
def test_history_views_with_the_same_settings_are_equal(lr):
    h = History(n_tracked=1, optimizers=("sgd",))
    h.measure(0, 2.0, 2.0, np.array([0.5]), np.array([2.0]))
    assert HistoryView(h, 0, True, False, lr, "") == HistoryView(h, 0, True, False, lr, "")
