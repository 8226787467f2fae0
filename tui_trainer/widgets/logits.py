"""Logits pane: every word's logit at the selected position, as bars diverging around zero (S3).

Drawn by hand: negative logits grow to the left of the zero axis, positive
ones to the right, both on one scale (the largest |logit| shown).
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

from core import Session
from core.readout import position_info, ranked

from .base import Pane, fit_cells, hbar, hbar_left
from .softmax import _rows_for


class LogitsPane(Pane):
    """A diverging horizontal bar chart of the logits, target marked with ◀."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Logits"
        self._words: list[str] = []
        self._values: list[float] = []
        self._target: int = -1
        self._hidden = 0
        self._message = "Press f: the forward pass computes a logit for every word."
        self._stale = False

    def show(self, session: Session, position: int) -> None:
        f = session.forward_result
        self._stale = session.stale
        if f is None:
            self._words, self._values = [], []
            self.border_subtitle = ""  # nothing shown, nothing stale
            self.refresh()
            return
        info = position_info(session, position)
        row = f.logits[info.index]
        order, hidden = ranked(row, _rows_for(self.content_size.height, len(row)), info.target_id)
        vocab = session.vocab.tokens
        self._words = [vocab[i] for i in order]
        self._values = [float(row[i]) for i in order]
        self._target = order.index(info.target_id)
        self._hidden = hidden
        self.border_subtitle = "stale" if self._stale else f"position {info.index + 1}"
        self.refresh()

    def on_resize(self) -> None:
        self.app.call_later(self.app.refresh_panes)  # the row budget depends on our height

    def render(self) -> Group | Text:
        if not self._values:
            return Text(self._message, style=self.ink.muted)
        width = self.content_size.width
        wlen = min(max(cell_len(w) for w in self._words), 10)
        num = 7
        side = max((width - wlen - num - 4) // 2, 2)
        scale = max(abs(v) for v in self._values) or 1.0
        lines = []
        ink = self.ink
        style = ink.muted if self._stale else ""
        for i, (w, v) in enumerate(zip(self._words, self._values, strict=True)):
            is_t = i == self._target
            t = Text(style=style)
            t.append(fit_cells(w, wlen), style=ink.target if is_t else "")
            t.append(" ")
            t.append(hbar_left(-v, scale, side) if v < 0 else " " * side, style=ink.bar_negative)
            t.append("│", style=ink.muted)
            t.append((hbar(v, scale, side) if v > 0 else "").ljust(side), style=ink.bar_positive)
            t.append(f"{v:>{num}.2f}")
            t.append(" ◀" if is_t else "", style=ink.target)
            lines.append(t)
        if self._hidden:
            lines.append(Text(f"… {self._hidden} more", style=ink.muted))
        return Group(*lines)
