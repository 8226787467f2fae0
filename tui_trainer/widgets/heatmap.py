"""Heatmaps as lines of text: matrices side by side, rows = queries, columns = keys.

A cell's shade is drawn twice over, so it reads in every theme and without colour (NO_COLOR): a
character of the ramp `` ░▒▓█`` (how much) and a background blended from the pane's background
towards one of the theme's colours (the same amount). A diverging map (a gradient, a change)
writes its sign too: ``+`` or ``−`` before the ramp character, a colour for each sign. Masked cells
(a key after its query) are a dim ``·``: the mask fixes them, they are not a small number. With
numbers on (``n``), the cell holds its value instead of the ramp, in a text colour made readable
on the cell's own background (WCAG 4.5:1, as every text in the app).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.color import Color

from ..palette import Palette, readable

if TYPE_CHECKING:  # (the panes are painted before NumPy loads: arrays arrive with the frame)
    import numpy as np

RAMP = " ░▒▓█"
#: a weight this large (of 1) draws at least ░: 0.1 over ten keys read as empty cells
FAINT = 0.02
#: shade levels a background takes (few: each level's text colour is computed once)
LEVELS = 8
MASKED = "·"
#: a space in a token as the frame draws it (core.tokens.VISIBLE_SPACE: core loads after the first paint)
VISIBLE_SPACE = "▁"


@dataclass(frozen=True)
class Block:
    """One matrix to draw: its title, its values (n, n), and how they are shaded."""

    title: str
    values: np.ndarray
    diverging: bool  # signed values, shaded by |v| / max |v| with their sign
    sums: bool  # a Σ column (a row of attention weights sums to 1)
    marked: bool = False  # the selected head's title, highlighted among all heads


class Shades:
    """The cell styles for one pane background: sequential (one colour) and diverging (two)."""

    def __init__(self, background: Color, foreground: Color, hue: Color, positive: Color, negative: Color) -> None:
        self.background, self.foreground = background, foreground
        self.hues = {"seq": hue, "pos": positive, "neg": negative}
        self._cache: dict[tuple[str, int], tuple[Style, Style]] = {}

    def styles(self, hue: str, level: int) -> tuple[Style, Style]:
        """(ramp style, number style) at ``level`` (0 … LEVELS) of ``hue``."""
        key = (hue, level)
        if key not in self._cache:
            colour = self.hues[hue]
            bg = self.background.blend(colour, 0.7 * level / LEVELS)
            ramp = Style(color=colour.rich_color, bgcolor=bg.rich_color)
            text = Style(color=readable(self.foreground, bg).rich_color, bgcolor=bg.rich_color)
            self._cache[key] = (ramp, text)
        return self._cache[key]


def shades_for(widget) -> Shades:
    """The shades of ``widget``'s background in the active theme."""
    variables = widget.app.get_css_variables()
    _, _, background, foreground = widget.colors
    background = background.with_alpha(1.0)

    def colour(name: str, fallback: str) -> Color:
        try:
            return Color.parse(variables.get(name, fallback))
        except Exception:  # (a theme without it: Textual's default)
            return Color.parse(fallback)

    return Shades(
        background, foreground, colour("accent", "#ffa62b"), colour("success", "#4ebf71"), colour("error", "#ba3c5b")
    )


#: how cells are drawn: shades two cells wide, shades one cell wide (many keys), or numbers
WIDE, NARROW, NUMBERS = "wide", "narrow", "numbers"


def cell_width(block: Block, mode: str) -> int:
    """Cells per matrix cell: 2 (or 1) for a shade, 4 for a weight ('.37'), 5 for a signed value ('+2.1')."""
    if mode == NUMBERS:
        return 5 if block.diverging else 4
    return 1 if mode == NARROW and not block.diverging else 2


def block_width(block: Block, n: int, mode: str) -> int:
    """The columns a block takes, its Σ column and the gap after it included."""
    return n * cell_width(block, mode) + (5 if block.sums else 0) + 2


def exponent(values: np.ndarray) -> int:
    """The power of ten a diverging map's numbers are written in (cells read -9.9 … +9.9)."""
    top = float(abs(values).max()) if values.size else 0.0
    return 0 if top == 0 or not math.isfinite(top) else math.floor(math.log10(top))


def weight_text(v: float) -> str:
    """A weight in 3 cells: '.37', '1.0', ' 0' (an exact zero)."""
    if v == 0:
        return "  0"
    if round(v, 2) >= 1:
        return "1.0"
    return f"{v:.2f}"[1:]


