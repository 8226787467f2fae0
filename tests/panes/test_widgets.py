"""Pane helpers that draw by hand: the bar glyphs (the braille charts: test_chart.py)."""

from tui_trainer.widgets.base import hbar, hbar_left


def test_bars_scale_and_clip():
    assert hbar(1.0, 1.0, 4) == "████"
    assert hbar(0.5, 1.0, 4) == "██"
    assert hbar(5.0, 1.0, 4) == "████"  # clipped to the width
    assert hbar_left(0.5, 1.0, 4) == "  ██"
    assert hbar(float("nan"), 1.0, 4) == ""


def test_a_word_cut_to_the_logits_column_says_so():
    """The logits pane's words: cropped to their column with … (GPL-3's 'attribution' read
    'attributio', a word that is not one), counted in cells (a CJK character takes two)."""
    from tui_trainer.widgets.base import fit_cells

    assert fit_cells("attribution", 10) == "attributi…"
    assert fit_cells("東京都市大学", 7) == "東京都…"  # 6 cells and …
    assert fit_cells("東京都市大学", 6) == " 東京…"  # 東京都 would leave no cell for …
    assert fit_cells("we", 4) == "  we" and fit_cells("learning", 8) == "learning"  # fits: padded, uncut
