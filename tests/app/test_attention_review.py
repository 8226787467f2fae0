"""What a learner trips on in GPT mode, found by trying it (the review of issue 25): the Attention
pane after u (the forward pass before the update: said so), and the keys about the Attention pane
(n, tab) and a lesson's scene leaving a GPT's wide layout's other panes as they were."""

from __future__ import annotations

from conftest import settle

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.lesson import load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.widgets.attention import AttentionPane


def shown(app) -> set[str]:
    """The ids of the panes on screen."""
    return {p.id for p in app.query("#main > Pane") if p.display}


async def test_after_u_the_attention_pane_says_its_maps_are_stale_and_n_tab_keep_the_gradients():
    s = Session.create(model="gpt")
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(AttentionPane)
        await pilot.press("f", "b")
        await settle(app, pilot)
        assert not pane.border_subtitle and {"attention", "gradients"} <= shown(app)
        # the wide layout shows the Attention pane always: n and tab change it, not the pane beside
        await pilot.press("tab", "n", "shift+tab")
        await settle(app, pilot)
        assert pane.head == 0 and pane.numbers and {"attention", "gradients"} <= shown(app)
        await pilot.press("u")
        await settle(app, pilot)
        # the title reads step 1; the maps are still step 0's forward pass (A before the update)
        assert s.stale and "step 1" in str(pane.border_title)
        assert pane.border_subtitle == "stale: before the update (f)"
        await pilot.press("f")
        await settle(app, pilot)
        assert not s.stale and not pane.border_subtitle
        await pilot.resize_terminal(80, 24)  # the compact layout: tab brings the pane it is about
        await pilot.press("b", "tab")
        await settle(app, pilot)
        assert "attention" in shown(app) and "gradients" not in shown(app)


async def test_a_scene_about_attention_and_gradients_shows_both_in_a_gpt_s_wide_layout(tmp_path):
    path = tmp_path / "a8.toml"
    path.write_text('[[scene]]\ntitle = "a"\ncaption = "x"\npanes = ["attention", "gradients"]\nwait = "b"\n')
    app = LessonApp(Session.create(model="gpt"), lesson=load_lesson(path))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert {"attention", "gradients"} <= shown(app)
        await pilot.press("b")
        await settle(app, pilot)
        await pilot.pause(0.15)  # the band re-reads the state and follows the scene's panes again
        assert {"attention", "gradients"} <= shown(app)
