"""C (load the newest checkpoint) with a FIFO or a dangling symlink of a checkpoint's name in
--output-dir: passed over, never opened; the session kept (issue 23)."""

from __future__ import annotations

import os

import pytest
from conftest import narration

from tui_trainer.app import TrainerApp

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")


@pytest.mark.parametrize("kind", ["fifo", "dangling"])
async def test_C_passes_over_special_files(tmp_path, kind):
    bad = tmp_path / "tui-trainer-step-00099.npz"
    if kind == "fifo":
        os.mkfifo(bad)
    else:
        bad.symlink_to(tmp_path / "gone.npz")
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        before = app.session
        await pilot.press("C")
        await pilot.pause()
        assert "No checkpoint" in narration(app)
        assert app.session is before
        await pilot.press("s", "c")  # a real checkpoint beside it is found
        await app.workers.wait_for_complete()
        await pilot.pause()
        os.utime(tmp_path / "tui-trainer-step-00001.npz", (1, 1))  # older than the special file
        await pilot.press("s", "C")
        await pilot.pause()
        assert "Loaded" in narration(app) and "00001.npz" in narration(app)
        assert app.session.step == 1
