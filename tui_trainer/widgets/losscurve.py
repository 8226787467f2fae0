"""Loss-curve pane: total loss per step as a braille line chart (S12, S13, S15).

``g`` toggles a log scale; ``p`` swaps the chart for the lesson's training
progress table (P(target) at each position over the steps).
"""

from __future__ import annotations

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.color import Color

from core import Session
from core.readout import progress_rows

from ..palette import readable
from .base import Pane, fmt

_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # braille bits by [column][row]


def braille_chart(values: np.ndarray, width: int, height: int, log: bool = False) -> tuple[list[str], float, float]:
    """Lines of a braille line chart of ``values`` (2x4 dots a cell), and the y range drawn.

    Each dot column covers a slice of the values and is drawn from its min to its max,
    joined to the previous column, so spikes are never lost when downsampling; with
    fewer values than dot columns, the points are joined by straight segments.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if log:
        v = np.log10(np.maximum(v, 1e-12))
    if v.size == 0 or width < 1 or height < 1:
        return [], 0.0, 0.0
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    cols, rows = width * 2, height * 4
    grid = np.zeros((height, width), dtype=np.int32)
    if 1 < v.size < cols:  # stretch over the full width: one value per dot column
        v = np.interp(np.linspace(0, v.size - 1, cols), np.arange(v.size), v)
    edges = np.linspace(0, v.size, num=min(cols, v.size) + 1).astype(int)
    ncols = len(edges) - 1
    prev = None
    for c in range(ncols):
        chunk = v[edges[c] : max(edges[c + 1], edges[c] + 1)]
        y0 = int(round((chunk.min() - lo) / (hi - lo) * (rows - 1)))
        y1 = int(round((chunk.max() - lo) / (hi - lo) * (rows - 1)))
        if prev is not None:
            y0, y1 = min(y0, prev), max(y1, prev)
        prev = int(round((chunk[-1] - lo) / (hi - lo) * (rows - 1)))
        x = c if ncols == cols else int(c * (cols - 1) / max(ncols - 1, 1))
        for y in range(y0, y1 + 1):
            r = rows - 1 - y
            grid[r // 4, x // 2] |= _DOT[x % 2][r % 4]
    lines = ["".join(chr(0x2800 + b) if b else " " for b in row) for row in grid]
    if log:
        return lines, 10**lo, 10**hi
    return lines, lo, hi


class LossPane(Pane):
    """Total loss per step; the lesson's progress table with ``p``.

    Component class ``losscurve--line`` styles the curve (the theme's accent by default).
    """

    COMPONENT_CLASSES = {"losscurve--line"}
    DEFAULT_CSS = """
    LossPane > .losscurve--line { color: $accent; text-style: bold; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Loss curve"
        self.log_scale = False
        self.show_table = False
        self._losses: np.ndarray = np.zeros(0)
        self._current: float | None = None
        self._rows: list[tuple[int, list[float], float]] = []
        self._targets: list[str] = []
        self._step = 0

    def show(self, session: Session, position: int) -> None:
        h = session.history
        self._losses = np.fromiter((r.loss for r in h), dtype=np.float64, count=len(h))
        f = session.forward_result
        self._current = f.total_loss if f is not None else None
        self._step = session.step
        if self.show_table:
            self._rows = progress_rows(session, max(self.content_size.height - 2, 2))
            d = session.data
            idx = f.positions if f is not None and f.positions is not None else session.batch()
            self._targets = [d.target_word(int(i)) for i in idx[:6]]
        scale = "log" if self.log_scale else "linear"
        self.border_title = "Training progress" if self.show_table else f"Loss curve ({scale})"
        cur = f"total loss {fmt(self._current, 4)}" if self._current is not None else ""
        self.border_subtitle = f"step {self._step}  {cur}".strip()
        self.refresh()

    def render(self) -> Group | Text | Table:
        if self.show_table:
            return self._table()
        if self._losses.size == 0:
            return Text(
                "No steps yet: s takes one full step, r runs many. The total loss appears here.", style=self.ink.muted
            )
        if self._losses.size == 1:
            return Text(f"Step 1: total loss {fmt(float(self._losses[0]), 4)}. Take another step to draw the curve.")
        w, h = self.content_size.width, self.content_size.height
        label_w = 8
        lines, lo, hi = braille_chart(self._losses, max(w - label_w, 4), max(h - 1, 2), self.log_scale)
        out = []
        ink = self.ink
        # the component class chooses the curve's colour; it is made readable on this background
        line_style = self.get_component_rich_style("losscurve--line")
        if line_style.color is not None:
            curve = readable(Color.from_rich_color(line_style.color), self.colors[2].with_alpha(1.0))
            line_style += Style(color=curve.rich_color)
        for i, line in enumerate(lines):
            label = fmt(hi, 3) if i == 0 else (fmt(lo, 3) if i == len(lines) - 1 else "")
            t = Text(
                label.rjust(label_w - 1)[: label_w - 1] + "┤" if label else " " * (label_w - 1) + "│", style=ink.muted
            )
            t.append(line, style=line_style)
            out.append(t)
        foot = Text(" " * label_w + "step 1", style=ink.muted)
        right = f"step {len(self._losses)}"
        foot.append(right.rjust(max(w - label_w - 6, len(right) + 1)))
        out.append(foot)
        if len(out) > h:  # keep the latest values visible when space is short
            out = out[-h:]
        return Group(*out)

    def _table(self) -> Table | Text:
        if not self._rows:
            return Text("No steps yet: the per-position P(target) table fills as training runs.", style=self.ink.muted)
        t = Table(box=None, pad_edge=False, padding=(0, 1), header_style=self.ink.strong)
        t.add_column("step", justify="right")
        for w in self._targets:
            t.add_column(f"P({w[:8]})", justify="right")
        t.add_column("total loss", justify="right")
        for step, probs, loss in self._rows:
            t.add_row(str(step), *[f"{p:.3f}" for p in probs[: len(self._targets)]], f"{loss:.3f}")
        return t
