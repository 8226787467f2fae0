"""Wording of the attention views (review findings): a sum of products never reads '+ -0.527'
or '− -2.4e-04', and the one-query view does not speak of '0 later ones' when nothing is masked."""

from __future__ import annotations

import re

from conftest import settle

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.lesson.attnvalues import values


def test_caption_sums_bracket_their_negative_factors_and_add_up():
    s = Session.create(model="gpt")
    s.forward()
    s.backward()
    with s.lock:
        v = values(s, 3)
    for name, text in v.items():
        assert not re.search(r"[+−-] -\d", text), (name, text)
    terms = v["qk_sum"]
    # the written products add up to the row's raw score q·k (three decimals per factor)
    total = eval(terms.split("=")[0].replace("×", "*").replace("−", "-"))  # (numbers and operators only)
    shown = float(terms.split("=")[-1])
    assert abs(total - shown) < 0.01, terms


async def test_the_one_query_view_says_when_nothing_is_masked():
    app = TrainerApp(session=Session.create(model="gpt"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right", "right")  # position 4 of 4: 'deep', its window's last
        await settle(app, pilot)
        await pilot.press("a")
        await settle(app, pilot)
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        text = re.sub(r"\s+", " ", text)
        assert "0 later" not in text and "has no later key to hide here" in text, text


async def test_at_80x24_the_change_is_the_map_kept():
    """Review finding: after an update with numbers on, 80x24 has room for two of before, after
    and ΔA, and ΔA (the change, the point of the view) was the one left out. It is kept now, and
    its cells are A after minus A before, computed here from two sessions."""
    app = TrainerApp(session=Session.create(model="gpt"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("s", "v", "v", "n")  # a step; the Attention pane; numbers
        await settle(app, pilot)
        lines = [strip.text for strip in app.screen._compositor.render_strips()]
        text = "\n".join(lines)
        assert "ΔA ×1e-2" in text and " after " in text and "1 more map not shown" in text, text
        a0 = Session.create(model="gpt").compute_forward().att[0, 0, 0]  # layer 0, window 0, head 0
        after = Session.create(model="gpt")
        after.run(1)
        a1 = after.compute_forward().att[0, 0, 0]
        below = lines[lines.index(next(x for x in lines if "ΔA" in x)) :]
        row = next(line for line in below if re.match(r"\s*love\s", line.split("││")[-1]))  # love's row
        cells = re.findall(r"[+−]\d\.\d|(?<= )0(?= )", row.split("││")[-1].split("love", 1)[1])
        expect = [(a1[2, j] - a0[2, j]) * 100 for j in range(3)]
        assert len(cells) >= 3, row  # love's three visible keys (the fourth is masked)
        for shown, value in zip(cells[:3], expect, strict=True):
            assert abs(float(shown.replace("−", "-")) - value) <= 0.051, (row, expect)
