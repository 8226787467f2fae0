"""Logits pane: every word's logit at the selected position, as bars diverging around zero (S3).

Drawn by hand: negative logits grow to the left of the zero axis, positive
ones to the right, both on one scale (the largest |logit| shown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

from .base import Pane, fit_cells, hbar, hbar_left
from .softmax import _rows_for

if TYPE_CHECKING:
    from core.frame import Frame


class LogitsPane(Pane):
    """A diverging horizontal bar chart of the logits, target marked with ◀."""

    HINT = "Press f: the forward pass computes a logit for every word."

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Logits"

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None or frame.prediction is None:
            self.border_subtitle = ""  # nothing shown, nothing stale
        else:
            self.border_subtitle = "stale" if frame.stale else f"position {frame.info.index + 1}"

    def render(self) -> Group | Text:
        frame = self.frame
        if frame is None or frame.prediction is None:
            return Text(self.HINT, style=self.ink.muted)
        from core.readout import ranked  # (a frame means core is loaded)

        row, target = frame.prediction.logits, frame.info.target_id
        order, hidden = ranked(row, _rows_for(self.content_size.height, len(row)), target)
        words = [frame.vocab[i] for i in order]
        values = [float(row[i]) for i in order]
        width = self.content_size.width
        wlen = min(max(cell_len(w) for w in words), 10)
        num = 7
        side = max((width - wlen - num - 4) // 2, 2)
        if width and wlen + 2 * side + num + 4 > width:  # a narrow pane: the words give way, not the ◀ row
            wlen = max(width - 2 * side - num - 4, 3)
        scale = max(abs(v) for v in values) or 1.0
        lines = []
        ink = self.ink
        style = ink.muted if frame.stale else ""
        for i, w, v in zip(order, words, values, strict=True):
            is_t = i == target
            t = Text(style=style)
            t.append(fit_cells(w, wlen), style=ink.target if is_t else "")
            t.append(" ")
            t.append(hbar_left(-v, scale, side) if v < 0 else " " * side, style=ink.bar_negative)
            t.append("│", style=ink.muted)
            t.append((hbar(v, scale, side) if v > 0 else "").ljust(side), style=ink.bar_positive)
            t.append(f"{v:>{num}.2f}")
            t.append(" ◀" if is_t else "", style=ink.target)
            lines.append(t)
        if hidden:
            lines.append(Text(f"… {hidden} more", style=ink.muted))
        return Group(*lines)
