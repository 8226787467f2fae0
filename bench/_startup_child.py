"""Started by bench_startup.py in a pseudo-terminal: ``app`` (the real entry point,
``tui_trainer.cli.main``) or ``bare`` (a plain Textual app with the same widgets).
On the first painted frame (Textual's Ready event) it appends the wall-clock time
to the file named by $STARTUP_MARK and exits."""

import os
import sys
import time

MODE = sys.argv[1]


def on_ready(app) -> None:
    with open(os.environ["STARTUP_MARK"], "a") as f:
        f.write(f"{time.time()!r} {len(app.query('*'))}\n")
    app.exit(0)


if MODE == "app":
    import textual.app  # the entry point imports it too; needed here only for the hook

    textual.app.App.on_ready = on_ready
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

    on_ready = on_ready


Bare().run()
