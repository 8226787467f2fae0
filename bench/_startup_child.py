"""Started by bench_startup.py in a pseudo-terminal: ``app`` (the real entry point,
``tui_trainer.cli.main``) or ``bare`` (a plain Textual app with the same widgets).
It appends to the file named by $STARTUP_MARK the wall-clock time of the first painted frame
(Textual's Ready event), the time the whole screen is ready (the app: its session is there and
the panes it filled are painted; the bare app: the first frame) and the widgets in the DOM,
then exits."""

import os
import sys
import time

MODE = sys.argv[1]
MARKS: dict[str, float] = {}  # painted, full (times); widgets


def note(app, what: str) -> None:
    MARKS[what] = time.time()
    if what == "painted":  # the widgets of the first frame (the footer adds its keys' later)
        MARKS["widgets"] = len(app.query("*"))
    if "painted" in MARKS and "full" in MARKS:
        with open(os.environ["STARTUP_MARK"], "a") as f:
            f.write(f"{MARKS['painted']!r} {MARKS['full']!r} {MARKS['widgets']}\n")
        app.exit(0)


if MODE == "app":
    import textual.app  # the entry point imports it too; needed here only for the hooks

    textual.app.App.on_ready = lambda app: note(app, "painted")
    # (the app module loads no NumPy at its top: importing it here moves nothing before the paint;
    # a checkout before paint-first loaded NumPy with it, where its entry point would have too)
    from tui_trainer.app import TrainerApp

    refresh = TrainerApp.refresh_panes

    def refresh_panes(self) -> None:
        refresh(self)
        if self.session is not None and "full" not in MARKS and not getattr(self, "_bench_asked", False):
            self._bench_asked = True  # the panes were handed their first frame: note it once painted
            self.call_after_refresh(lambda: note(self, "full"))

    TrainerApp.refresh_panes = refresh_panes
    from tui_trainer.cli import main

    sys.exit(main([]))

from textual.app import App  # noqa: E402 (only the bare app needs these)
from textual.binding import Binding  # noqa: E402 (only the bare app needs these)
from textual.containers import Container  # noqa: E402 (only the bare app needs these)
from textual.widgets import Footer, Static  # noqa: E402 (only the bare app needs these)


class Bare(App):
    """The app's widget tree, with Static text in place of the panes."""

    CSS = "#main { layout: grid; grid-size: 3 2; } #main > Static { border: round $primary; height: 1fr; }"
    BINDINGS = [Binding(k, "noop", k.upper()) for k in "fbusrzo[]?q"]

    def compose(self):
        with Container(id="root"):
            yield Static("status", id="status")
            with Container(id="main"):
                for name in ("context", "logits", "softmax", "gradients", "loss"):
                    yield Static(f"{name}\n" * 10, id=name)
            yield Static("narration", id="narration")
            yield Static("", id="too-small")
        yield Footer()

    def on_ready(self) -> None:
        note(self, "painted")
        note(self, "full")


Bare().run()
