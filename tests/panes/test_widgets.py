"""Pane helpers that draw by hand: the bar glyphs (the braille charts: test_chart.py)."""

from tui_trainer.widgets.base import hbar, hbar_left


def test_bars_scale_and_clip():
    assert hbar(1.0, 1.0, 4) == "████"
    assert hbar(0.5, 1.0, 4) == "██"
    assert hbar(5.0, 1.0, 4) == "████"  # clipped to the width
    assert hbar_left(0.5, 1.0, 4) == "  ██"
    assert hbar(float("nan"), 1.0, 4) == ""
