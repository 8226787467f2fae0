"""Softmax pane: the lesson's three steps as a table (S4, S6).

word | logit | e^logit | probability, sorted by probability, the target
marked, a sum row, and the position's loss -log P(target).
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from core import Session
from core.readout import before_after, position_info, ranked, softmax_steps

from .base import Pane, fmt_big, fmt_delta, rendered_height
from .grid import Col, Grid


class SoftmaxPane(Pane):
    """Softmax table at the selected position; top-k rows plus the target for large vocabularies."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Softmax"
        self._rows: list[tuple[str, float, float, float, bool]] = []
        self._sum: tuple[float, float] = (0.0, 0.0)
        self._hidden = 0
        self._loss: tuple[str, float, float] | None = None
        self._stale = False
        self._delta: list[float] | None = None  # ΔP per row since the last update (before/after)

    def show(self, session: Session, position: int) -> None:
        f = session.forward_result
        self._stale = session.stale
        if f is None:
            self._rows = []
            self.border_subtitle = ""  # nothing shown, nothing stale
            self.refresh()
            return
        info = position_info(session, position)
        exps, total, probs = softmax_steps(f.logits[info.index])
        p_t, loss = float(probs[info.target_id]), float(f.losses[info.index])
        self._loss = (info.target, p_t, loss)
        # header, sum row and the caption (which wraps in a narrow pane) take the rest of the height
        extra = 2 + (rendered_height(self, Text(_caption(*self._loss))) if self.is_mounted else 1)
        order, hidden = ranked(probs, _rows_for(self.content_size.height - extra, len(probs)), info.target_id)
        vocab = session.vocab.tokens
        logits = f.logits[info.index]
        self._rows = [(vocab[i], float(logits[i]), float(exps[i]), float(probs[i]), i == info.target_id) for i in order]
        # right after an update and its forward pass: how each probability moved
        ba = before_after(session, info.index)
        self._delta = None if ba is None else [float(probs[i] - ba.probs_before[i]) for i in order]
        self._hidden = hidden
        self._sum = (total, float(probs.sum()))
        self.border_subtitle = "stale" if self._stale else f"position {info.index + 1}"
        self.refresh()

    def on_resize(self) -> None:
        self.app.call_later(self.app.refresh_panes)

    def render(self) -> Grid | Text:
        if not self._rows:
            return Text("Press f: softmax turns logits into probabilities that sum to 1.", style=self.ink.muted)
        delta = self._delta
        cols = [
            Col("word", no_wrap=True, max_width=12, shrink=True),
            Col("logit", justify="right"),
            Col("e^logit", justify="right"),
            Col("P", justify="right"),
        ]
        # the update just made: each probability's change (in a narrow pane instead of e^logit)
        narrow = delta is not None and self.content_size.width < 52
        if narrow:
            cols.pop(2)
        if delta is not None:
            cols.append(Col("ΔP", justify="right"))
        t = Grid(*cols, expand=True, caption=_caption(*self._loss), caption_style=self.ink.strong)
        ink = self.ink
        style = ink.muted if self._stale else ""
        for k, (word, logit, e, p, is_t) in enumerate(self._rows):
            mark = ink.target if is_t else style
            cells = [Text(word + (" ◀" if is_t else ""), style=mark), f"{logit:.2f}", fmt_big(e), f"{p:.4f}"]
            if narrow:
                del cells[2]
            if delta is not None:
                d = delta[k]
                good = (d > 0) == is_t  # the target should rise, the others fall
                cells.append(Text(fmt_delta(d), style=(ink.good if good else ink.bad) if abs(d) >= 1e-4 else ink.muted))
            t.add_row(*cells, style=style)
        if self._hidden:
            t.add_note(Text(f"… {self._hidden} more", style=ink.muted))
        total, psum = self._sum
        last = [Text(f"{psum:.6f}", style=ink.strong)] + ([""] if delta is not None else [])
        t.add_row(Text("sum", style=ink.strong), "", *([] if narrow else [fmt_big(total)]), *last)
        return t


def _caption(target: str, p: float, loss: float) -> str:
    if cell_len(target) > 16:  # a very long word would push the table off the pane
        target = set_cell_size(target, 15) + "…"
    return f"-log P({target}) = -log({p:.4f}) = {loss:.4f}" if p > 0 else f"-log P({target}) = {loss:.4f}"


def _rows_for(space: int, n: int) -> int:
    """How many word rows fit in ``space`` lines: all ``n``, or top-k plus target and a '... more' line."""
    if space <= 0:
        return 12 if n >= 12 else n  # not laid out yet
    return n if n <= space else max(space - 2, 1)
