"""An action that raises half-way leaves the session usable: ``Session.recover`` rebuilds the
state of the last complete action, exactly (core), and the app ends the run and says so."""

import sys

import numpy as np
import pytest

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.status import Narration


class Boom(RuntimeError):
    pass


def break_backward_after(s: Session, calls: int, method: str = "backward") -> None:
    """The model's backward (or forward) pass raises at its ``calls + 1``-th call (a stand-in
    for a bug); the forward pass of a full step runs after its update changed the parameters."""
    real = getattr(s.model, method)
    n = 0

    def backward(*args, **kwargs):
        nonlocal n
        n += 1
        if n == calls + 1:  # once: a replay during recovery runs it again
            raise Boom("injected")
        return real(*args, **kwargs)

    setattr(s.model, method, backward)


def same_state(a: Session, b: Session) -> None:
    assert (a.step, a.phase, a.lr, a.optimizer.name, a.position) == (
        b.step,
        b.phase,
        b.lr,
        b.optimizer.name,
        b.position,
    )
    assert np.array_equal(a.model.params, b.model.params)
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.array_equal(np.asarray(sa[k]), np.asarray(sb[k])), k
    assert np.array_equal(a.history.column("mean_loss"), b.history.column("mean_loss"), equal_nan=True)
    assert len(a.branches()) == len(b.branches())


@pytest.mark.parametrize("method", ["backward", "forward"])
def test_recover_after_a_failed_step_at_the_end_of_a_branch(method):
    ref, s = Session.create(optimizer="momentum"), Session.create(optimizer="momentum")
    for x in (ref, s):
        x.run(5)
    break_backward_after(s, 0, method)
    with pytest.raises(Boom):
        s.train_step()
    s.recover()
    same_state(s, ref)
    delattr(s.model, method)  # the bug fixed: training goes on from the recovered state
    s.run(3)
    ref.run(3)
    same_state(s, ref)


def test_recover_in_the_past_drops_the_branch_the_failed_action_started():
    ref, s = Session.create(), Session.create()
    for x in (ref, s):
        x.run(6)
        x.goto(2)
    break_backward_after(s, 0)
    with pytest.raises(Boom):
        s.backward()  # not the branch's next command (a step): a branch starts at step 2
    s.recover()
    same_state(s, ref)
    assert len(s.branches()) == 1


@pytest.mark.parametrize("method", ["backward", "forward"])
def test_a_run_that_raises_midway_recovers_to_its_last_complete_step(method):
    ref, s = Session.create(optimizer="adam"), Session.create(optimizer="adam")
    ref.run(7)
    # steps 1-7 complete (the forward pass runs once more than backward: step 0's), the 8th raises
    break_backward_after(s, 7 + (method == "forward"), method)
    with pytest.raises(Boom):
        s.run(20)
    s.recover()
    same_state(s, ref)


async def test_the_app_ends_a_run_whose_thread_raised_and_keys_work_again():
    # regression: the app stayed "running" for good, every key refused, the switch interval lost
    app = TrainerApp()
    switch = sys.getswitchinterval()
    async with app.run_test(size=(120, 36)) as pilot:
        break_backward_after(app.session, 11, "forward")  # the 11th step's update is made, then it raises
        await pilot.press("5", "0", "r")
        while app.runner.worker is None or not app.runner.worker.is_finished:
            await pilot.pause(0.02)
        await pilot.pause()
        assert not app.running
        assert sys.getswitchinterval() == switch
        said = str(app.query_one(Narration).render())
        assert "the training thread failed (Boom: injected)" in said
        assert app.session.step == 10 and "step 10" in said
        ref = Session.create()
        ref.run(10)
        same_state(app.session, ref)
        # usable: the next keys act
        await pilot.press("z")
        assert app.session.step == 9
        await pilot.press("s", "s")
        ref.run(1)
        same_state(app.session, ref)
