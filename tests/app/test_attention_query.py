"""One query, step by step (a): the numbers on screen are core.attention's readouts, and the scores
and weights agree with attention computed here from the model's tensors; masked keys read −∞
before the softmax and exactly 0 after it; the MLP refuses the key with a reason."""

from __future__ import annotations

import importlib.util
import math
import sys

import numpy as np
import pytest
from conftest import ROOT, narration, text_of

from core import Session
from core.attention import before_after, session_output, session_row
from tui_trainer.app import TrainerApp
from tui_trainer.screens.attention_query import AttentionQueryScreen


def _load_contrast():
    """tests/panes/test_contrast.py's glyph reader (a sibling folder: loaded by its path)."""
    spec = importlib.util.spec_from_file_location("_contrast", ROOT / "tests" / "panes" / "test_contrast.py")
    mod = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(mod)
    return mod


def by_hand(s: Session, words: list[str], query: int, head: int) -> tuple[np.ndarray, np.ndarray]:
    """Layer 0's scores q·k/√hd (−inf after the query) and softmax for ``words``' window, written
    out from the tensors as microgpt does: x = rmsnorm(wte + wpe), q, k = rmsnorm(x) @ W.T."""
    p, cfg = s.model.p, s.model.config
    hd = cfg.embed // cfg.heads
    ids = [s.data.vocab.tokens.index(w) for w in words]

    def rms(a):
        return a / np.sqrt((a * a).mean(axis=-1, keepdims=True) + 1e-5)

    h = rms(rms(p["wte"][ids] + p["wpe"][: len(ids)]))
    cols = slice(head * hd, (head + 1) * hd)
    q, k = (h @ p["layer0.attn_wq"].T)[query, cols], (h @ p["layer0.attn_wk"].T)[:, cols]
    scores = np.array([q @ k[t] / math.sqrt(hd) if t <= query else -np.inf for t in range(len(ids))])
    e = np.exp(scores - scores[: query + 1].max())
    return scores, e / e.sum()


def section(text: str, start: str, end: str) -> list[list[str]]:
    """The table rows (split into cells) between the heading ``start`` and the line beginning ``end``."""
    lines = text.split(start, 1)[1].splitlines()[2:]
    return [line.split() for line in lines[: next(i for i, x in enumerate(lines) if x.startswith(end))]]


async def test_one_query_s_numbers_are_the_readouts_and_attention_by_hand():
    s = Session.create(model="gpt")
    app = TrainerApp(s)
    words = ["<BOS>", "we", "love", "deep"]
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right", "a", "down")  # query "love", head 1
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AttentionQueryScreen)
        r = session_row(s, 2, 0, 1)
        assert screen.view.row.head == 1 and screen.view.keys == words
        text = text_of(screen.query_one("#query"))
        assert "query 'love' (cell 2 of its window), predicting 'deep'" in text
        rows = section(text, "1. Scores", "Σ")
        scores, P = by_hand(s, words, 2, 1)
        for t, cells in enumerate(rows):
            assert cells[:2] == [str(t), words[t]]
            qk, scaled, mask, score, e, p = cells[2:]
            assert float(qk) == pytest.approx(r.raw[t], abs=5e-5)  # the readout, as written
            assert float(scaled) == pytest.approx(r.raw[t] / 2, abs=5e-5)  # ÷ √hd = √4
            if t <= 2:
                assert mask == "+0" and float(score) == pytest.approx(scores[t], abs=5e-5)
                assert float(p) == pytest.approx(P[t], abs=5e-5) and float(e) == pytest.approx(r.exp[t], abs=5e-4)
            else:  # the later key: −∞ before the softmax, exactly 0 after it
                assert (mask, score, e, p) == ("−∞", "−∞", "0", "0")
        total = text.split("1. Scores", 1)[1].split("\nΣ", 1)[1].split("\n", 1)[0].split()
        assert total == [f"{r.exp_sum:.3f}", "1.00"]
        # the weighted sum of V and attn_wo's parts: the readouts, as written
        y = text.split("\ny =", 1)[1].split("\n", 1)[0].split()
        assert [float(x) for x in y] == pytest.approx(r.weighted, abs=5e-4)
        o = session_output(s, 2, 0)
        wo = s.model.p["layer0.attn_wo"]
        cols = section(text, "3. attn_wo", "Each head")
        assert len(cols) == 16
        for c, cells in enumerate(cols):
            want = [*o.heads[:, c], o.total[c], o.residual[c], o.mid[c]]
            assert [float(x) for x in cells[1:]] == pytest.approx(want, abs=5e-5)
        # by hand: head 1's slice of attn_wo, and x + attn is the forward pass's mid
        assert o.heads[1] == pytest.approx(wo[:, 4:8] @ r.weighted, abs=1e-12)
        assert o.residual + o.total == pytest.approx(s.forward_result.mid[0, 0, 2], abs=1e-12)
        assert "Press b" in text and "Press u, then f" in text

        await pilot.press("left", "up")  # the query before, head 0: the main selection follows
        assert app.position == 1 and screen.view.row.query == 1 and screen.view.row.head == 0
        await pilot.press("right_square_bracket")  # one layer: the same one again
        assert screen.view.row.layer == 0
        await pilot.press("pagedown")  # the box scrolls (the arrows choose the query and the head)
        await pilot.pause()
        assert screen.query_one("#dialog").scroll_y > 0

        await pilot.press("escape", "b", "a")  # after b: dA and dS, masked keys exactly 0
        await pilot.pause()
        r = session_row(s, 1, 0, 0)
        text = text_of(app.screen.query_one("#query"))
        rows = section(text, "4. After b", "Σ =")
        for t, cells in enumerate(rows):
            assert float(cells[3]) == pytest.approx(r.dA[t], rel=1e-3)
            if t <= 1:
                assert float(cells[5]) == pytest.approx(r.dS[t], rel=1e-3)
            else:
                assert len(cells) == 5 and cells[4] == "0" and r.dS[t] == 0.0

        await pilot.press("escape", "u", "f", "a")  # after an update: A before and after, ΔA
        await pilot.pause()
        old, new = before_after(s, 1, 0, 0)
        text = text_of(app.screen.query_one("#query"))
        for t, cells in enumerate(section(text, "5. After an update", "Both rows")):
            if t <= 1:
                assert [float(x) for x in cells[2:]] == pytest.approx([old[t], new[t], new[t] - old[t]], abs=5e-5)
            else:
                assert cells[2:] == ["0", "0", "0"]


