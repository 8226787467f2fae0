"""Lesson mode: the caption band that walks a learner through a lesson's scenes.

The band sits above the narration and holds the focus, so every key reaches its bindings
first (Textual checks bindings from the focused widget up to the app). It binds the lesson's
own keys (Enter next, Backspace back, Esc free play) and every key the main screen binds; its
``check_action`` takes only the keys the lesson needs now (a question's answer, the key a scene
waits for, which it notes and then passes on to the app's action) and leaves every other key to
the main screen's own binding. That works the same for a real key, for Pilot and for a ``--keys`` script.

The app tells the band of each new frame (``FrameShown``); the band then shows its numbers
again if anything it shows may have changed.

Each scene's state is recorded on entry as a timeline position (branch + position) with the
screen's view of it (one ``ViewState``); Backspace goes back there through ``Session.goto_position``,
which rebuilds the state exactly. Going forward again from the state a scene was left in
returns to the very state recorded for the next scene (no copy, no new branch).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import Static

from ..app import FrameShown, TrainerApp
from ..keymap import bindings
from ..keys import KEYS
from ..palette import palette
from ..viewstate import ViewState
from ..widgets.losscurve import LossPane
from .lessonfile import Lesson, Scene
from .placeholders import filled, placeholder_values

#: Textual key -> how the band writes it for a learner
_SHOWN = {"plus": "+", "minus": "−", "right": "→", "left": "←", "space": "Space", "escape": "Esc"}
_TOKEN = {v: k for k, v in KEYS.items() if len(k) == 1}


def shown(key: str) -> str:
    """A Textual key name as a learner types it."""
    return _SHOWN.get(key, _TOKEN.get(key, key))


def _app_bindings() -> list[tuple[str, Binding]]:
    """(key, the app's binding) for every key the app binds, in the app's order."""
    out = []
    for b in bindings():
        if isinstance(b, Binding):
            out += [(k.strip(), b) for k in b.key.split(",")]
    return out


#: lesson mode's own keys, once: (key, footer label, how the footer writes it, the help's sentence);
#: the band's bindings and the help's first rows (?) come from it
OWN_KEYS: tuple[tuple[str, str, str, str], ...] = (
    (
        "enter",
        "Next scene",
        "⏎",
        "Lesson: the next scene (answer the scene's question first; keys it waits for are pressed for you).",
    ),
    ("backspace", "Back", "⌫", "Lesson: the scene before, its state restored exactly through the timeline."),
    (
        "escape",
        "Free play",
        "esc",
        "Lesson: leave lesson mode and keep the model as it is for free play (during a run: stop it).",
    ),
)
#: app keys the band also takes as "next", where the scene does not use them itself
NEXT_TOO = ("space", "right")
LESSON_KEYS: list[tuple[str, str]] = [(key, text) for key, _, _, text in OWN_KEYS] + [
    ("space →", "Lesson: the next scene too, where the scene does not use the key itself.")
]


def _band_bindings() -> list[Binding]:
    """The band's bindings: its own keys, then an observer for each key the app binds (with the
    app binding's description and visibility, so the footer reads as in free play)."""
    own = [Binding(key, f"lesson_key({key!r})", label, key_display=glyph) for key, label, glyph, _ in OWN_KEYS]
    seen = {key for key, *_ in OWN_KEYS}
    rest = []
    for key, b in _app_bindings():
        if key not in seen:
            seen.add(key)
            if key in NEXT_TOO:  # taken only when they mean "next": ⏎ Next scene says it
                rest.append(Binding(key, f"lesson_key({key!r})", "Next scene", show=False))
            else:
                rest.append(Binding(key, f"lesson_key({key!r})", b.description, show=b.show, tooltip=b.tooltip))
    return own + rest


@dataclass(frozen=True)
class Mark:
    """Where a scene starts: its timeline position and the screen's view of it."""

    branch: int
    position: int
    view: ViewState
    session: int  # id() of the session it belongs to (C loads a checkpoint as another session)


class LessonBand(Static):
    """The lesson's caption, question and hint, in a bordered band above the narration."""

    can_focus = True
    SCOPED_CSS = False  # the rules below style the app's panes and layout classes too
    DEFAULT_CSS = """
    LessonBand {
        height: auto;
        max-height: 10;
        border: round $success;
        border-title-color: $text-success;
        border-title-style: bold;
        border-subtitle-color: $foreground;
        padding: 0 1;
        background: $surface;
    }
    LessonBand:focus { background-tint: $foreground 0%; }
    .too-small LessonBand { display: none; }
    """
    BINDINGS = _band_bindings()

    def __init__(self, lesson: Lesson, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.lesson = lesson
        #: the scene on screen (0-based)
        self.index = 0
        #: each visited scene's starting state, and the state each was left in (for going forward again)
        self.marks: dict[int, Mark] = {}
        self.exits: dict[int, tuple[int, int, int]] = {}
        #: the learner's answer to the scene's question (a key name), None before it
        self.answer: str | None = None
        #: how many of the scene's waited keys were pressed, in order
        self.waited = 0
        #: set while the band plays no keys (a scene's entry keys, or its waits for Enter)
        self._idle = asyncio.Event()
        self._idle.set()
        #: the caption as last shown (tests compare it with the panes)
        self.caption_text = ""
        self._signature: tuple | None = None

    @property
    def playing(self) -> bool:
        """True while the band plays keys (a scene's entry keys, or its waits for Enter)."""
        return not self._idle.is_set()

    @playing.setter
    def playing(self, value: bool) -> None:
        if value:
            self._idle.clear()
        else:
            self._idle.set()

    @property
    def scene(self) -> Scene:
        return self.lesson.scenes[self.index]

    @property
    def trainer(self) -> TrainerApp:
        return self.app  # type: ignore[return-value]

    @property
    def done(self) -> bool:
        """The scene's question is answered and its waited keys pressed."""
        q = self.scene.question
        return (q is None or self.answer is not None) and self.waited >= len(self.scene.wait_keys)

    # --- lifecycle -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.focus()
        self.trainer.watch_frames(self)
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.show_scene())  # its colours
        self.playing = True
        self._go(0)

    def on_unmount(self) -> None:
        self.trainer.watch_frames(self, False)
        self.app.theme_changed_signal.unsubscribe(self)  # (its callback holds the band)

    def _now(self) -> tuple:
        """What the band's numbers depend on, besides the scene (a run changes it as it goes)."""
        app, s = self.trainer, self.trainer.session
        pane = app.query_one(LossPane)
        return (id(s), s.branch, s.position, s.step, app.position, app.running, pane.show_table, pane.show_positions)

    def on_frame_shown(self, _message: FrameShown) -> None:
        for pane in self.trainer.query("#main > Pane"):  # (a GPT's Attention pane mounts with its first frame)
            pane.set_class(pane.id in self.scene.panes, "lesson-focus")
        if self._now() != self._signature:
            self.show_scene()

    # --- keys ----------------------------------------------------------------------------

    def _wants(self, key: str) -> bool:
        """Whether the lesson takes ``key`` now; every other key goes straight to the app's own
        binding (and the footer shows the app's binding, enabled or not, as in free play)."""
        app = self.trainer
        if self.playing or key in ("enter", "backspace"):
            return True
        if key == "escape":  # escape stops a run or clears a count first
            return not (app.running or app.count)
        q = self.scene.question
        if q is not None and self.answer is None and key in map(KEYS.get, q.choices):
            return True
        if self.waited < len(self.scene.wait_keys) and key == self.scene.wait_keys[self.waited]:
            return True
        # Space and → mean "next" only where unambiguous: the scene neither plays nor waits for them
        last = self.index + 1 >= len(self.lesson.scenes)
        return key in NEXT_TOO and self.done and not last and not app.running and key not in self._scene_keys()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "lesson_key" and parameters:
            return self._wants(str(parameters[0]))
        return True

    async def action_lesson_key(self, key: str) -> None:
        """A key the lesson takes (``_wants``): its own keys act on the lesson; a question's answer
        is noted; a waited key is noted and then does what the app's binding does. A scene's keys
        are played here, awaited: a key script (or a key typed meanwhile) goes on after them."""
        app = self.trainer
        if self.playing:  # the scene's own keys are being played: a key now would interleave with them
            if not app.player.playing:
                app.bell()
                return
            # a key script's next key waits for them (it runs in its own task: waiting here
            # blocks no message the scene's keys need, such as a run's end)
            await self._idle.wait()
            if not self._wants(key):
                await self._press(key, wait_for_run=False)
                return
        if key == "enter":
            self._next()
        elif key == "backspace":
            self._back()
        elif key == "escape":
            self.leave()
        elif (q := self.scene.question) is not None and self.answer is None and key in map(KEYS.get, q.choices):
            self.answer = key
            self.show_scene()
        elif self.waited < len(self.scene.wait_keys) and key == self.scene.wait_keys[self.waited]:
            if self.scene.question is not None and self.answer is None:
                app.say(f"First your prediction: press {self._choices()}. Then {shown(key)} shows the answer.")
                return
            self.waited += 1
            await self._press(key, wait_for_run=False)  # what the key always does
            self._follow()
            self.show_scene()
        else:  # Space or → where it means "next"
            self._next()
        if not self.playing:  # (a scene now playing refreshes them when it is done: no flash between)
            self.refresh_bindings()  # what the lesson takes next changed: the footer follows

    def _scene_keys(self) -> tuple[str, ...]:
        return self.scene.entry_keys + self.scene.wait_keys

    def _choices(self) -> str:
        q = self.scene.question
        return " or ".join(shown(KEYS[c]) for c in q.choices) if q else ""

    # --- moving between scenes -------------------------------------------------------------

    def _here(self) -> tuple[int, int, int]:
        s = self.trainer.session
        return (id(s), s.branch, s.position)

    def _next(self) -> None:
        """Enter: the question first, then the waited keys (pressed for the learner), then the
        next scene. Keys are played by a worker, so this returns at once: the app's messages
        (a run's end among them) keep flowing while the scene plays."""
        app = self.trainer
        if app.running:
            app.say("A run is going: let it finish (or press space or escape to stop it), then Enter.")
            return
        if self.scene.question is not None and self.answer is None:
            app.say(f"Your prediction first: press {self._choices()}.")
            return
        if self.waited < len(self.scene.wait_keys):  # Enter presses the waited keys for the learner
            self.playing = True
            self._play_waits()
            return
        if self.index + 1 >= len(self.lesson.scenes):
            app.say("That was the last scene. Backspace goes back; Esc leaves lesson mode for free play.")
            return
        if app.session.divergence is not None:  # the next scenes talk of learning: not from an exploded model
            app.say(
                f"The model diverged at step {app.session.step}: the next scenes would read it as learning. "
                "Press z to take the step back (or Backspace), then Enter."
            )
            return
        self.playing = True
        self._go(self.index + 1)

    def _back(self) -> None:
        app = self.trainer
        if app.running:
            app.say("A run is going: stop it (space or escape) before going back.")
            return
        if self.index == 0:
            app.say("This is the first scene.")
            return
        if self.marks[self.index - 1].session != id(app.session):
            app.say("A checkpoint was loaded since that scene: its state is not on this session's timeline.")
            return
        self.index -= 1
        self._reset_scene()
        self._highlight()  # that scene's panes, not this one's
        self._restore(self.marks[self.index])
        app.say(f"Back to scene {self.index + 1}: the model as it was then (step {app.session.step}), exactly.")
        self.show_scene()

    def _reset_scene(self) -> None:
        self.answer, self.waited = None, 0

    @work(exclusive=True, group="lesson")
    async def _go(self, i: int) -> None:
        """Enter scene ``i``: the state recorded for it if the learner left scene i-1 where it was
        left before; otherwise play its keys from here (and forget the scenes after it)."""
        self.playing = True
        try:
            here = self._here()
            same = i in self.marks and i > 0 and self.exits.get(i - 1) == here
            same = same and self.marks[i].session == id(self.trainer.session)
            if i > 0:
                self.exits[i - 1] = here
            self.index = i
            self._reset_scene()
            self._highlight()
            if same:
                self._restore(self.marks[i])
            else:
                for k in [k for k in self.marks if k >= i]:
                    del self.marks[k]
                for k in [k for k in self.exits if k >= i]:
                    del self.exits[k]
                self.show_scene()
                for key in self.scene.entry_keys:
                    await self._press(key)
                s = self.trainer.session
                self.marks[i] = Mark(s.branch, s.position, self.trainer.view_state(), id(s))
        finally:
            self.playing = False
        self.show_scene()
        self.refresh_bindings()  # what the lesson takes now changed: the footer follows

    @work(exclusive=True, group="lesson")
    async def _play_waits(self) -> None:
        self.playing = True
        try:
            while self.waited < len(self.scene.wait_keys):
                key = self.scene.wait_keys[self.waited]
                self.waited += 1
                await self._press(key)
            self._follow()
        finally:
            self.playing = False
        self.show_scene()
        self.refresh_bindings()  # what the lesson takes now changed: the footer follows

    async def _press(self, key: str, wait_for_run: bool = True) -> None:
        """Do what the app's binding for ``key`` does (App.run_action); a scene's own keys also
        wait for a run they start (a learner's r runs while the lesson stays live)."""
        app = self.trainer
        action = next((b.action for k, b in _app_bindings() if k == key), None)
        if action is None:
            return
        await app.run_action(action, app.main_screen)
        while wait_for_run and app.running:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # let the run's last refresh land

    def _restore(self, mark: Mark) -> None:
        self.trainer.session.goto_position(mark.position, branch=mark.branch)
        self.trainer.show_view(mark.view)

    def _highlight(self) -> None:
        app = self.trainer
        for pane in app.query("#main > Pane"):
            pane.set_class(pane.id in self.scene.panes, "lesson-focus")
        self._follow()

    def _follow(self) -> None:
        """The compact and presenter layouts show the pane the scene is about (a key such as f
        shows its own pane: after the scene's keys the scene's pane comes back)."""
        app = self.trainer
        # (a pane this app does not have, such as attention before it existed, is passed over)
        shown_panes = [p for p in self.scene.panes if p in app.main_screen.views()]
        for pane in reversed(shown_panes):  # the first wins, bar one the layout always shows
            app.main_screen.follow(pane, unless_shown=True)
        if shown_panes:
            app.refresh_panes()

    def leave(self) -> None:
        """Esc: free play on the model as it is; the band and the highlights go."""
        app = self.trainer
        for pane in app.query("#main > Pane"):
            pane.remove_class("lesson-focus")
        app.say(
            f"Free play: the model stays as the lesson left it (step {app.session.step}). "
            "Every key works; ? lists them."
        )
        self.remove()

    # --- rendering -------------------------------------------------------------------------

    def show_scene(self) -> None:
        app = self.trainer
        s = app.session
        scene = self.scene
        ink = palette(self)
        with s.lock:
            values = placeholder_values(s, app.position)
            self._signature = self._now()
        self.caption_text = filled(scene.caption, values)
        self.border_title = f"Lesson {self.index + 1}/{len(self.lesson.scenes)} · {scene.label}"
        # the hint goes in the border (a row more for the panes the caption talks about)
        self.border_subtitle = f"{self._hint()} · ⌫ back · esc free play"
        t = Text(self.caption_text.strip())
        q = scene.question
        if q is not None:
            t.append("\n? ", style=ink.accent)
            t.append(filled(q.ask, values), style=ink.strong)
            if self.answer is None:
                t.append(f"  press {self._choices()}", style=ink.accent)
            else:
                mine = next(c for c in q.choices if KEYS[c] == self.answer)
                t.append(f"  you said {shown(self.answer)}", style=ink.accent)
                if self.waited >= len(scene.wait_keys) and not self.playing and not app.running:
                    right = mine == q.answer
                    t.append("\n✓ right, " if right else "\n✗ not quite, ", style=ink.good if right else ink.bad)
                    t.append(f"it is {shown(KEYS[q.answer])}: ", style=ink.strong)
                    t.append(filled(q.why, values))
        self.update(t)

    def _hint(self) -> str:
        scene = self.scene
        if self.playing:
            return "playing the scene's keys…"
        if scene.question is not None and self.answer is None:
            return f"predict first: {self._choices()}"
        if self.waited < len(scene.wait_keys):
            rest = " ".join(shown(k) for k in scene.wait_keys[self.waited :])
            return f"now press {rest} (or ⏎)"
        last = self.index + 1 >= len(self.lesson.scenes)
        return "the end" if last else "⏎ next"
