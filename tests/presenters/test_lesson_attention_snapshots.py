"""SVG snapshots of the attention lesson (pytest-textual-snapshot): the softmax scene (A7), one
query's weights in head 0, at 80x24 and 120x36.

Update only for an intended change, after looking at the new SVGs (the Attention pane, when it
joins the GPT's layout, changes them):
    pytest tests/presenters/test_lesson_attention_snapshots.py --snapshot-update
"""

import pytest

from core import Session
from tui_trainer.keys import KEYS
from tui_trainer.lesson import bundled_lessons, load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.band import LessonBand

ATTN = next(p for p in bundled_lessons() if p.stem == "attention")


async def _to_softmax_scene(pilot) -> None:
    app = pilot.app
    band = app.query_one(LessonBand)
    while band.scene.section != "A7":
        if band.scene.question is not None and band.answer is None:
            await pilot.press(KEYS[band.scene.question.answer])
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    await pilot.pause(0.15)  # the band's poll has read the state


def _app() -> LessonApp:
    lesson = load_lesson(ATTN)
    r = lesson.run
    s = Session.create(text=lesson.text, model="gpt", optimizer=r["optimizer"], seed=r["seed"], add_eos=r["eos"])
    return LessonApp(s, lesson=lesson)


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
def test_attention_lesson_snapshot(snap_compare, size):
    assert snap_compare(_app(), terminal_size=size, run_before=_to_softmax_scene)
