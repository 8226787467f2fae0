"""The step-through debugger: a Textual app around one ``core.Session``.

Data flows one way: a key -> an action here -> a call on the session -> the
panes re-render from the session's new state. Long runs go to a thread
worker, which refreshes the panes at a bounded rate while keys stay live.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import numpy as np
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.containers import Container
from textual.events import Key, Resize
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from core import BACKWARD, DEFAULT_LR, OPTIMIZERS, ActionResult, Session, lr_problem
from core.breakpoints import parse as parse_breakpoint
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.files import write_atomic
from core.frame import Frame, build_frame
from core.generate import sample
from core.readout import chain_terms, n_positions, nudge_probe, top_k_abs, tracked

from . import narrate
from .export import free_stem, history_csv, history_json, stem
from .keymap import ALWAYS, IDLE, KEY_ACTIONS, KEYMAP, WHEN, bindings
from .keys import Beat, Pause, Wait
from .lesson import Lesson
from .pace import Pacer, faster, slower, speed_text
from .runner import RunFinished, Runner, RunProgress, UiCall
from .screens.chain import ChainRuleScreen, ChainView, parse_weight
from .screens.help import HelpScreen
from .screens.samples import TEMPERATURES, Sample, SamplesScreen
from .screens.timeline import BranchPicker, BreakpointInput, ForkForm, SweepForm
from .widgets.context import ContextPane
from .widgets.footer import Footer
from .widgets.gradients import GradientPane
from .widgets.logits import LogitsPane
from .widgets.losscurve import LossPane
from .widgets.softmax import SoftmaxPane
from .widgets.status import Narration, StatusBar

#: Smallest usable terminal; below it the app shows a message instead of panes.
MIN_WIDTH, MIN_HEIGHT = 60, 18
#: Below this the layout switches to one pane at a time (v cycles).
COMPACT_WIDTH, COMPACT_HEIGHT = 100, 30
#: Below this width the presenter's footer packs its keys tighter (all fit at 100 columns).
PRESENTER_FOOTER_WIDTH = 110
#: Served in a browser, the app checks this often (seconds) that its server is still there.
PARENT_CHECK_INTERVAL = 0.5
#: Panes refresh at most this often during a run, whatever the step rate.
REFRESH_INTERVAL = 1 / 15
#: ...and less often if painting them is slow: at most this share of the time goes to
#: refreshing during a run (the training thread and the UI share one interpreter lock).
RUN_UI_SHARE = 0.05
#: During a run the threads hand the interpreter lock over every millisecond (Python's
#: default is 5 ms), so a key waits less for the training thread.
RUN_SWITCH_INTERVAL = 0.001
#: The chain-rule view (x) cycles through this many of the largest gradients; the probe's nudge.
CHAIN_TOP, NUDGE = 8, 1e-4
#: Words in a sample (w); it stops earlier at <EOS>.
SAMPLE_WORDS = 16
#: The norm k clips gradients at.
CLIP_NORM = 1.0
#: The learning-rate ladder for [ and ].
LR_LADDER = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
COMPACT_VIEWS = ("logits", "softmax", "gradients", "loss")


class TrainerApp(App[int]):
    """tui-trainer: watch a tiny language model learn, one key at a time."""

    CSS_PATH = "app.tcss"
    TITLE = "tui-trainer"
    BINDINGS = bindings()

    #: True while a worker is training (the footer greys what may not run then)
    running: var[bool] = var(False, bindings=True)
    #: True below MIN_WIDTH x MIN_HEIGHT: the panes are hidden, keys that change the state wait
    too_small: var[bool] = var(False, bindings=True)
    #: digits typed before r or G
    count: var[str] = var("")
    #: the pane the compact layout shows
    view: var[str] = var("softmax")

    def __init__(
        self,
        session: Session | None = None,
        run_n: int = 100,
        theme: str = "textual-dark",
        output_dir: str | Path = ".",
        presenter: bool = False,
        keys: list[Beat | str] | None = None,
        key_delay: float = 0.0,
        exit_after: bool = False,
        speed: float | None = None,
        lesson: Lesson | None = None,
    ) -> None:
        super().__init__()
        #: lesson mode (tui-trainer lesson): the lesson the caption band walks through
        self.lesson = lesson
        self.session = session or Session.create()
        self.run_n = run_n
        #: where ctrl+s, e and c write their files (and C looks for checkpoints)
        self.output_dir = Path(output_dir)
        #: presenter layout: context, softmax (or the pane an action is about) and loss, high contrast
        self.presenter = presenter
        #: a parsed key script (beats, see ``keys.parse_script``; a plain key name is one beat) played on start
        self.key_script: list[Beat] = [(k,) if isinstance(k, str) else k for k in keys or []]
        self.key_delay = key_delay
        self.exit_after = exit_after
        #: paces runs and plays at ``pacer.speed`` steps per second (None: as fast as possible)
        self.pacer = Pacer(speed)
        #: True while the key script is playing
        self.script_playing = False
        #: set while the script waits for the presenter (a ``wait`` token); space, right,
        #: PageDown or Enter sets it and does nothing else
        self._script_wait: asyncio.Event | None = None
        #: True when the running worker is a play (space), which only ends when paused
        self._playing = False
        self._theme_name = theme
        #: set before the first paint: the panes' text colours are computed from it (palette.py)
        self.theme = theme
        #: the selected prediction position (0-based, within the current forward pass)
        self.position = 0
        #: owns the training thread (messages up: RunProgress, RunFinished)
        self.runner = Runner(self, self.pacer)
        #: this thread's CPU time and the clock when the last refresh during a run began
        self._ui_mark = (0.0, 0.0)
        self._switch_interval = sys.getswitchinterval()
        #: the step the panes show (refresh_panes); ctrl+s names its file after it
        self._shown_step = 0
        #: the readouts of the state on screen (refresh_panes builds it; the panes render it)
        self.frame: Frame | None = None
        #: True while the running worker is a learning-rate sweep (S)
        self._sweeping = False
        #: held while a file writer picks a free name and writes it (writers run in threads)
        self._naming = threading.Lock()
        #: the steps of screenshots (ctrl+s) waiting for the screen to be refreshed
        self._svg_pending: list[int] = []
        #: the last condition typed after /, offered again; the one the current run stops at
        self._until_text = ""
        self._running_until: str | None = None
        #: the chain-rule view (x): which of the largest gradients it shows, and its text
        self._chain_rank = 0
        self._chain_view: ChainView | None = None
        #: samples written with w, oldest first, and the temperature for the next one
        self.samples: list[Sample] = []
        self.temperature = 1.0
        #: the session replaced by the last checkpoint load (C), and the file's name
        self._before_load: tuple[Session, str] | None = None

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Container(id="root"):
            yield StatusBar(id="status")
            with Container(id="main"):
                yield ContextPane(id="context")
                yield LogitsPane(id="logits")
                yield SoftmaxPane(id="softmax")
                yield GradientPane(id="gradients")
                yield LossPane(id="loss")
            if self.lesson is not None:  # lesson mode: the caption band above the narration
                from .lesson_mode import LessonBand

                yield LessonBand(self.lesson, id="lesson")
            yield Narration(narrate.welcome(self.session), id="narration")
            yield Static("", id="too-small")
        # presenter: no "^p palette" in the footer (ctrl+p still opens it; ? lists it), so every key fits
        yield Footer(show_command_palette=not self.presenter)

    def on_mount(self) -> None:
        self.theme = self._theme_name
        self.theme_changed_signal.subscribe(self, self._recolour)
        self.query_one("#root").set_class(self.presenter, "presenter")
        self._apply_size(self.size.width, self.size.height)
        self.say(narrate.welcome(self.session))  # in the theme's colours, on the layout's background
        self.refresh_panes()
        if self.lesson is not None:  # lesson mode: the band takes every key first, a script's too
            self.screen.set_focus(self.query_one("#lesson"))
        if self.key_script or self.exit_after:
            self.script_playing = True
            self._play_script()
        if self.is_web:  # served (tui-trainer serve): end with the server, even if it was killed
            self._server_pid = os.getppid()
            self.set_interval(PARENT_CHECK_INTERVAL, self._exit_if_orphaned)

    def _exit_if_orphaned(self) -> None:
        if os.getppid() != self._server_pid:
            self.exit(0)

    def on_resize(self, event: Resize) -> None:
        self._apply_size(event.size.width, event.size.height)
        self.call_later(self.refresh_panes)

    def _apply_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        compact = not small and not self.presenter and (width < COMPACT_WIDTH or height < COMPACT_HEIGHT)
        # the view classes only where a layout shows one pane for the view (a class change restyles
        # the whole screen: each f, b or u did, 13 ms, in the wide layout where nothing changed);
        # one update for all the classes, one restyle
        views = compact or self.presenter
        classes = {"too-small": small, "compact": compact}
        self.query_one("#root").update_classes(classes | {f"view-{v}": views and self.view == v for v in COMPACT_VIEWS})
        self.too_small = small
        # the presenter's footer keeps every key on a projector's 100 columns by packing them tighter
        self.query_one(Footer).compact = self.presenter and width < PRESENTER_FOOTER_WIDTH
        if small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}x{height}.\n"
                f"tui-trainer needs at least {MIN_WIDTH}x{MIN_HEIGHT} (80x24 or larger is comfortable).\n"
                "Training state is kept; enlarge the window to continue."
            )

    def _recolour(self, _theme: object) -> None:
        """Text takes its colours from the theme when it is built: after the palette's "Change
        theme" build it again, or it keeps the old theme's colours on the new background."""
        # (the panes take their colours from the theme as they render: Textual repaints them)
        self.query_one(Narration).recolour()
        self._show_status()

    # --- rendering ---------------------------------------------------------------------

    def refresh_panes(self) -> None:
        """Build one frame of readouts from the session and hand it to every pane (the only
        place panes get state)."""
        s = self.session
        with s.lock:
            n = n_positions(s)
            self._shown_step = s.step
            self.position = max(0, min(self.position, n - 1))
            # presenter: the loss pane yields its rows to the panes above until there is a curve
            table = self.query_one(LossPane).show_table
            self.query_one("#root").set_class(self.presenter and len(s.history) < 2 and not table, "no-curve")
            frame = build_frame(s, self.position)
            if frame == self.frame:  # (half of them: compared once here, then by identity)
                frame = self.frame
            self.frame = frame
            for pane in self.query("#main > Pane"):
                pane.frame = frame
            self._show_status()

    def _show_status(self) -> None:
        """The status line: the current frame, and what the app is doing."""
        if self.frame is None:
            return
        self.query_one(StatusBar).show(
            self.frame,
            self.running,
            self.count,
            waiting=self._script_wait is not None,
            speed=self.pacer.speed,
            until=self._running_until,
        )

    def say(self, text: str) -> None:
        self.query_one(Narration).update(text)

    def _after(self, result: ActionResult) -> None:
        self.refresh_panes()
        with self.session.lock:
            self.say(narrate.after(self.session, result, self.position))

    # --- which actions may run (keymap.WHEN; the footer greys the others) ----------------

    def _refusal(self, action: str) -> str | None:
        """Why ``action`` may not run now ("too_small", "running"), or None if it may."""
        when = WHEN.get(action, ALWAYS)
        if when == ALWAYS or (action == "toggle_play" and self.running):  # space pauses, always
            return None
        if self.too_small:  # nothing would show what the key did
            return "too_small"
        if when == IDLE and self.running:
            return "running"
        if action == "lr" and self.running and self._sweeping:  # a sweep compares fixed rates
            return "sweep"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: shown greyed in the footer, and the key does nothing (on_key says why)
        return None if self._refusal(action) else True

    def on_key(self, event: Key) -> None:
        """A key whose action is refused now says why (the binding itself does not run)."""
        if len(self.screen_stack) == 1 and (action := KEY_ACTIONS.get(event.key)):
            self._explain_refusal(action)

    def _refused(self, action: str) -> bool:
        """True (and says why) if ``action`` may not run now: a dialog's answer arriving after a
        run started (from the palette) is refused like the key."""
        if self._refusal(action):
            self._explain_refusal(action)
            return True
        return False

    def _explain_refusal(self, action: str) -> None:
        why = self._refusal(action)
        if why == "too_small":
            self.bell()
        elif why == "running":
            self.say(f"Training is running (step {self.session.step}): press space or escape to stop it first.")
        elif why == "sweep":
            self.say("A sweep compares the rates it was given: [ and ] wait until it ends (escape stops it).")

    # --- phase actions -----------------------------------------------------------------

    def action_forward(self) -> None:
        self.follow("softmax")
        self._after(self.session.forward())

    def action_backward(self) -> None:
        self.follow("gradients")
        self._after(self.session.backward())

    def action_update(self) -> None:
        self.follow("gradients")
        self._after(self.session.update())

    def action_step(self) -> None:
        self.follow("loss")
        self._after(self.session.train_step())

    def action_undo(self) -> None:
        if not self.session.can_undo and self._before_load is not None:
            old, name = self._before_load
            self._before_load = None
            self.session = old
            self.position = 0
            self.refresh_panes()
            self.say(f"Back to the session you had before loading {name}: step {old.step}, {old.optimizer.name}.")
            return
        self._after(self.session.undo())

    def action_redo(self) -> None:
        self._after(self.session.redo())

    # --- time travel ---------------------------------------------------------------------

    def action_scrub_step(self, delta: int) -> None:
        """< and >: the previous / next step on this branch (its last state)."""
        s = self.session
        target = s.step + delta
        if target < s.start_step or target > s.last_step:
            edge = "the first" if delta < 0 else "the newest"
            self.say(f"Step {s.step} is {edge} step of this branch.")
            return
        self._travel(s.goto(target))

    def action_scrub_action(self, delta: int) -> None:
        """, and .: one action back / forward (a phase, a step or a setting), like z and Z."""
        self._after(self.session.undo() if delta < 0 else self.session.redo())

    def action_scrub_home(self) -> None:
        self._travel(self.session.goto(self.session.start_step))

    def action_scrub_end(self) -> None:
        s = self.session
        self._travel(s.goto_position(s.timeline.length))

    def action_goto_count(self) -> None:
        """A typed count, then G: go to that step."""
        if not self.count:
            self.say("Type a step number first, then G: e.g. 40G goes to step 40.")
            return
        n, self.count = int(self.count), ""
        self._travel(self.session.goto(n))

    def action_branches(self) -> None:
        """B: the branch picker; the chosen branch's newest state."""

        def chosen(branch: int | None) -> None:
            if branch is not None and not self._refused("branches"):
                b = next(x for x in self.session.branches() if x.id == branch)
                self._travel(self.session.goto_position(b.length, branch=branch))

        self.push_screen(BranchPicker(self.session.branches(), narrate.compare_branches(self.session)), chosen)

    def action_fork(self) -> None:
        """F: a branch from the cursor with another optimizer or learning rate."""
        s = self.session

        def check(optimizer: str | None, lr: float | None) -> str | None:
            if optimizer is not None and optimizer not in OPTIMIZERS:
                return f"unknown optimizer {optimizer!r}: sgd, momentum or adam"
            if lr is not None and (why := lr_problem(lr)):
                return f"the learning rate {lr:g} {narrate.LR_PROBLEMS[why]}"
            if (optimizer or s.optimizer.name) == s.optimizer.name and lr in (None, s.lr):
                return "that is what this branch uses: change the optimizer or the learning rate"
            return None

        def chosen(choice) -> None:
            if choice is not None and not self._refused("fork"):
                r = s.fork_branch(*choice)
                self.refresh_panes()
                self.say(narrate.forked(s, r))

        self.push_screen(ForkForm(s.optimizer.name, s.lr, check), chosen)

    def action_sweep(self) -> None:
        """S: a learning-rate sweep from here: one branch per rate, the same number of steps each."""

        def chosen(choice) -> None:
            if choice is not None and not self._refused("sweep"):
                lrs, steps = choice
                self.start_run(steps, sweep=lrs)

        self.push_screen(SweepForm(self.run_n), chosen)

    def action_run_until(self) -> None:
        """/: type a condition, then train until the first step where it holds."""
        targets = [t for _, _, t in tracked(self.session)]

        def chosen(bp) -> None:
            if bp is not None and not self._refused("run_until"):
                self._until_text = bp.text
                self.start_run(None, until=bp)

        self.push_screen(BreakpointInput(lambda e: parse_breakpoint(e, targets), self._until_text), chosen)

    def _travel(self, result: ActionResult) -> None:
        self.refresh_panes()
        with self.session.lock:
            self.say(narrate.travel(self.session, result))

    # --- runs --------------------------------------------------------------------------

    def action_run(self) -> None:
        n = int(self.count) if self.count else self.run_n
        self.count = ""
        self.start_run(n)

    def action_digit(self, d: int) -> None:
        if len(self.count) < 7:
            self.count += str(d)
        self.refresh_panes()

    def action_toggle_play(self) -> None:
        if self._release_wait():
            return
        if self.running:
            self.action_stop()
        else:
            self.start_run(None)

    def action_stop(self) -> None:
        if self.running:
            self.runner.stop()
        elif self.count:
            self.count = ""
            self.refresh_panes()
            self.say("Count cleared.")

    def start_run(self, n: int | None, until=None, sweep: tuple[float, ...] = ()) -> None:
        """Train ``n`` steps (None: until paused, or until a condition of ``until`` holds) in the runner's thread."""
        if n == 0:
            self.say("Ran 0 steps.")
            return
        if self.running:  # one run at a time (every way in is refused during one; this is the last word)
            self._explain_refusal("run")
            return
        self.running = True
        self._playing = n is None and until is None
        self._sweeping = bool(sweep)
        self._running_until = None if until is None else until.text
        self.follow("loss")
        self.refresh_panes()
        if sweep:
            self.say(f"Sweeping lr {', '.join(f'{x:g}' for x in sweep)}: {n} steps each from step {self.session.step}…")
        elif until is not None:
            self.say(f"Running until {until.text}… (space or escape stops)")
        else:
            self.say(f"Running {n} steps… (space or escape stops)" if n else "Playing… (space pauses)")
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(RUN_SWITCH_INTERVAL)
        self.runner.start(self.session, n, until, sweep)
        self._ui_mark = (time.thread_time(), time.monotonic())
        self.set_timer(REFRESH_INTERVAL, self._refresh_during_run)

    def on_run_progress(self, message: RunProgress) -> None:
        """Between full refreshes (slow to paint, so rationed during a run), keep the
        status line and the loss curve current."""
        if not self.running or self._svg_pending:  # (a screenshot waits for the screen as it is)
            return
        s = self.session
        with s.lock:
            self.frame = build_frame(s, self.position)
            self.query_one(LossPane).frame = self.frame
        self._show_status()

    def _refresh_during_run(self) -> None:
        """Refresh the panes while a run goes on (here, on the UI thread: the worker never
        waits for the screen), then schedule the next refresh after the screen is painted."""
        if not self.running:
            return
        if self._svg_pending:  # a screenshot is being taken of the screen as it is: not yet
            self.set_timer(REFRESH_INTERVAL, self._refresh_during_run)
            return
        cpu, wall = self._ui_mark
        self._ui_mark = (time.thread_time(), time.monotonic())
        self.refresh_panes()
        self.call_after_refresh(self._schedule_refresh, cpu, wall)

    def _schedule_refresh(self, cpu: float, wall: float) -> None:
        # this thread's CPU time since the previous refresh began (painting, keys): the next
        # refresh waits until that is at most RUN_UI_SHARE of the time between refreshes
        used = time.thread_time() - cpu
        wait = max(REFRESH_INTERVAL, used / RUN_UI_SHARE) - (time.monotonic() - wall)
        self.set_timer(max(wait, REFRESH_INTERVAL / 2), self._refresh_during_run)

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback(*args)`` on the UI thread, without waiting for it (unlike
        ``call_from_thread``): the UI may be waiting for this thread, e.g. when quitting."""
        self.post_message(UiCall(callback, args))

    def on_ui_call(self, message: UiCall) -> None:
        message.callback(*message.args)

    def _end_run(self) -> None:
        self.running = False
        self._running_until = None
        sys.setswitchinterval(self._switch_interval)

    def on_run_finished(self, message: RunFinished) -> None:
        if not self.running or message.worker is not self.runner.worker:  # (not the current run's)
            return
        self._end_run()
        result = message.result
        if result.action == "sweep":  # every branch drawn on the curve; the compare table at once
            self.refresh_panes()
            self.say(f"Swept lr {result.detail}, {result.steps} steps each: the curve overlays the branches.")
            self.push_screen(BranchPicker(self.session.branches(), narrate.compare_branches(self.session)))
            return
        self._after(result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The training thread raised: the run is over. The session goes back to the state of its
        last complete action (exactly, through the timeline), and the screen says what happened."""
        if event.worker is not self.runner.worker or event.state != WorkerState.ERROR or not self.running:
            return
        self._end_run()
        s = self.session
        with s.lock:
            s.recover()
        self.refresh_panes()
        error = event.worker.error
        self.say(
            f"Training stopped: the training thread failed ({type(error).__name__}: {error}). "
            f"The session is back at the last complete action, step {s.step}; keys work again."
        )

    # --- navigation and settings ---------------------------------------------------------

    def action_speed(self, direction: int) -> None:
        """- and +: slow motion for runs and plays, on a ladder up to as fast as possible."""
        old = self.pacer.speed
        new = faster(old) if direction > 0 else slower(old)
        if new == old:
            self.say(f"Speed is already {'as fast as possible' if new is None else speed_text(new)}.")
            return
        self.pacer.speed = new  # a run in progress picks it up at its next step
        self._show_status()
        self.say(
            f"Speed: {speed_text(new)}"
            + (" (each step shown as it happens)." if new is not None and new <= 10 else ".")
            + " - slows down, + speeds up."
        )

    def action_move(self, delta: int) -> None:
        if delta > 0 and self._release_wait():
            return
        n = n_positions(self.session)
        self.position = (self.position + delta) % n
        self.refresh_panes()
        if not self.running:
            with self.session.lock:
                if self.session.forward_result is not None:
                    self.say(narrate.forward(self.session, self.position))
                else:
                    self.say(f"Position {self.position + 1} of {n}. Press f to see what the model predicts there.")

    def action_cycle_optimizer(self) -> None:
        names = list(OPTIMIZERS)
        name = names[(names.index(self.session.optimizer.name) + 1) % len(names)]
        r = self.session.set_optimizer(name)
        self.refresh_panes()
        if not r.ok:
            self.say(narrate.refused(self.session, r))
            return
        lr, usual = self.session.lr, DEFAULT_LR[name]
        hint = "" if lr == usual else f" {name}'s usual lr is {usual:g}: [ and ] change it."
        if name == "adam":  # the lesson's alpha is 0.001; this tiny model learns in time at ten times that
            hint += " (The lesson's Adam uses 0.001: on its sentence that takes about 13 times as many steps.)"
        self.say(f"Optimizer: {name} (its state starts from zero), lr {lr:g}.{hint}")

    def action_sample(self) -> None:
        """Sample a sentence from the model as it is now and show it beside the earlier ones."""
        s = self.session
        with s.lock:
            # deterministic: the same seed, step and number of samples give the same words
            rng = np.random.default_rng((s.config.seed, s.step, len(self.samples)))
            words = sample(s.model, s.data, [], SAMPLE_WORDS, self.temperature, None, rng)
            self.samples.append(Sample(s.step, self.temperature, tuple(words)))
        self._show_samples()

    def action_sample_temperature(self) -> None:
        self.temperature = TEMPERATURES[(TEMPERATURES.index(self.temperature) + 1) % len(TEMPERATURES)]
        self._show_samples()

    def _show_samples(self) -> None:
        if isinstance(self.screen, SamplesScreen):
            self.screen.show(self.samples, self.temperature)
        else:
            self.push_screen(SamplesScreen(self.samples, self.temperature))

    def action_chain(self) -> None:
        """x: the chain rule for the weight with the largest gradient (b first, if needed)."""
        if self.session.phase != BACKWARD:
            self.say("The chain rule needs fresh gradients: press b first, then x.")
            return
        self._chain_rank = 0
        self._show_chain(*self._chain_weight(0))

    def action_chain_next(self) -> None:
        self._chain_rank = (self._chain_rank + 1) % CHAIN_TOP
        self._show_chain(*self._chain_weight(self._chain_rank))

    def show_chain_for(self, text: str) -> None:
        """A weight typed in the chain-rule view, e.g. output.W[8,1]."""
        try:
            name, index = parse_weight(text)
            shape = self.session.model.slices[name][1] if name in self.session.model.slices else None
            if shape is None:
                raise ValueError(f"no tensor {name!r}: {', '.join(self.session.model.slices)}")
            if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
                raise ValueError(f"{name} has shape {'×'.join(map(str, shape))}: {text!r} is outside it")
        except ValueError as e:
            if isinstance(self.screen, ChainRuleScreen):
                self.screen.show(self._chain_view, str(e))
            return
        self._show_chain(name, index)

    def _chain_weight(self, rank: int) -> tuple[str, tuple[int, ...]]:
        """The weight with the ``rank``-th largest |gradient|."""
        m = self.session.model
        flat = top_k_abs(self.session.backward_result.grads, rank + 1)[rank]
        for name, (sl, shape) in m.slices.items():
            if sl.start <= flat < sl.stop:
                return name, tuple(int(v) for v in np.unravel_index(flat - sl.start, shape))
        raise AssertionError(flat)

    def _show_chain(self, name: str, index: tuple[int, ...]) -> None:
        s = self.session
        with s.lock:
            c = chain_terms(s, name, index)
            sl, shape = s.model.slices[name]
            flat = sl.start + int(np.ravel_multi_index(index, shape))
            probe = [(eps, *nudge_probe(s, flat, eps)) for eps in (NUDGE, -NUDGE)]
            f = s.forward_result
            words = [s.data.target_word(int(p)) for p in f.positions]
        self._chain_view = ChainView(c, words, probe)
        if isinstance(self.screen, ChainRuleScreen):
            self.screen.show(self._chain_view)
        else:
            self.push_screen(ChainRuleScreen(self._chain_view))

    def action_toggle_clip(self) -> None:
        s = self.session
        s.set_clip(CLIP_NORM if s.clip is None else None)
        self.refresh_panes()
        if s.clip is None:
            self.say("Gradient clipping off: updates use the whole gradient. k turns it on.")
        else:
            self.say(
                f"Gradient clipping on: a gradient longer than {s.clip:g} is scaled down to length {s.clip:g} "
                "before the update (it keeps its direction). k turns it off."
            )

    def action_lr(self, direction: int) -> None:
        cur = self.session.lr
        if direction > 0:
            new = next((x for x in LR_LADDER if x > cur * 1.0001), None)
        else:
            new = next((x for x in reversed(LR_LADDER) if x < cur / 1.0001), None)
        if new is None:
            self.say(f"Learning rate {cur:g} is already at the {'top' if direction > 0 else 'bottom'} of the ladder.")
            return
        r = self.session.set_lr(new)
        self.refresh_panes()
        hint = " Large: watch for divergence." if new >= 1 else ""
        self.say(
            f"Learning rate {cur:g} → {new:g}: the next update moves each parameter by lr × grad.{hint}"
            if r.ok
            else narrate.refused(self.session, r)
        )

    def action_toggle_log(self) -> None:
        pane = self.query_one(LossPane)
        pane.log_scale = not pane.log_scale
        pane.show_table = False
        self.follow("loss")
        self.refresh_panes()

    def action_toggle_positions(self) -> None:
        """t: P(target) at each position over the steps (the lesson's S15) instead of the loss."""
        self._loss_view(show_positions=not self.query_one(LossPane).show_positions, show_table=False)

    def action_toggle_table(self) -> None:
        self._loss_view(show_table=not self.query_one(LossPane).show_table)

    def _loss_view(self, **settings: bool) -> None:
        """Set what the loss pane draws, and bring it on screen in the compact layout."""
        pane = self.query_one(LossPane)
        for name, value in settings.items():
            setattr(pane, name, value)
        self.follow("loss")
        self.refresh_panes()

    def action_next_view(self) -> None:
        self.view = COMPACT_VIEWS[(COMPACT_VIEWS.index(self.view) + 1) % len(COMPACT_VIEWS)]
        self._apply_size(self.size.width, self.size.height)
        self.refresh_panes()
        if not self.query_one("#root").has_class("compact") and not self.presenter:
            self.say(
                f"Every pane is on screen at this size; v picks the one pane shown below "
                f"{COMPACT_WIDTH}x{COMPACT_HEIGHT} (next: {self.view})."
            )

    def follow(self, view: str) -> None:
        """In the compact layout, show the pane the action is about."""
        if self.view != view:
            self.view = view
            self._apply_size(self.size.width, self.size.height)

    def _to_browser(self, files: list[tuple[str, bytes | str]]) -> None:
        """Served in a browser (tui-trainer serve): send files as downloads, not to the server's disk."""
        for name, data in files:
            if isinstance(data, str):
                self.deliver_text(io.StringIO(data), save_filename=name)
            else:
                self.deliver_binary(io.BytesIO(data), save_filename=name)
        self.say(f"Sent {' and '.join(name for name, _ in files)} to your browser as a download.")

    def action_save_svg(self) -> None:
        """ctrl+s: an SVG of the screen. The panes are refreshed from one state of the session
        first (during a run the status line and the curve otherwise refresh more often than the
        rest), then captured once the screen shows it."""
        self.refresh_panes()
        self._svg_pending.append(self._shown_step)  # (from now on, until it is taken)
        self._save_svg(self._shown_step)

    @work(group="svg", exit_on_error=False)
    async def _save_svg(self, step: int) -> None:
        # two refreshes: what was queued before (the footer rebuilds itself after a refresh when
        # the allowed keys change) is done, and then laid out
        try:
            await self._painted()
            await self._painted()
        finally:  # (whatever happens, the live refreshes held for it go on)
            taken = step in self._svg_pending  # (not taken already by q)
            if taken:
                self._svg_pending.remove(step)
        if taken:
            self._capture_svg(step)

    def _capture_svg(self, step: int) -> None:
        name = f"tui-trainer-step-{step:05d}"
        if self.is_web:
            self._to_browser([(f"{name}.svg", self.export_screenshot())])
            return
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            path = free_stem(self.output_dir, name, (".svg",)).with_suffix(".svg")
            write_atomic(path, self.export_screenshot().encode("utf-8"))
        except OSError as e:
            self.say(f"Could not save the screenshot in {self.output_dir}: {e.strerror or e}.")
            return
        self.say(f"Saved a screenshot of step {step} to {path}.")

    def action_export(self) -> None:
        """e: the training history as JSON and CSV, written in a thread (a long history takes
        seconds to format). Both files hold one state: the run, if any, waits while they are made."""
        if not self.session.history:
            self.say("No training steps yet, so no history to export: press s or r first.")
            return
        self.say("Exporting the history…")
        self._export()

    @work(thread=True, group="files", exit_on_error=False)
    def _export(self) -> None:
        s = self.session
        with s.lock:  # one consistent state for both files
            name, rows = stem(s), len(s.history)
            files = [(".json", history_json(s)), (".csv", history_csv(s))]
        if self.is_web:
            self._from_thread(self._to_browser, [(name + ext, text) for ext, text in files])
            return
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            with self._naming:  # (two exports at once: each its own name)
                base = free_stem(self.output_dir, name, (".json", ".csv"))
                paths = [write_atomic(base.with_name(base.name + ext), text.encode("utf-8")) for ext, text in files]
        except OSError as e:
            self._from_thread(self.say, f"Could not export the history to {self.output_dir}: {e.strerror or e}.")
            return
        self._from_thread(self.say, f"Exported {rows} steps of history to {paths[0]} and {paths[1]}.")

    def action_save_checkpoint(self) -> None:
        """c: parameters, optimizer state, vocabulary, config, step and history (a .npz file),
        written in a thread."""
        self.say("Saving a checkpoint…")
        self._save_checkpoint()

    @work(thread=True, group="files", exit_on_error=False)
    def _save_checkpoint(self) -> None:
        s = self.session
        with s.lock:  # (c is refused during a run; the lock keeps a key pressed meanwhile out)
            step = s.step
            if self.is_web:
                with tempfile.TemporaryDirectory() as tmp:
                    path = save_checkpoint(s, Path(tmp) / f"{stem(s)}.npz")
                    data = path.read_bytes()
                self._from_thread(self._to_browser, [(path.name, data)])
                return
            try:
                self.output_dir.mkdir(parents=True, exist_ok=True)
                with self._naming:
                    path = free_stem(self.output_dir, stem(s), (".npz",)).with_suffix(".npz")
                    save_checkpoint(s, path)
            except OSError as e:
                self._from_thread(self.say, f"Could not save a checkpoint in {self.output_dir}: {e.strerror or e}.")
                return
        self._from_thread(self.say, f"Saved a checkpoint of step {step} to {path}. Shift+C loads the newest one.")

    def action_load_checkpoint(self, path: str | None = None) -> None:
        """Load a checkpoint (default: the newest ``tui-trainer-step-*.npz`` in the screenshot
        directory). It must have this session's vocabulary; on any error the session is untouched."""
        if path is None:
            found = sorted(self.output_dir.glob("tui-trainer-step-*.npz"), key=lambda p: p.stat().st_mtime)
            if not found:
                self.say(f"No checkpoint (tui-trainer-step-*.npz) in {self.output_dir}: press c to save one.")
                return
            path = str(found[-1])
        try:
            session = load_checkpoint(path, undo_memory=self.session.config.undo_memory)
        except CheckpointError as e:
            self.say(f"Checkpoint not loaded: {e}. The session is unchanged.")
            return
        if session.vocab.tokens != self.session.vocab.tokens:
            self.say(
                f"Checkpoint not loaded: {Path(path).name} was trained on another vocabulary "
                f"({len(session.vocab)} words, this session has {len(self.session.vocab)}). The session is unchanged."
            )
            return
        # z after the loaded session's own actions goes back to this one (kept until the next load)
        self._before_load = (self.session, Path(path).name)
        self.session = session
        self.position = 0
        self.refresh_panes()
        self.say(
            f"Loaded {path}: step {session.step}, {session.optimizer.name} lr {session.lr:g}. "
            "Press f to look; z goes back to the session you had."
        )

    # --- key scripts (--keys) ------------------------------------------------------------

    def _release_wait(self) -> bool:
        """If the key script waits for the presenter, let it go on (and do nothing else)."""
        if self._script_wait is None or self._script_wait.is_set():
            return False
        self._script_wait.set()
        return True

    def action_next_beat(self) -> None:
        """PageDown / Enter: a clicker's "next"; it only releases a key script's ``wait``."""
        self._release_wait()

    @work(exclusive=True, group="script")
    async def _play_script(self) -> None:
        """Play each beat of the script in turn, as if typed; wait for a run (r) to finish
        before the next beat (a play, space, lasts until the script pauses it)."""
        try:
            await self._painted()  # the first paint: a script's ctrl+s captures the whole screen
            for beat in self.key_script:
                await self._wait_for_run()
                if isinstance(beat, Pause):
                    await asyncio.sleep(beat.seconds)
                    continue
                if isinstance(beat, Wait):
                    self._script_wait = asyncio.Event()
                    self.refresh_panes()  # the status line says the script waits
                    await self._script_wait.wait()
                    self._script_wait = None
                    self.refresh_panes()
                    continue
                if self.key_delay:  # once per beat: a count and its r are one beat
                    await asyncio.sleep(self.key_delay)
                for key in beat:
                    if await self.press_key(key):  # it quit the app: the script ends here
                        return
            if self.exit_after:
                await self._files_written(screenshots=True)
                if self.running and self._playing:
                    self.action_stop()
                await self._wait_for_run(plays_too=True)
                await self._train_finished()
                if self.key_delay:
                    await asyncio.sleep(self.key_delay)
                self.exit(0)
        finally:
            self.script_playing = False

    async def press_key(self, key: str) -> bool:
        """One key (a Textual key name) as if typed, through the bindings of the screen on top
        (a dialog's own keys first); a key whose action may not run now says why, as typed.
        True if the key quit the app (q on a dialog closes the dialog instead)."""
        active = self.screen.active_bindings.get(key)
        if active is None:
            return False
        if not active.enabled:
            self._explain_refusal(KEY_ACTIONS.get(key, ""))
            return False
        await self.run_action(active.binding.action, active.node)
        if self.return_code is not None:  # the app is closing
            return True
        # a key that changes the screen shows it before the next one: ctrl+s captures what is seen
        await self._painted()
        return False

    async def _painted(self) -> None:
        """Wait until the screen has been refreshed."""
        done = asyncio.get_running_loop().create_future()
        self.screen.refresh()  # (a refresh must happen for the callback to run)
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        await done

    async def _files_written(self, screenshots: bool = False) -> None:
        """Wait for exports and checkpoints being written (threads), and with ``screenshots``
        for screenshots waiting for a refresh (never from a message handler: they need it to
        return), so that a script ending with ctrl+s or e keeps its file."""
        groups = ("files", "svg") if screenshots else ("files",)
        writers = [w for w in self.workers if w.group in groups]
        if writers:  # (an empty list would wait for every worker)
            await self.workers.wait_for_complete(writers)

    async def _train_finished(self, timeout: float = 5.0) -> None:
        """Wait (at most ``timeout`` s) for the training thread to return. Its result is in
        once ``running`` is False, but the thread may still be returning, and exiting then
        would cancel its worker; a stopped run ends within one step."""
        worker = self.runner.worker
        if worker is not None and not worker.is_finished:
            try:
                await asyncio.wait_for(asyncio.shield(worker.wait()), timeout)
            except (WorkerCancelled, WorkerFailed, TimeoutError):
                pass

    async def _wait_for_run(self, plays_too: bool = False) -> None:
        # a counted run, or a play being paused, ends by itself; a play goes on until paused
        while self.running and (plays_too or not self._playing or self.runner.stopping):
            await asyncio.sleep(0.01)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            first = []
            if self.lesson is not None and self.query("#lesson"):  # lesson mode: its own keys first
                from .lesson_mode import LESSON_KEYS

                first = LESSON_KEYS
            self.push_screen(HelpScreen(first))

    async def action_quit(self) -> None:
        """Quit once the files being written are whole and the training thread has returned (a
        run stops within one step); a screenshot still waiting for a refresh is taken now."""
        self.runner.stop()
        while self._svg_pending:
            self._capture_svg(self._svg_pending.pop(0))
        await self._files_written()
        await self._train_finished()
        self.exit(0)

    # --- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own "Screenshot" (to Downloads) and "Keys" panel would stand beside ctrl+s and ?
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys"):
                yield command
        for entry in KEYMAP:
            for title, key in entry.commands():
                yield SystemCommand(title, entry.help, partial(self.run_keymap_action, key.action))

    async def run_keymap_action(self, action: str) -> None:
        """Run a bound action as its key would (from the palette or a lesson): refused with the
        same explanation when it may not run now, or while a dialog waits for an answer."""
        name = action.split("(")[0]
        if self._refused(name):
            return
        if WHEN.get(name) == IDLE and any(not isinstance(s, CommandPalette) for s in self.screen_stack[1:]):
            self.say("A dialog is open: finish it (enter) or close it (escape) first.")
            return
        await self.run_action(action)
