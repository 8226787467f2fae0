"""Real texts in the app (moved from tests/core/test_real_texts.py): the context pane shows the
model's true window, and with sampled batches the progress table heads its columns with the
tracked words; wide characters never break a pane."""

from conftest import EMOJI_TEXT

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