async def test_a_is_refused_with_a_reason_for_the_mlp_and_before_a_forward_pass():
    app = TrainerApp(Session.create())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f", "a")
        await pilot.pause()
        assert not isinstance(app.screen, AttentionQueryScreen)
        assert "this model has none" in narration(app) and "--model gpt" in narration(app)
    app = TrainerApp(Session.create(model="gpt"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, AttentionQueryScreen) and "press f first" in narration(app)


def _gpt_query_app(theme: str) -> TrainerApp:
    return TrainerApp(Session.create(model="gpt"), theme=theme)


async def _to_query(pilot):
    await pilot.press("f", "b", "right", "right", "a")
    await pilot.pause()


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"], ids=["dark", "light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["small", "wide"])
def test_snapshot_of_one_query(snap_compare, size, theme):
    assert snap_compare(_gpt_query_app(theme), terminal_size=size, run_before=_to_query)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "solarized-light"])
async def test_every_glyph_of_the_view_reaches_4_5_to_1(theme):
    contrast = _load_contrast()
    app = _gpt_query_app(theme)
    async with app.run_test(size=(120, 36)) as pilot:
        await _to_query(pilot)
        await pilot.press("escape", "u", "f", "a")  # every part filled in: after b, after the update
        for _ in range(3):
            await pilot.pause()
        box = app.screen.query_one("#dialog")
        bad = contrast._unreadable(app.export_screenshot(), box.region)
        assert not bad, "\n".join(bad)


def test_wide_tokens_keep_the_columns_in_line():
    """A key written in CJK or emoji takes two cells a character: the token column is measured in
    cells, so every row of the scores table is as wide as the header (a 🍕 or 猫 row stood one cell
    out per character, 東京都市大学 six), and a token wider than the column ends in …."""
    from dataclasses import fields

    from rich.cells import cell_len
    from rich.style import Style

    from tui_trainer.palette import Palette
    from tui_trainer.screens.attention_query import query_view, render_query

    s = Session.create(model="gpt", text="the 猫 sat on 東京都市大学 with 🍕 ok")
    s.forward()
    v = query_view(s, 6, 0, 0)  # the query 🍕: its window holds every wide token
    assert v is not None and {"猫", "🍕"} <= set(v.keys)
    ink = Palette(**{f.name: Style() for f in fields(Palette)})
    lines = render_query(v, ink, width=100).plain.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("key token"))
    rows = lines[head : head + 1 + len(v.keys) + 1]  # the header, a row per key, Σ
    assert [cell_len(r) for r in rows] == [cell_len(rows[0])] * len(rows), rows
    assert any(r.split()[1] == "東京都…" for r in rows[1:]), rows  # 3 characters, 6 cells, then …
