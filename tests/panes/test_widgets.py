"""Pane helpers that draw by hand: the braille loss chart and the bar glyphs."""

import numpy as np

from tui_trainer.widgets.base import hbar, hbar_left
from tui_trainer.widgets.losscurve import braille_chart


def _columns_with_dots(lines):
    width = len(lines[0])
    return [any(line[c] != " " for line in lines) for c in range(width)]


def test_chart_is_continuous_with_few_values():
    lines, lo, hi = braille_chart(np.array([10.0, 5.0, 2.0, 1.0]), width=30, height=6)
    assert len(lines) == 6 and all(len(line) == 30 for line in lines)
    assert all(_columns_with_dots(lines))  # joined, not four lonely dots
    assert (lo, hi) == (1.0, 10.0)


def test_chart_downsamples_long_runs_and_keeps_spikes():
    v = np.ones(10_000)
    v[5_000] = 50.0  # a single spike must survive downsampling to 20 cells
    lines, _lo, hi = braille_chart(v, width=20, height=5)
    assert hi == 50.0
    assert lines[0].strip() != ""  # the top row has the spike


def test_chart_log_scale_and_bad_values():
    _lines, lo, hi = braille_chart(np.array([100.0, np.nan, 10.0, np.inf, 1.0]), width=10, height=4, log=True)
    assert np.isclose(lo, 1.0) and np.isclose(hi, 100.0)
    assert braille_chart(np.array([np.nan]), 10, 4) == ([], 0.0, 0.0)


def test_bars_scale_and_clip():
    assert hbar(1.0, 1.0, 4) == "████"
    assert hbar(0.5, 1.0, 4) == "██"
    assert hbar(5.0, 1.0, 4) == "████"  # clipped to the width
    assert hbar_left(0.5, 1.0, 4) == "  ██"
    assert hbar(float("nan"), 1.0, 4) == ""
