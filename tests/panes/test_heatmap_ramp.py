"""The Attention pane's shading reads without colour: an even row of weights over many keys (0.1
each over ten keys, an untrained head) draws its cells, not blanks that look like nothing."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from rich.text import Text
from textual.color import Color

from tui_trainer.widgets.heatmap import NARROW, RAMP, WIDE, Block, Shades, _cells


def _drawn(row: np.ndarray, mode: str, diverging: bool = False) -> str:
    shades = Shades(Color(0, 0, 0), Color(255, 255, 255), Color(255, 160, 0), Color(0, 200, 0), Color(200, 0, 0))
    ink = SimpleNamespace(muted="dim", text="", strong="bold")
    block = Block("A", np.tile(row, (row.size, 1)), diverging=diverging, sums=not diverging)
    line = Text()
    _cells(line, block, np.zeros(row.size, dtype=bool), row, mode, 0, shades, ink)
    return line.plain


def test_an_even_row_over_ten_keys_is_drawn_not_blank():
    row = np.full(10, 0.1)
    for mode, width in ((WIDE, 2), (NARROW, 1)):
        drawn = _drawn(row, mode)
        assert drawn == RAMP[1] * (10 * width), (mode, drawn)


def test_the_ramp_still_grows_with_the_weight_and_a_negligible_weight_stays_blank():
    row = np.array([0.005, 0.1, 0.5, 0.75, 1.0])
    assert _drawn(row, NARROW) == " ░▒▓█"
    # a diverging map (dA, dS) keeps its exact zero-ish cells blank: its scale is relative
    assert _drawn(np.array([1e-6, -1.0]), WIDE, diverging=True)[:2] == "  "
