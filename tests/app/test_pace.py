"""Slow motion (--speed, - and +): the worker spaces steps on a clock; tested on a fake one."""

from __future__ import annotations

import threading

import pytest

from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.pace import SPEEDS, Pacer, faster, slower


class FakeClock:
    """time.monotonic and time.sleep that never wait: sleeping moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, t: float) -> None:
        assert t > 0
        with self._lock:
            self.sleeps.append(t)
            self.now += t

    def step(self, t: float) -> None:
        """A training step that takes ``t`` seconds."""
        with self._lock:
            self.now += t


def test_steps_are_spaced_at_the_speed():
    clock = FakeClock()
    p = Pacer(10, clock, clock.sleep)
    p.start()
    for _ in range(5):
        clock.step(0.01)
        p.after_step()
    assert clock.now == pytest.approx(0.5)  # 5 steps at 10 per second
    assert max(clock.sleeps) <= 0.05  # short slices: a stop or a new speed acts at once


def test_as_fast_as_possible_never_sleeps():
    clock = FakeClock()
    p = Pacer(None, clock, clock.sleep)
    p.start()
    for _ in range(100):
        clock.step(0.001)
        p.after_step()
    assert clock.sleeps == [] and clock.now == pytest.approx(0.1)


def test_a_slow_step_is_not_followed_by_a_burst():
    clock = FakeClock()
    p = Pacer(10, clock, clock.sleep)
    p.start()
    clock.step(1.0)  # one step took 10 intervals
    p.after_step()
    assert clock.sleeps == []
    clock.step(0.0)
    p.after_step()  # the next one still waits a full interval
    assert clock.now == pytest.approx(1.1)


def test_a_new_speed_and_a_stop_act_within_one_slice():
    clock = FakeClock()
    p = Pacer(0.5, clock, clock.sleep)  # one step every 2 s
    p.start()
    stop, pressed = False, False

    def sleep(t):
        nonlocal stop, pressed
        clock.sleep(t)
        if clock.now >= 0.2 and not pressed:
            p.speed, pressed = 100, True  # the presenter pressed + several times
        if clock.now >= 1.0:
            stop = True

    p.sleep = sleep
    p.after_step(lambda: stop)
    assert clock.now == pytest.approx(0.2, abs=0.051)  # due at 0.01 after the start at speed 100: go now
    p.speed = 0.5
    p.after_step(lambda: stop)
    assert clock.now == pytest.approx(1.0, abs=0.051)  # stopped long before the 2 s were up


def test_speed_ladder():
    assert slower(None) == 100 and faster(100) is None and faster(None) is None
    assert slower(0.5) == 0.5 and faster(0.5) == 1
    assert slower(7) == 5 and faster(7) == 10  # a --speed off the ladder joins it
    assert list(SPEEDS) == [*sorted(SPEEDS[:-1]), None]


@pytest.mark.parametrize(
    "value, expect",
    [("0", "greater than 0"), ("-3", "greater than 0"), ("nan", "greater than 0"), ("fast", "steps per second")],
)
def test_bad_speed_is_one_line_and_exit_2(capsys, value, expect):
    assert cli.main(["--speed", value]) == 2
    err = capsys.readouterr().err
    assert expect in err and err.count("\n") == 1


async def test_a_run_in_the_app_is_paced_by_the_worker():
    app = cli.build_app(cli.build_parser().parse_args(["--speed", "5"]))
    assert app.load_session()  # (the app would build it after its first paint: here, before the keys)
    clock = FakeClock()
    app.pacer.clock, app.pacer.sleep = clock, clock.sleep
    async with app.run_test(size=(120, 36)) as pilot:
        assert "5 steps/s" in str(app.query_one("#status").render())
        await pilot.press("1", "0", "r")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.session.step == 10
    assert clock.now == pytest.approx(10 / 5)  # ten steps, each 0.2 s after the one before


@pytest.mark.slow
async def test_speed_keys_change_the_pace_during_a_run():
    app = TrainerApp()
    clock = FakeClock()
    gate = threading.Event()

    def sleep(t):
        clock.sleep(t)
        gate.wait(0.01)  # let the UI thread in

    app.pacer.clock, app.pacer.sleep = clock, sleep
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("minus")  # max -> 100 steps/s
        assert app.pacer.speed == 100
        await pilot.press("minus", "minus", "minus", "minus", "minus", "minus", "minus", "minus")
        assert app.pacer.speed == 0.5  # the bottom of the ladder stays
        assert "0.5 steps/s" in str(app.query_one("#status").render())
        await pilot.press("space")  # play at 0.5 steps/s
        while clock() < 3:
            await pilot.pause(0.01)
        assert app.session.step <= 2
        await pilot.press("plus", "equals_sign")  # 1, then 2 steps/s, live
        assert app.pacer.speed == 2
        for _ in range(9):
            await pilot.press("plus")
        assert app.pacer.speed is None and "max speed" in str(app.query_one("#status").render())
        await pilot.press("space")  # pause
        await app.workers.wait_for_complete()
        assert not app.running
