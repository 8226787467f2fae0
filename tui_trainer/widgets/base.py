"""Shared pieces of the panes: the pane base class, number formats, bar glyphs."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from ..palette import Palette, palette

if TYPE_CHECKING:
    from core.frame import Frame  # (the panes are painted before NumPy and core load)

EIGHTHS = " ▏▎▍▌▋▊▉█"


class Pane(Widget):
    """A bordered pane that renders the frame it is given (``core.frame.Frame``).

    State down: the app builds one frozen frame per refresh and sets it on every pane; a pane
    renders from it alone and fits its rows to its own size when it renders (so a resize needs
    nothing from the app). It never holds the session, which a training thread may change.
    """

    DEFAULT_CSS = """
    Pane {
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $foreground;
        padding: 0 1;
        height: 1fr;
    }
    """

    #: what to show (None: nothing yet); a frame that differs from the one shown repaints the
    #: pane (an equal one, as after a resize or a count typed, changes nothing: half of them)
    frame: reactive[Frame | None] = reactive(None)

    @property
    def ink(self) -> Palette:
        """Text styles from the active theme, readable on this pane's background."""
        return palette(self)


def rendered_height(widget: Widget, renderable, width: int | None = None) -> int:
    """Lines ``renderable`` takes when rendered ``width`` cells wide (default: the widget's content width)."""
    width = max(widget.content_size.width if width is None else width, 1)
    if isinstance(renderable, Text) and "\n" not in renderable.plain:
        # the common case, without a trial render: one line unless it wraps
        if renderable.no_wrap or cell_len(renderable.plain) <= width:
            return 1
    console = widget.app.console
    return len(console.render_lines(renderable, console.options.update(width=width, height=None), pad=False))


def border_label(options: list[str], width: int | None) -> str:
    """The first of ``options`` a border ``width`` cells wide draws whole, else "" (never cut to an
    ellipsis mid-word); ``width`` None (not laid out yet): the first. Textual keeps six cells of
    the edge for the corners, the ─ beside each and a space each side of the label."""
    if width is None:
        return options[0]
    return next((o for o in options if cell_len(o) + 6 <= width), "")


def fit_cells(text: str, width: int) -> str:
    """``text`` cropped (ending in …) or padded on the left to exactly ``width`` terminal cells (wide
    CJK/emoji count 2)."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        # (a wide character cut in half leaves a space: the … follows the last whole one)
        text = set_cell_size(text, width - 1).rstrip() + "…" if width > 1 else set_cell_size(text, width)
    return " " * (width - cell_len(text)) + text


def fmt(x: float | None, digits: int = 4) -> str:
    """A number for the screen: fixed decimals, never 'np.float64(...)'."""
    if x is None:
        return "-"
    if not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    if x != 0 and (abs(x) >= 10 ** (7 - digits + 3) or abs(x) < 10**-digits):
        return f"{x:.{max(digits - 2, 1)}e}"
    return f"{x:.{digits}f}"


def fmt_delta(d: float) -> str:
    """A signed change: four decimals, or scientific when smaller (never '-0.0000')."""
    if d == 0:
        return "0"
    return f"{d:+.4f}" if abs(d) >= 1e-4 else f"{d:+.1e}"


def fmt_big(x: float) -> str:
    """e^logit values: a few significant digits, scientific when large or tiny."""
    if not math.isfinite(x):
        return "overflow"
    if x == 0:
        return "0"
    if 0.01 <= abs(x) < 1e5:
        return f"{x:.2f}"
    return f"{x:.2e}"


def hbar(value: float, scale: float, width: int) -> str:
    """A left-aligned bar of ``value/scale`` of ``width`` cells, in eighths."""
    if scale <= 0 or width <= 0 or not math.isfinite(value):
        return ""
    eighths = int(round(max(0.0, min(1.0, value / scale)) * width * 8))
    full, rem = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rem] if rem else "")


def hbar_left(value: float, scale: float, width: int) -> str:
    """A bar growing leftwards (for negative values), right-aligned in ``width`` cells;
    half-cell resolution (the block glyphs have no right-aligned eighths)."""
    if scale <= 0 or width <= 0 or not math.isfinite(value):
        return " " * max(width, 0)
    halves = int(round(max(0.0, min(1.0, value / scale)) * width * 2))
    full, half = divmod(halves, 2)
    bar = ("▐" if half else "") + "█" * full
    return bar.rjust(width)
