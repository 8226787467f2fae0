"""Context pane: the sentence, the selected position, its context, target and prediction (S1, S2, S5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.console import Group
from rich.style import Style
from rich.text import Text

from ..palette import Palette
from .base import Pane, fmt, fmt_delta, rendered_height

if TYPE_CHECKING:
    from core.frame import Frame


class ContextPane(Pane):
    """The sentence as tokens, the selected position highlighted (Left/Right move it)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Context"

    def lines(self) -> list[Text]:
        """The pane's lines for its frame, before they are fitted to its height."""
        frame = self.frame
        if frame is None:
            return []
        raw = frame.info
        info = raw.with_tokens(_short)
        n = frame.n_positions
        lines = []
        ink = self.ink
        k = len(info.context)
        if frame.attention is None:
            lines.append(_sentence(info, ink))
        else:
            lines.append(_sequence(info, frame.attention.first_seen, ink))
        head = Text(f"position {info.index + 1}/{n}", style=ink.strong)
        if frame.many_sentences:
            head.append(f"  (sentence {info.sentence + 1})", style=ink.muted)
        lines.append(head)
        if frame.attention is None:
            unseen = k - len(info.window)  # context words before the model's window of K tokens
            ctx = Text.assemble(("context ", ink.muted), (" ".join(info.window), ink.context))
            if unseen:  # the model reads only the last K tokens: say what it cannot see
                ctx.append(f"  (last {len(info.window)}; {unseen} earlier unseen)", style=ink.muted)
        else:  # a GPT: its query (the last token read) attends to every earlier token of its window
            seen = k - frame.attention.first_seen
            ctx = Text.assemble(("query ", ink.muted), (info.context[-1], ink.mark), (f" sees {seen} ", ink.muted))
            ctx.append("token" if seen == 1 else "tokens", style=ink.muted)
            if frame.attention.first_seen:
                ctx.append(f" ({frame.attention.first_seen} before its window unseen)", style=ink.muted)
        lines.append(ctx)
        lines.append(Text.assemble(("target  ", ink.muted), (info.target, ink.target)))
        if info.top_word is None:
            lines.append(Text("predicts  (press f)", style=ink.muted))
        else:
            ok = raw.top_word == raw.target
            lines.append(
                Text.assemble(
                    ("predicts ", ink.muted),
                    (info.top_word, ink.good if ok else ink.bad),
                    f" {info.top_prob:.1%}",
                    # a word as well as a mark and a colour: readable without colour (NO_COLOR)
                    ("  ✓ right" if ok else "  ✗ wrong", ink.good if ok else ink.bad),
                )
            )
            p_line = Text.assemble(
                ("P(target) ", ink.muted), f"{info.target_prob:.4f}", ("  loss ", ink.muted), fmt(info.loss, 4)
            )
            lines.append(p_line)
            before = frame.prediction.target_prob_before if frame.prediction is not None else None
            if before is not None:  # right after an update: how P(target) moved here
                d = info.target_prob - before
                lines.append(Text.assemble(("ΔP(target) ", ink.muted), (fmt_delta(d), ink.good if d > 0 else ink.bad)))
        lines.append(Text(""))
        lines.append(_phase_line(frame, ink))
        params = frame.parameters
        lines.append(Text(f"model: {sum(c for *_, c in params):,} parameters", style=ink.muted))
        if frame.attention is not None:  # a GPT: every tensor by name, wrapped (none cut)
            width = max(self.content_size.width - 1, 20) if self.is_mounted else 40
            lines += [Text(f" {line}", style=ink.muted) for line in tensor_lines(params, width)]
            return lines
        for layer, shapes in frame.layers:  # one line per layer: its matrices, then its vectors' sizes
            shape = " + ".join("×".join(map(str, sh)) if len(sh) > 1 else str(sh[0]) for sh in shapes)
            lines.append(Text(f" {layer:<10} {shape}", style=ink.muted, no_wrap=True))
        return lines

    def render(self) -> Group:
        lines = self.lines()
        height = self.content_size.height
        if height > 0 and self.is_mounted and lines:
            head = self._sentence_rows(lines[0], max(height - 4, 1))
            lines[:1] = head
            heights = {id(ln): rendered_height(self, ln) for ln in lines}  # each line measured once

            def size(ls: list[Text]) -> int:
                return sum(heights[id(ln)] for ln in ls)

            if size(lines) > height and frame_gpt(self):  # a GPT's tensors are kept before the blank line
                lines = [ln for ln in lines if ln.plain]
            if size(lines) > height:
                # short pane: drop the per-layer shapes first, then the blank line; the position stays
                lines = [ln for ln in lines if not ln.plain.startswith(" ") or any(ln is h for h in head)]
                if size(lines) > height:
                    lines = [ln for ln in lines if ln.plain]
                while len(lines) > 1 and size(lines) > height:
                    lines = lines[:-1]
        return Group(*lines)

    def _sentence_rows(self, sentence: Text, rows: int) -> list[Text]:
        """The sentence, or when it takes more than ``rows`` lines (a long line of a real text, in
        characters) the ``rows`` lines around the marked token, … where lines are left out: the
        query, the target and the lines under the sentence stay on screen."""
        if rendered_height(self, sentence) <= rows:
            return [sentence]
        mark = self.ink.mark
        wrapped = list(sentence.wrap(self.app.console, max(self.content_size.width - 1, 1)))
        at = next((i for i, ln in enumerate(wrapped) if any(sp.style == mark for sp in ln.spans)), 0)
        start = max(0, min(at - rows + 1 + (rows > 2), len(wrapped) - rows))  # a line after the mark if it fits
        kept = [ln.copy() for ln in wrapped[start : start + rows]]
        if start:
            kept[0] = Text("…", style=self.ink.muted) + kept[0]
        if start + rows < len(wrapped):
            kept[-1].append("…", style=self.ink.muted)
        return kept


