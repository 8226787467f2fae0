"""Braille line charts with axes, for the loss pane's two views (the loss curve and P(target)).

A chart is rows of braille cells (2x4 dots a cell) right of a y axis of ticks, baselines dashed
across and labelled at their right end, an x axis of steps with markers under the curve, and a
legend of the labelled series. The markers sit at their steps; an x-axis label that would touch
a marker or another label moves a little, or is dropped: a label never hides a marker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rich.console import Group
from rich.style import Style
from rich.text import Text

from ..palette import Palette
from .base import fmt

#: cells left of the plot: a tick label right-aligned in 7 cells, then the axis line
LABEL_W = 8
_DOT = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))  # braille bits by [column][row]


def braille_grid(values: np.ndarray, width: int, height: int, lo: float, hi: float) -> np.ndarray:
    """Braille bits (height, width) of ``values`` drawn between ``lo`` and ``hi``; NaN values
    are gaps. Each dot column covers a slice of the values and is drawn from its min to its
    max, joined to the previous column, so spikes are never lost when downsampling; with
    fewer values than dot columns, the points are joined by straight segments."""
    v = np.asarray(values, dtype=np.float64)
    cols, rows = width * 2, height * 4
    grid = np.zeros((height, width), dtype=np.int32)
    if v.size == 0 or width < 1 or height < 1:
        return grid
    if 1 < v.size < cols:  # stretch over the full width: one value per dot column
        v = np.interp(np.linspace(0, v.size - 1, cols), np.arange(v.size), v)
    edges = np.linspace(0, v.size, num=min(cols, v.size) + 1).astype(int)
    ncols = len(edges) - 1
    prev = None
    for c in range(ncols):
        chunk = v[edges[c] : max(edges[c + 1], edges[c] + 1)]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size == 0:
            prev = None
            continue
        y0 = int(round((chunk.min() - lo) / (hi - lo) * (rows - 1)))
        y1 = int(round((chunk.max() - lo) / (hi - lo) * (rows - 1)))
        if prev is not None:
            y0, y1 = min(y0, prev), max(y1, prev)
        prev = int(round((chunk[-1] - lo) / (hi - lo) * (rows - 1)))
        x = c if ncols == cols else int(c * (cols - 1) / max(ncols - 1, 1))
        for y in range(max(y0, 0), min(y1, rows - 1) + 1):
            r = rows - 1 - y
            grid[r // 4, x // 2] |= _DOT[x % 2][r % 4]
    return grid


def scaled(v: np.ndarray, log: bool) -> np.ndarray:
    """``v`` on the drawn scale (log10 when ``log``), non-finite values as NaN."""
    v = np.asarray(v, dtype=np.float64)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(np.maximum(v, 1e-12))
    return np.where(np.isfinite(v), v, np.nan)


def joined(v: np.ndarray) -> np.ndarray:
    """Values measured every few steps (NaN between) joined by straight lines."""
    v = np.asarray(v, dtype=np.float64)
    known = np.flatnonzero(np.isfinite(v))
    if known.size < 2:
        return v
    out = np.full_like(v, np.nan)
    span = np.arange(known[0], known[-1] + 1)
    out[span] = np.interp(span, known, v[known])
    return out


def padded(v: np.ndarray, n: int) -> np.ndarray:
    """``v`` with NaN (no value) up to length ``n``."""
    return v if v.shape[0] >= n else np.concatenate([v, np.full(n - v.shape[0], np.nan)])


def value_range(series: Sequence[np.ndarray]) -> tuple[float, float] | None:
    """The finite values' (min, max) over all ``series``, widened when flat; None if none is finite."""
    seen = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in series] or [np.zeros(0)])
    seen = seen[np.isfinite(seen)]
    if seen.size == 0:
        return None
    lo, hi = float(seen.min()), float(seen.max())
    return (lo - 0.5, hi + 0.5) if hi - lo < 1e-12 else (lo, hi)


def row_of(y: float, lo: float, hi: float, height: int) -> int:
    """The row (0 at the top) where the value ``y`` (on the drawn scale) is drawn."""
    return int(round((hi - y) / (hi - lo) * (height - 1)))


def y_ticks(lo: float, hi: float, height: int, log: bool, digits: int, decades: bool = False) -> dict[int, str]:
    """Tick labels by row: the top and bottom values (``digits`` decimals), and with ``decades``
    (a log scale) ``1e-k`` at every whole decade strictly between them, where a row is free."""
    top, bottom = (10**hi, 10**lo) if log else (hi, lo)
    ticks = {0: fmt(top, digits), height - 1: fmt(bottom, digits)}
    if log and decades:
        for d in range(int(np.floor(lo)) + 1, int(np.ceil(hi))):
            ticks.setdefault(row_of(d, lo, hi, height), f"1e{d}")
    return ticks


def place_labels(width: int, taken: set[int], labels: Sequence[tuple[str, int, int]]) -> dict[int, str]:
    """Start column -> label for ``labels`` (text, preferred start, outward: -1 or 1) on a line
    ``width`` cells wide, in order of priority. Each keeps a blank cell from the ``taken`` cells
    (markers) and from the labels placed before it, moving at most its own length: outward
    first (so that an end's label stays on its side of the markers), then inward; or is dropped."""
    busy, placed = set(taken), {}
    for text, start, outward in labels:
        n = len(text)
        for shift in (0, *(outward * d for d in range(1, n + 1)), *(-outward * d for d in range(1, n + 1))):
            x = start + shift
            if 0 <= x and x + n <= width and busy.isdisjoint(range(x - 1, x + n + 1)):
                placed[x] = text
                busy.update(range(x, x + n))
                break
    return placed


