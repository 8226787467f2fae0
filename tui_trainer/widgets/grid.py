"""A lean table for the panes: the output of ``rich.table.Table`` (no box, one cell of
padding between columns), several times cheaper to paint.

A pane repaints its tables up to 15 times a second during a run, and at V = 10,000
Rich's general table layout (measuring every cell twice, wrapping, padding objects)
cost more than a frame. Every cell here is one line, so a column's width is its
widest cell; when the table fits, rows are laid out directly as ``Text``. When it
does not fit (a very narrow pane) it falls back to ``rich.table.Table``, which
shrinks and wraps columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

Cell = str | Text


@dataclass(frozen=True)
class Col:
    """One column: as ``Table.add_column`` takes it."""

    header: str = ""
    justify: str = "left"
    style: str = ""
    min_width: int | None = None
    max_width: int | None = None
    no_wrap: bool = False
    overflow: str = "ellipsis"
    #: when the table is too wide, this column gives up width first (its cells are cropped with "…")
    shrink: bool = False


def distribute(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` cells between columns in proportion to ``weights`` (rounding up
    as it goes, so the shares add up to ``total``), as Rich widens an expanded table."""
    shares, left, weight_left = [], total, sum(weights)
    for w in weights:
        share = ceil(w * left / weight_left) if weight_left > 0 else left
        shares.append(share)
        left -= share
        weight_left -= w
    return shares


class Grid:
    """Rows of one-line cells under optional headers, a title above and a caption below."""

    def __init__(
        self,
        *columns: Col,
        show_header: bool = True,
        header_style: str = "bold",
        expand: bool = False,
        title: str | None = None,
        title_style: str = "italic",
        caption: str | None = None,
        caption_style: str = "italic dim",
    ) -> None:
        self.columns = columns
        self.show_header = show_header
        self.header_style = header_style
        self.expand = expand
        self.title, self.title_style = title, title_style
        self.caption, self.caption_style = caption, caption_style
        self.rows: list[tuple[list[Text], str, bool]] = []
        #: (width, lines) of the last layout: a pane measures its tables before painting them
        self._layout: tuple[int, list[Text] | None] | None = None

    def add_row(self, *cells: Cell, style: str = "") -> None:
        self._layout = None
        self.rows.append(([c if isinstance(c, Text) else Text(c) for c in cells], style, False))

    def add_note(self, text: Text) -> None:
        """A row of one text that may run across every column (e.g. "... 9,988 more"): it is
        left out of the column widths, and laid out as the first cell when it fits there."""
        self._layout = None
        self.rows.append(([text], "", True))

    # --- layout ---------------------------------------------------------------------

    def _pad(self, i: int) -> tuple[int, int]:
        last = len(self.columns) - 1
        return (0 if i == 0 else 1), (0 if i == last else 1)

    def widths(self, max_width: int) -> list[int] | None:
        """Each column's width with its padding, or None when the table does not fit."""
        widths = []
        for i, col in enumerate(self.columns):
            cells = [r[0][i] for r in self.rows if i < len(r[0]) and not r[2]]
            content = max([cell_len(c.plain) for c in cells] + ([cell_len(col.header)] if self.show_header else []))
            pad = sum(self._pad(i))
            w = content + pad
            if col.min_width is not None:
                w = max(w, col.min_width + pad)
            if col.max_width is not None:
                w = min(w, col.max_width + pad)
            widths.append(max(min(w, max_width), 1))
        total = sum(widths)
        for i, col in enumerate(self.columns):
            if total > max_width and col.shrink:
                cut = min(total - max_width, widths[i] - sum(self._pad(i)) - 3)  # keep 3 cells
                if cut > 0:
                    widths[i] -= cut
                    total -= cut
        if total > max_width:
            return None
        if self.expand and total < max_width:
            widths = [w + extra for w, extra in zip(widths, distribute(max_width - total, widths), strict=True)]
        return widths

    def _cell(self, text: Text, width: int, i: int, style: Style, justify: str, overflow: str) -> Text:
        left, right = self._pad(i)
        inner = width - left - right
        plain = text.plain
        body = text.copy()
        if cell_len(plain) > inner:
            if overflow == "ellipsis" and inner > 0:
                body = Text(set_cell_size(plain, inner - 1) + "…", style=text.style)
            else:
                body.truncate(inner)
        gap = inner - cell_len(body.plain)
        if justify == "right":
            body.pad_left(gap)
        elif justify == "center":
            body.pad_left(gap // 2)
            body.pad_right(gap - gap // 2)
        else:
            body.pad_right(gap)
        out = Text(" " * left, style=style)
        out.append_text(Text.assemble(body, style=style) if style else body)
        out.append(" " * right, style=style)
        return out

    def lines(self, console: Console, max_width: int) -> list[Text] | None:
        """Each row as one line of text, or None when the table does not fit ``max_width``."""
        if self._layout is None or self._layout[0] != max_width:
            self._layout = (max_width, self._lines(console, max_width))
        return self._layout[1]

    def _lines(self, console: Console, max_width: int) -> list[Text] | None:
        widths = self.widths(max_width)
        if widths is None:
            return None
        get = console.get_style
        out: list[Text] = []
        header_style = get(self.header_style)
        if self.show_header:
            row = Text(no_wrap=True, end="")
            for i, (col, w) in enumerate(zip(self.columns, widths, strict=True)):
                row.append_text(self._cell(Text(col.header), w, i, header_style, col.justify, col.overflow))
            out.append(row)
        table_width = sum(widths)
        for cells, row_style, note in self.rows:
            if note and cell_len(cells[0].plain) > widths[0] - sum(self._pad(0)):
                text = cells[0]
                if cell_len(text.plain) > table_width:
                    text = Text(set_cell_size(text.plain, table_width - 1) + "…", style=text.style)
                out.append(Text.assemble(text, " " * (table_width - cell_len(text.plain)), no_wrap=True, end=""))
                continue
            row = Text(no_wrap=True, end="")
            for i, (col, w) in enumerate(zip(self.columns, widths, strict=True)):
                style = get(col.style) + get(row_style)
                cell = cells[i] if i < len(cells) else Text()
                row.append_text(self._cell(cell, w, i, style, col.justify, col.overflow))
            out.append(row)
        return out

    def to_table(self) -> Table:
        """The same table as ``rich.table.Table`` (the fallback, and the reference in tests)."""
        t = Table(
            box=None,
            show_header=self.show_header,
            header_style=self.header_style,
            pad_edge=False,
            padding=(0, 1),
            expand=self.expand,
            title=self.title,
            title_style=self.title_style,
            title_justify="left",
            caption=self.caption,
            caption_style=self.caption_style,
            caption_justify="left",
        )
        for c in self.columns:
            t.add_column(
                c.header,
                justify=c.justify,
                style=c.style or None,
                min_width=c.min_width,
                max_width=c.max_width,
                no_wrap=c.no_wrap,
                overflow=c.overflow,
            )
        for cells, style, note in self.rows:
            t.add_row(*cells, *([""] * (len(self.columns) - 1) if note else []), style=style or None)
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = self.lines(console, options.max_width)
        if lines is None:
            yield self.to_table()
            return
        width = sum(cell_len(ln.plain) for ln in lines[:1]) or options.max_width
        note_options = options.update(width=width, justify="left", highlight=False)
        if self.title:
            yield from console.render(Text(self.title, style=self.title_style), note_options)
        for line in lines:
            yield from line.render(console, end="\n")
        if self.caption:
            yield from console.render(Text(self.caption, style=self.caption_style), note_options)
