"""Files the app writes (ctrl+s, e, c): never overwritten, whole, from one state, off the UI thread."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import threading

import pytest
from conftest import app_from, files_written, narration

from core.files import write_atomic
from tui_trainer import cli
from tui_trainer import files as app_module
from tui_trainer.app import TrainerApp


def svg_rows(svg: str) -> str:
    """The text an SVG screenshot shows (Textual writes it in <text> elements, spaces as &#160;)."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg)).replace("&#160;", " ")


@pytest.mark.parametrize("script", ["f ctrl+s", "s 20r ctrl+s e"])
async def test_a_key_scripts_screenshot_shows_the_whole_screen(tmp_path, script):
    # regression: the script ran before the first paint, and ctrl+s saved a 2 KB SVG with no rows
    # (or, after a run, one without the footer)
    app = app_from(["--output-dir", str(tmp_path), "--keys", script, "--exit-after"])
    async with app.run_test(size=(120, 36)):
        await app.workers.wait_for_complete()
    assert app.return_code == 0
    [svg] = tmp_path.glob("*.svg")
    text = svg_rows(svg.read_text())
    assert "Forward" in text and "Backward" in text and "Quit" in text  # the footer
    assert "Softmax" in text and "Context" in text and "Loss" in text  # the panes' titles
    assert re.search(rf"tui-trainer +step {app.session.step} ", text)  # the status line of the state it names


async def test_saves_of_the_same_step_never_overwrite(tmp_path):
    # regression: ctrl+s, l, ctrl+s left one tui-trainer-step-00000.svg; e and c the same
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "ctrl+s")
        await pilot.pause()
        await pilot.press("l", "ctrl+s")
        await pilot.pause()
        for key in ("s", "e", "e", "c", "c"):
            await pilot.press(key)
            await files_written(app, pilot)
        said = narration(app)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "tui-trainer-step-00000-2.svg",
        "tui-trainer-step-00000.svg",
        "tui-trainer-step-00001-2.csv",
        "tui-trainer-step-00001-2.json",
        "tui-trainer-step-00001-2.npz",
        "tui-trainer-step-00001.csv",
        "tui-trainer-step-00001.json",
        "tui-trainer-step-00001.npz",
    ]
    assert "tui-trainer-step-00001-2.npz" in said
    a, b = (tmp_path / n for n in ("tui-trainer-step-00000.svg", "tui-trainer-step-00000-2.svg"))
    assert "position 1" in svg_rows(a.read_text()) and "position 2" in svg_rows(b.read_text())


async def test_export_during_a_run_holds_one_state_and_runs_off_the_ui_thread(tmp_path, monkeypatch):
    # regressions: the JSON and the CSV of one e held different steps (the run went on between
    # them), and e formatted a long history on the UI thread (5.9 s frozen at 120,000 steps)
    threads = []
    real = app_module.write_history_json  # (streamed into the file since issue 23's item 13)

    def spy(session, f):
        threads.append(threading.current_thread())
        return real(session, f)

    monkeypatch.setattr(app_module, "write_history_json", spy)
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        while app.session.step < 30:
            await pilot.pause(0.02)
        await pilot.press("e")
        await files_written(app, pilot)
        said = narration(app)
        await pilot.press("space")
        await app.workers.wait_for_complete()
    assert threads and threads[0] is not threading.main_thread()
    [j] = tmp_path.glob("*.json")
    [c] = tmp_path.glob("*.csv")
    json_steps = [r["step"] for r in json.loads(j.read_text())["steps"]]
    csv_steps = [int(r["step"]) for r in csv.DictReader(io.StringIO(c.read_text()))]
    assert json_steps == csv_steps == list(range(len(json_steps)))
    assert len(json_steps) >= 30
    assert f"Exported {len(json_steps)} steps" in said
    assert j.name == f"tui-trainer-step-{json_steps[-1]:05d}.json"  # named after the state it holds


def test_write_atomic_gives_the_umasks_mode_and_leaves_no_temporary_file(tmp_path):
    old = os.umask(0o027)
    try:
        p = write_atomic(tmp_path / "a.bin", b"xyz")
    finally:
        os.umask(old)
    assert p.read_bytes() == b"xyz"
    assert (p.stat().st_mode & 0o777) == 0o640
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.bin"]


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.bin"]


def test_importing_the_writers_does_not_touch_the_umask():
    # (os.umask(0) at import time left every file the process made world-writable for a moment);
    # a fresh interpreter: reloading the modules here would give other tests new exception classes
    code = (
        "import os\n"
        "def no(*a): raise SystemExit('os.umask called')\n"
        "os.umask = no\n"
        "import core.files, core.checkpoint, tui_trainer.export, tui_trainer.app\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_output_dir_and_its_old_name():
    for flag in ("--output-dir", "--screenshot-dir"):
        args = cli.build_parser().parse_args([flag, "shots"])
        assert args.output_dir == "shots"


@pytest.mark.slow
async def test_screenshots_during_a_run_show_one_step_everywhere(tmp_path):
    # review finding: between refresh_panes and the capture, the run's live refreshes gave the
    # status line and the curve a newer step than the file's name and the other panes
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        while app.session.step < 50:
            await pilot.pause(0.02)
        for _ in range(6):
            await pilot.press("ctrl+s")
            await files_written(app, pilot)
            await pilot.pause(0.1)
        await pilot.press("space")
        await app.workers.wait_for_complete()
    shots = sorted(tmp_path.glob("*.svg"))
    assert len(shots) == 6
    for svg in shots:
        step = int(re.match(r"tui-trainer-step-(\d+)", svg.name).group(1))
        text = svg_rows(svg.read_text())
        status = re.findall(r"tui-trainer +step +(\d+)", text)
        curve = re.findall(r"step +(\d+) +(?:total|mean) loss", text)  # the loss pane's subtitle
        update = re.findall(r"\bupdate +(\d+)\b", text)  # the gradient pane's last update
        assert status and curve and update, svg.name
        assert set(status + curve + update) == {str(step)}, (svg.name, status, curve, update)
