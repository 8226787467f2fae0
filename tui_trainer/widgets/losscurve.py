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
from textual.reactive import reactive

from core.frame import Frame
from core.readout import progress_rows_of

from ..palette import readable
from .base import Pane, fmt

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


def _scaled(v: np.ndarray, log: bool) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log10(np.maximum(v, 1e-12))
    return np.where(np.isfinite(v), v, np.nan)


def braille_chart(values: np.ndarray, width: int, height: int, log: bool = False) -> tuple[list[str], float, float]:
    """Lines of a braille line chart of ``values`` (2x4 dots a cell), and the y range drawn
    (non-finite values are left out)."""
    v = _scaled(values, log)
    v = v[np.isfinite(v)]
    if v.size == 0 or width < 1 or height < 1:
        return [], 0.0, 0.0
    lo, hi = float(v.min()), float(v.max())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    grid = braille_grid(v, width, height, lo, hi)
    lines = ["".join(chr(0x2800 + b) if b else " " for b in row) for row in grid]
    if log:
        return lines, 10**lo, 10**hi
    return lines, lo, hi


def _joined(v: np.ndarray) -> np.ndarray:
    """Values measured every few steps (NaN between) joined by straight lines."""
    v = np.asarray(v, dtype=np.float64)
    known = np.flatnonzero(np.isfinite(v))
    if known.size < 2:
        return v
    out = np.full_like(v, np.nan)
    span = np.arange(known[0], known[-1] + 1)
    out[span] = np.interp(span, known, v[known])
    return out


def _row(layers: list[tuple[np.ndarray, Style]], ref: str | None, ref_style: Style) -> Text:
    """One row of cells: the first layer with dots in a cell draws it (the loss curve, then the
    validation line, the steps after the cursor, other branches), else a baseline (dashed,
    labelled at its right end)."""
    t = Text()
    tail = f" {ref}" if ref else ""
    n = layers[0][0].shape[0] - len(tail)
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


def _padded(v: np.ndarray, n: int) -> np.ndarray:
    """``v`` with NaN (no value) up to length ``n``."""
    return v if v.shape[0] >= n else np.concatenate([v, np.full(n - v.shape[0], np.nan)])


