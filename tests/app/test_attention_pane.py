"""The Attention pane (--model gpt): heatmaps whose numbers are the core's, keys that pick the head
and layer, the MLP refusing them with a reason, the context pane of a GPT, snapshots and contrast."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import narration, settle
from panes.test_contrast import THEMES, glyphs

from core import Session
from core.attention import session_row
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.attention import AttentionPane
from tui_trainer.widgets.context import ContextPane


def pane_lines(app) -> list[str]:
    return [t.plain for t in app.query_one(AttentionPane).render().renderables]


def query_row(app) -> list[str]:
    """The cells of the selected query's row, left to right over the blocks (its label dropped)."""
    line = next(ln for ln in pane_lines(app) if "▸" in ln)
    return line.split("▸", 1)[1].split()


def read(cell: str) -> float | None:
    """A weight as the pane writes it ('.37', '1.0', '0'); None for a masked cell."""
    return None if cell == "·" else float(cell)


def softmax_rows(s: Session, i: int) -> np.ndarray:
    """Layer 0's A (H, n) at the query of row ``i`` on the lesson (one window), from the tensors:
    rmsnorm twice, q = h Wq^T and k = h Wk^T, softmax of q·k / sqrt(hd) over keys 0 … query."""
    p = s.model.p
    tokens = s.forward_result.inputs[0]

    def rms(x):
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)

    h = rms(rms(p["wte"][tokens] + p["wpe"][: len(tokens)]))
    q, k = h @ p["layer0.attn_wq"].T, h @ p["layer0.attn_wk"].T
    H = s.config.heads
    hd = q.shape[1] // H
    out = np.zeros((H, len(tokens)))
    for head in range(H):
        c = slice(head * hd, (head + 1) * hd)
        z = k[: i + 1, c] @ q[i, c] / math.sqrt(hd)
        out[head, : i + 1] = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    return out


async def test_every_head_s_numbers_are_the_core_s_and_a_softmax_written_here():
    s = Session.create(model="gpt")
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right", "n")
        await pilot.pause()
        pane = app.query_one(AttentionPane)
        assert pane.display and pane.numbers
        assert "heads 0-3" in pane.border_title and "step 0" in pane.border_title
        cells = query_row(app)  # 4 heads × (4 keys + Σ)
        assert len(cells) == 4 * 5
        independent = softmax_rows(s, 2)
        for head in range(4):
            mine = cells[head * 5 : head * 5 + 5]
            core = session_row(s, 2, 0, head).att
            assert [read(c) is None for c in mine[:4]] == [False, False, False, True]  # the key after the query
            assert mine[4] == "1.00"  # Σ
            for j in range(3):
                assert abs(read(mine[j]) - core[j]) <= 0.005 + 1e-12
                assert abs(read(mine[j]) - independent[head, j]) <= 0.005 + 1e-12
        # shades only (n again): every row of every head still sums to 1.00
        await pilot.press("n")
        await pilot.pause()
        sums = [ln.split() for ln in pane_lines(app)[2:6]]
        assert all(row.count("1.00") == 4 for row in sums), sums
        # the shades are characters too (they read without colour): <BOS> sees only itself, weight 1
        bos = pane_lines(app)[2]
        assert bos.count("██") == 4 and bos.count("·") == 4 * 3


async def test_tab_cycles_heads_then_layers_and_the_one_head_shown_is_the_core_s():
    s = Session.create(model="gpt", layers=2)
    app = TrainerApp(s)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f", "right", "right", "right", "v", "n")  # softmax -> attention
        await pilot.pause()
        assert app.view == "attention" and app.query_one(AttentionPane).display
        seen = []
        for key in ["tab"] * 5 + ["shift+tab"] * 2:
            await pilot.press(key)
            await pilot.pause()
            pane = app.query_one(AttentionPane)
            seen.append((pane.attn_layer, pane.head))
            assert f"layer {pane.attn_layer} of 2 · head {pane.head} of 4" in pane.border_title
            core = session_row(s, 3, pane.attn_layer, pane.head).att
            assert [read(c) for c in query_row(app)[:4]] == pytest.approx(core.tolist(), abs=0.005)
        assert seen == [(0, 1), (0, 2), (0, 3), (1, 0), (1, 1), (1, 0), (0, 3)]
        assert "layer 0 of 2, head 3 of 4" in narration(app)
        assert app.view_state().layer == 0 and app.view_state().head == 3 and app.view_state().numbers


