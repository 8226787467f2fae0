"""SVG snapshots of lesson mode (pytest-textual-snapshot): four scenes of the bundled lesson.

Update only for an intended change, after looking at the new SVGs:
    pytest tests/presenters/test_lesson_snapshots.py --snapshot-update
"""

import pytest

from tui_trainer.keys import KEYS
from tui_trainer.lesson import BUNDLED, load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.band import LessonBand


async def _settle(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _to_scene(pilot, section: str, title_word: str = "") -> None:
    """Enter through the lesson (right answers, Enter pressing the waited keys) to a scene."""
    app = pilot.app
    band = app.query_one(LessonBand)
    while not (band.scene.section == section and title_word in band.scene.title):
        if band.scene.question is not None and band.answer is None:
            await pilot.press(KEYS[band.scene.question.answer])
        await pilot.press("enter")
        await _settle(pilot)
        while len(app.screen_stack) > 1:  # the chain-rule view (x): Esc closes it
            await pilot.press("escape")
            await _settle(pilot)
    await pilot.pause(0.15)  # the band's poll has read the state


async def _start(pilot):
    await _settle(pilot)
    await pilot.pause(0.15)


async def _s7_revealed(pilot):
    await _to_scene(pilot, "S7")
    await pilot.press("plus", "b")
    await _settle(pilot)
    await pilot.pause(0.15)


async def _s10_diverged(pilot):
    await _to_scene(pilot, "S10", "large")
    await pilot.press("plus", "s")
    await _settle(pilot)
    await pilot.pause(0.15)


async def _s15(pilot):
    await _to_scene(pilot, "S15")


SCENES = {
    "s1-start-small": ((80, 24), _start),
    "s7-question-revealed": ((120, 36), _s7_revealed),
    "s10-diverged": ((120, 36), _s10_diverged),
    "s15-later-words": ((120, 36), _s15),
}


@pytest.mark.slow
@pytest.mark.parametrize("scene", list(SCENES))
def test_lesson_snapshot(snap_compare, scene):
    size, before = SCENES[scene]
    assert snap_compare(LessonApp(lesson=load_lesson(BUNDLED)), terminal_size=size, run_before=before)
