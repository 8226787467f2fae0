"""Teaching truth (issue 27, labels and numbers): each label says what it measures, read from the
screen or the pane's text."""

from __future__ import annotations

import math
import re

from conftest import settle

from tui_trainer.app import TrainerApp
from tui_trainer.widgets.losscurve import LossPane
from tui_trainer.widgets.softmax import _caption


async def test_a_stale_total_is_labelled_stale():
    """After f b u the loss pane's border showed step 0's total beside 'step 1' as if fresh."""
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "b", "u")
        await settle(app, pilot)
        sub = str(app.query_one(LossPane).border_subtitle)
        assert sub.startswith("step 1") and "(stale)" in sub, sub
        await pilot.press("f")
        await settle(app, pilot)
        assert "(stale)" not in str(app.query_one(LossPane).border_subtitle)


def test_the_softmax_line_shows_the_digits_its_loss_needs():
    for p in (0.0943, 0.00035164, 0.00001234, 0.5):
        line = _caption("we", p, -math.log(p))
        shown, loss = re.search(r"-log\(([\d.e+-]+)\) = ([\d.]+)", line).groups()
        assert abs(-math.log(float(shown)) - float(loss)) < 5e-4, line
