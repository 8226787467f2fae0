"""Loss-curve pane: total loss per step as a braille line chart (S12, S13, S15).

``g`` toggles a log scale; ``p`` swaps the chart for the lesson's training
progress table (P(target) at each position over the steps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.color import Color
from textual.reactive import reactive

from ..palette import readable
from .base import Pane, border_label, fmt

if TYPE_CHECKING:
    import numpy as np

    from core.frame import Frame

    from .chart import Chart, Marker


#: a branch this many times shorter than another drawn beside it gets an axis of its own length
#: (and half again), when it has at least ZOOM_MIN steps
ZOOM_RATIO, ZOOM_MIN = 8, 10


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
        # (None until the first frame: the pane is painted before NumPy loads; the chart module,
        # which needs NumPy, is imported when there is a curve to draw)
        self._losses: np.ndarray | None = None
        self._val: np.ndarray | None = None
        self._refs: list[tuple[str, float]] = []
        self._what = "total"
        self._current: float | None = None
        self._rows: list[tuple[int, list[float], float]] = []
        self._targets: list[str] = []
        self._step, self._stale = 0, False
        self._cursor: int | None = None  # the step viewed, when looking back in time
        self._history = None
        self._probs: np.ndarray | None = None
        self._words: list[str] = []
        self._changes: np.ndarray | None = None
        self._uniform = 0.0
        self._branch = 0  # the current branch's number
        self._others: list[tuple[int, np.ndarray]] = []  # other branches' curves, for comparison
        self._models: dict[int, str] = {}  # each branch's model, when the branches train different ones
        self._every = 1  # the curves hold every ``_every``-th step (a long run's history is thinned)

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None:
            return
        c = frame.curve
        self._cursor = c.cursor
        self._what = c.what
        self._losses, self._val = c.losses, c.val
        self._branch, self._others, self._refs = c.branch, c.others, c.refs
        self._models = c.models
        self._current = c.current
        self._step, self._stale = frame.step, frame.stale
        self._probs, self._words = c.target_probs, c.tracked_words[:6]
        self._changes, self._uniform = c.changes, c.uniform
        self._history, self._every = c.history, c.every
        # the history keeps the tracked positions: their words head the columns, whatever the batch
        self._targets = c.tracked_words[:6]
        self._titles()

    def _titles(self) -> None:
        scale = "log" if self.log_scale else "linear"
        if self._every > 1:  # a long run's history: said where the thinned curve is drawn
            scale += f", thinned to every {_nth(self._every)}"
        val = ", validation" if self._val is not None and self._val.size else ""
        if self.show_table:
            titles = ["Training progress", "Progress"]
        elif self.show_positions:
            titles = [f"P(target) per position ({scale})", "P(target) per position", "P(target)"]
        else:
            # a GPT's 40 columns cut 'Loss curve: mean, validation (linear)' to '… (lin…': say it shorter
            what = f"{self._what}{val}"
            titles = [f"Loss curve: {what} ({scale})", f"Loss: {what} ({scale})", f"Loss: {what}", "Loss"]
        width = self.outer_size.width if self.is_mounted else None
        self.border_title = border_label(titles, width) or titles[-1]
        cur = f"{self._what} loss {fmt(self._current, 4)}" if self._current is not None else ""
        cur += " (stale)" if cur and self._stale else ""  # the forward pass before the update: f measures anew
        step = f"step {self._step}"
        subtitles = [f"{step}  {cur}".strip(), f"{step}  {fmt(self._current, 4)}" if cur else step, step]
        self.border_subtitle = border_label(subtitles, width) or step

    def watch_log_scale(self) -> None:
        self._titles()

    def on_resize(self) -> None:
        if self.frame is not None:  # (before the first frame the title is the plain 'Loss curve')
            self._titles()  # the title that fits depends on the width

    def watch_show_table(self) -> None:
        self._titles()

    def watch_show_positions(self) -> None:
        self._titles()

    def render(self) -> Group | Text | Table:
        if self.show_table:
            from core.readout import progress_rows_of

            rows = max(self.content_size.height - 2, 2)
            h, what = self._history, f"{self._what}_loss"
            self._rows = progress_rows_of(h, rows, self._changes, what) if h else []
            return self._table()
        if self.show_positions:
            return self._positions()
        if self._losses is None or self._losses.size == 0:
            return Text(
                f"No steps yet: s takes one full step, r runs many. The {self._what} loss appears here.",
                style=self.ink.muted,
            )
        if self._losses.size == 1:
            return Text(f"Step 0: {self._what} loss {fmt(float(self._losses[0]), 4)}. Take a step to draw the curve.")
        chart = self._loss_chart()
        if chart is None:
            return Text("The loss is not a finite number at any step yet.", style=self.ink.muted)
        return chart.render(self.content_size.width, self.content_size.height, self.ink)

    def _loss_chart(self) -> Chart | None:
        """The loss curve (muted after the cursor), the validation loss, the other branches'
        curves and the baselines, on one step axis (the longest curve sets it); None when no
        value is finite."""
        import numpy as np

        from .chart import LABEL_W, Chart, Legend, Series, joined, padded, scaled, value_range

        log = self.log_scale
        mine, longest = len(self._losses), max([0] + [len(c) for _, c in self._others])
        # a short branch beside a long one would be a column wide (102 steps beside 47,889): the
        # axis then runs to half again this branch's length, and the longer curves are cut there
        zoom = longest > ZOOM_RATIO * mine and mine >= ZOOM_MIN
        n_steps = mine + mine // 2 if zoom else max(mine, longest)
        main = padded(scaled(self._losses, log), n_steps)
        later = np.full_like(main, np.nan)
        cursor = None if self._cursor is None else self._cursor // self._every
        if cursor is not None and cursor < main.size - 1:
            later[cursor:] = main[cursor:]  # from the cursor on: muted
            main = main.copy()
            main[cursor + 1 :] = np.nan
        val = padded(scaled(joined(self._val), log), n_steps) if self._val.size else np.zeros(0)
        # the component classes choose the colours; each is made readable on this background
        ref = self._readable("losscurve--ref")
        # a legend only to tell branches apart; by model too when they train different ones; in
        # short words when the long ones do not fit the pane ('━━ branch 1 gpt (this)   ━━' was cut)
        drawn = [self._branch, *(b for b, _ in self._others)]

        # the validation line is named too: drawn in a colour of its own, it was told from the
        # training loss by nothing on screen (nor without colour)
        has_val = bool(self._val.size)

        def width(short: bool) -> int:  # the line: its indent, '━━ ' and a label each, the gaps, ' (this)'
            val_w = 6 + len("val" if short else "validation") if has_val else 0
            return LABEL_W + sum(3 + len(self._label(b, short)) for b in drawn) + 3 * (len(drawn) - 1) + 7 + val_w

        room = self.content_size.width
        short = width(False) > room
        note = ("  (B)" if short else "   (B: switch)") if self._others else None
        this = f"{self._label(self._branch, short)} (this)" if self._others else ("training" if has_val else None)
        val_label = ("val" if short else "validation") if has_val else None
        series = [
            Series(main, self._readable("losscurve--line"), this),
            Series(val, self._readable("losscurve--val"), val_label),
        ]
        series.append(Series(later, ref))
        for k, (b, curve) in enumerate(self._others, 1):
            style = self._readable(f"losscurve--b{k}")
            series.append(Series(padded(scaled(curve[:n_steps], log), n_steps), style, self._label(b, short)))
        span = value_range([s.values for s in series])
        if span is None:
            return None
        own = value_range([s.values for s in series[:3]])
        if not log and own is not None and self._others:
            # on a linear axis another branch's explosion (lr 100: a total of 300) would flatten this
            # branch to its bottom row: this branch sets the top, a higher branch runs off it
            span = (span[0], max(own[1], span[0] + 1e-12))
        return Chart(
            series,
            *span,
            n_steps,
            log=log,
            refs=self._refs,
            ref_style=ref,
            markers=self._loss_markers(),
            legend=Legend(note=(note, self.ink.muted) if note else None),
            of_step=(longest - 1) * self._every if zoom else None,
            every=self._every,
        )

    def _label(self, branch: int, short: bool = False) -> str:
        """'branch 2', or 'branch 2 gpt' when the branches drawn train different models ('b2 gpt'
        when ``short``)."""
        model = self._models.get(branch)
        name = f"b{branch}" if short else f"branch {branch}"
        return f"{name} {model}" if model else name

    def _loss_markers(self) -> list[Marker]:
        """Overshoots (the loss rose: only for the total, as sampled batches wobble) as ▲, then
        the viewed step as ● (drawn over a ▲)."""
        import numpy as np

        from .chart import Marker

        marks = []
        if self._what == "total":
            marks = [Marker(int(i), "▲", self.ink.warn) for i in np.flatnonzero(np.diff(self._losses) > 0) + 1]
        if self._cursor is not None:
            marks.append(Marker(self._cursor // self._every, "●", self.ink.accent))
        return marks

    def _positions(self) -> Group | Text:
        """P(target) at each tracked position over the steps, a colour each, with a legend, the
        uniform guess 1/V, and ◆ where the learning rate or the optimizer changed."""
        import numpy as np

        from .chart import LABEL_W, Chart, Legend, Marker, Series, scaled

        probs, ink, log = self._probs, self.ink, self.log_scale
        if probs is None or probs.shape[0] < 2:
            return Text("Take a step: P(target) at each position is drawn here, one colour each.", style=ink.muted)
        keys = ["line", "val", "b1", "b2", "b3", "b4"]
        words = self._words[: probs.shape[1]]
        changed = "◆ lr/optimizer changed" if len(self._changes) else ""
        labels, note = legend_labels(words, self.content_size.width - LABEL_W, changed)
        series = [
            Series(scaled(probs[:, i], log), self._readable(f"losscurve--{k}"), label)
            for i, (label, k) in enumerate(zip(labels, keys, strict=False))
        ]
        lo, hi = 0.0, 1.0
        if log:  # whole decades, so the ticks are 1, 0.1, 0.01 ...
            seen = np.concatenate([s.values[np.isfinite(s.values)] for s in series])
            lo, hi = float(np.floor(min(seen.min(), np.log10(self._uniform)))), 0.0
        chart = Chart(
            series,
            lo,
            hi,
            probs.shape[0],
            log=log,
            digits=2,
            decades=True,
            refs=[(f"uniform 1/V = {self._uniform:.3g}", self._uniform)],
            ref_style=self._readable("losscurve--ref"),
            markers=[Marker(int(k) // self._every, "◆", ink.warn) for k in self._changes],  # lr or optimizer changed
            legend=Legend(lead="", tail="  ", note=(note, ink.muted) if note else None, clip=True),
            every=self._every,
        )
        return chart.render(self.content_size.width, self.content_size.height, ink)

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
        # the step and the loss whole (a total of 4243.152 was cut to 4243.1…); the positions'
        # columns that do not fit are left out, and the caption says how many
        head = f"{self._what} loss"
        losses = [f"{loss:.3f}" for _, _, loss in self._rows]
        step_w = max(4, *(len(str(step)) for step, _, _ in self._rows))
        loss_w = max(len(head), *(len(x) for x in losses))
        room = self.content_size.width - step_w - loss_w - 1
        shown = []
        for w in self._targets:
            need = max(len(f"P({w[:8]})"), 5) + 1
            if room < need:
                break
            shown.append(w)
            room -= need
        t.add_column("step", justify="right", no_wrap=True, min_width=step_w)
        for w in shown:
            t.add_column(f"P({w[:8]})", justify="right")
        t.add_column(head, justify="right", no_wrap=True, min_width=loss_w)
        for (step, probs, _), loss in zip(self._rows, losses, strict=True):
            t.add_row(str(step), *[f"{p:.3f}" for p in probs[: len(shown)]], loss)
        if len(shown) < len(self._targets):
            left = len(self._targets) - len(shown)
            t.caption = f"{left} more position{'s' if left != 1 else ''}: a wider pane shows them"
            t.caption_style = self.ink.muted
        return t


def legend_labels(words: list[str], room: int, note: str) -> tuple[list[str | None], str]:
    """The P(target) legend's labels (each drawn '━━ label  ') and its note, whole in ``room``
    cells rather than cut ('P(rel…'): 'P(word)' each; else the first of them and '+N more'; else
    the words alone (the title says P(target)), all or the first; else '+N more' alone (None: a
    line left out of the legend). The note (the ◆ marks) where it fits after them."""

    def width(labels: list[str], tail: str = "") -> int:  # (the last two spaces are trimmed when nothing follows)
        return sum(5 + cell_len(label) for label in labels) + (cell_len(tail) if tail else -2 * bool(labels))

    n = len(words)
    # P(word) all, then the first k of them and the count; the words alone likewise; the count alone
    ordered = [
        (labels[:k], f"+{n - k} more" if k < n else "")
        for labels in ([f"P({w})" for w in words], list(words))
        for k in range(n, 0, -1)
    ]
    labels, more = next(((lab, m) for lab, m in ordered if width(lab, m) <= room), ([], f"+{n} more" if n else ""))
    more = more if width(labels, more) <= room else ""
    tail = f"{more}  {note}" if more and note else more or note
    shown: list[str | None] = [*labels, *[None] * (n - len(labels))]
    return shown, tail if width(labels, tail) <= room else more


def _nth(k: int) -> str:
    """8 -> '8th', 32 -> '32nd'."""
    last = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{last}"