async def test_after_b_da_and_ds_masked_cells_read_0_and_after_an_update_a_before_and_after():
    s = Session.create(model="gpt")
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "b", "n")
        await pilot.pause()
        lines = pane_lines(app)
        assert lines[0].split()[:3] == ["A", "h0", "dA"] and "dS" in lines[0]
        exps = [int(w.split("1e")[1]) for w in lines[0].split() if w.startswith("×1e")]
        cells = query_row(app)  # A: 4 + Σ, dA: 4, dS: 4 (query 1: keys 2 and 3 masked)
        row = session_row(s, 1, 0, 0)
        dA, dS = cells[5:9], cells[9:13]
        assert dA[2:] == ["0", "0"] and dS[2:] == ["0", "0"]  # masked: exactly 0, and written so
        scale = 10.0 ** exps[1]
        for j in range(2):
            assert abs(float(dS[j].replace("−", "-")) - row.dS[j] / scale) <= 0.05 + 1e-12
        await pilot.press("s")
        await pilot.pause()
        words = pane_lines(app)[0].split()
        assert words[:3] == ["before", "h0", "after"] and "ΔA" in words[3]
        assert any(ln.split()[:4] == ["head", "0", "head", "1"] for ln in pane_lines(app))  # every head below


async def test_the_mlp_refuses_n_and_tab_with_a_reason():
    app = TrainerApp(Session.create())
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("n", "tab", "shift+tab"):
            app.say("")
            await pilot.press(key)
            await pilot.pause()
            assert "has no attention" in narration(app), key
        assert not app.query(AttentionPane)  # (the MLP's screen has no Attention pane at all)
        assert app.view_state().numbers is False


async def test_a_gpt_s_context_pane_shows_the_whole_sequence_and_every_tensor():
    app = TrainerApp(Session.create(model="gpt"))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right", "right")
        await pilot.pause()
        lines = app.query_one(ContextPane).lines()
        sentence = lines[0]
        struck = {sentence.plain[sp.start : sp.end] for sp in sentence.spans if sp.style.strike}
        assert struck == {"deep", "learning"}  # the target and after: not seen
        assert "▸love" in sentence.plain and "query love sees 3 tokens" in lines[2].plain
        text = "\n".join(ln.plain for ln in lines)
        assert "3,712 parameters" in text
        for name in ("wte 12×16", "wpe 16×16", "lm_head 12×16", "attn_wq wk wv wo 16×16", "mlp_fc1 64×16"):
            assert name in text
        shown = str(app.query_one(ContextPane).render().renderables[-1])
        assert "mlp_fc2 16×64" in shown  # the last tensor is on screen at 120x36


def shown(app) -> list[str]:
    return [p.id for p in app.query("#main > Pane") if p.display and p.region.area]


@pytest.mark.parametrize("presenter", [False, True], ids=["wide", "presenter"])
async def test_the_layouts_of_a_gpt_keep_the_gradient_and_logits_panes_reachable(presenter):
    app = TrainerApp(Session.create(model="gpt"), presenter=presenter)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        if presenter:  # context, softmax and loss; v brings the attention beside the context
            assert shown(app) == ["context", "softmax", "loss"]
            await pilot.press("v")
            await pilot.pause()
            assert shown(app) == ["context", "attention"]
            return
        assert shown(app) == ["context", "softmax", "loss", "attention"]
        await pilot.press("b")  # the gradients take the loss curve's place
        await pilot.pause()
        assert shown(app) == ["context", "softmax", "gradients", "attention"]
        await pilot.press("v", "v")  # gradients -> loss -> logits
        await pilot.pause()
        assert shown(app) == ["context", "logits", "loss", "attention"]
        assert "v swaps logits and softmax" in narration(app)


# --- snapshots and contrast ----------------------------------------------------------------


@pytest.mark.parametrize(("size", "step_shown"), [((120, 36), True), ((80, 24), False)])
async def test_the_title_says_layer_and_head_whole_and_the_step_where_it_fits(size, step_shown):
    """'layer 0/1' read as a fraction (review): the title says 'of'; at 80 columns it was cut to
    '· head 0 of 4 · …', so the step (in the status line too) goes and the rest stays whole."""
    app = TrainerApp(Session.create(model="gpt", layers=2))
    async with app.run_test(size=size) as pilot:
        await pilot.press("f", "v", "tab")  # (v: the pane is the one shown at 80x24)
        await pilot.pause()
        pane = app.query_one(AttentionPane)
        title = pane.border_title
        assert title.startswith("Attention · layer 0 of 2 · ") and "/" not in title
        assert ("· heads 0-3" in title) if size == (120, 36) else ("· head 1 of 4" in title)
        assert title.endswith("· step 0") == step_shown
        assert len(title) + 4 <= pane.size.width  # drawn whole: no ellipsis


async def _settle(pilot):
    await settle(pilot.app, pilot)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
