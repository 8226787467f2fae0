"""SVG snapshots of the app at 120x36 and 80x24 (pytest-textual-snapshot).

Update only for an intended change, after looking at the new SVGs:
    pytest tests/panes/test_snapshots.py --snapshot-update
"""

from pathlib import Path

import pytest
from conftest import settle

from tui_trainer.app import TrainerApp

SIZES = {"wide": (120, 36), "small": (80, 24)}


async def _run_100(pilot):
    await pilot.press("r")
    await settle(pilot.app, pilot)


async def _settle(pilot):
    await settle(pilot.app, pilot)


async def _run_40_then_view_12(pilot):
    await pilot.press("4", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("1", "2", "G", "right")
    await pilot.pause()


async def _fork_overlay(pilot):
    await pilot.press("3", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("2", "G", "F")
    pilot.app.screen.query_one("#line").value = "sgd 0.1"
    await pilot.press("enter", "4", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _sweep_table(pilot):
    await pilot.press("S")
    pilot.app.screen.query_one("#line").value = "0.01,0.1,1,10 30"
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _positions(pilot):
    await pilot.press("1", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("left_square_bracket", "2", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("t")
    await pilot.pause()


SCENES = {
    "start": ([], _settle),
    "f": (["f"], _settle),
    "fb": (["f", "b"], _settle),
    "fbu": (["f", "b", "u"], _settle),
    "run100": ([], _run_100),
    "help": (["question_mark"], _settle),
    "viewing-the-past": ([], _run_40_then_view_12),
    "before-after": (["s", "s"], _settle),
    "fork-overlay": ([], _fork_overlay),
    "sweep-table": ([], _sweep_table),
    "p-per-position": ([], _positions),
    "chain-rule": (["f", "b", "x"], _settle),
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("scene", list(SCENES))
def test_snapshot(snap_compare, scene, size):
    keys, before = SCENES[scene]
    assert snap_compare(TrainerApp(run_n=100), press=keys, terminal_size=SIZES[size], run_before=before)


def test_every_snapshot_file_belongs_to_a_test(request):
    """A snapshot whose test was renamed, moved or removed would lie there unchecked (syrupy
    reports it only without pytest-xdist): every snapshot folder belongs to a test file, and in
    each collected test file every SVG to a collected test."""
    from conftest import ROOT, SNAPSHOT_FILES, snapshot_file

    assert snapshot_file(Path(__file__), "test_snapshot[start-wide]").is_file()  # (where they are kept)
    folders = sorted((ROOT / "tests").glob("**/__snapshots__/*/"))
    assert len(folders) >= 4
    unused = [str(f) for f in folders if not (f.parent.parent / f"{f.name}.py").is_file()]
    for test_file, svgs in request.config.stash[SNAPSHOT_FILES].items():
        folder = test_file.parent / "__snapshots__" / test_file.stem
        unused += [str(svg) for svg in sorted(folder.glob("*.svg")) if svg not in svgs]
    assert not unused, f"snapshot files no test uses: {unused}"
