"""The ? screen: every key with a sentence each."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..keymap import KEYMAP
from ..palette import Palette
from .dialog import Dialog


class HelpScreen(Dialog[None]):
    """Every key with a sentence each; any of escape, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, first: list[tuple[str, str]] | None = None) -> None:
        super().__init__()
        #: rows listed before the key table's (lesson mode's own keys)
        self.first = first or []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as v:
            v.border_title = "tui-trainer keys"
            v.border_subtitle = "escape closes"
            yield Static(
                "Each key moves training one visible step. Every number is computed live by a real NumPy model.\n"
            )
            yield Static(id="keys")

    def paint(self, ink: Palette) -> None:
        """The key table, the keys in the target colour."""
        keys = self.query("#keys")
        if not keys:
            return
        t = Table(box=None, show_header=False, padding=(0, 2), expand=True)
        rows = [*self.first, *((entry.shown, entry.help) for entry in KEYMAP)]
        # as wide as the widest key ('tab shift+tab': 10 cells cut it to 'tab shift…')
        t.add_column(style=ink.target, no_wrap=True, width=max(cell_len(shown) for shown, _ in rows))
        t.add_column()
        for shown, what in rows:
            t.add_row(shown, what)
        keys.first(Static).update(t)
