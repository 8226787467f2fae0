"""The chart module (tui_trainer/widgets/chart.py): braille curves, ticks, baselines and the legend."""

from dataclasses import fields

import numpy as np
from rich.style import Style

from tui_trainer.palette import Palette
from tui_trainer.widgets.chart import (
    LABEL_W,
    Chart,
    Legend,
    Series,
    braille_grid,
    scaled,
    value_range,
    y_ticks,
)

INK = Palette(**{f.name: Style() for f in fields(Palette)})
RED, BLUE = Style(color="red"), Style(color="blue")


def lines_of(chart: Chart, w: int, h: int) -> list[str]:
    return [t.plain for t in chart.render(w, h, INK).renderables]


def falling(n: int = 10) -> Series:
    return Series(np.linspace(1.0, 0.0, n), RED)


# --- the braille curve ----------------------------------------------------------------------------


def test_few_values_are_joined_across_the_whole_width():
    grid = braille_grid(np.array([10.0, 5.0, 2.0, 1.0]), width=30, height=6, lo=1.0, hi=10.0)
    assert grid.shape == (6, 30)
    assert (grid != 0).any(axis=0).all()  # every cell column has dots: joined, not four lonely dots


def test_a_single_spike_survives_downsampling():
    v = np.ones(10_000)
    v[5_000] = 50.0
    grid = braille_grid(v, width=20, height=5, lo=1.0, hi=50.0)
    assert grid[0].any()  # the top row holds the spike
    flat = braille_grid(np.ones(10_000), width=20, height=5, lo=1.0, hi=50.0)
    assert not flat[0].any()  # and without it, nothing reaches the top row


def test_log_scale_range_and_values_that_are_not_finite():
    v = scaled(np.array([100.0, np.nan, 10.0, np.inf, 1.0]), log=True)
    assert np.allclose(v[[0, 2, 4]], [2.0, 1.0, 0.0]) and np.isnan(v[[1, 3]]).all()
    assert value_range([v]) == (0.0, 2.0)
    assert value_range([np.array([np.nan])]) is None
    assert value_range([np.array([3.0, 3.0])]) == (2.5, 3.5)  # a flat line gets a range to sit in


# --- ticks and baselines --------------------------------------------------------------------------


def test_linear_ticks_at_the_top_and_bottom_rows():
    assert y_ticks(0.0, 1.0, 5, log=False, digits=2) == {0: "1.00", 4: "0.00"}


def test_decade_ticks_sit_on_the_rows_of_their_decades():
    ticks = y_ticks(-3.0, 0.0, 7, log=True, digits=2, decades=True)
    assert ticks == {0: "1.00", 2: "1e-1", 4: "1e-2", 6: "1.0e-03"}
    assert y_ticks(-3.0, 0.0, 7, log=True, digits=2) == {0: "1.00", 6: "1.0e-03"}  # none asked for


def test_rendered_ticks_and_a_baseline_are_on_their_rows():
    chart = Chart([falling()], -3.0, 0.0, 10, log=True, digits=2, decades=True, refs=[("one in ten", 0.1)])
    rows = lines_of(chart, 40, 8)[:7]  # 7 plot rows, then the x axis
    labels = {i: row[: LABEL_W - 1].strip() for i, row in enumerate(rows) if row[LABEL_W - 1] == "┤"}
    assert labels == {0: "1.00", 2: "1e-1", 4: "1e-2", 6: "1.0e-03"}
    assert all(row[LABEL_W - 1] == "│" for i, row in enumerate(rows) if i not in labels)
    assert [i for i, row in enumerate(rows) if row.endswith(" one in ten")] == [2]  # 0.1 is the 1e-1 row
    assert "╌" in rows[2]


def test_a_baseline_outside_the_range_is_not_drawn():
    chart = Chart([falling()], 0.0, 1.0, 10, refs=[("far", 5.0), ("mid", 0.5)])
    text = "\n".join(lines_of(chart, 40, 8))
    assert "far" not in text and "mid" in text


# --- markers and x-axis labels --------------------------------------------------------------------


def axis_of(chart: Chart, w: int = 40, h: int = 8) -> str:
    return lines_of(chart, w, h)[-1]


def test_x_axis_labels_the_first_and_last_step():
    axis = axis_of(Chart([falling()], 0.0, 1.0, 10))
    assert axis == " " * LABEL_W + "step 0" + "step 9".rjust(40 - LABEL_W - 6)


# --- legend ---------------------------------------------------------------------------------------


def test_legend_has_an_entry_per_labelled_series_in_order():
    series = [Series(np.linspace(1, 0, 5), RED, "P(we)"), Series(np.zeros(5), BLUE), Series(np.ones(5), BLUE, "P(b)")]
    chart = Chart(series, 0.0, 1.0, 5, legend=Legend(lead="", tail="  ", note=("◆ changed", Style())))
    lines = lines_of(chart, 60, 8)
    assert len(lines) == 8
    assert lines[-1] == " " * LABEL_W + "━━ P(we)  ━━ P(b)  ◆ changed"
    key = chart.render(60, 8, INK).renderables[-1]
    # each swatch in its series' colour (the labels are in the text colour, here a plain style)
    assert [(key.plain[s.start : s.end], s.style) for s in key.spans] == [("━━ ", RED), ("━━ ", BLUE)]


def test_no_labelled_series_no_legend_line():
    lines = lines_of(Chart([falling()], 0.0, 1.0, 10), 40, 8)
    assert len(lines) == 8 and "━━" not in "".join(lines)
    assert lines[-1].lstrip().startswith("step 0")  # the x axis is the last line: 7 rows of plot above


def test_the_newest_lines_are_kept_when_short_of_rows():
    lines = lines_of(Chart([Series(np.ones(3), RED, "a")], 0.0, 2.0, 3), 40, 2)
    assert len(lines) == 2 and "step 2" in lines[0] and "━━ a" in lines[1]
