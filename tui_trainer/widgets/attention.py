"""Attention pane (GPT only): each head's weights A over the selected query's window, as heatmaps.

Rows are queries, columns keys, both labelled by their tokens; the selected position's query row is
marked (▸, ← → move it); masked cells (a key after its query) are a dim ·; Σ reads each row's sum (1).
A wide pane shows every head of the layer, a narrow one the selected head (tab cycles heads, then
layers). After ``b`` the selected head's A beside dA and dS; right after an update (the forward pass
on the same positions) A before, A after and ΔA. ``n`` writes the numbers in the cells.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual.reactive import reactive

from .base import Pane, border_label
from .heatmap import NARROW, NUMBERS, WIDE, Block, band, block_width, shades_for

if TYPE_CHECKING:
    from core.attnmaps import AttentionMaps, AttentionPart
    from core.frame import Frame

HINT = "Press f: the forward pass computes every head's attention weights."
#: a row label's widest token (cells), before "▸ "
LABEL_CELLS = 8


class AttentionPane(Pane):
    """Heatmaps of attention; what the frame's attention part holds (``core.attnmaps``)."""

    #: the layer and head selected (tab, shift+tab), and whether the cells show numbers (n)
    attn_layer: reactive[int] = reactive(0)  # (not "layer": a Widget's compositing layer)
    head: reactive[int] = reactive(0)
    numbers: reactive[bool] = reactive(False)
    #: with numbers on, the maps last drawn that had room for them: "all", "some" or "none" (None: no maps)
    numbers_room: str | None = None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Attention"

    def watch_frame(self, frame: Frame | None) -> None:
        # after u the maps are the forward pass's before the update (the title's step is the new one);
        # set here, not in render: a border set while rendering is drawn a frame late
        maps = None if frame is None or frame.attention is None else frame.attention.maps
        self.border_subtitle = "stale: before the update (f)" if maps is not None and frame.stale else ""

    def selection(self, part: AttentionPart) -> tuple[int, int]:
        """The (layer, head) shown, kept inside the model (a checkpoint may have fewer)."""
        return min(self.attn_layer, part.layers - 1), min(self.head, part.heads - 1)

    def extras(self, maps: AttentionMaps, layer: int, head: int) -> list[Block]:
        """What the last action made, for the selected head: after b A, dA and dS; right after an
        update A before, A after and ΔA (none otherwise)."""
        if maps.dA is not None:
            return [
                Block(f"A h{head}", maps.att[layer, head], False, True),
                Block("dA", maps.dA[layer, head], True, False),
                Block("dS", maps.dS[layer, head], True, False),
            ]
        if maps.before is not None:
            return [
                Block(f"before h{head}", maps.before[layer, head], False, True),
                Block("after", maps.att[layer, head], False, True),
                Block("ΔA", maps.delta[layer, head], True, False),
            ]
        return []

    def _title(self, layer: int, layers: int, heads: tuple[int, int], of: int, step: int) -> None:
        """The title names the layer and the heads drawn (``heads``: the first and last, of ``of``),
        whole: where the full title does not fit, the parts of least use go first (the step, which
        the status line has too; then the "of N" counts; then the long words), never cut mid-word."""
        first, last = heads
        shown = f"heads {first}-{last}" if last > first else f"head {first}"
        counted = shown if (first, last) == (0, of - 1) and last > first else f"{shown} of {of}"
        h = f"h{first}-{last}" if last > first else f"h{first}"
        options = [
            f"Attention · layer {layer} of {layers} · {counted} · step {step}",
            f"Attention · layer {layer} of {layers} · {counted}",
            f"Attention · layer {layer} · {shown}",
            f"Attn · layer {layer} · {shown}",
            f"Attention · L{layer} {h}",
            "Attention",
            "Attn",
        ]
        self.border_title = border_label(options, self.outer_size.width if self.is_mounted else None)

    def render(self) -> Group:
        frame = self.frame
        part = None if frame is None else frame.attention
        if part is None:
            self.numbers_room = None
            self.border_title = "Attention"
            return Group(Text("This model has no attention (--model gpt has).", style=self.ink.muted))
        layer, head = self.selection(part)
        ink = self.ink
        maps = part.maps
        if maps is None:
            self.numbers_room = None
            self._title(layer, part.layers, (head, head), part.heads, frame.step)
            return Group(Text(HINT, style=ink.muted))
        tokens = [frame.vocab[int(t)] for t in maps.token_ids]
        n = len(tokens)
        width = max(self.content_size.width, 1) if self.is_mounted else 80
        height = max(self.content_size.height, 1) if self.is_mounted else 40
        label = min(max(cell_len(t) for t in tokens), LABEL_CELLS) + 2

        def fits(blocks: list[Block], mode: str) -> bool:
            return label + sum(block_width(b, n, mode) for b in blocks) <= width + 2

        def fitting(blocks: list[Block], mode: str) -> str:
            """``mode``, or a narrower one where a row of one of ``blocks`` would not fit the pane
            (it wrapped: a block of BPE pieces' 16 keys at 80x24 took two lines a row)."""
            modes = (NUMBERS, WIDE, NARROW)
            for m in modes[modes.index(mode) :]:
                if all(fits([b], m) for b in blocks):
                    return m
            return NARROW

        # every head of the layer side by side if they fit (one cell a key if need be), else the selected one
        mode = NUMBERS if self.numbers else WIDE
        heads = [Block(f"head {h}", maps.att[layer, h], False, True, h == head) for h in range(part.heads)]
        heads_mode = NARROW if mode == WIDE and not fits(heads, WIDE) else mode
        all_heads = fits(heads, heads_mode)
        if not all_heads:
            heads = [Block(f"head {head}", maps.att[layer, head], False, True)]
            heads_mode = fitting(heads, mode)
        extras = self.extras(maps, layer, head)
        mode = fitting(extras, mode)  # (the extras' mode)
        if extras and label + sum(block_width(b, n, mode) for b in extras) > width + 2:
            # not all side by side: the change (ΔA, or dA and dS) first, the map it is of last
            extras = extras[1:] + extras[:1] if maps.dA is not None else [extras[1], extras[2], extras[0]]
        sections = ([(extras, mode)] if extras else []) + ([(heads, heads_mode)] if all_heads or not extras else [])
        # n asked for numbers the pane has no room for: each map says so in its title (and n's narration)
        roomy = [m == NUMBERS for _, m in sections]
        self.numbers_room = "all" if all(roomy) else "some" if any(roomy) else "none"
        sections = [
            (
                blocks
                if m == NUMBERS or not self.numbers
                else [replace(b, title=f"{b.title}: no room for n") for b in blocks],
                m,
            )
            for blocks, m in sections
        ]
        # blocks side by side while they fit, in bands below one another while the rows fit
        bands = []
        for blocks, m in sections:
            per_band = max(1, (width - label + 2) // max(block_width(b, n, m) for b in blocks))
            bands += [(blocks[i : i + per_band], m) for i in range(0, len(blocks), per_band)]
        # every query if they fit (with a legend line under them if it fits too), else a window of
        # them around the selected one and a line saying which
        room = height - 1 if height != n + 2 else height
        rows = _rows(n, maps.query, max(room - 2, 1))
        lines: list[Text] = []
        shades = shades_for(self)
        left = 0
        for i, (blocks, m) in enumerate(bands):
            if lines and len(lines) + 2 + len(rows) > room:
                left = sum(len(g) for g, _ in bands[i:])
                break
            lines += band(blocks, maps.mask, tokens, maps.query, rows, m, shades, ink, label)
        # the title names the heads drawn (after b the heads' band below A, dA and dS may not fit)
        drawn = sum(len(g) for g, _ in bands) - left - len(extras) if all_heads else 0
        self._title(layer, part.layers, (0, drawn - 1) if drawn > 1 else (head, head), part.heads, frame.step)
        if len(rows) < n:
            lines.append(Text(f"queries {rows.start + 1}-{rows.stop} of {n} (← → move the query)", style=ink.muted))
        elif left:
            maps_left = f"{left} more map" + ("s" if left > 1 else "")
            lines.append(Text(f"{maps_left} not shown: a larger terminal shows them", style=ink.muted))
        elif len(lines) < height:
            lines.append(self._legend(bool(extras) and extras[-1].diverging, ink))
        return Group(*lines[:height])

    def _legend(self, diverging: bool, ink) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        if diverging:
            t.append("+− sign ░▒▓█ size  ", style=ink.muted)
        else:
            t.append("░▒▓█ 0→1  ", style=ink.muted)
        t.append("· masked (key after query)  ▸ query  n numbers  tab head", style=ink.muted)
        return t


def _rows(n: int, query: int, room: int) -> range:
    """The queries shown: every one if they fit, else ``room`` of them around the selected one."""
    if n <= room:
        return range(n)
    start = min(max(query - room // 2, 0), n - room)
    return range(start, start + room)
