"""Labels a user review found cut mid-word ('Attention · layer 0 o…', '… table: positio…', 'P(rel…',
a blank column over an emoji): each is drawn whole, in a shorter form where the long one does not fit."""

from __future__ import annotations

import pytest
from conftest import app_from, settle, text_of

from tui_trainer.widgets.attention import AttentionPane

#: the border keeps six cells of its width for corners, the ─ beside them and a space each side
BORDER = 6


async def show(app, pilot, pane) -> None:
    """v until the compact layout shows ``pane``."""
    for _ in range(6):
        await pilot.pause()
        if pane.display and pane.region.area:
            return
        await pilot.press("v")
    raise AssertionError("the pane never came on screen")


@pytest.mark.parametrize("maps", [False, True], ids=["before f", "after f"])
async def test_the_attention_title_is_whole_at_every_width(maps):
    """'Attention · layer 0 o…' at 60x18: the step goes first, then the 'of N' counts, then the
    long words; what is left is whole words of the full title, never a cut one."""
    app = app_from(["--model", "gpt", "--layers", "2"])
    async with app.run_test(size=(60, 18)) as pilot:
        pane = app.query_one(AttentionPane)
        await pilot.press(*(["f"] if maps else []), "tab")  # head 1 of layer 0
        await show(app, pilot, pane)
        seen = []
        for width in (160, 120, 100, 80, 70, 66, 62, 60):
            await pilot.resize_terminal(width, 24 if width < 120 else 36)
            await show(app, pilot, pane)
            title, room = pane.border_title, pane.outer_size.width - BORDER
            assert len(title) <= room and "…" not in title, (width, room, title)
            # the first form that fits, written out by hand (layer 0 of 2, head 1 of 4 or all four, step 0)
            forms = next(f for f in FORMS if title in f)
            assert title == next(f for f in forms if len(f) <= room), (width, room, title)
            seen.append(title)
        assert len(set(seen)) >= 3, seen  # (the widths reach three forms at least)
        assert "Attention · L0 h1" in seen  # 60x18: its 28-cell pane


FORMS = [
    [
        "Attention · layer 0 of 2 · head 1 of 4 · step 0",
        "Attention · layer 0 of 2 · head 1 of 4",
        "Attention · layer 0 · head 1",
        "Attn · layer 0 · head 1",
        "Attention · L0 h1",
        "Attention",
        "Attn",
    ],
    [
        "Attention · layer 0 of 2 · heads 0-3 · step 0",
        "Attention · layer 0 of 2 · heads 0-3",
        "Attention · layer 0 · heads 0-3",
        "Attn · layer 0 · heads 0-3",
        "Attention · L0 h0-3",
        "Attention",
        "Attn",
    ],
]


#: a text long enough for a full batch: the review saw 'norms: all 512 positions' on a licence
LONG_TEXT = " ".join(f"the {w} of a program can change its license" for w in ["copy", "source", "form", "work"] * 25)


async def test_the_gradient_subtitle_is_whole_in_a_gpt_s_layouts():
    """'norms: all 512 positions · table: positio…' at 80x24 and 'table:…' at 120x36 (review)."""
    from tui_trainer.widgets.gradients import GradientPane

    forms = [
        "norms: all 512 positions · table: position 1",
        "norms: all 512 · table: position 1",
        "table: position 1",
        "position 1",
    ]
    app = app_from(["--model", "gpt", "--text", LONG_TEXT])
    async with app.run_test(size=(160, 40)) as pilot:
        pane = app.query_one(GradientPane)
        await pilot.press("f", "b")
        seen = []
        for size in ((160, 40), (120, 36), (100, 30), (80, 24), (60, 18)):
            await pilot.resize_terminal(*size)
            await show(app, pilot, pane)
            subtitle, room = pane.border_subtitle, pane.outer_size.width - BORDER
            assert subtitle == next(f for f in forms if len(f) <= room), (size, room, subtitle)
            seen.append(subtitle)
        assert seen[0] == forms[0] and len(set(seen)) >= 3, seen


async def test_the_p_target_legend_is_whole_words():
    """t: the legend of P(target) at each tracked position read 'P(rel…' where it did not fit; it
    says 'P(word)' each, else the first ones and how many more, else the words alone. The lesson's
    tracked targets are its four words; the widths in cells are counted by hand in the comments."""
    from tui_trainer.widgets.losscurve import LossPane

    app = app_from(["--model", "gpt"])
    async with app.run_test(size=(220, 50)) as pilot:
        await pilot.press("3", "r")
        await settle(app, pilot)
        await pilot.press("t")
        pane = app.query_one(LossPane)
        for size, want in [
            # P(we) P(love) P(deep) P(learning): 10 + 12 + 12 + 16 - 2 = 48 cells after the 8 of the axis
            ((220, 50), "━━ P(we)  ━━ P(love)  ━━ P(deep)  ━━ P(learning)"),  # of 70 cells
            # 44 cells: P(deep) (12) and '+1 more' (7) do not fit after 8 + 10 + 12
            ((80, 24), "━━ P(we)  ━━ P(love)  +2 more"),
            ((120, 36), "━━ P(we)  +3 more"),  # 36 cells: 8 + 10 + 12 + 7 = 37
            ((60, 18), "━━ we  +3 more"),  # 24 cells: 8 + 10 + 7 = 25; the word alone 7
        ]:
            await pilot.resize_terminal(*size)
            await show(app, pilot, pane)
            legend = text_of(pane).rstrip("\n").splitlines()[-1]
            assert legend.strip() == want, (size, pane.content_size.width, legend)


