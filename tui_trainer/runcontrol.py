"""Run control: r (N steps), space (play / pause), / (until a condition), S (a sweep), escape,
and the speed (- +).

A run trains in the runner's thread; here, on the UI thread, the panes are refreshed at a
bounded rate while it goes (the training thread and the UI share one interpreter lock), and
the run's messages (progress, finished, failed) are turned into the screen's state.
"""

from __future__ import annotations

import asyncio
import sys
import time

from textual.app import App
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from core.breakpoints import Breakpoint, attention_shape
from core.breakpoints import parse as parse_breakpoint
from core.frame import build_frame
from core.readout import tracked

from .pace import faster, slower, speed_text
from .runner import RunFinished, RunProgress
from .screens.timeline import BreakpointInput, SweepForm
from .widgets.losscurve import LossPane

#: Panes refresh at most this often during a run, whatever the step rate.
REFRESH_INTERVAL = 1 / 15
#: ...and less often if painting them is slow: at most this share of the time goes to
#: refreshing during a run (the training thread and the UI share one interpreter lock).
RUN_UI_SHARE = 0.05
#: During a run the threads hand the interpreter lock over every millisecond (Python's
#: default is 5 ms), so a key waits less for the training thread.
RUN_SWITCH_INTERVAL = 0.001


class RunControl:
    """Starts, paces, refreshes and ends the app's runs (one at a time: ``app.running``)."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: True when the running worker is a play (space), which only ends when paused
        self.playing = False
        #: True while the running worker is a learning-rate sweep (S)
        self.sweeping = False
        #: the last condition typed after /, offered again; the one the current run stops at
        self.until_text = ""
        self.until: str | None = None
        #: this thread's CPU time and the clock when the last refresh during a run began
        self._ui_mark = (0.0, 0.0)
        self._switch_interval = sys.getswitchinterval()

    # --- starting and stopping -----------------------------------------------------------

    def run_count(self) -> None:
        """r: the typed count of steps (or --run-n)."""
        app = self.app
        n = int(app.count) if app.count else app.run_n
        app.count = ""
        self.start(n)

    def toggle_play(self) -> None:
        """space: a waiting key script goes on; otherwise play, or pause the run."""
        app = self.app
        if app.player.release_wait():
            return
        if app.running:
            self.stop()
        else:
            self.start(None)

    def stop(self) -> None:
        """escape: stop the run between steps, or clear a typed count."""
        app = self.app
        if app.running:
            app.runner.stop()
        elif app.count:
            app.count = ""
            app.refresh_panes()
            app.say("Count cleared.")

    def ask_sweep(self) -> None:
        """S: a learning-rate sweep from here: one branch per rate, the same number of steps each."""

        def chosen(choice) -> None:
            if choice is not None and not self.app.refused("sweep"):
                lrs, steps = choice
                self.start(steps, sweep=lrs)

        self.app.push_screen(SweepForm(self.app.run_n), chosen)

    def ask_until(self) -> None:
        """/: type a condition, then train until the first step where it holds."""
        targets = [t for _, _, t in tracked(self.app.session)]
        heads = attention_shape(self.app.session.model)  # (the GPT's layers and heads; None: no attention)

        def chosen(bp) -> None:
            if bp is not None and not self.app.refused("run_until"):
                self.until_text = bp.text
                self.start(None, until=bp)

        # p(WORD) of a word this text's tracked positions predict (the last plain one: the lesson's 'learning')
        example = next((f"p({t})>0.9" for t in reversed(targets) if t.isalnum()), "loss_up")
        form = BreakpointInput(lambda e: parse_breakpoint(e, targets, heads), self.until_text, example)
        self.app.push_screen(form, chosen)

    def start(self, n: int | None, until: Breakpoint | None = None, sweep: tuple[float, ...] = ()) -> None:
        """Train ``n`` steps (None: until paused, or until a condition of ``until`` holds) in the runner's thread."""
        app = self.app
        if n == 0:
            app.say("Ran 0 steps.")
            return
        if app.running:  # one run at a time (every way in is refused during one; this is the last word)
            app.explain_refusal("run")
            return
        app.running = True
        self.playing = n is None and until is None
        self.sweeping = bool(sweep)
        self.until = None if until is None else until.text
        app.main_screen.follow("loss")
        app.refresh_panes()
        if sweep:
            app.say(f"Sweeping lr {', '.join(f'{x:g}' for x in sweep)}: {n} steps each from step {app.session.step}…")
        elif until is not None:
            app.say(f"Running until {until.text}… (space or escape stops)")
        else:
            app.say(f"Running {n} steps… (space or escape stops)" if n else "Playing… (space pauses)")
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(RUN_SWITCH_INTERVAL)
        app.runner.start(app.session, n, until, sweep)
        self._ui_mark = (time.thread_time(), time.monotonic())
        app.set_timer(REFRESH_INTERVAL, self._refresh_during_run)

    def speed(self, direction: int) -> None:
        """- and +: slow motion for runs and plays, on a ladder up to as fast as possible."""
        app = self.app
        old = app.pacer.speed
        new = faster(old) if direction > 0 else slower(old)
        if new == old:
            app.say(f"Speed is already {'as fast as possible' if new is None else speed_text(new)}.")
            return
        app.pacer.speed = new  # a run in progress picks it up at its next step
        app.show_status()
        app.say(
            f"Speed: {speed_text(new)}"
            + (" (each step shown as it happens)." if new is not None and new <= 10 else ".")
            + " - slows down, + speeds up."
        )

    # --- while it runs -------------------------------------------------------------------

    def progress(self, message: RunProgress) -> None:
        """Between full refreshes (slow to paint, so rationed during a run), keep the
        status line and the loss curve current."""
        app = self.app
        if not app.running or app.files.svg_pending:  # (a screenshot waits for the screen as it is)
            return
        s = app.session
        with s.lock:
            app.frame = build_frame(s, app.position)
            app.query_one(LossPane).frame = app.frame
        app.show_status()
        app.frame_shown()

    def _refresh_during_run(self) -> None:
        """Refresh the panes while a run goes on (here, on the UI thread: the worker never
        waits for the screen), then schedule the next refresh after the screen is painted."""
        app = self.app
        if not app.running:
            return
        if app.files.svg_pending:  # a screenshot is being taken of the screen as it is: not yet
            app.set_timer(REFRESH_INTERVAL, self._refresh_during_run)
            return
        cpu, wall = self._ui_mark
        self._ui_mark = (time.thread_time(), time.monotonic())
        app.refresh_panes()
        app.call_after_refresh(self._schedule_refresh, cpu, wall)

    def _schedule_refresh(self, cpu: float, wall: float) -> None:
        # this thread's CPU time since the previous refresh began (painting, keys): the next
        # refresh waits until that is at most RUN_UI_SHARE of the time between refreshes
        used = time.thread_time() - cpu
        wait = max(REFRESH_INTERVAL, used / RUN_UI_SHARE) - (time.monotonic() - wall)
        self.app.set_timer(max(wait, REFRESH_INTERVAL / 2), self._refresh_during_run)

    # --- its end ---------------------------------------------------------------------------

    def _end(self) -> None:
        self.app.running = False
        self.until = None
        sys.setswitchinterval(self._switch_interval)

    def finished(self, message: RunFinished) -> None:
        app = self.app
        if not app.running or message.worker is not app.runner.worker:  # (not the current run's)
            return
        self._end()
        result = message.result
        if result.action == "sweep":  # every branch drawn on the curve; the compare table at once
            app.refresh_panes()
            s = app.session
            where = (
                f"now on branch {s.branch} (lr {s.lr:g}), the lowest loss that did not diverge"
                if result.branch is not None
                else "every rate diverged"
            )
            app.say(f"Swept lr {result.detail}, {result.steps} steps each: {where}; the curve overlays the branches.")
            app.main_screen.action_branches()  # (enter goes to the branch chosen, as B)
            return
        app.after(result)

    def failed(self, event: Worker.StateChanged) -> None:
        """The training thread raised: the run is over. The session goes back to the state of its
        last complete action (exactly, through the timeline), and the screen says what happened."""
        app = self.app
        if event.worker is not app.runner.worker or event.state != WorkerState.ERROR or not app.running:
            return
        self._end()
        s = app.session
        with s.lock:
            s.recover()
        app.refresh_panes()
        error = event.worker.error
        app.say(
            f"Training stopped: the training thread failed ({type(error).__name__}: {error}). "
            f"The session is back at the last complete action, step {s.step}; keys work again."
        )

    async def wait(self, plays_too: bool = False) -> None:
        """Until the run ends: a counted run, or a play being paused, ends by itself; a play goes
        on until paused (``plays_too``: wait for it as well)."""
        app = self.app
        while app.running and (plays_too or not self.playing or app.runner.stopping):
            await asyncio.sleep(0.01)

    async def thread_returned(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` s) for the training thread to return. Its result is in
        once ``running`` is False, but the thread may still be returning, and exiting then
        would cancel its worker; a stopped run ends within one step."""
        worker = self.app.runner.worker
        if worker is not None and not worker.is_finished:
            try:
                await asyncio.wait_for(asyncio.shield(worker.wait()), timeout)
            except (WorkerCancelled, WorkerFailed, TimeoutError):
                pass
