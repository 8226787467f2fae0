"""The chain-rule view (x) writes the GPT's sums: its factors by their own names (the view's
table names the MLP's), for every tensor, beside the backward pass's value."""

from __future__ import annotations

import pytest
from textual.color import Color

from core import Session
from core.readout import chain_terms
from tui_trainer.palette import _palette
from tui_trainer.screens.chain import ChainView, render_chain


def test_the_chain_view_writes_every_gpt_tensor_s_sum():
    s = Session.create(model="gpt")
    s.run(2)
    s.backward()
    ink = _palette({}, Color(0, 0, 0), Color(255, 255, 255))
    for name in s.model.tensors.names:
        c = chain_terms(s, name, (1, 2))
        text = render_chain(ChainView(c, ["we", "love", "deep", "learning"], []), ink).plain
        assert text.startswith(f"{name}[1,2]: dL/dw = Σ_p ") and "✓ the same" in text
    c = chain_terms(s, "layer0.attn_wq", (5, 3))
    text = render_chain(ChainView(c, [], []), ink).plain
    assert "layer0.h_attn[p,3] × layer0.dS·k[p,5] × 0.5" in text


def test_every_gpt_factor_has_a_gloss_and_attention_s_terms_go_through_the_softmax():
    from core.attention import chain_through_softmax
    from tui_trainer.screens.chain import gloss

    s = Session.create(model="gpt", layers=2)
    s.run(2)
    s.backward()
    ink = _palette({}, Color(0, 0, 0), Color(255, 255, 255))
    for name in s.model.tensors.names:
        c = chain_terms(s, name, (1, 2))
        for factor, _ in c.factors:  # each factor's gloss starts with its symbol, as the sum writes it
            symbol = "(P-y)" if factor == "dlogits" else factor
            assert gloss(factor).startswith(f"{symbol}[p,"), factor
    for name, other in (("layer1.attn_wq", "k[t,e]"), ("layer0.attn_wk", "q[t,e]"), ("layer1.attn_wv", "dy[t,e]")):
        c = chain_terms(s, name, (5, 3))
        row = int(abs(c.terms).argmax())
        st = chain_through_softmax(s, name, (5, 3), row)
        view = ChainView(c, ["we", "love", "deep", "learning"], [], st, row, ["<BOS>", "we", "love", "deep"])
        text = render_chain(view, ink).plain
        head = f"The largest term, p{row + 1} {view.words[row]!r}: {c.factors[1][0]}[p,{c.factors[1][1]}]"
        assert head in text and "(head 1, e = 1)" in text and other in text
        assert f"Σ = {st.total:+.6e}, the factor" in text and st.total == pytest.approx(c.values[row, 1], rel=1e-12)
        table = text.split(head, 1)[1].splitlines()[2:6]
        for t, line in enumerate(table):
            cells = line.split()
            assert cells[1] == view.keys[t] and float(cells[-1]) == pytest.approx(st.parts[t], rel=1e-2, abs=1e-12)
            if st.dS is not None:
                assert (cells[5] == "0") == bool(st.masked[t])  # a masked pair's dS: exactly 0, written so
        assert ("dS[i,j] = A[i,j] × (dA[i,j] − Σ_u A[i,u] dA[i,u])" in text) == (st.kind != "value")
    assert (
        "× 0.5 = 1/√hd: the scores are q·k / √hd"
        in render_chain(ChainView(chain_terms(s, "layer0.attn_wk", (1, 1)), [], []), ink).plain
    )


async def test_x_on_the_gpt_writes_a_typed_attention_weight_through_the_softmax():
    from conftest import text_of

    from tui_trainer.app import TrainerApp
    from tui_trainer.screens.chain import ChainRuleScreen

    s = Session.create(model="gpt")
    app = TrainerApp(s)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "b", "x", "tab")
        app.screen.query_one("#weight").value = "layer0.attn_wq[3,5]"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChainRuleScreen)
        text = text_of(app.screen.query_one("#chain"))
        c = chain_terms(s, "layer0.attn_wq", (3, 5))
        row = int(abs(c.terms).argmax())
        assert text.startswith("layer0.attn_wq[3,5]: dL/dw = Σ_p layer0.h_attn[p,5] × layer0.dS·k[p,3] × 0.5")
        assert f"The largest term, p{row + 1} " in text and "(head 0, e = 3)" in text
        assert "layer0.h_attn[p,j]: rmsnorm of the stream" in text and "dS[i,j] = A[i,j] ×" in text
