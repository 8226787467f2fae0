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
        assert "stale:&#160;before&#160;the&#160;update&#160;(f)" in app.export_screenshot()  # drawn now
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
        # both highlighted (the Attention pane, mounted with the first frame, was not: the first scene's was)
        assert {p.id for p in app.query(".lesson-focus")} == {"attention", "gradients"}


LONG = " ".join(["the cat sat on the old mat and the dog ran after it"] * 6)  # one sentence, 311 characters


async def test_a_sentence_longer_than_the_context_pane_keeps_the_query_and_the_lines_under_it():
    """A long line of a real text, in characters: the pane shows the lines of the sentence around
    the query (… where some are left out), then the position, the query's line and the target;
    it showed the sentence's first lines only, the query and everything under them cut off."""
    from tui_trainer.widgets.context import ContextPane

    s = Session.create(model="gpt", text=LONG, tokens="char")
    app = TrainerApp(s)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await settle(app, pilot)
        pane = app.query_one(ContextPane)
        n = len(LONG)  # one position per character (no <EOS> to predict: --eos is off)
        for i in (0, 150, n - 1):
            app.position = i
            app.refresh_panes()
            await pilot.pause()
            text = [t.plain for t in pane.render().renderables]
            # position i reads <BOS> and the characters before character i, and predicts character i
            query = "<BOS>" if i == 0 else LONG[i - 1].replace(" ", "▁")
            target = LONG[i].replace(" ", "▁")
            assert sum(map(len, text)) and any(f"▸{query}" in t for t in text), (i, text)
            assert f"position {i + 1}/{n}" in text, (i, text)
            assert any(t.startswith("query ") for t in text) and any(t.startswith("target ") for t in text)
            assert f"target  {target}" in text
            assert sum(pane.app.console.measure(t).maximum > 0 for t in pane.render().renderables) <= pane.size.height
            if i in (0, n - 1):  # the lines after the first query's, before the last one's: left out, and said so
                assert text[0].startswith("…") == (i == n - 1) and text[
                    text.index(f"position {i + 1}/{n}") - 1
                ].endswith("…") == (i == 0)


async def test_bpe_keys_are_labelled_by_their_first_letter_and_one_map_left_out_is_one_map():
    """With BPE most pieces start a word ('▁cat'): a one-cell column label read ▁ over almost every
    key; it reads the piece's first letter (a lone ▁ stays ▁)."""
    from core.tokens import shown

    s = Session.create(model="gpt", text="the cat sat on the mat", tokens="bpe:20")
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f")
        await settle(app, pilot)
        pane = app.query_one(AttentionPane)
        tokens = [shown(s.data.vocab.tokens[int(t)]) for t in s.forward_result.inputs[0]]
        assert sum(t.startswith("▁") and len(t) > 1 for t in tokens) >= 4  # (the case this is about)
        first = [(t[1:] if t.startswith("▁") and len(t) > 1 else t)[0] for t in tokens]
        keys = [t.plain for t in pane.render().renderables][1].split()
        assert keys == [*first, "Σ"] * s.config.heads, keys
        await pilot.resize_terminal(80, 24)  # before, after and ΔA in numbers: two of the three fit
        await pilot.press("s", "n")
        await settle(app, pilot)
        lines = [t.plain for t in pane.render().renderables]
        assert lines[-1] == "1 more map not shown: a larger terminal shows them", lines


async def test_the_gradient_pane_names_every_layer_whole_at_every_width():
    """'↓ layer0.at…' at 120x36 (review): the layer names take their width, the bars give way."""
    from conftest import text_of

    from tui_trainer.widgets.gradients import GradientPane

    s = Session.create(model="gpt", layers=2)
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "b")
        await pilot.pause()
        for size in ((120, 36), (160, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            if size == (80, 24):
                for _ in range(6):  # (one pane at a time: v until the gradients are up)
                    if app.query_one(GradientPane).display:
                        break
                    await pilot.press("v")
                assert app.query_one(GradientPane).display
            lines = text_of(app.query_one(GradientPane)).splitlines()
            want = ["lm_head", "↓ layer1.mlp", "↓ layer1.attn", "↓ layer0.mlp", "↓ layer0.attn", "↓ embedding"]
            starts = [line.split("  ")[0].strip() for line in lines[: len(want)]]
            assert starts == want, (size, lines[:6])
            assert not any("…" in line for line in lines[: len(want)]), (size, lines[:6])