@dataclass(frozen=True)
class Series:
    """One line of the chart, on the drawn scale (NaN: no value); a ``label`` puts it in the legend."""

    values: np.ndarray
    style: Style
    label: str | None = None


@dataclass(frozen=True)
class Marker:
    """A glyph on the x axis at ``step``; of two markers in one cell the later one is drawn."""

    step: int
    glyph: str
    style: Style


@dataclass(frozen=True)
class Legend:
    """How the legend line reads: ``lead`` goes before each swatch after the first (in its
    colour), ``tail`` after each label; ``note`` ends the line; ``clip`` ends a line too long
    with an ellipsis instead of wrapping it."""

    lead: str = "   "
    tail: str = ""
    note: tuple[str, Style] | None = None
    clip: bool = False


@dataclass(frozen=True)
class Chart:
    """A line chart of ``series`` over ``n_steps`` steps, between ``lo`` and ``hi`` on the drawn
    scale (log10 when ``log``). The first series with dots in a cell draws it. ``refs`` are
    baselines (label, value) drawn where they fall inside the range (one a row, the first wins)."""

    series: Sequence[Series]
    lo: float
    hi: float
    n_steps: int
    log: bool = False
    #: decimals of the top and bottom ticks; ``decades``: a tick at every decade between (log)
    digits: int = 3
    decades: bool = False
    refs: Sequence[tuple[str, float]] = ()
    ref_style: Style = field(default_factory=Style)
    markers: Sequence[Marker] = ()
    legend: Legend = field(default_factory=Legend)
    #: the last step of a longer curve the axis was cut short of (its right label says "of N")
    of_step: int | None = None
    #: the series hold every ``every``-th step (a thinned history): the x axis says steps
    every: int = 1

    def render(self, w: int, h: int, ink: Palette) -> Group:
        """The chart's lines fitting ``w`` x ``h`` cells (the newest lines when short of rows)."""
        legend = self._legend(ink)
        width, height = max(w - LABEL_W, 4), max(h - 1 - (legend is not None), 2)
        out = [*self._plot(width, height, ink.muted), self._x_axis(w, width, ink.muted)]
        if legend is not None:
            out.append(legend)
        return Group(*out[-h:] if h > 0 else out)

    def x_of(self, step: int, width: int) -> int:
        """The column of ``step`` on a plot ``width`` cells wide (the y axis included)."""
        return LABEL_W + int(round(step / max(self.n_steps - 1, 1) * (width - 1)))

    def _baselines(self, height: int) -> dict[int, str]:
        rows: dict[int, str] = {}
        for label, value in self.refs:
            y = scaled(np.array([value]), self.log)[0]
            if np.isfinite(y) and self.lo <= y <= self.hi:
                rows.setdefault(row_of(y, self.lo, self.hi, height), label)
        return rows

    def _plot(self, width: int, height: int, axis: Style) -> list[Text]:
        grids = [(braille_grid(s.values, width, height, self.lo, self.hi), s.style) for s in self.series]
        ticks = y_ticks(self.lo, self.hi, height, self.log, self.digits, self.decades)
        refs = self._baselines(height)
        out = []
        for i in range(height):
            label = ticks.get(i, "")
            t = Text(label.rjust(LABEL_W - 1)[: LABEL_W - 1] + "┤" if label else " " * (LABEL_W - 1) + "│", style=axis)
            t.append_text(_row([(g[i], st) for g, st in grids], width, refs.get(i), self.ref_style))
            out.append(t)
        return out

    def _x_axis(self, w: int, width: int, axis: Style) -> Text:
        """``step 0`` at the left, the last step at the right, the markers at their steps (of two
        in a cell, the later); the labels make way for the markers."""
        marks: dict[int, Style] = {}
        cells = [" "] * max(w, 0)
        for m in self.markers:
            x = self.x_of(m.step, width)
            if 0 <= x < len(cells):
                cells[x], marks[x] = m.glyph, m.style
        right = f"step {(self.n_steps - 1) * self.every}" + (f" of {self.of_step}" if self.of_step is not None else "")
        # the last step's label first: when a narrow pane has room for one, it says the more
        wanted = [(right, len(cells) - len(right), 1), ("step 0", LABEL_W, -1)]
        for x, text in place_labels(len(cells), set(marks), wanted).items():
            cells[x : x + len(text)] = text
        foot = Text("".join(cells), style=axis)
        for x in sorted(marks):
            foot.stylize(marks[x], x, x + 1)
        return foot

    def _legend(self, ink: Palette) -> Text | None:
        entries = [s for s in self.series if s.label is not None]
        if not entries:
            return None
        lg = self.legend
        key = Text(" " * LABEL_W, no_wrap=True, overflow="ellipsis") if lg.clip else Text(" " * LABEL_W)
        for k, s in enumerate(entries):
            key.append(f"{lg.lead if k else ''}━━ ", s.style)
            key.append(f"{s.label}{lg.tail}", ink.text)
        if lg.note is not None:
            key.append(*lg.note)
        if lg.clip:
            key.rstrip()  # (a tail's spaces past the edge would end a line that fits with an ellipsis)
        return key


def _row(layers: list[tuple[np.ndarray, Style]], width: int, ref: str | None, ref_style: Style) -> Text:
    """One row of ``width`` cells: the first layer with dots in a cell draws it, else a baseline
    (dashed, labelled at its right end)."""
    t = Text()
    tail = f" {ref}" if ref else ""
    n = width - len(tail)
    for c in range(max(n, 0)):
        for bits, style in layers:
            if bits[c]:
                t.append(chr(0x2800 + int(bits[c])), style)
                break
        else:
            t.append("╌" if ref else " ", ref_style if ref else "")
    if tail and n >= 0:
        t.append(tail, ref_style)
    return t
