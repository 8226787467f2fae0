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


async def test_the_breakpoint_dialog_runs_what_it_shows():
    """/ then enter: it showed p(learning)>0.9 as a placeholder and said 'empty condition in '''."""
    from conftest import narration

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(app.screen_stack) == 1, "the dialog ran its line and closed"
        assert "p(learning)>0.9" in narration(app) and "empty" not in narration(app), narration(app)
        assert app.session.history[-1].target_probs[-1] > 0.9


async def test_at_60x18_the_softmax_pane_shows_whole_numbers():
    """Every probability read '0.…' at 60x18: the columns that do not fit go, P stays whole."""
    from tui_trainer.widgets.softmax import SoftmaxPane

    app = TrainerApp()
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.press("f")
        await settle(app, pilot)
        pane = app.query_one(SoftmaxPane)
        assert pane.region.area, "the compact layout shows the softmax pane after f"
        drawn = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        probs = app.session.forward_result.probs[0]
        for p in sorted(probs, reverse=True)[:3]:
            assert f"{p:.4f}" in drawn, (f"{p:.4f}", drawn)
        assert not re.search(r"\d\.…", drawn), drawn


async def test_on_a_sampled_batch_the_narration_speaks_of_the_mean_it_shows():
    """On a corpus the status line and the curve show the mean; the narration spoke of totals."""
    from conftest import narration

    from core import Session
    from tui_trainer.widgets.status import StatusBar

    text = " ".join(f"the model {w} word number {i % 7} ." for i, w in enumerate(["reads", "writes", "learns"] * 20))
    session = Session.create(text=text, batch_positions=16)
    assert not session.full_batch
    app = TrainerApp(session)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5", "r")
        await settle(app, pilot)
        said = narration(app)
        assert "mean loss" in said and "total loss" not in said, said
        now = re.search(r"→ ([\d.]+) at step", said).group(1)
        assert f"mean {now}" in str(app.query_one(StatusBar).render()), (now, said)
        await pilot.press("s")
        await settle(app, pilot)
        assert "Mean loss" in narration(app), narration(app)