def frame_gpt(pane: ContextPane) -> bool:
    """Whether the pane shows a model with attention (a GPT)."""
    return pane.frame is not None and pane.frame.attention is not None


def _sentence(info, ink: Palette) -> Text:
    """The sentence: context words highlighted, the target as a block, the rest muted; words before
    the model's window of K tokens struck through (it cannot see them)."""
    sent = Text()
    k = len(info.context)
    unseen = k - len(info.window)
    for j, tok in enumerate(info.tokens):
        if j:
            sent.append(" ")
        if j < unseen:
            sent.append(tok, style=ink.muted + Style(strike=True))
        elif j < k:
            sent.append(tok, style=ink.context)
        elif j == k:
            sent.append(f" {tok} ", style=ink.mark)
        else:
            sent.append(tok, style=ink.muted)
    return sent


def _sequence(info, first_seen: int, ink: Palette) -> Text:
    """A GPT's sequence: every token its query sees (its window up to the query), the query marked,
    the target and every later token struck through: attention is causal, they are not seen."""
    sent = Text()
    query = len(info.context) - 1
    for j, tok in enumerate(info.tokens):
        if j:
            sent.append(" ")
        if j < first_seen:  # before the query's window (a sentence longer than the block)
            sent.append(tok, style=ink.muted + Style(strike=True))
        elif j < query:
            sent.append(tok, style=ink.context)
        elif j == query:
            sent.append(f"▸{tok}", style=ink.mark)
        else:
            sent.append(tok, style=(ink.target if j == query + 1 else ink.muted) + Style(strike=True))
    return sent


def tensor_lines(params: list[tuple[str, tuple[int, ...], int]], width: int) -> list[str]:
    """Every tensor by name, those of one layer and shape together ('layer0 attn_wq wk wv wo 16×16'),
    packed into lines of ``width`` cells, a new line per layer; an item is never cut."""
    groups: dict[str, list[tuple[str, list[str]]]] = {}  # layer -> [(shape, names)]
    for name, shape, _count in params:
        group, _, short = name.rpartition(".")
        size = "×".join(map(str, shape))
        parts = groups.setdefault(group, [])
        if parts and parts[-1][0] == size:
            parts[-1][1].append(short.removeprefix("attn_"))
        else:
            parts.append((size, [short]))
    lines = []
    for group, parts in groups.items():
        line = group
        for size, names in parts:
            item = " ".join(names) + f" {size}"
            if line and cell_len(line) + 3 + cell_len(item) > width:
                lines.append(line)
                line = "  " + item
            else:
                line = f"{line} · {item}" if line and line != group else f"{line} {item}".strip()
        lines.append(line)
    return lines


def _short(word: str | None, cells: int = 20) -> str | None:
    """A very long word cropped to ``cells`` terminal cells, so one word cannot fill the pane."""
    if word is None or cell_len(word) <= cells:
        return word
    return set_cell_size(word, cells - 1) + "…"


def _phase_line(frame: Frame, ink: Palette) -> Text:
    """forward / gradients / stale flags, so the learner sees where in the step they are."""
    from core import BACKWARD  # (a frame means core is loaded)

    t = Text()
    fresh = frame.fresh_forward
    t.append("forward ", style=ink.muted)
    if fresh:
        t.append("fresh", style=ink.good)
    elif frame.stale:
        t.append("stale", style=ink.target)
    else:
        t.append("not run", style=ink.muted)
    t.append("  grads ", style=ink.muted)
    grads = frame.phase == BACKWARD
    t.append("fresh" if grads else "-", style=ink.good if grads else ink.muted)
    if frame.stale:
        t.append(" (f)", style=ink.warn)
    return t