@pytest.mark.parametrize(
    ("size", "keys"),
    [((120, 36), ["s", "right", "right"]), ((80, 24), ["f", "right", "right", "v", "n"])],
    ids=["wide", "small"],
)
def test_snapshot(snap_compare, size, keys, theme):
    app = TrainerApp(Session.create(model="gpt"), theme=theme)
    assert snap_compare(app, press=keys, terminal_size=size, run_before=_settle)


async def _twenty_steps(pilot):
    await pilot.press("2", "0", "r")
    await settle(pilot.app, pilot)
    await pilot.press("f", "right", "right")
    await pilot.pause()


def test_snapshot_shown_in_the_readme(snap_compare):
    """docs/attention.svg: 20 steps on the lesson, the four heads for the query 'love'."""
    app = TrainerApp(Session.create(model="gpt"))
    assert snap_compare(app, terminal_size=(120, 36), run_before=_twenty_steps)


def _contrast(fg: str, bg: str) -> float:
    from panes.test_contrast import contrast

    return contrast(fg, bg)


@pytest.mark.parametrize("keys", [["f", "right", "right"], ["f", "b", "n"], ["s", "n"]], ids=["A", "dA", "before"])
async def test_every_glyph_of_the_attention_pane_reaches_4_5_to_1(keys):
    app = TrainerApp(Session.create(model="gpt"), theme=THEMES[0])
    report = []
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        for theme in THEMES:
            app.theme = theme
            for _ in range(3):
                await pilot.pause()
            region = app.query_one(AttentionPane).region
            seen = [g for g in glyphs(app.export_screenshot()) if region.contains(g.col, g.row)]
            assert len(seen) > 60
            report += [f"{theme} row {g.row}: {g.char!r} {g.fg} on {g.bg}" for g in seen if g.ratio < 4.5]
    assert not report, "\n".join(report[:20])


async def test_at_80x24_a_window_of_long_tokens_keeps_each_row_on_one_line():
    """BPE pieces of a licence at 80x24: sixteen keys two cells each beside labels of 8 cells did
    not fit the pane, and every row wrapped, its Σ on a line of its own ('1.00' under each row, half
    the queries shown). A map that does not fit draws its keys one cell wide instead (after b,
    dA's signed cells fit as they are); asked for numbers it has no room for (n), it says so."""
    from rich.cells import cell_len

    words = " ".join(["permission", "distribute", "modification", "warranties", "conveying"] * 4)
    app = TrainerApp(Session.create(model="gpt", text=words))  # one sentence of 20 long tokens
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(AttentionPane)
        for keys in ("f", "b"):
            await pilot.press(keys)
            for _ in range(6):  # v until the compact layout shows the attention pane
                await pilot.pause()
                if pane.display and pane.region.area:
                    break
                await pilot.press("v")
            lines = pane_lines(app)
            if keys == "f":  # A, each row with its sum (after b the change, dA, is the map kept)
                rows = [ln for ln in lines if ln.rstrip().endswith("1.00")]
                assert len(rows) >= 10 and all(ln.strip() != "1.00" for ln in lines), lines
            assert max(cell_len(ln) for ln in lines) <= pane.content_size.width, lines
        await pilot.press("n")  # numbers (4 or 5 cells a key) fit still less: the map says so
        for _ in range(6):
            await pilot.pause()
            if pane.display and pane.region.area:
                break
            await pilot.press("v")
        lines = pane_lines(app)
        assert lines[0].split() == ["dA:", "no", "room", "for", "n"], lines
        assert max(cell_len(ln) for ln in lines) <= pane.content_size.width, lines


async def test_the_title_names_only_the_heads_drawn():
    """After b at 120x36 with a full window of 16 keys, A, dA and dS take the pane and the band of
    every head below them does not fit; the title said 'heads 0-3' over head 0's maps alone."""
    words = " ".join(["permission", "distribute", "modification", "warranties", "conveying"] * 4)
    app = TrainerApp(Session.create(model="gpt", text=words))
    async with app.run_test(size=(120, 36)) as pilot:
        pane = app.query_one(AttentionPane)
        await pilot.press("f")
        await pilot.pause()
        assert pane.border_title.startswith("Attention · layer 0 of 1 · heads 0-3")  # all four drawn
        assert all(f"head {h}" in pane_lines(app)[0] for h in range(4))
        await pilot.press("b")
        await pilot.pause()
        lines = pane_lines(app)
        assert lines[0].split()[:2] == ["A", "h0"] and not any("head 1" in ln for ln in lines), lines
        assert pane.border_title.startswith("Attention · layer 0 of 1 · head 0 of 4"), pane.border_title
