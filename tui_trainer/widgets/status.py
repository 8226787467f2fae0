"""The status line and the narration bar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from ..pace import speed_text
from ..palette import palette, readable_text
from .base import fmt

if TYPE_CHECKING:
    from core.frame import Frame


class StatusBar(Static):
    """step, optimizer, lr, total loss, perplexity, and what the app is doing."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $boost; padding: 0 1; }
    """

    def show(
        self,
        frame: Frame,
        running: bool,
        count: str,
        waiting: bool = False,
        speed: float | None = None,
        until: str | None = None,
    ) -> None:
        # (text, style, drop order): when the line is too long (step 100,000 at 80 columns)
        # the hints go first, then the perplexity, then the program's name
        ink = palette(self)
        parts: list[tuple[str, Style | str, int]] = [
            ("tui-trainer ", ink.strong, 3),
            # looking back in time: say so, how far the branch goes, and where in the step
            (
                (f"viewing step {frame.step} of {frame.last_step} · {frame.phase}  ", ink.accent, 0)
                if frame.viewing
                else (f"step {frame.step}  ", ink.strong, 0)
            ),
            (f"{frame.optimizer} lr {frame.lr:g}  ", ink.text, 0),
            # what a token is, unless words (the lesson's): characters or BPE with its merges
            *([(f"tokens {frame.tokens}  ", ink.text, 2)] if frame.tokens != "word" else []),
            *([(f"clip {frame.clip:g}  ", ink.text, 0)] if frame.clip is not None else []),
        ]
        if frame.total_loss is not None and frame.mean_loss is not None:
            from core import perplexity  # (a frame means core is loaded)

            mean = frame.mean_loss
            if frame.full_batch:  # the lesson's total is over every position: it means something
                parts.append((f"total {fmt(frame.total_loss, 4)} · ", ink.text, 0))
            parts.append((f"mean {fmt(mean, 4)}  ", ink.text, 0))
            parts.append((f"ppl {fmt(perplexity(mean), 3)}  ", ink.muted, 2))
            if frame.stale:
                parts.append(("(stale) ", ink.warn, 0))
        if frame.diverged_at is not None:
            parts.append((f"DIVERGED at step {frame.diverged_at}  ", ink.bad, 0))
        if speed is not None:  # slow motion (- and +)
            parts.append((f"{speed_text(speed)}  ", ink.accent, 0))
        elif running:
            parts.append((f"{speed_text(speed)}  ", ink.text, 1))
        if running:
            parts += [("● running ", ink.good, 0)]
            if until:  # a breakpoint run: the condition it stops at
                parts += [(f"until {until} ", ink.good, 0)]
            parts += [("(space/esc stops)", ink.good, 1), ("  ", "", 0)]
        if count:
            parts += [(f"count {count}_ ", ink.accent, 0), ("(r runs it)", ink.accent, 1)]
        if waiting:  # a key script's ``wait``
            parts += [("▸ next: ", ink.accent, 0), ("space/→/PageDown/Enter", ink.accent, 1)]
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

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self.recolour()
        super().update(content, layout=layout)

    def recolour(self) -> None:
        """The text colour for the active theme: its own text colour on the panel is not always
        4.5:1 (solarized-light: 4.39:1)."""
        readable_text(self)
