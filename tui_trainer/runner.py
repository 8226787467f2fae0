"""The training thread: one run at a time (N steps, a play, a run until a condition, a sweep).

Messages up: the runner never touches a widget. While a run goes it posts ``RunProgress`` (at
most every ``PROGRESS_INTERVAL``; a newer one replaces one still queued), and at its end
``RunFinished`` with the run's result. An exception in the thread ends the worker in the ERROR
state (``Worker.StateChanged``), which the app handles: the run is over either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import Worker, get_current_worker

from core import ActionResult, Session
from core.breakpoints import Breakpoint
from core.readout import best_branch

from .pace import Pacer

#: the status line and the loss curve (what one watches during a run) hear from the run this often
PROGRESS_INTERVAL = 0.4
#: what a play (space) asks the session for; it goes on until paused
PLAY_CHUNK = 1_000_000


class RunProgress(Message):
    """The run is at ``step`` (the session holds the rest)."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunProgress)


class RunFinished(Message):
    """The run of ``worker`` ended (its steps done, stopped, a condition met, or a divergence):
    ``result``."""

    def __init__(self, result: ActionResult, worker: Worker | None = None) -> None:
        super().__init__()
        self.result = result
        self.worker = worker


class UiCall(Message):
    """Run ``callback(*args)`` on the UI thread (posted from a thread, which does not wait)."""

    def __init__(self, callback: Callable[..., object], args: tuple[object, ...]) -> None:
        super().__init__()
        self.callback = callback
        self.args = args


class Runner:
    """Owns the training worker of ``target`` (the app), which it sends its messages to."""

    def __init__(self, target: MessagePump, pacer: Pacer) -> None:
        self._target = target
        self._pacer = pacer
        self._stop = threading.Event()
        #: the worker of the current (or last) run
        self.worker: Worker | None = None

    @property
    def stopping(self) -> bool:
        """A stop was asked for (the run ends within one step)."""
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    def start(
        self, session: Session, n: int | None, until: Breakpoint | None = None, sweep: tuple[float, ...] = ()
    ) -> Worker:
        """Train ``n`` steps (None: until stopped, or until ``until`` holds) in a thread; with
        ``sweep``, ``n`` steps on one branch per learning rate, each from the current state."""
        self._stop.clear()
        self.worker = self._target.run_worker(
            partial(self._train, session, n, until, sweep),
            name="train",
            group="train",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        return self.worker

    @staticmethod
    def _play(s: Session, should_stop, on_step, until: Breakpoint | None) -> ActionResult:
        """Play: runs of ``PLAY_CHUNK`` steps one after another until paused, a condition holds or
        training diverges (one run's end is not the play's), as one result."""
        first = s.run(PLAY_CHUNK, should_stop=should_stop, on_step=on_step, until=until)
        result, steps, overshoots = first, first.steps, first.overshoots
        while result.ok and result.stopped is None and result.steps == PLAY_CHUNK:
            result = s.run(PLAY_CHUNK, should_stop=should_stop, on_step=on_step, until=until)
            steps, overshoots = steps + result.steps, overshoots + result.overshoots
        return replace(result, steps=steps, overshoots=overshoots, start_step=first.start_step)

    def _train(self, s: Session, n: int | None, until: Breakpoint | None, sweep: tuple[float, ...]) -> ActionResult:
        worker = get_current_worker()
        pacer, target = self._pacer, self._target
        next_report = time.monotonic() + PROGRESS_INTERVAL

        def should_stop() -> bool:
            return self._stop.is_set() or worker.is_cancelled

        def on_step(_result: object) -> None:
            nonlocal next_report
            pacer.after_step(should_stop)
            now = time.monotonic()
            if now >= next_report:
                next_report = now + PROGRESS_INTERVAL
                target.post_message(RunProgress(s.step))

        pacer.start()
        if sweep:
            runs = s.sweep(sweep, n, should_stop=should_stop, on_step=on_step)
            # land on the lowest loss that did not diverge, not on whichever rate ran last
            with s.lock:
                best = best_branch(s, [r.branch for r in runs if r.result.ok])
                if best is not None and best != s.branch:
                    end = next(b for b in s.branches() if b.id == best)
                    s.goto_position(end.length, branch=best)
            result = ActionResult("sweep", steps=n, detail=",".join(f"{x:g}" for x in sweep), branch=best)
        elif n is not None:
            result = s.run(n, should_stop=should_stop, on_step=on_step, until=until)
        else:
            result = self._play(s, should_stop, on_step, until)
        target.post_message(RunFinished(result, worker))
        return result
