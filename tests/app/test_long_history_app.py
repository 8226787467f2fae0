"""The app on a history thinned to its budget (issue 23, item 13): the loss curve says so, and the
curve, the progress table, P(target) per position, export, checkpoint and load all work on it.
The budget is made 64 rows so that 500 steps outgrow it."""

from __future__ import annotations

import json

from conftest import files_written, settle, text_of

import core.history as history_module
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.losscurve import LossPane


async def test_a_thinned_history_is_said_on_the_curve_and_every_reader_works(tmp_path, monkeypatch):
    monkeypatch.setattr(history_module, "BUDGET_ROWS", 64)
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5", "0", "0", "r")
        await settle(app, pilot)
        s = app.session
        stride = s.history.stride
        assert s.step == 500 and stride > 1
        pane = app.query_one(LossPane)
        assert f"(linear, thinned to every {stride}th)" in pane.border_title, pane.border_title
        assert "step 496" in text_of(pane)  # the x axis in steps (the last multiple of the stride)
        await pilot.press("t")  # P(target) per position over the steps
        await pilot.pause()
        assert "P(" in text_of(pane) and "thinned" in pane.border_title
        await pilot.press("t", "p")  # the progress table: rows by their steps
        await pilot.pause()
        table = text_of(pane)
        assert "500" in table and "thinned" not in pane.border_title
        await pilot.press("e", "c")
        await files_written(app, pilot)
        [j] = tmp_path.glob("*.json")
        rows = json.loads(j.read_text())["steps"]
        assert [r["step"] for r in rows] == s.history.column("step").tolist()
        await pilot.press("C")  # load the checkpoint just saved
        await settle(app, pilot)
        assert app.session is not s and app.session.step == 500 and app.session.history.stride == stride
