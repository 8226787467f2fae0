"""Real texts in the app (moved from tests/core/test_real_texts.py): the context pane shows the
model's true window, and with sampled batches the progress table heads its columns with the
tracked words; wide characters never break a pane."""

from conftest import EMOJI_TEXT, settle, text_of

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.context import ContextPane
from tui_trainer.widgets.losscurve import LossPane


async def test_context_pane_dims_the_unseen_words():
    app = TrainerApp(Session.create(context=2))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right", "right")
        pane = app.query_one(ContextPane)
        text = "\n".join(line.plain for line in pane.lines())
        assert "context love deep  (last 2; 2 earlier unseen)" in text
        sentence = pane.lines()[0]
        struck = {sentence.plain[sp.start : sp.end] for sp in sentence.spans if "strike" in str(sp.style)}
        assert struck == {"<BOS>", "we"}


async def test_progress_table_heads_columns_with_the_tracked_words():
    app = TrainerApp(Session.create(batch_positions=2, text="we love deep learning\nthe model is great"))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("5", "r")
        await app.workers.wait_for_complete()
        await pilot.press("p")
        await pilot.pause()
        table = app.query_one(LossPane)._table()
        assert [c.header for c in table.columns][1:5] == ["P(we)", "P(love)", "P(deep)", "P(learning)"]


async def test_wide_characters_never_break_a_pane():
    from rich.cells import cell_len

    app = TrainerApp(Session.create(text=EMOJI_TEXT))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right", "b")
        await pilot.pause()
        for pane in app.query("#main > Pane"):
            width = pane.content_size.width
            lines = app.console.render_lines(pane.render(), app.console.options.update_width(width))
            for line in lines:
                assert sum(cell_len(seg.text) for seg in line) <= width, pane.id


async def test_the_validation_line_is_named_in_the_legend():
    """A text with a validation share draws two loss lines; on GPL-3 after 1,600 steps the
    validation loss climbed back above the unigram line while the training loss fell, and nothing
    on screen said which line was which (a colour each). The legend names them (after a fork the
    branches and val share it); a text without validation draws one line and no legend."""
    text = "\n".join(f"sentence {i} says word {i % 7} and then {i % 5} more" for i in range(80))
    app = TrainerApp(Session.create(text=text, batch_positions=64))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "0", "r")
        await settle(app, pilot)
        legend = text_of(app.query_one(LossPane)).splitlines()[-1].split()
        assert legend == ["━━", "training", "━━", "validation"], legend
    s = Session.create(text="the cat sat on the mat. the dog sat on the log.")  # one batch: no validation
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "0", "r")
        await settle(app, pilot)
        assert "━━" not in text_of(app.query_one(LossPane))  # one line: no legend, as before
