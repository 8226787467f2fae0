"""Paint first: the command line's app composes and paints its frame before NumPy, ``core`` and the
session load (issue 22, item 8); then it builds the session in a thread and fills the panes in.

The import checks run in fresh processes (this one has NumPy loaded long since). The app checks run
the real path headless: ``TrainerApp(session_factory=...)`` (what ``build_app`` makes), and ``main``
with the app run headless instead of in the terminal.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import narration, text_of

import tui_trainer.app
from core import FORWARD, Session
from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.cli import names
from tui_trainer.startup import LOADING
from tui_trainer.widgets.losscurve import LossPane
from tui_trainer.widgets.softmax import SoftmaxPane

ROOT = Path(__file__).resolve().parents[2]


def _child(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_the_app_path_loads_no_numpy_or_core_before_the_app_is_made():
    """Parsing the app's options, their checks and making the app (with its screen's modules)
    import neither NumPy nor core (on main, ``tui_trainer.cli`` alone loaded both)."""
    loaded = _child(
        "import sys\n"
        "from tui_trainer.cli import build_app, build_parser\n"
        "args = build_parser().parse_args(['--hidden', '8', '--theme', 'nord', '--keys', 'f b u', '--presenter'])\n"
        "app = build_app(args)\n"
        "import tui_trainer.screens.main, tui_trainer.widgets.losscurve\n"
        "print(sorted(m for m in ('numpy', 'core') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_numpy_loads_after_the_first_paint():
    """Headless, the app's first frame (Textual's Ready) is painted without NumPy or core; the
    session built afterwards has them."""
    seen = _child(
        "import sys\n"
        "from tui_trainer.cli import build_app, build_parser\n"
        "from tui_trainer.app import TrainerApp\n"
        "app = build_app(build_parser().parse_args([]))\n"
        "seen = []\n"
        "def ready(event):\n"
        "    seen.append(sorted(m for m in ('numpy', 'core') if m in sys.modules))\n"
        "app.on_ready_probe = ready\n"
        "real = TrainerApp.on_ready\n"
        "def on_ready(self):\n"
        "    self.on_ready_probe(None)\n"
        "    real(self)\n"
        "TrainerApp.on_ready = on_ready\n"
        "async def main():\n"
        "    async with app.run_test(size=(120, 40)) as pilot:\n"
        "        await app.session_there()\n"
        "        await pilot.pause()\n"
        "        seen.append(sorted(m for m in ('numpy', 'core') if m in sys.modules))\n"
        "import asyncio\n"
        "asyncio.run(main())\n"
        "print(seen)"
    )
    assert seen == "[[], ['core', 'numpy']]"


def test_the_options_names_are_cores():
    """cli/names.py copies core's names (so the parser needs no core): the same, or this fails."""
    from core import OPTIMIZERS
    from core.config import FLOAT32_VOCAB
    from core.models import MODELS

    assert names.OPTIMIZERS == tuple(OPTIMIZERS)
    assert names.MODELS == tuple(MODELS)
    assert names.FLOAT32_VOCAB == FLOAT32_VOCAB


async def test_frame_first_then_the_filled_panes_as_with_a_ready_session():
    """With a factory the screen is there before the session (keys refused, no crash), then shows
    what an app given the same session shows."""
    gate = threading.Event()

    def factory() -> Session:
        gate.wait(10)
        return Session.create()

    app = TrainerApp(session_factory=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.session is None
        assert narration(app) == LOADING
        assert app.query_one(LossPane).border_title == "Loss curve: total (linear)"
        assert "Press f" in text_of(app.query_one(SoftmaxPane))
        await pilot.press("f", "s", "r", "right", "g", "t", "x", "B", "ctrl+s")  # refused: nothing to do yet
        assert app.session is None and app.screen is app.main_screen
        gate.set()
        await app.session_there()
        await pilot.pause()
        assert app.session.step == 0
        await pilot.press("f")
        await pilot.pause()
        factory_view = (text_of(app.query_one(SoftmaxPane)), str(app.query_one("#status").render()), narration(app))
    assert app.session.phase == FORWARD

    ready = TrainerApp(Session.create())
    async with ready.run_test(size=(120, 36)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        ready_view = (text_of(ready.query_one(SoftmaxPane)), str(ready.query_one("#status").render()), narration(ready))
    assert factory_view == ready_view


async def test_q_while_the_session_loads_quits():
    gate = threading.Event()
    app = TrainerApp(session_factory=lambda: gate.wait(10) and Session.create())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    gate.set()
    assert app.return_code == 0 and app.session is None


async def test_an_error_in_the_factory_ends_the_app_with_status_2():
    def factory() -> Session:
        raise cli.UsageError("the model would have too many parameters")

    app = TrainerApp(session_factory=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(100):
            if app.return_code is not None:
                break
            await pilot.pause(0.02)
    assert app.return_code == 2
    assert str(app.startup_error) == "the model would have too many parameters"


def _headless(monkeypatch, apps: list) -> None:
    """``main`` runs the app headless (the real start: paint, then the session in a thread)."""
    real = TrainerApp.run

    def run(self, *args, **kwargs):
        apps.append(self)
        return real(self, headless=True, size=(120, 36))

    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", run)


@pytest.mark.parametrize(
    "argv,expect",
    [
        (["--vocab", "we love", "--text", "we love pizza"], "'pizza' (sentence 1 word 3)"),
        (["--hidden", "100000"], "parameters"),  # (context × embedding alone is small: found with the session)
        (["--corpus", "{binary}"], "looks binary"),
    ],
)
def test_an_error_found_building_the_session_is_one_line_and_exit_2(argv, expect, monkeypatch, capsys, tmp_path):
    apps: list = []
    _headless(monkeypatch, apps)
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01 we love")
    argv = [a.format(binary=tmp_path / "binary.txt") for a in argv]
    assert cli.main([*argv, "--exit-after"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(apps) == 1 and apps[0].session is None  # the app started (painted), then ended
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-trainer: error: ") and expect in lines[0], err


def test_a_missing_file_is_refused_before_the_app_starts(tmp_path):
    """A --corpus or --vocab @FILE that is not there (or is a directory) needs no NumPy to find:
    one line, exit 2, and no app (on main the session was built first, loading NumPy)."""
    loaded = _child(
        "import sys, io, contextlib\n"
        "import tui_trainer.app\n"
        "tui_trainer.app.TrainerApp.run = lambda self, *a, **k: sys.exit('the app started')\n"
        "from tui_trainer.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    codes = [main(['--corpus', {str(tmp_path / 'nope.txt')!r}]),\n"
        f"             main(['--vocab', '@' + {str(tmp_path)!r}])]\n"
        "print(codes, err.getvalue().splitlines(), sorted(m for m in ('numpy', 'core') if m in sys.modules))"
    )
    assert loaded == (
        f"[2, 2] [\"tui-trainer: error: corpus file '{tmp_path / 'nope.txt'}' does not exist\", "
        f"\"tui-trainer: error: vocabulary file '{tmp_path}' is a directory\"] []"
    )


def test_a_key_script_waits_for_the_session(monkeypatch):
    """--keys and --exit-after play once the session is there (the same screen as with a ready one)."""
    apps: list = []
    _headless(monkeypatch, apps)
    assert cli.main(["--keys", "f b u 5r", "--exit-after", "--seed", "3"]) == 0
    s = apps[0].session
    expected = Session.create(seed=3)
    expected.forward(), expected.backward(), expected.update()
    expected.run(5)
    assert s.step == expected.step == 6
    assert s.history.column("total_loss").tolist() == expected.history.column("total_loss").tolist()
