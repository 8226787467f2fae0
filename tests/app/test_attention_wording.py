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
