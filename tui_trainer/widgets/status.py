"""The status line and the narration bar."""

from __future__ import annotations

from rich.cells import cell_len
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
        # (text, style, drop order): when the line is too long (step 100,000 at 80 columns)
        # the hints go first, then the perplexity, then the program's name
        parts: list[tuple[str, str, int]] = [
            ("tui-trainer ", "bold", 3),
            (f"step {session.step}  ", "bold", 0),
            (f"{session.optimizer.name} lr {session.lr:g}  ", "", 0),
            *([(f"clip {session.clip:g}  ", "", 0)] if session.clip is not None else []),
        ]
        f = session.forward_result
        if f is not None:
            mean = f.total_loss / n_positions(session)
            if session.full_batch:  # the lesson's total is over every position: it means something
                parts.append((f"total {fmt(f.total_loss, 4)} · ", "", 0))
            parts.append((f"mean {fmt(mean, 4)}  ", "", 0))
            parts.append((f"ppl {fmt(perplexity(mean), 3)}  ", "dim", 2))
            if session.stale:
                parts.append(("(stale) ", "yellow", 0))
        if session.divergence is not None:
            parts.append((f"DIVERGED at step {session.divergence.step}  ", "bold red", 0))
        if running:
            parts += [("● running ", "bold green", 0), ("(space/esc stops)", "bold green", 1), ("  ", "", 0)]
        if count:
            parts += [(f"count {count}_ ", "bold cyan", 0), ("(r runs it)", "bold cyan", 1)]
        width = self.content_size.width or 1_000  # not laid out yet: no limit
        for level in (1, 2, 3):
            if sum(cell_len(text) for text, _, _ in parts) <= width:
                break
            parts = [p for p in parts if p[2] != level]
        self.update(Text.assemble(*((text, style) for text, style, _ in parts)))


class Narration(Static):
    """One or two sentences on what just happened, with the live numbers."""

    DEFAULT_CSS = """
    Narration { height: auto; min-height: 2; max-height: 4; padding: 0 1; background: $panel; color: $text; }
    """

    def __init__(self, content: str = "", **kwargs) -> None:
        # plain text: narration quotes words and keys ("[ and ]") that markup would eat
        super().__init__(content, markup=False, **kwargs)
