"""Play (space) runs until paused: the end of one run of PLAY_CHUNK steps is not the end of the
play (it stopped every 1,000,000 steps; issue 23). Shown with a chunk of 7 steps."""

from __future__ import annotations

import asyncio

from conftest import narration, settle

from tui_trainer import runner
from tui_trainer.app import TrainerApp


async def test_play_goes_on_past_a_chunk_until_paused(monkeypatch):
    monkeypatch.setattr(runner, "PLAY_CHUNK", 7)
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        for _ in range(200):  # until it is well past three chunks
            await asyncio.sleep(0.05)
            if app.session.step > 25:
                break
        assert app.running, "the play stopped by itself"
        await pilot.press("space")  # pause
        await settle(app, pilot)
        assert not app.running
        step = app.session.step
        assert step > 25 and f"{step}" in narration(app), narration(app)
