"""Softmax pane: the lesson's three steps as a table (S4, S6).

word | logit | e^logit | probability, sorted by probability, the target
marked, a sum row, and the position's loss -log P(target).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from .base import Pane, fmt_big, fmt_delta, rendered_height
from .grid import Col, Grid

if TYPE_CHECKING:
    from core.frame import Frame


class SoftmaxPane(Pane):
    """Softmax table at the selected position; top-k rows plus the target for large vocabularies."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Softmax"

    def watch_frame(self, frame: Frame | None) -> None:
        if frame is None or frame.prediction is None:
            self.border_subtitle = ""  # nothing shown, nothing stale
        else:
            self.border_subtitle = "stale" if frame.stale else f"position {frame.info.index + 1}"

    def render(self) -> Grid | Text:
        frame = self.frame
        if frame is None or frame.prediction is None:
            return Text("Press f: softmax turns logits into probabilities that sum to 1.", style=self.ink.muted)
        from core.readout import ranked  # (a frame means core is loaded)

        pr, info = frame.prediction, frame.info
        probs, target = pr.probs, info.target_id
        caption = _caption(info.target, float(probs[target]), pr.loss)
        # header, sum row and the caption (which wraps in a narrow pane) take the rest of the height
        extra = 2 + (rendered_height(self, Text(caption)) if self.is_mounted else 1)
        order, hidden = ranked(probs, _rows_for(self.content_size.height - extra, len(probs)), target)
        # right after an update and its forward pass: how each probability moved
        delta = None if pr.probs_before is None else [float(probs[i] - pr.probs_before[i]) for i in order]
        cols = [
            Col("word" if frame.tokens == "word" else "token", no_wrap=True, max_width=12, shrink=True),
            Col("logit", justify="right"),
            Col("e^logit", justify="right"),
            Col("P", justify="right"),
        ]
        # the update just made: each probability's change (in a narrow pane instead of e^logit);
        # a pane too narrow for every column drops e^logit, then the logit (a number cut to "0.…"
        # says nothing): P, the column the caption and the loss read, always stays whole
        width = self.content_size.width or 1_000
        narrow = (delta is not None and width < 52) or width < 32
        bare = width < (34 if delta is not None else 28)  # no logit column either
        if narrow:
            cols.pop(2)
        if bare:
            cols.pop(1)
        if delta is not None:
            cols.append(Col("ΔP", justify="right"))
        t = Grid(*cols, expand=True, caption=caption, caption_style=self.ink.strong)
        ink = self.ink
        style = ink.muted if frame.stale else ""
        for k, i in enumerate(order):
            is_t = i == target
            mark = ink.target if is_t else style
            word = frame.vocab[i]
            cells = [
                Text(word + (" ◀" if is_t else ""), style=mark),
                f"{float(pr.logits[i]):.2f}",
                fmt_big(float(pr.exps[i])),
                f"{float(probs[i]):.4f}",
            ]
            if narrow:
                del cells[2]
            if bare:
                del cells[1]
            if delta is not None:
                d = delta[k]
                good = (d > 0) == is_t  # the target should rise, the others fall
                cells.append(Text(fmt_delta(d), style=(ink.good if good else ink.bad) if abs(d) >= 1e-4 else ink.muted))
            t.add_row(*cells, style=style)
        if hidden:
            t.add_note(Text(f"… {hidden} more", style=ink.muted))
        last = [Text(f"{float(probs.sum()):.6f}", style=ink.strong)] + ([""] if delta is not None else [])
        sums = ([] if bare else [""]) + ([] if narrow else [fmt_big(pr.exp_total)])
        t.add_row(Text("sum", style=ink.strong), *sums, *last)
        return t


def _caption(target: str, p: float, loss: float) -> str:
    if cell_len(target) > 16:  # a very long word would push the table off the pane
        target = set_cell_size(target, 15) + "…"
    if p <= 0:
        return f"-log P({target}) = {loss:.4f}"
    # P with the digits the loss needs: -log(0.0004) would read 7.82, not the 7.9535 beside it
    shown = f"{p:.4f}" if p >= 0.01 else f"{p:.4g}" if p >= 1e-4 else f"{p:.3e}"
    return f"-log P({target}) = -log({shown}) = {loss:.4f}"


def _rows_for(space: int, n: int) -> int:
    """How many word rows fit in ``space`` lines: all ``n``, or top-k plus target and a '... more' line."""
    if space <= 0:
        return 12 if n >= 12 else n  # not laid out yet
    return n if n <= space else max(space - 2, 1)
