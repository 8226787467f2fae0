"""The panes' lean table: the same output as rich.table.Table where it lays rows out itself."""

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui_trainer.widgets.grid import Col, Grid, distribute


def segments(renderable, width: int) -> list[list[Segment]]:
    console = Console(width=width, color_system="truecolor", force_terminal=True, legacy_windows=False)
    lines = console.render_lines(renderable, console.options.update(width=width), pad=False)
    # compare character by character (the two split segments differently); no style == null style
    return [[Segment(ch, seg.style or Style()) for seg in line for ch in seg.text] for line in lines]


def softmax_like(expand: bool = True, stale: bool = False) -> Grid:
    g = Grid(
        Col("word", no_wrap=True, max_width=12),
        Col("logit", justify="right"),
        Col("e^logit", justify="right"),
        Col("P", justify="right"),
        expand=expand,
        caption="-log P(we) = -log(0.1494) = 1.9010",
        caption_style="bold",
    )
    style = "dim" if stale else ""
    for word, logit, p in [("we ◀", 2.0, 0.1494), ("love", 3.1, 0.4488), ("a-very-long-word-here", -1.25, 0.0)]:
        is_t = "◀" in word
        g.add_row(Text(word, style="bold yellow" if is_t else style), f"{logit:.2f}", "7.39", f"{p:.4f}", style=style)
    g.add_row(Text("sum", style="bold"), "", "54.67", Text("1.000000", style="bold"))
    return g


def gradients_like() -> Grid:
    g = Grid(
        Col(no_wrap=True, min_width=11),
        Col(no_wrap=True, style="dim", min_width=12),
        Col(justify="right", min_width=6, no_wrap=True),
        Col(no_wrap=True),
        show_header=False,
    )
    g.add_row("output", "|dL/dlogits|", "1.234", Text("████▌", "magenta"))
    g.add_row("↓ layer2", "|dL/dh2|", "0.5", Text("██", "magenta"))
    return g


def titled() -> Grid:
    g = Grid(
        Col("word", no_wrap=True),
        Col("P", justify="right"),
        Col("", no_wrap=True, style="dim"),
        header_style="dim",
        title="dLoss/dlogit = P - target, position 1",
        title_style="bold",
    )
    g.add_row(Text("we", style="bold yellow"), "0.149", "raise logit")
    g.add_row("love", "0.449", "lower logit")
    return g


@pytest.mark.parametrize("make", [softmax_like, lambda: softmax_like(stale=True), gradients_like, titled])
@pytest.mark.parametrize("width", [40, 57, 80])
def test_same_cells_and_styles_as_rich_table(make, width):
    grid = make()
    assert grid.widths(width) is not None  # laid out by the grid, not the fallback
    assert segments(grid, width) == segments(grid.to_table(), width)


def test_too_narrow_falls_back_to_rich_table():
    grid = gradients_like()
    assert grid.widths(20) is None
    assert segments(grid, 20) == segments(grid.to_table(), 20)


def test_a_shrinking_column_gives_up_width_and_numbers_stay_whole():
    grid = softmax_like(expand=False)
    grid.columns = (Col("word", no_wrap=True, max_width=12, shrink=True), *grid.columns[1:])
    natural = sum(grid.widths(200))
    lines = [ln.plain for ln in grid.lines(Console(), natural - 4)]
    assert all(len(ln) <= natural - 4 for ln in lines)
    assert any("…" in ln.split()[0] for ln in lines)  # the long word is cropped
    assert "1.000000" in lines[-1] and "54.67" in lines[-1] and "0.4488" in lines[2]


def test_a_note_row_spans_the_columns_when_it_does_not_fit_the_first():
    grid = Grid(Col("word", no_wrap=True), Col("P", justify="right"))
    grid.add_row("we", "0.1494")
    grid.add_note(Text("… 9,988 more", style="dim"))
    lines = [ln.plain for ln in grid.lines(Console(), 40)]
    assert grid.widths(40) == [5, 7]  # the note does not widen "word"
    assert lines[-1].startswith("… 9,988 more")
    assert len(lines[-1]) == 12


def test_distribute_adds_up_and_follows_the_weights():
    assert sum(distribute(7, [12, 6, 10, 9])) == 7
    assert distribute(0, [1, 2]) == [0, 0]
    assert distribute(4, [1, 1, 2]) == [1, 1, 2]
