"""The chart module (tui_trainer/widgets/chart.py): braille curves, ticks, baselines, markers,
x-axis labels that never cover a marker, and the legend; and the loss pane drawing with it."""

from dataclasses import fields

import numpy as np
import pytest
from conftest import settle, text_of
from hypothesis import given
from hypothesis import strategies as st
from rich.style import Style

from tui_trainer.palette import Palette
from tui_trainer.widgets.chart import (
    LABEL_W,
    Chart,
    Legend,
    Marker,
    Series,
    braille_grid,
    place_labels,
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


@pytest.mark.parametrize(
    "step,glyph",
    [(0, "●"), (9, "●"), (8, "▲"), (1, "◆")],  # on step 0's label, on the last step's, beside them
)
def test_a_marker_on_a_label_stays_and_the_label_moves(step, glyph):
    chart = Chart([falling()], 0.0, 1.0, 10, markers=[Marker(step, glyph, RED)])
    axis = axis_of(chart)
    x = chart.x_of(step, 40 - LABEL_W)
    assert axis[x] == glyph and axis.count(glyph) == 1  # the marker where its step is
    assert "step 0" in axis and "step 9" in axis  # both labels whole
    assert axis[x - 1] == " " and (x + 1 == len(axis) or axis[x + 1] == " ")  # not touching the marker


def test_an_end_label_stays_on_its_side_of_the_markers_when_it_can():
    chart = Chart([falling(41)], 0.0, 1.0, 41, markers=[Marker(1, "●", RED), Marker(2, "●", RED)])
    axis = axis_of(chart, w=50)
    assert axis.index("step 0") + len("step 0") < chart.x_of(1, 50 - LABEL_W)  # left of steps 1 and 2
    chart = Chart([falling(41)], 0.0, 1.0, 41, markers=[Marker(39, "●", RED)])
    axis = axis_of(chart, w=50)
    assert axis.index("step 40") + len("step 40") < chart.x_of(39, 50 - LABEL_W)


def test_a_label_with_no_room_is_dropped_not_cut():
    # markers on every other cell leave no gap wide enough for a label near them
    marks = [Marker(i, "▲", RED) for i in range(0, 40, 2)]
    chart = Chart([falling(40)], 0.0, 1.0, 40, markers=marks)
    axis = axis_of(chart)
    assert not set(axis) - {" ", "▲"}  # no label, and no piece of one
    assert [x for x, c in enumerate(axis) if c == "▲"] == sorted({chart.x_of(m.step, 32) for m in marks})


def test_the_later_marker_wins_a_cell_and_is_styled():
    chart = Chart([falling()], 0.0, 1.0, 10, markers=[Marker(4, "▲", RED), Marker(4, "●", BLUE)])
    foot = chart.render(40, 8, INK).renderables[-1]
    x = chart.x_of(4, 32)
    assert foot.plain[x] == "●" and foot.plain.count("▲") == 0
    assert [(s.start, s.end, s.style) for s in foot.spans] == [(x, x + 1, BLUE)]


@given(
    width=st.integers(min_value=0, max_value=60),
    taken=st.sets(st.integers(min_value=0, max_value=59), max_size=12),
    starts=st.lists(st.tuples(st.integers(min_value=-5, max_value=60), st.sampled_from([-1, 1])), max_size=3),
)
def test_placed_labels_never_touch_markers_or_each_other(width, taken, starts):
    labels = [(f"step {i}{'0' * i}", x, outward) for i, (x, outward) in enumerate(starts)]
    placed = place_labels(width, taken, labels)
    cells = [set(range(x, x + len(t))) for x, t in placed.items()]
    for x, text in placed.items():
        assert 0 <= x and x + len(text) <= width
        near = set(range(x - 1, x + len(text) + 1))  # the label and a blank cell either side
        assert not near & taken
        assert sum(bool(near & c) for c in cells) == 1  # only its own cells
        assert any(abs(x - start) <= len(text) for t, start, _ in labels if t == text)


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


# --- the loss pane draws with it ------------------------------------------------------------------


async def test_loss_pane_cursor_near_the_last_step_keeps_its_label_whole():
    from tui_trainer.app import TrainerApp
    from tui_trainer.widgets.losscurve import LossPane

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "0", "r")
        await settle(app, pilot)
        for keys in (["3", "9", "G"], ["0", "G"]):  # the cursor on "step 40", then on "step 0"
            await pilot.press(*keys)
            await pilot.pause()
            pane = app.query_one(LossPane)
            foot = text_of(pane).rstrip("\n").splitlines()[-1]
            x = LABEL_W + round(app.session.step / 40 * (pane.content_size.width - LABEL_W - 1))
            assert foot[x] == "●" and "step 0" in foot and "step 40" in foot, foot
