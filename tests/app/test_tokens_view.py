"""The tokens view (T): the lines as tokens with ids, and BPE's merges one at a time."""

from conftest import bpe_by_hand, narration, settle, text_of

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.screens.tokens import TokensScreen
from tui_trainer.widgets.gradients import GradientPane
from tui_trainer.widgets.softmax import SoftmaxPane

TEXT = "the cat sat on the mat. the cat ate the rat. a bat sat on a hat."


async def test_the_view_steps_through_the_merges_and_cuts_the_lines_again():
    s = Session.create(tokens="bpe:10", text=TEXT)
    merges = s.data.tokenizer.merges
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("T")
        screen = app.screen
        assert isinstance(screen, TokensScreen) and screen.view.merge == len(merges) == 10
        await pilot.press("home")
        assert screen.view.merge == 0 and screen.view.last is None
        assert [t for t, _ in screen.view.lines[0]] == bpe_by_hand("the cat sat on the mat".split(), [])
        for k in (1, 2, 3):
            await pilot.press("right")
            v = screen.view
            assert v.merge == k and v.last == merges[k - 1]
            assert [t for t, _ in v.lines[0]] == bpe_by_hand("the cat sat on the mat".split(), merges[:k])
        await pilot.pause()
        shown = text_of(screen.query_one("#tokens"))
        m = merges[2]
        assert "merge 3 of 10" in shown and f"→ {(m.left + m.right).replace(' ', '▁')!r}" in shown
        assert f"({m.count:,} times)" in shown
        await pilot.press("end")
        v = screen.view
        ids = [i for _, i in v.lines[0]]
        assert ids == s.data.sentences[0]  # all merges: the tokens the model trains on, ids and all
        await pilot.press("escape")
        assert not isinstance(app.screen, TokensScreen)


async def test_words_show_their_ids_and_no_merges():
    s = Session.create()
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("T")
        v = app.screen.view
        assert v.kind == "word" and v.merges == 0 and v.tokens_per_word == 1.0
        assert v.lines == [[("we", 1), ("love", 2), ("deep", 3), ("learning", 4)]]
        await pilot.pause()
        assert "we₁ love₂ deep₃ learning₄" in text_of(app.screen.query_one("#tokens"))
        # words have no merges to step through: the border offers no ← → (it did, and they did nothing)
        assert app.screen.query_one("#dialog").border_subtitle == "escape closes"


def test_snapshot_of_the_tokens_view_at_merge_3(snap_compare):
    async def to_merge_3(pilot):
        await pilot.press("T", "home", "right", "right", "right")
        await pilot.pause()

    app = TrainerApp(Session.create(tokens="bpe:10", text=TEXT))
    assert snap_compare(app, terminal_size=(120, 36), run_before=to_merge_3)


async def test_the_narration_writes_characters_back_as_text_and_marks_spaces():
    app = TrainerApp(Session.create(tokens="char"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "never seen 'we love …'" in narration(app)  # the first 8 characters, as text
        await pilot.press("f", "right", "right")
        await pilot.pause()
        assert "after '<BOS> w e' the model gives '▁'" in narration(app)  # the space it predicts, drawn
        # the tables name what their rows are: tokens (a character is not a word)
        assert text_of(app.query_one(SoftmaxPane)).split()[0] == "token"
        await pilot.press("b")
        await pilot.pause()
        grads = text_of(app.query_one(GradientPane)).splitlines()
        assert any(line.split()[:2] == ["token", "P"] for line in grads), grads
        assert not any(line.split()[:1] == ["word"] for line in grads)


async def test_the_chain_view_names_a_space_target_as_drawn():
    from tui_trainer.screens.chain import ChainRuleScreen

    app = TrainerApp(Session.create(tokens="char"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "b", "x")
        await pilot.pause()
        assert isinstance(app.screen, ChainRuleScreen)
        rows = app.chain._view.words  # (the view the app handed the screen)
        assert rows[2] == "▁" and " " not in rows  # position 3 predicts the space after "we"


async def test_samples_of_characters_say_tokens_and_draw_a_space():
    """w with --tokens char on a sentence longer than the view's 16-token limit: the note names the
    limit as what stops a sample (it said '16 words, the longest training sentence'), speaks of
    tokens, and a sampled space is drawn ▁ (it was a blank, so a token and its P seemed missing)."""
    from tui_trainer.screens.samples import SamplesScreen

    app = TrainerApp(Session.create(tokens="char"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "0", "r")  # (untrained, <EOS> is likely enough to end a sample early)
        await settle(app, pilot)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, SamplesScreen)
        shown = " ".join(str(app.screen.query_one("#samples").render()).split())
        longest = len("we love deep learning")  # the lesson's one sentence, in characters
        assert f"stops at 16 tokens, the view's limit (the longest training sentence has {longest})" in shown, shown
        assert "renormalised over the tokens" in shown and "words" not in shown.split("reshapes")[1], shown
        words = app.sampler.samples[-1].words
        assert len(words) == 16 and " " in [w.word for w in words]  # (this seed samples a space)
        line = shown[shown.index("step 20 T 1") + len("step 20 T 1") :].split()
        assert line[0::2] == [w.word.replace(" ", "▁") for w in words], line
