"""Shared helpers of the app tests (import them: ``from conftest import narration``)."""

import gc
import os
import sys
from functools import partial
from pathlib import Path

import pytest
import textual.app
import textual.pilot

# Cache compiled modules even where PYTHONDONTWRITEBYTECODE is set (as on the shared machines):
# without the cache each of the seven processes compiled core/ and tui_trainer/ again and pytest
# rewrote the asserts of all ninety test modules again, about 1.2 s of CPU each (8 s of the
# suite's 175). The caches are __pycache__ folders, which git ignores. (Set before the imports below.)
sys.dont_write_bytecode = False

# One BLAS thread, as the app has (importing tui_trainer sets it before NumPy loads; a test module
# importing core first would load NumPy with a thread per core, and in four test processes on two
# cores OpenBLAS's spinning threads made the real-text tests take three times the CPU)
import tui_trainer  # noqa: E402, F401

# NO_COLOR changes every SVG snapshot; snapshots are taken in colour.
os.environ.pop("NO_COLOR", None)

#: the garbage collector's thresholds in the test process (Python's: 700, 10, 10)
GC_THRESHOLDS = (20_000, 50, 100)


def pytest_configure(config) -> None:
    """Textual keeps up to 16,384 rendered strips (and their caches) in global caches, so a test
    process holds some 300,000 objects, and each full collection walks them all: about 0.17 s,
    and Python's thresholds ran one every second or so of a Pilot test. With fewer collections
    (they still run; cycles are still freed) the app tests and the contrast tests took
    26 s of CPU instead of 31.5 s (GC 3.5 s instead of 9.4 s)."""
    gc.set_threshold(*GC_THRESHOLDS)


def pytest_unconfigure(config) -> None:
    """At its end pytest collects garbage five times over, to report exceptions raised in
    finalizers; each pass walked those 300,000 objects (2-3 s of CPU in each of the seven
    processes, and the last one's on the suite's wall time). Collect once here, while the
    report still listens, and freeze what survives: pytest's passes then walk only what this
    one's finalizers made. (The process ends next; an IDE that runs pytest.main() again in one
    process would keep the frozen objects: fine for a test run.)"""
    gc.collect()
    gc.freeze()


#: the project's root, and the tests' own data files
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
#: emoji (a ZWJ family, a skin tone, a variation selector) and CJK: wide characters, one word each
EMOJI_TEXT = "I love 🍕 and 日本語 text!\nThe 👩\u200d👩\u200d👧 family likes 👍🏽 and ❤️ a lot."


def snapshot_file(test_file: Path, test_name: str) -> Path:
    """Where pytest-textual-snapshot keeps a test's SVG: beside the test file, in
    ``__snapshots__/<test file's stem>/<test name>.svg``."""
    return test_file.parent / "__snapshots__" / test_file.stem / f"{test_name}.svg"


#: the SVG of every collected snapshot test (before ``-k`` or ``--deselect``), by test file
SNAPSHOT_FILES = pytest.StashKey[dict[Path, set[Path]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    # syrupy finds snapshot files no test uses only in a single process, not under pytest-xdist;
    # tests/panes/test_snapshots.py checks it from this list in every run
    files: dict[Path, set[Path]] = {}
    for item in items:
        if "snap_compare" in getattr(item, "fixturenames", ()):
            files.setdefault(item.path, set()).add(snapshot_file(item.path, item.name))
    config.stash[SNAPSHOT_FILES] = files
    # the slow tests first (a stable sort keeps the rest in order): the processes take tests two
    # at a time from the front of the list, so these start at once, side by side, and the run
    # does not end with one process working through a ten-second test while the others wait
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


#: the longest Pilot waits for the process to go idle after a key (Textual's default: 1 s)
IDLE_WAIT = 0.1


@pytest.fixture(autouse=True)
def short_idle_waits(monkeypatch):
    """After each key Pilot waits until every widget has handled its messages (exact), and then
    until the process's CPU use falls below 5% (a heuristic, for up to 1 s). While a training
    thread runs the CPU never falls that low, so each key pressed during a run cost a full
    second or two, most of the suite's time. What a test then checks is either handled by then
    or waited for explicitly (``settle``, ``files_written``); so the heuristic wait is cut short."""
    real = textual.app.wait_for_idle
    monkeypatch.setattr(textual.app, "wait_for_idle", partial(real, max_sleep=IDLE_WAIT))
    monkeypatch.setattr(textual.pilot, "wait_for_idle", partial(real, max_sleep=IDLE_WAIT))


def text_of(widget) -> str:
    """What a widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=max(widget.content_size.width, 20), record=True, file=None, color_system=None)
    with console.capture() as cap:
        console.print(widget.render())
    return cap.get()


def narration(app) -> str:
    """The narration line's text."""
    return str(app.query_one("#narration").render())


def app_from(argv: list[str]):
    """The app as ``tui-trainer ARGV`` would start it, its session built (the app would build it in a
    thread after its first paint: tests/app/test_paint_first.py tests that; here the tests' Pilot
    can look at the session from the start)."""
    from tui_trainer import cli

    app = cli.build_app(cli.build_parser().parse_args(argv))
    assert app.load_session(), app.startup_error
    return app


async def settle(app, pilot) -> None:
    """Wait for every worker (runs, scripts, writers) to finish and the screen to catch up."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def files_written(app, pilot) -> None:
    """Wait until the app's file writers (e, c: threads; ctrl+s: after a refresh) are done."""
    writers = [w for w in app.workers if w.group in ("files", "svg")]
    if writers:  # (an empty list would wait for every worker, a play too)
        await app.workers.wait_for_complete(writers)
    await pilot.pause()


def adam_checkpoint(folder: Path) -> tuple[Path, dict, dict]:
    """A checkpoint of an Adam run of 5 steps on the lesson in ``folder``: its path, its header and
    its other arrays (the tests that craft bad checkpoints start from these)."""
    import json

    import numpy as np

    from core import Session
    from core.checkpoint import save_checkpoint

    s = Session.create(optimizer="adam")
    s.run(5)
    path = save_checkpoint(s, folder / "good.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return path, json.loads(arrays.pop("header").tobytes()), arrays


def write_checkpoint(folder: Path, header: dict | str, arrays: dict, name: str = "bad.npz") -> Path:
    """A checkpoint archive of ``header`` (a dict, or text as it is) and ``arrays``, as crafted."""
    import io
    import json

    import numpy as np

    text = header if isinstance(header, str) else json.dumps(header)
    buf = io.BytesIO()
    np.savez(buf, header=np.frombuffer(text.encode(), dtype=np.uint8), **arrays)
    path = folder / name
    path.write_bytes(buf.getvalue())
    return path


def bpe_by_hand(words: list[str], merges) -> list[str]:
    """BPE as the textbook writes it, independent of core.tokens: each word a space (its boundary)
    and its characters, then each merge in the order learned, everywhere it applies, left to right."""
    out = []
    for word in words:
        sym = [" ", *word]
        for m in merges:
            i, nxt = 0, []
            while i < len(sym):
                if i + 1 < len(sym) and (sym[i], sym[i + 1]) == (m.left, m.right):
                    nxt.append(m.left + m.right)
                    i += 2
                else:
                    nxt.append(sym[i])
                    i += 1
            sym = nxt
        out += sym
    return out
