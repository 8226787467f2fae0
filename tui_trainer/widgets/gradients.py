"""Gradient-flow pane: the backward pass layer by layer, then the update (S7, S8, S9, S11).

After ``b``: each layer's gradient norm from the loss back to the embeddings,
and dLoss/dlogit = P - target per word at the selected position. After ``u``:
each tensor's update size, the learning rate and the largest changes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

from .base import Pane, border_label, fmt, fmt_delta, hbar, rendered_height
from .grid import Col, Grid

if TYPE_CHECKING:
    from core.frame import Frame, Gradients, UpdateView
    from core.readout import Change, Internals

HINT = "Press b: the backward pass sends the loss's gradient back through every layer."


def _internals(i: Internals, change: Change, ink) -> Text:
    """'output.W[8,1]: v = 0.9 v + grad = +0.0234, step = -lr × v = -0.0234 (sgd: -0.0109)'."""
    name = f"{change.tensor}[{','.join(map(str, change.index))}]: "
    t = Text(name, style=ink.strong)
    if i.optimizer == "momentum":
        t.append(f"v = 0.9 v + grad = {i.velocity:+.4g}, step = -lr × v = {fmt_delta(i.step)}")
    elif i.optimizer == "adam":
        t.append(
            f"m = {i.m:+.3g}, v = {i.v:.3g}, m̂ = m/{i.c1:.3g} = {i.m_hat:+.3g}, v̂ = v/{i.c2:.3g} = {i.v_hat:.3g}, "
            f"step = -lr × m̂/(√v̂+ε) = {fmt_delta(i.step)}"
        )
        if i.t == 1:  # m̂/√v̂ = grad/|grad|: every parameter with a gradient moves by about lr
            t.append(" (t = 1: every parameter with a gradient moves by about lr)", style=ink.muted)
    else:
        t.append(f"step = -lr × grad = {fmt_delta(i.step)}")
    if i.optimizer != "sgd":
        t.append(f" (sgd: {fmt_delta(i.sgd_step)})", style=ink.muted)
    return t


def _prediction(ba, ink) -> Text:
    """'Δmean loss -0.705 predicted (g·Δθ), -0.572 actual (ratio=0.81)', and overshoot when it rose
    (the loss named: the objective, the mean per position unless --reduction sum)."""
    t = Text.assemble((f"Δ{ba.objective} loss ", ink.muted), fmt(ba.predicted, 3), (" predicted (g·Δθ), ", ink.muted))
    t.append(fmt(ba.actual, 3))
    t.append(" actual", style=ink.muted)
    if ba.predicted != 0 and math.isfinite(ba.actual):
        t.append(f" (ratio={ba.actual / ba.predicted:.2f})")  # one word: wraps whole
    if ba.actual > 0:
        t.append("  overshoot!", style=ink.warn)
    return t


class GradientPane(Pane):
    """Gradient norms in backward order, P - target per word, and the last update."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Gradient flow"
        self._body: Group | Text = Text(HINT)

    def watch_frame(self, frame: Frame | None) -> None:
        self._title()
        if frame is not None and frame.gradients is not None:
            self._subtitle()
            return
        self.border_subtitle = ""

    def _title(self) -> None:
        """What the pane shows, whole: a shorter form where the long one does not fit ('Gradient
        flow: last u…' at 60x18)."""
        frame = self.frame
        if frame is not None and frame.gradients is not None:
            options = ["Gradient flow: backward", "Gradients: backward", "Gradients"]
        elif frame is not None and frame.update is not None and frame.stale:
            options = ["Gradient flow: update", "Gradients: update", "Gradients"]
        elif frame is not None and frame.update is not None:
            # the update that made these parameters; their forward pass is fresh (b: its gradients)
            options = [
                "Gradient flow: last update (b: new gradients)",
                "Gradient flow: last update",
                "Gradients: last update",
                "Last update",
            ]
        else:
            options = ["Gradient flow", "Gradients"]
        width = (self.outer_size.width or None) if self.is_mounted else None  # (0: not laid out yet)
        self.border_title = border_label(options, width) or options[-1]

    def _subtitle(self) -> None:
        """The layer norms are over every position of the step; the P - target table is one
        position's (which a short pane's table no longer names: it goes last). Whole, in a shorter
        form where the long one does not fit ('… table: positio…' at 80x24)."""
        frame = self.frame
        if frame is None or frame.gradients is None:
            return
        n, i = frame.gradients.positions, frame.info.index + 1
        options = [
            f"norms: all {n} positions · table: position {i}",
            f"norms: all {n} · table: position {i}",
            f"table: position {i}",
            f"position {i}",
        ]
        self.border_subtitle = border_label(options, self.outer_size.width or None)  # (0: not laid out yet)

    def on_resize(self) -> None:
        self._title()  # the forms that fit depend on the width
        self._subtitle()

    def render(self) -> Group | Text:
        frame = self.frame
        if frame is not None and frame.gradients is not None:
            return self._backward_view(frame, frame.gradients)
        if frame is not None and frame.update is not None:
            return self._update_view(frame.update)
        return Text(HINT, style=self.ink.muted)

    # --- views ------------------------------------------------------------------------

    def _backward_view(self, frame: Frame, g: Gradients) -> Group:
        ink = self.ink
        width = max(self.content_size.width, 30)
        layers = g.layers
        top = max(v for _, v in layers) or 1.0
        names = [("↓ " if i else "") + name for i, (name, _) in enumerate(layers)]
        # the names are whole ("↓ layer0.attn" was cut to "↓ layer0.at…"): the bar gives way
        more = max(0, max(cell_len(n) for n in names) - 11)  # (beyond the MLP's "↓ embedding")
        said = [f"|dL/d{frame.layer_outputs[name]}|" for name, _ in layers]
        more_said = max(0, max(cell_len(t) for t in said) - 12)
        bar_w = max(width - 37 - more - more_said, 4)
        labels = width >= 44 + more + more_said  # the |dL/dh| labels give way in a narrow pane, the numbers stay
        if not labels:  # name (11 and more) norm (8) and the bar share the real width
            bar_w = max((self.content_size.width or 30) - 21 - more, 2)
        cols = [Col(no_wrap=True, min_width=11)]
        cols += [Col(no_wrap=True, style=ink.muted, min_width=12)] if labels else []
        cols += [Col(justify="right", min_width=6, no_wrap=True), Col(no_wrap=True)]
        t = Grid(*cols, show_header=False)
        for label, what, (_, norm) in zip(names, said, layers, strict=True):
            row = [label]
            row += [what] if labels else []
            t.add_row(*row, fmt(norm, 3), Text(hbar(norm, top, bar_w), ink.bar))
        # "name value" pairs flowed onto lines by hand, so a line never breaks inside a pair
        params = Text("|dL/dW| ", style=ink.muted)
        room, used = self.content_size.width or 1_000, params.cell_len
        for name, norm in g.tensors:
            pair = len(name) + 1 + len(fmt(norm, 3))
            if used + pair > room and used > 8:
                params.rstrip()
                params.append("\n")
                used = 0
            params.append(f"{name} ", style=ink.muted)
            params.append(f"{fmt(norm, 3)}  ")
            used += pair + 2
        info = frame.info
        d, probs = g.dlogits, g.probs
        # the title above the table, across the pane (a table's own title wraps at its width)
        title = Text(f"dLoss/dlogit = P - target, position {info.index + 1}", style=ink.strong)
        # fit the height: the layer table, the |dL/dW| line (wrapped), then the P - target table
        # (title, header, rows); in a short pane the |dL/dW| line goes first, the target row never
        height = self.content_size.height
        n_words = d.shape[0]
        rows = min(n_words, 4)
        short = False
        if height > 0:
            params_lines = rendered_height(self, params)
            # the table's header, a "... N more" line and the sum row take three more lines
            rows = height - rendered_height(self, t) - params_lines - rendered_height(self, title) - 3
            if rows < 2:
                rows += params_lines
                params = None
            if rows < 2:  # still one word: the title (the subtitle names the position) and the
                # "… more" line (the sum row counts the words) make room for a second, the first other word
                title, short = None, True
                rows += 2
            rows = max(rows, 1)
            if rows + 1 >= n_words:  # every word fits (the "... more" line is not needed)
                rows = min(rows + 1, n_words)
        from core.readout import ranked  # (a frame means core is loaded)

        order, hidden = ranked(abs(d), rows, info.target_id)
        if len(order) > rows:  # keep the target: drop the smallest other row
            order = [*order[: rows - 1], info.target_id]
            hidden += 1
        words = frame.vocab
        # in a narrow pane the numbers stay: the hint column goes first, then "target"
        words_w = max(len(words[i]) for i in order) if order else 4
        hint, target_col = width >= words_w + 42, width >= words_w + 29
        unit = "word" if frame.tokens == "word" else "token"
        cols = [Col(unit, no_wrap=True, max_width=16, shrink=True), Col("P", justify="right")]
        cols += [Col("target", justify="right")] if target_col else []
        cols += [Col("dL/dlogit", justify="right")]
        cols += [Col("", no_wrap=True, style=ink.muted)] if hint else []
        dl = Grid(
            *cols,
            header_style=ink.muted,
        )
        for i in order:
            is_t = i == info.target_id
            row = [Text(words[i], style=ink.target if is_t else ""), fmt(float(probs[i]), 3)]
            row += ["1" if is_t else "0"] if target_col else []
            row += [Text(f"{d[i]:+.3f}", style=ink.good if d[i] < 0 else ink.bad)]
            row += ["raise logit" if d[i] < 0 else "lower logit"] if hint else []
            dl.add_row(*row)
        if hidden and not short:
            dl.add_note(Text(f"… {hidden} more", style=ink.muted))
        # over every word: P sums to 1 and the target to 1, so dL/dlogit sums to 0 (up to rounding)
        total = [
            Text(f"sum of {n_words}" if short and hidden else "sum", style=ink.strong),
            f"{float(probs.sum()):.3f}",
        ]
        total += ["1"] if target_col else []
        total += [Text(fmt_delta(float(d.sum())) if d.sum() else "0", style=ink.strong)]
        total += [""] if hint else []
        dl.add_row(*total)
        return Group(t, *(part for part in (params, title) if part is not None), dl)

    def _update_view(self, u: UpdateView) -> Group:
        ink = self.ink
        opt = u.optimizer
        rule = (
            "new = old - lr × grad"
            if opt == "sgd"
            else ("v = 0.9v + grad; new = old - lr × v" if opt == "momentum" else "new = old - lr × m̂/(√v̂+ε)")
        )
        head = Text.assemble((f"update {u.step}", ink.strong), f"  {opt}  lr {u.lr:g}  ", (rule, ink.muted))
        ba = u.effect
        norms = u.norms
        top = max(v for _, v in norms) or 1.0
        width = max(self.content_size.width, 40)
        t = Grid(Col(no_wrap=True), Col(justify="right"), Col(no_wrap=True), show_header=False)
        for name, v in norms:
            t.add_row(name, f"|Δ| {fmt(v, 4)}", Text(hbar(v, top, max(width - 28, 6)), ink.bar))
        # "step" is what the optimizer really moved: -lr×grad for SGD, -lr×v, -lr×m̂/(√v̂+ε)
        # (in a narrow pane "old" gives way: it is new - step)
        narrow = 0 < self.content_size.width < 56
        cols = [Col("largest changes", no_wrap=True)] + ([] if narrow else [Col("old", justify="right")])
        cols += [Col("grad", justify="right"), Col("step", justify="right"), Col("new", justify="right")]
        ch = Grid(*cols, header_style=ink.muted)
        # in a short pane the largest changes give way first (header + rows), then Adam's line;
        # the predicted and actual loss change stays while the per-tensor rows fit beside it
        height = self.content_size.height
        used = rendered_height(self, head) + rendered_height(self, t) if height > 0 else 0
        if u.clip_factor < 1.0:  # clipping scaled this update's gradient: say by how much
            clip = Text.assemble(
                ("clipped: |grad| ", ink.muted),
                fmt(u.grad_norm, 3),
                (" → ", ink.muted),
                fmt(u.grad_norm * u.clip_factor, 3),
                (f" (× {u.clip_factor:.3g})", ink.warn),
            )
            head.append("\n")
            head.append_text(clip)
            used += rendered_height(self, clip) if height > 0 else 0
        if ba is not None:  # the loss change the gradient predicted, beside the real one
            pred = _prediction(ba, ink)
            lines = rendered_height(self, pred) if height > 0 else 0
            if height <= 0 or used + lines <= height:
                head.append("\n")
                head.append_text(pred)
                used += lines
        room = 3 if height <= 0 else min(height - used - 1, 3)
        for c in u.changes[: max(room, 0)]:
            idx = ",".join(map(str, c.index))
            old = [] if narrow else [f"{c.old:.4f}"]
            ch.add_row(f"{c.tensor}[{idx}]", *old, fmt_delta(c.grad), fmt_delta(c.new - c.old), f"{c.new:.4f}")
        parts = [head, t]
        if room > 0:
            parts.append(ch)
            used += 1 + room
        # the optimizer's own arithmetic for the parameter that moved most (the lesson's S11)
        inside = _internals(u.internals, u.changes[0], ink) if u.internals is not None and u.changes else None
        if inside is not None and (height <= 0 or used + rendered_height(self, inside) <= height):
            parts.append(inside)
            used += rendered_height(self, inside) if height > 0 else 0
        adam = Text(
            f"Adam t={u.adam_t}: m, v are moving averages of grad and grad² that start "
            "at 0, biased low early: m̂, v̂ divide by 1-β^t to correct it",
            style=ink.muted,
        )
        if opt == "adam" and (height <= 0 or used + rendered_height(self, adam) <= height):
            parts.append(adam)
        return Group(*parts)
