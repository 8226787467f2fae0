"""The status line and the narration bar."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from core import Session, perplexity
from core.readout import n_positions

from .base import fmt


class StatusBar(Static):
    """step, optimizer, lr, total loss, perplexity, and what the app is doing."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $boost; padding: 0 1; }
    """

    def show(self, session: Session, running: bool, count: str) -> None:
        t = Text()
        t.append("tui-trainer ", style="bold")
        t.append(f"step {session.step}  ", style="bold")
        t.append(f"{session.optimizer.name} lr {session.lr:g}  ")
        f = session.forward_result
        if f is not None:
            n = n_positions(session)
            mean = f.total_loss / n
            t.append(f"loss {fmt(f.total_loss, 4)}  ")
            t.append(f"ppl {fmt(perplexity(mean), 3)}  ", style="dim")
            if session.stale:
                t.append("(stale) ", style="yellow")
        if session.divergence is not None:
            t.append(f"DIVERGED at step {session.divergence.step}  ", style="bold red")
        if running:
            t.append("● running (space/esc stops)  ", style="bold green")
        if count:
            t.append(f"count {count}_ (r runs it)", style="bold cyan")
        self.update(t)


class Narration(Static):
    """One or two sentences on what just happened, with the live numbers."""

    DEFAULT_CSS = """
    Narration { height: auto; min-height: 2; max-height: 4; padding: 0 1; background: $panel; color: $text; }
    """