def signed_text(v: float, exp: int) -> str:
    """A signed value in 4 cells, in units of 10^exp: '+2.1', '−0.3', '   0' (an exact zero)."""
    if v == 0:
        return "   0"
    x = v / 10.0**exp
    s = f"{abs(x):.1f}"
    return ("+" if x > 0 else "−") + s.rjust(3)


def _label(text: str, width: int) -> str:
    text = text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"
    return " " * (width - cell_len(text)) + text


def _key_label(text: str, width: int) -> str:
    """A key's column label: the token's first cells, left-aligned in the cell (after a space when
    the cell is wider than one)."""
    pad = 1 if width > 1 else 0
    if cell_len(text) > width - pad and len(text) > 1 and text[0] == VISIBLE_SPACE:
        text = text[1:]  # a word-start piece ('▁copyright'): its first letter, not ▁ in every column
    first = cell_len(text[:1])
    if first > width - pad:  # a wide first character (🍕, 日) was cut to a blank label:
        if first <= width:
            pad = 0  # it takes the space before it
        else:
            text = "…"  # in a one-cell column, … says it does not fit (the row labels show it)
    text = set_cell_size(text, width - pad) if cell_len(text) > width - pad else text
    return " " * pad + text + " " * (width - pad - cell_len(text))


def band(
    blocks: list[Block],
    mask: np.ndarray,
    tokens: list[str],
    query: int,
    rows: range,
    mode: str,
    shades: Shades,
    ink: Palette,
    label_width: int,
) -> list[Text]:
    """Lines of ``blocks`` side by side: a title line, the keys' labels, then ``rows`` (queries)."""
    n = len(tokens)
    title = Text(" " * label_width)
    keys = Text(" " * label_width)
    scales = []
    for b in blocks:
        w = block_width(b, n, mode)
        exp = exponent(b.values) if (b.diverging and mode == NUMBERS) else 0
        scales.append(exp)
        head = b.title + (f" ×1e{exp}" if exp else "")
        text = set_cell_size(head, min(cell_len(head), w - 2))
        title.append(text, style=ink.mark if b.marked else ink.strong)
        title.append(" " * (w - cell_len(text)))
        cw = cell_width(b, mode)
        for t in tokens:
            keys.append(_key_label(t, cw), style=ink.muted)
        keys.append((" Σ".ljust(5) if b.sums else "") + "  ", style=ink.muted)
    lines = [title, keys]
    for r in rows:
        selected = r == query
        line = Text()
        line.append(_label(tokens[r], label_width - 2), style=ink.mark if selected else ink.text)
        line.append("▸ " if selected else "  ", style=ink.strong)
        for b, exp in zip(blocks, scales, strict=True):
            _cells(line, b, mask[r], b.values[r], mode, exp, shades, ink)
            if b.sums:
                total = float(b.values[r].sum())
                line.append(f" {total:4.2f}", style=ink.strong if selected else ink.text)
            line.append("  ")
        lines.append(line)
    return lines


def _cells(line: Text, b: Block, masked: np.ndarray, row: np.ndarray, mode: str, exp: int, shades, ink) -> None:
    numbers = mode == NUMBERS
    cw = cell_width(b, mode)
    top = float(abs(b.values).max()) if b.diverging and b.values.size else 1.0
    for v, m in zip(row.tolist(), masked.tolist(), strict=True):
        if m:  # (a gradient's or a change's masked cell is exactly 0: with numbers on it says so)
            line.append((" " * (cw - 1) + "0") if numbers and b.diverging else MASKED.center(cw), style=ink.muted)
            continue
        amount = min(abs(v) / top, 1.0) if top > 0 and math.isfinite(v) else 0.0
        level = int(round(amount * LEVELS))
        hue = "seq" if not b.diverging else ("pos" if v > 0 else "neg")
        ramp_style, text_style = shades.styles(hue, level)
        if numbers:
            text = signed_text(v, exp) if b.diverging else weight_text(v)
            line.append(" " + text, style=text_style)
        else:
            step = int(round(amount * (len(RAMP) - 1)))
            if step == 0 and not b.diverging and amount >= FAINT:  # an even row over many keys is not blank
                step = 1
            char = RAMP[step]
            if b.diverging:  # the sign as a character: it reads without colour
                sign = " " if v == 0 or char == " " else ("+" if v > 0 else "−")
                line.append(sign, style=text_style)
                line.append(char, style=ramp_style)
            else:
                line.append(char * cw, style=ramp_style)
