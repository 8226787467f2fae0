"""Context pane: the sentence, the selected position, its context, target and prediction (S1, S2, S5)."""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len, set_cell_size
from rich.console import Group
from rich.text import Text

from core import BACKWARD, FORWARD, Session
from core.readout import n_positions, parameter_summary, position_info

from .base import Pane, fmt, rendered_height


class ContextPane(Pane):
    """The sentence as tokens, the selected position highlighted (Left/Right move it)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Context"
        self._lines: list[Text] = []

    def show(self, session: Session, position: int) -> None:
        raw = position_info(session, position)
        info = _shortened(raw)
        n = n_positions(session)
        lines = []
        # The sentence: context words in cyan, the target reversed, the rest dim.
        sent = Text()
        k = len(info.context)
        unseen = k - len(info.window)  # context words before the model's window of K tokens
        for j, tok in enumerate(info.tokens):
            if j:
                sent.append(" ")
            if j < unseen:
                sent.append(tok, style="dim strike")
            elif j < k:
                sent.append(tok, style="bold cyan")
            elif j == k:
                sent.append(f" {tok} ", style="bold reverse yellow")
            else:
                sent.append(tok, style="dim")
        lines.append(sent)
        head = Text(f"position {info.index + 1}/{n}", style="bold")
        if len(session.data.sentences) > 1:
            head.append(f"  (sentence {info.sentence + 1})", style="dim")
        lines.append(head)
        ctx = Text.assemble(("context ", "dim"), (" ".join(info.window), "cyan"))
        if unseen:  # the model reads only the last K tokens: say what it cannot see
            ctx.append(f"  (last {len(info.window)}; {unseen} earlier unseen)", style="dim")
        lines.append(ctx)
        lines.append(Text.assemble(("target  ", "dim"), (info.target, "bold yellow")))
        if info.top_word is None:
            lines.append(Text("predicts  (press f)", style="dim"))
        else:
            ok = raw.top_word == raw.target
            lines.append(
                Text.assemble(
                    ("predicts ", "dim"),
                    (info.top_word, "bold green" if ok else "bold red"),
                    f" {info.top_prob:.1%}",
                    ("  ✓" if ok else "  ✗", "green" if ok else "red"),
                )
            )
            lines.append(
                Text.assemble(("P(target) ", "dim"), f"{info.target_prob:.4f}", ("  loss ", "dim"), fmt(info.loss, 4))
            )
        lines.append(Text(""))
        lines.append(_phase_line(session))
        params = parameter_summary(session)
        lines.append(Text(f"model: {sum(c for *_, c in params):,} parameters", style="dim"))
        for name, sh, _ in params:
            if len(sh) == 2:  # one line per weight matrix; its bias is the same layer's
                lines.append(Text(f" {name.split('.')[0]:<10} {'×'.join(map(str, sh))}", style="dim", no_wrap=True))
        self._lines = lines
        self.refresh()

    def render(self) -> Group:
        lines = self._lines
        height = self.content_size.height
        if height > 0 and self.is_mounted:
            heights = {id(ln): rendered_height(self, ln) for ln in lines}  # each line measured once

            def size(ls: list[Text]) -> int:
                return sum(heights[id(ln)] for ln in ls)

            if size(lines) > height:
                # short pane: drop the per-layer shapes first, then the blank line; the position stays
                lines = [ln for ln in lines if not ln.plain.startswith(" ")]
                if size(lines) > height:
                    lines = [ln for ln in lines if ln.plain]
                while len(lines) > 1 and size(lines) > height:
                    lines = lines[:-1]
        return Group(*lines)


def _short(word: str | None, cells: int = 20) -> str | None:
    """A very long word cropped to ``cells`` terminal cells, so one word cannot fill the pane."""
    if word is None or cell_len(word) <= cells:
        return word
    return set_cell_size(word, cells - 1) + "…"


def _shortened(info):
    return replace(
        info,
        tokens=[_short(t) for t in info.tokens],
        context=[_short(t) for t in info.context],
        window=[_short(t) for t in info.window],
        target=_short(info.target),
        top_word=_short(info.top_word),
    )


def _phase_line(session: Session) -> Text:
    """forward / gradients / stale flags, so the learner sees where in the step they are."""
    t = Text()
    fresh = session.phase in (FORWARD, BACKWARD)
    t.append("forward ", style="dim")
    if fresh:
        t.append("fresh", style="bold green")
    elif session.stale:
        t.append("stale", style="bold yellow")
    else:
        t.append("not run", style="dim")
    t.append("  grads ", style="dim")
    t.append("fresh" if session.phase == BACKWARD else "-", style="bold green" if session.phase == BACKWARD else "dim")
    if session.stale:
        t.append(" (f)", style="yellow")
    return t