def test_the_legend_s_note_on_the_lr_marks_is_kept_only_whole():
    from tui_trainer.widgets.losscurve import legend_labels

    note = "◆ lr/optimizer changed"  # 22 cells, after 'P(we)  ' (10) and 'P(love)  ' (12)
    assert legend_labels(["we", "love"], 44, note) == (["P(we)", "P(love)"], note)
    assert legend_labels(["we", "love"], 43, note) == (["P(we)", "P(love)"], "")
    # the words alone: 'we  ' (7) and 'love' (7, its two spaces trimmed); then the count alone
    assert legend_labels(["we", "love"], 14, note) == (["we", "love"], "")
    assert legend_labels(["we", "love"], 13, note) == ([None, None], "+2 more")  # 'we  +1 more': 14


@pytest.mark.parametrize(
    ("text", "keys", "want"),
    [
        # sixteen keys a cell each (every head at 120x36): a wide character has no room, … says so
        ("I love 🍕 and 日本語 text", ["right"] * 8, "<i▁love▁…▁and▁…… Σ"),
        # two cells a key: the wide character takes the space before it
        ("a 🍕 日 b", [], " < a ▁🍕 ▁日 ▁ Σ"),
        # numbers, four cells a key: a space, the character, a space
        ("I love 🍕 and 日本語 text", ["right"] * 8 + ["n"], " <BO i   ▁   l   o   v   e   ▁   🍕  ▁   a"),
    ],
    ids=["narrow", "wide", "numbers"],
)
async def test_an_emoji_key_s_column_label_is_not_blank(text, keys, want):
    """A key's label was its first cell: half an emoji or a CJK character, drawn as a blank."""
    app = app_from(["--model", "gpt", "--tokens", "char", "--text", text])
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", *keys)
        await pilot.pause()
        labels = [t.plain for t in app.query_one(AttentionPane).render().renderables][1]
        assert want in labels, labels


async def test_n_s_narration_says_what_the_attention_pane_draws():
    """n said 'each weight written in its cell' while every map read 'no room for n' (review)."""
    from conftest import narration

    words = " ".join(["permission", "distribute", "modification", "warranties", "conveying"] * 4)
    app = app_from(["--model", "gpt", "--text", words])  # 16 long keys: numbers fit at 120x36 only
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AttentionPane)
        await pilot.press("f", "n")
        await show(app, pilot, pane)
        await pilot.pause()
        lines = [t.plain for t in pane.render().renderables]
        assert lines[0].split() == ["head", "0:", "no", "room", "for", "n"], lines
        assert "no room for the numbers" in narration(app) and "written in its cell" not in narration(app)
        await pilot.resize_terminal(160, 40)  # every head's numbers fit: n twice says so
        await pilot.press("n", "n")
        await pilot.pause()
        assert "no room" not in pane.render().renderables[0].plain
        assert narration(app) == "Attention pane: each weight written in its cell (n)."
        await pilot.press("n")
        await pilot.pause()
        assert narration(app) == "Attention pane: shades only (n)."


async def test_the_loss_and_gradient_titles_are_whole_in_a_small_terminal():
    """At 60x18 on a text with a validation loss: 'Loss curve: mean, validatio…', 'step 5  mean
    loss 7.0…' and, after the run, 'Gradient flow: last u…'. Each is a shorter form, whole."""
    from tui_trainer.widgets.gradients import GradientPane
    from tui_trainer.widgets.losscurve import LossPane

    text = "\n".join(f"the w{i} sat on the mat w{i + 1}." for i in range(120))  # 840 positions: a validation split
    app = app_from(["--text", text])
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.press("5", "r")
        await settle(app, pilot)
        loss, grads = app.query_one(LossPane), app.query_one(GradientPane)
        await show(app, pilot, loss)
        room = loss.outer_size.width - BORDER
        assert loss.border_title == "Loss: mean, validation", (room, loss.border_title)  # (22 cells)
        assert len(loss.border_subtitle) <= room and "…" not in loss.border_subtitle
        assert loss.border_subtitle.startswith("step 5"), loss.border_subtitle
        await show(app, pilot, grads)
        room = grads.outer_size.width - BORDER
        assert grads.border_title == "Gradients: last update", (room, grads.border_title)  # (22 cells)
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert loss.border_title == "Loss curve: mean, validation (linear)"
        assert grads.border_title == "Gradient flow: last update (b: new gradients)"


async def test_the_logits_target_row_fits_a_narrow_pane():
    """At 60x18 (a 24-cell pane) the target's row ran to 25 cells, so its ◀ wrapped onto a line of
    its own: the word column gives way (a longer word ends in …), every row fits."""
    from rich.cells import cell_len

    from tui_trainer.widgets.logits import LogitsPane

    text = "\n".join(f"the extraordinarily w{i} sat on the mat w{i + 1}." for i in range(120))
    app = app_from(["--text", text])
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.press("f")
        pane = app.query_one(LogitsPane)
        await show(app, pilot, pane)
        width = pane.content_size.width
        lines = [t.plain for t in pane.render().renderables]
        assert width == 24 and any(line.endswith(" ◀") for line in lines), (width, lines)
        assert all(cell_len(line) <= width for line in lines), (width, lines)
