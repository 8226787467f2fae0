"""Attention pane (GPT only): each head's weights A over the selected query's window, as heatmaps.

Rows are queries, columns keys, both labelled by their tokens; the selected position's query row is
marked (▸, ← → move it); masked cells (a key after its query) are a dim ·; Σ reads each row's sum (1).
A wide pane shows every head of the layer, a narrow one the selected head (tab cycles heads, then
layers). After ``b`` the selected head's A beside dA and dS; right after an update (the forward pass
on the same positions) A before, A after and ΔA. ``n`` writes the numbers in the cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual.reactive import reactive

from .base import Pane
from .heatmap import Block, band, block_width, shades_for

if TYPE_CHECKING:
    from core.attnmaps import AttentionMaps, AttentionPart

HINT = "Press f: the forward pass computes every head's attention weights."
#: a row label's widest token (cells), before "▸ "
LABEL_CELLS = 8


class AttentionPane(Pane):
    """Heatmaps of attention; what the frame's attention part holds (``core.attnmaps``)."""

    #: the layer and head selected (tab, shift+tab), and whether the cells show numbers (n)
    attn_layer: reactive[int] = reactive(0)  # (not "layer": a Widget's compositing layer)
    head: reactive[int] = reactive(0)
    numbers: reactive[bool] = reactive(False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Attention"

    def selection(self, part: AttentionPart) -> tuple[int, int]:
        """The (layer, head) shown, kept inside the model (a checkpoint may have fewer)."""
        return min(self.attn_layer, part.layers - 1), min(self.head, part.heads - 1)

    def blocks(self, maps: AttentionMaps, layer: int, head: int, heads: int, all_heads: bool) -> list[Block]:
        """The matrices to draw, in order: what the state has (gradients, a change) or A per head."""
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
        shown = range(heads) if all_heads else [head]
        return [Block(f"head {h}", maps.att[layer, h], False, True, all_heads and h == head) for h in shown]

    def render(self) -> Group:
        frame = self.frame
        part = None if frame is None else frame.attention
        if part is None:
            self.border_title = "Attention"
            return Group(Text("This model has no attention (--model gpt has).", style=self.ink.muted))
        layer, head = self.selection(part)
        ink = self.ink
        maps = part.maps
        if maps is None:
            self.border_title = f"Attention · layer {layer} · head {head} · step {frame.step}"
            return Group(Text(HINT, style=ink.muted))
        tokens = [frame.vocab[int(t)] for t in maps.token_ids]
        n = len(tokens)
        width = max(self.content_size.width, 1) if self.is_mounted else 80
        height = max(self.content_size.height, 1) if self.is_mounted else 40
        label = min(max(cell_len(t) for t in tokens), LABEL_CELLS) + 2
        each = block_width(self.blocks(maps, layer, head, 1, False)[0], n, self.numbers)
        all_heads = maps.dA is None and maps.before is None and label + part.heads * each <= width + 2
        blocks = self.blocks(maps, layer, head, part.heads, all_heads)
        heads = f"heads 0-{part.heads - 1}" if all_heads else f"head {head} of {part.heads}"
        self.border_title = f"Attention · layer {layer} of {part.layers} · {heads} · step {frame.step}"
        # blocks side by side while they fit, in bands below one another while the rows fit
        per_band = max(1, (width - label + 2) // max(block_width(b, n, self.numbers) for b in blocks))
        bands = [blocks[i : i + per_band] for i in range(0, len(blocks), per_band)]
        legend = self._legend(blocks, ink)
        room = height - (1 if height > 2 + n + 1 else 0)  # the legend only under a whole map
        rows = _rows(n, maps.query, max(room - 2, 1))
        lines: list[Text] = []
        shades = shades_for(self)
        mask = maps.mask
        left = 0
        for i, group in enumerate(bands):
            if lines and len(lines) + 2 + len(rows) > room:
                left = sum(len(g) for g in bands[i:])
                break
            lines += band(group, mask, tokens, maps.query, rows, self.numbers, shades, ink, label)
        if len(rows) < n:
            lines.append(Text(f"queries {rows.start + 1}-{rows.stop} of {n} (← → move the query)", style=ink.muted))
        elif left:
            lines.append(Text(f"{left} more not shown: a larger terminal shows them", style=ink.muted))
        elif len(lines) < height:
            lines.append(legend)
        return Group(*lines[:height])

    def _legend(self, blocks: list[Block], ink) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        if any(b.diverging for b in blocks):
            t.append("+ − sign, ░▒▓█ size  ", style=ink.muted)
        else:
            t.append(" ░▒▓█ weight 0→1  ", style=ink.muted)
        t.append("· masked (after the query)  ▸ query  ", style=ink.muted)
        t.append("n numbers  tab head", style=ink.muted)
        return t


def _rows(n: int, query: int, room: int) -> range:
    """The queries shown: every one if they fit, else ``room`` of them around the selected one."""
    if n <= room:
        return range(n)
    start = min(max(query - room // 2, 0), n - room)
    return range(start, start + room)
