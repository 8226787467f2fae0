"""The step-through debugger: a Textual app around one ``core.Session``.

Data flows one way: a key -> an action (on the main screen, or a room it hands the key to)
-> a call on the session -> ``refresh_panes`` builds one frame of readouts from the session's
new state and hands it to every pane. Long runs go to a thread worker, which refreshes the
panes at a bounded rate while keys stay live.

The app itself keeps the wiring (the session, the rooms, the runner's messages), the refresh
and the refusal rules (which keys may run now: ``check_action``). Its rooms, each an object
it owns: the main screen (``screens/main.py``: the panes and the actions on the session), the
run control (``runcontrol.py``), the file actions (``files.py``), samples (``sampling.py``),
the chain-rule view (``chainrule.py``) and the key-script player (``player.py``).

Paint first: given a ``session_factory`` instead of a session (the command line does this), the
app paints its frame before NumPy, ``core`` and the session load, then builds the session in a
thread (``startup.py``) and fills the panes in. Nothing this module imports at its top loads NumPy
or ``core``; the rooms' modules, which do, load with the session (``_attach``). Until then every
key but quit and help is refused (the footer greys them).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App, ComposeResult, SystemCommand
from textual.command import CommandPalette
from textual.events import Key, Resize
from textual.message import Message
from textual.message_pump import MessagePump
from textual.reactive import var
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker

from . import termguard
from .keymap import ALWAYS, ATTENTION_ACTIONS, IDLE, KEY_ACTIONS, KEYMAP, WHEN
from .keys import Beat
from .pace import Pacer
from .player import ScriptPlayer
from .screens.help import HelpScreen
from .screens.main import MainScreen
from .startup import BEFORE_SESSION, LOADING, SessionBuilt, build_in_thread, lesson_session
from .viewstate import ViewState
from .widgets.losscurve import LossPane
from .widgets.status import Narration, StatusBar

if TYPE_CHECKING:
    from core import ActionResult, Session
    from core.frame import Frame

    from .runner import RunFinished, RunProgress, UiCall

#: Served in a browser, the app checks this often (seconds) that its server is still there.
PARENT_CHECK_INTERVAL = 0.5


class FrameShown(Message):
    """The panes were handed a new frame of readouts (sent to each watcher, see ``watch_frames``)."""

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame


class TrainerApp(App[int]):
    """tui-trainer: watch a tiny language model learn, one key at a time."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # (absolute: LessonApp lives in another folder)
    TITLE = "tui-trainer"

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
        session_factory: Callable[[], Session] | None = None,
    ) -> None:
        """``session``: the session to show (default: the lesson's); or ``session_factory``, called in a
        thread after the first paint (its exception, if it raises one, ends the app with status 2 and
        is kept in ``startup_error``: the command line prints it once the terminal is restored)."""
        super().__init__()
        termguard.install()  # before the driver starts: Textual 8.2.8 crashes on some terminal input
        #: None until the factory's session is there (``session_factory``); then always set
        self.session: Session | None = None
        self._factory = session_factory
        #: what ``session_factory`` raised (the app then exits with status 2)
        self.startup_error: Exception | None = None
        self.run_n = run_n
        #: where ctrl+s, e and c write their files (and C looks for checkpoints)
        self.output_dir = Path(output_dir)
        #: presenter layout: context, softmax (or the pane an action is about) and loss, high contrast
        self.presenter = presenter
        self._theme_name = theme
        #: set before the first paint: the panes' text colours are computed from it (palette.py)
        self.theme = theme
        #: the selected prediction position (0-based, within the current forward pass)
        self.position = 0
        #: paces runs and plays at ``pacer.speed`` steps per second (None: as fast as possible)
        self.pacer = Pacer(speed)
        #: the step the panes show (refresh_panes); ctrl+s names its file after it
        self.shown_step = 0
        #: the readouts of the state on screen (refresh_panes builds it; the panes render it)
        self.frame: Frame | None = None
        #: widgets told of each new frame (FrameShown)
        self._frame_watchers: list[MessagePump] = []
        #: a parsed key script (beats, see ``keys.parse_script``; a plain key name is one beat) played on start
        script: list[Beat] = [(k,) if isinstance(k, str) else k for k in keys or []]
        self.player = ScriptPlayer(self, script, key_delay, exit_after)
        self.main_screen: MainScreen | None = None
        #: set when the session is there (``session_there``)
        self._session_set = asyncio.Event()
        if session_factory is None:
            self._attach(session or lesson_session())

    def _attach(self, session: Session) -> None:
        """Take ``session`` and make the rooms that work on it (their modules, and NumPy and ``core``
        with them, load here: after the first paint when the session comes from a factory)."""
        from .chainrule import ChainRule
        from .files import FileActions
        from .runcontrol import RunControl
        from .runner import Runner
        from .sampling import Sampler

        self.session = session
        self._session_set.set()
        #: owns the training thread (messages up: RunProgress, RunFinished)
        self.runner = Runner(self, self.pacer)
        # the rooms
        self.runs = RunControl(self)
        self.files = FileActions(self)
        self.sampler = Sampler(self)
        self.chain = ChainRule(self)

    def load_session(self) -> bool:
        """Build the session from ``session_factory`` now, on this thread, if it is not there yet (the
        tests' way, and a caller's that wants it before ``run``): True if the app has its session, False
        if the factory raised (kept in ``startup_error``)."""
        if self.session is None and self.startup_error is None:
            try:
                self._attach(self._factory())
            except Exception as e:
                self.startup_error = e
        return self.session is not None

    # --- wiring ------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        """The debugger's main screen, the first on the stack (Textual asks once, at the start)."""
        welcome = LOADING if self.session is None else _narrate().welcome(self.session)
        self.main_screen = MainScreen(self.presenter, welcome, self.band())
        return self.main_screen

    def band(self) -> Widget | None:
        """A widget for the main screen above the narration (lesson mode's caption band)."""
        return None

    def help_first(self) -> list[tuple[str, str]]:
        """Rows the help (?) lists before the key table's."""
        return []

    def compose(self) -> ComposeResult:
        # The main screen's widgets, mounted in it (the default screen) as an app's own are: before
        # the app mounts, without waiting for theirs. (A screen's own compose runs later, in its
        # task: on_mount, and a test's pilot, which starts once the app is mounted, would find
        # no panes, and the panes would first render before the app has its styles.)
        yield from self.main_screen.widgets()

    def on_mount(self) -> None:
        self.theme = self._theme_name
        self.theme_changed_signal.subscribe(self, self._recolour)
        self.main_screen.start(self.size.width, self.size.height)
        if self.session is not None:
            self._started()
        else:
            self.say(LOADING)  # (the panes wait for their frame: on_ready builds the session)
        self.player.start()  # (a key script waits for the session: ``session_there``)
        if self.is_web:  # served (tui-trainer serve): end with the server, even if it was killed
            self._server_pid = os.getppid()
            self.set_interval(PARENT_CHECK_INTERVAL, self._exit_if_orphaned)

    def _started(self) -> None:
        """The session is there: the welcome, the panes, the keys, a key script."""
        self.say(_narrate().welcome(self.session))  # in the theme's colours, on the layout's background
        self.refresh_panes()
        self.keys_start()

    async def session_there(self) -> None:
        """Wait until the app has its session (at once if it was given one)."""
        await self._session_set.wait()

    def on_ready(self) -> None:
        """The first frame is painted: now build the session, if it comes from a factory, in a thread
        (NumPy and ``core`` load there; the UI stays live, and q quits)."""
        if self.session is None and self.startup_error is None:
            build_in_thread(self, self._factory)

    def on_session_built(self, message: SessionBuilt) -> None:
        if message.session is None:  # the command line prints it once the terminal is restored
            self.startup_error = message.error
            self.exit(return_code=2)
            return
        self._attach(message.session)
        self.refresh_bindings()  # the footer's keys come alive
        self._started()

    def keys_start(self) -> None:
        """Give the focus to whatever takes the keys first (in free play nothing: the screen)."""

    def _exit_if_orphaned(self) -> None:
        if os.getppid() != self._server_pid:
            self.exit(0)

    def on_resize(self, event: Resize) -> None:
        self.main_screen.apply_size(event.size.width, event.size.height)
        self.call_later(self.refresh_panes)

    def _recolour(self, _theme: object) -> None:
        """Text takes its colours from the theme when it is built: after the palette's "Change
        theme" build it again, or it keeps the old theme's colours on the new background."""
        # (the panes take their colours from the theme as they render: Textual repaints them)
        self.query_one(Narration).recolour()
        self.show_status()

    def from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """Run ``callback(*args)`` on the UI thread, without waiting for it (unlike
        ``call_from_thread``): the UI may be waiting for this thread, e.g. when quitting."""
        from .runner import UiCall

        self.post_message(UiCall(callback, args))

    def on_input_garbled(self, message: termguard.InputGarbled) -> None:
        self.say(message.text)

    def on_ui_call(self, message: UiCall) -> None:
        message.callback(*message.args)

    def on_run_progress(self, message: RunProgress) -> None:
        self.runs.progress(message)

    def on_run_finished(self, message: RunFinished) -> None:
        self.runs.finished(message)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.session is not None:  # (the rooms are there)
            self.runs.failed(event)

    # --- rendering ---------------------------------------------------------------------

    def refresh_panes(self) -> None:
        """Build one frame of readouts from the session and hand it to every pane (the only
        place panes get state)."""
        s = self.session
        if s is None:  # (a resize before the session is there: the panes wait for it)
            return
        from core.frame import build_frame
        from core.readout import n_positions

        with s.lock:
            n = n_positions(s)
            self.shown_step = s.step
            self.position = max(0, min(self.position, n - 1))
            # presenter: the loss pane yields its rows to the panes above until there is a curve
            table = self.query_one(LossPane).show_table
            self.query_one("#root").set_class(self.presenter and len(s.history) < 2 and not table, "no-curve")
            frame = build_frame(s, self.position)
            if frame == self.frame:  # (half of them: compared once here, then by identity)
                frame = self.frame
            self.frame = frame
            self.main_screen.match_model()  # (a GPT's layouts have the Attention pane)
            for pane in self.query("#main > Pane"):
                pane.frame = frame
            self.show_status()
        self.frame_shown()

    def watch_frames(self, watcher: MessagePump, watch: bool = True) -> None:
        """Tell ``watcher`` of every new frame (a ``FrameShown`` message), or stop telling it."""
        if watch:
            self._frame_watchers.append(watcher)
        elif watcher in self._frame_watchers:
            self._frame_watchers.remove(watcher)

    def frame_shown(self) -> None:
        """Post ``FrameShown`` to the frame's watchers (the panes were just handed ``frame``)."""
        if self.frame is not None:
            for watcher in self._frame_watchers:
                watcher.post_message(FrameShown(self.frame))

    def show_status(self) -> None:
        """The status line: the current frame, and what the app is doing."""
        if self.frame is None:
            return
        self.query_one(StatusBar).show(
            self.frame,
            self.running,
            self.count,
            waiting=self.player.waiting,
            speed=self.pacer.speed,
            until=self.runs.until,
        )

    def say(self, text: str) -> None:
        self.query_one(Narration).update(text)

    def after(self, result: ActionResult) -> None:
        """The panes and the narration after an action on the session."""
        self.refresh_panes()
        with self.session.lock:
            self.say(_narrate().after(self.session, result, self.position))

    def travel(self, result: ActionResult) -> None:
        """The panes and the narration after a move in time."""
        self.refresh_panes()
        with self.session.lock:
            self.say(_narrate().travel(self.session, result))

    async def painted(self) -> None:
        """Wait until the screen has been refreshed."""
        done = asyncio.get_running_loop().create_future()
        self.screen.refresh()  # (a refresh must happen for the callback to run)
        self.call_after_refresh(lambda: done.done() or done.set_result(None))
        await done

    def view_state(self) -> ViewState:
        """The screen's own choices around the state on screen, as one value."""
        loss = self.query_one(LossPane)
        flags = (loss.log_scale, loss.show_positions, loss.show_table, *self.main_screen.attention_choices())
        return ViewState(self.position, self.view, *flags)

    def show_view(self, state: ViewState) -> None:
        """Show ``state``'s choices (a typed count is dropped), and the panes from them."""
        self.position = state.position
        self.count = ""
        pane = self.query_one(LossPane)
        pane.log_scale, pane.show_positions, pane.show_table = state.log_scale, state.show_positions, state.show_table
        self.main_screen.choose_attention(state.layer, state.head, state.numbers)
        self.main_screen.follow(state.view)  # the pane shown in the compact and presenter layouts
        self.refresh_panes()

    # --- which actions may run (keymap.WHEN; the footer greys the others) ----------------

    def _refusal(self, action: str) -> str | None:
        """Why ``action`` may not run now ("too_small", "running"), or None if it may."""
        if self.session is None and action not in BEFORE_SESSION:  # (the footer greys the keys)
            return "loading"
        if action in ATTENTION_ACTIONS and (self.frame is None or self.frame.attention is None):
            return "no_attention"
        when = WHEN.get(action, ALWAYS)
        if when == ALWAYS or (action == "toggle_play" and self.running):  # space pauses, always
            return None
        if self.too_small:  # nothing would show what the key did
            return "too_small"
        if when == IDLE and self.running:
            return "running"
        if action == "lr" and self.running and self.runs.sweeping:  # a sweep compares fixed rates
            return "sweep"
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: shown greyed in the footer, and the key does nothing (on_key says why)
        return None if self._refusal(action) else True

    def on_key(self, event: Key) -> None:
        """A key whose action is refused now says why (the binding itself does not run)."""
        if len(self.screen_stack) == 1 and (action := KEY_ACTIONS.get(event.key)):
            self.explain_refusal(action)

    def refused(self, action: str) -> bool:
        """True (and says why) if ``action`` may not run now: a dialog's answer arriving after a
        run started (from the palette) is refused like the key."""
        if self._refusal(action):
            self.explain_refusal(action)
            return True
        return False

    def explain_refusal(self, action: str) -> None:
        why = self._refusal(action)
        if why == "too_small":
            self.bell()
        elif why == "running":
            self.say(f"Training is running (step {self.session.step}): press space or escape to stop it first.")
        elif why == "no_attention":
            self.say("The MLP has no attention: n and tab work a GPT's Attention pane (tui-trainer --model gpt).")
        elif why == "sweep":
            self.say("A sweep compares the rates it was given: [ and ] wait until it ends (escape stops it).")

    # --- help, quit and the command palette -------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_first()))

    async def action_quit(self) -> None:
        """Quit once the files being written are whole and the training thread has returned (a
        run stops within one step); a screenshot still waiting for a refresh is taken now."""
        if self.session is None:  # still loading: nothing to wait for (the thread is a daemon)
            self.exit(0)
            return
        self.runner.stop()
        self.files.capture_pending()
        await self.files.written()
        await self.runs.thread_returned()
        self.exit(0)

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
        if self.refused(name):
            return
        if WHEN.get(name) == IDLE and any(not isinstance(s, CommandPalette) for s in self.screen_stack[1:]):
            self.say("A dialog is open: finish it (enter) or close it (escape) first.")
            return
        await self.run_action(action, self.main_screen)


def _narrate():
    """The narration module (it loads NumPy and ``core``: not before the first paint)."""
    from . import narrate

    return narrate