class LossPane(Pane):
    """The loss per step (the lesson's total when every position is in each step, else the
    mean), the validation loss and the baselines to beat; the lesson's progress table with ``p``.

    Component classes: ``losscurve--line`` styles the curve (the theme's accent by default),
    ``losscurve--val`` the validation line, ``losscurve--ref`` the baselines, ``losscurve--b1``
    to ``b4`` the other branches' curves (the newest four), with a legend under the chart.
    """

    COMPONENT_CLASSES = {
        "losscurve--line",
        "losscurve--val",
        "losscurve--ref",
        *(f"losscurve--b{i}" for i in (1, 2, 3, 4)),
    }
    DEFAULT_CSS = """
    LossPane > .losscurve--line { color: $accent; text-style: bold; }
    LossPane > .losscurve--val { color: $success; text-style: bold; }
    LossPane > .losscurve--ref { color: $text-muted; }
    LossPane > .losscurve--b1 { color: $secondary; text-style: bold; }
    LossPane > .losscurve--b2 { color: $error; text-style: bold; }
    LossPane > .losscurve--b3 { color: $warning; text-style: bold; }
    LossPane > .losscurve--b4 { color: $primary; text-style: bold; }
    """

    #: the y axis on a log scale (g)
    log_scale: reactive[bool] = reactive(False)
    #: the lesson's training-progress table instead of the curve (p)
    show_table: reactive[bool] = reactive(False)
    #: y: P(target) per tracked position instead of the loss (t; the lesson's "later words learn faster")
    show_positions: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Loss curve"
        self._losses: np.ndarray = np.zeros(0)
        self._val: np.ndarray = np.zeros(0)
        self._refs: list[tuple[str, float]] = []
        self._what = "total"
        self._current: float | None = None
        self._rows: list[tuple[int, list[float], float]] = []
        self._targets: list[str] = []
        self._step = 0
        self._cursor: int | None = None  # the step viewed, when looking back in time
        self._history = None
        self._probs: np.ndarray = np.zeros((0, 0))
        self._words: list[str] = []
        self._changes: np.ndarray = np.zeros(0, dtype=int)
        self._uniform = 0.0
        self._branch = 0  # the current branch's number
        self._others: list[tuple[int, np.ndarray]] = []  # other branches' curves, for comparison

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        c = frame.curve
        self._cursor = c.cursor
        self._what = c.what
        self._losses, self._val = c.losses, c.val
        self._branch, self._others, self._refs = c.branch, c.others, c.refs
        self._current = c.current
        self._step = frame.step
        self._probs, self._words = c.target_probs, c.tracked_words[:6]
        self._changes, self._uniform = c.changes, c.uniform
        self._history = c.history
        # the history keeps the tracked positions: their words head the columns, whatever the batch
        self._targets = c.tracked_words[:6]
        self._titles()

    def _titles(self) -> None:
        scale = "log" if self.log_scale else "linear"
        val = ", validation" if self._val.size else ""
        self.border_title = (
            "Training progress"
            if self.show_table
            else f"P(target) per position ({scale})"
            if self.show_positions
            else f"Loss curve: {self._what}{val} ({scale})"
        )
        cur = f"{self._what} loss {fmt(self._current, 4)}" if self._current is not None else ""
        self.border_subtitle = f"step {self._step}  {cur}".strip()

    def watch_log_scale(self) -> None:
        self._titles()

    def watch_show_table(self) -> None:
        self._titles()

    def watch_show_positions(self) -> None:
        self._titles()

    def render(self) -> Group | Text | Table:
        if self.show_table:
            self._rows = progress_rows_of(self._history, max(self.content_size.height - 2, 2)) if self._history else []
            return self._table()
        if self.show_positions:
            return self._positions()
        if self._losses.size == 0:
            return Text(
                f"No steps yet: s takes one full step, r runs many. The {self._what} loss appears here.",
                style=self.ink.muted,
            )
        if self._losses.size == 1:
            return Text(f"Step 0: {self._what} loss {fmt(float(self._losses[0]), 4)}. Take a step to draw the curve.")
        w, h = self.content_size.width, self.content_size.height
        label_w = 8
        legend = bool(self._others)  # one more line: which colour is which branch
        width, height = max(w - label_w, 4), max(h - 1 - legend, 2)
        # every curve on one step axis: the longest sets it
        n_steps = max([len(self._losses)] + [len(c) for _, c in self._others])
        main = _padded(_scaled(self._losses, self.log_scale), n_steps)
        later = np.full_like(main, np.nan)
        if self._cursor is not None and self._cursor < main.size - 1:
            later[self._cursor :] = main[self._cursor :]  # from the cursor on: muted
            main = main.copy()
            main[self._cursor + 1 :] = np.nan
        val = _padded(_scaled(_joined(self._val), self.log_scale), n_steps) if self._val.size else np.zeros(0)
        others = [(b, _padded(_scaled(c, self.log_scale), n_steps)) for b, c in self._others]
        seen = np.concatenate([v[np.isfinite(v)] for v in (main, val, later, *(c for _, c in others))])
        if seen.size == 0:
            return Text("The loss is not a finite number at any step yet.", style=self.ink.muted)
        lo, hi = float(seen.min()), float(seen.max())
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        g_main = braille_grid(main, width, height, lo, hi)
        g_val = braille_grid(val, width, height, lo, hi) if val.size else np.zeros_like(g_main)
        g_later = braille_grid(later, width, height, lo, hi)
        refs: dict[int, str] = {}  # row -> label of a baseline inside the range
        for label, value in self._refs:
            y = _scaled(np.array([value]), self.log_scale)[0]
            if np.isfinite(y) and lo <= y <= hi:
                refs.setdefault(int(round((hi - y) / (hi - lo) * (height - 1))), label)
        # the component classes choose the colours; each is made readable on this background
        styles = {key: self._readable(f"losscurve--{key}") for key in ("line", "val", "ref")}
        styles["main"] = styles.pop("line")
        layers = [(g_main, styles["main"]), (g_val, styles["val"]), (g_later, styles["ref"])]
        for k, (_, curve) in enumerate(others, 1):
            layers.append((braille_grid(curve, width, height, lo, hi), self._readable(f"losscurve--b{k}")))
        top, bottom = (10**hi, 10**lo) if self.log_scale else (hi, lo)
        out = []
        ink = self.ink
        for i in range(height):
            label = fmt(top, 3) if i == 0 else (fmt(bottom, 3) if i == height - 1 else "")
            t = Text(
                label.rjust(label_w - 1)[: label_w - 1] + "┤" if label else " " * (label_w - 1) + "│", style=ink.muted
            )
            t.append_text(_row([(g[i], st) for g, st in layers], refs.get(i), styles["ref"]))
            out.append(t)
        foot = Text(" " * label_w + "step 0", style=ink.muted)
        right = f"step {n_steps - 1}"
        foot.append(right.rjust(max(w - label_w - 6, len(right) + 1)))
        if self._what == "total":  # overshoots (the loss rose) as marks under the curve; sampled batches wobble
            rose = np.flatnonzero(np.diff(self._losses) > 0) + 1
            n = n_steps
            for i in rose:
                x = label_w + int(round(i / max(n - 1, 1) * (width - 1)))
                if x < len(foot) and foot.plain[x] == " ":
                    foot = foot[:x] + Text("▲", style=ink.warn) + foot[x + 1 :]
        if self._cursor is not None:  # where the viewed step is on the curve
            n = n_steps
            x = label_w + int(round(self._cursor / max(n - 1, 1) * (width - 1)))
            if x < len(foot):
                foot = foot[:x] + Text("●", style=ink.accent) + foot[x + 1 :]
        out.append(foot)
        if legend:
            key = Text(" " * label_w)
            key.append("━━ ", styles["main"])
            key.append(f"branch {self._branch} (this)", ink.text)
            for (b, _), (_, st) in zip(others, layers[3:], strict=True):
                key.append("   ━━ ", st)
                key.append(f"branch {b}", ink.text)
            key.append("   (B: switch)", ink.muted)
            out.append(key)
        if len(out) > h:  # keep the latest values visible when space is short
            out = out[-h:]
        return Group(*out)

    def _positions(self) -> Group | Text:
        """P(target) at each tracked position over the steps, a colour each, with a legend, the
        uniform guess 1/V, and ◆ where the learning rate or the optimizer changed."""
        probs, ink = self._probs, self.ink
        if probs.shape[0] < 2:
            return Text("Take a step: P(target) at each position is drawn here, one colour each.", style=ink.muted)
        w, h = self.content_size.width, self.content_size.height
        label_w = 8
        width, height = max(w - label_w, 4), max(h - 2, 2)
        series = [_scaled(probs[:, i], self.log_scale) for i in range(min(probs.shape[1], len(self._words)))]
        if self.log_scale:  # whole decades, so the ticks are 1, 0.1, 0.01 ...
            seen = np.concatenate([s[np.isfinite(s)] for s in series])
            lo, hi = float(np.floor(min(seen.min(), np.log10(self._uniform)))), 0.0
        else:
            lo, hi = 0.0, 1.0
        keys = ["line", "val", "b1", "b2", "b3", "b4"]
        layers = [
            (braille_grid(s, width, height, lo, hi), self._readable(f"losscurve--{k}"))
            for s, k in zip(series, keys, strict=False)
        ]
        ref_style = self._readable("losscurve--ref")
        u = _scaled(np.array([self._uniform]), self.log_scale)[0]
        refs = {int(round((hi - u) / (hi - lo) * (height - 1))): f"uniform 1/V = {self._uniform:.3g}"}
        ticks = {0: fmt(1.0, 2), height - 1: fmt(10**lo if self.log_scale else lo, 2)}
        if self.log_scale:  # a tick at every decade
            for d in range(int(lo) + 1, 0):
                ticks.setdefault(int(round((hi - d) / (hi - lo) * (height - 1))), f"1e{d}")
        out = []
        for i in range(height):
            label = ticks.get(i, "")
            t = Text(
                label.rjust(label_w - 1)[: label_w - 1] + "┤" if label else " " * (label_w - 1) + "│", style=ink.muted
            )
            t.append_text(_row([(g[i], st) for g, st in layers], refs.get(i), ref_style))
            out.append(t)
        n = probs.shape[0]
        foot = Text(" " * label_w + "step 0", style=ink.muted)
        right = f"step {n - 1}"
        foot.append(right.rjust(max(w - label_w - 6, len(right) + 1)))
        for k in self._changes:  # the learning rate or optimizer changed here
            x = label_w + int(round(k / max(n - 1, 1) * (width - 1)))
            if x < len(foot):
                foot = foot[:x] + Text("◆", style=ink.warn) + foot[x + 1 :]
        out.append(foot)
        key = Text(" " * label_w, no_wrap=True, overflow="ellipsis")
        for word, (_, st) in zip(self._words, layers, strict=False):
            key.append("━━ ", st)
            key.append(f"P({word})  ", ink.text)
        if len(self._changes):
            key.append("◆ lr/optimizer changed", ink.muted)
        out.append(key)
        return Group(*out[-h:] if h > 0 else out)

    def _readable(self, component: str) -> Style:
        style = self.get_component_rich_style(component)
        if style.color is not None:
            color = readable(Color.from_rich_color(style.color), self.colors[2].with_alpha(1.0))
            style += Style(color=color.rich_color)
        return style

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
