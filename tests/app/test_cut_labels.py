"""Labels a user review found cut mid-word ('Attention · layer 0 o…', '… table: positio…', 'P(rel…',
a blank column over an emoji): each is drawn whole, in a shorter form where the long one does not fit."""

from __future__ import annotations

import pytest
from conftest import app_from

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
            title, room = pane.border_title, pane.size.width - BORDER
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
