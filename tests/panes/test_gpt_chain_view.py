"""The chain-rule view (x) writes the GPT's sums: its factors by their own names (the view's
table names the MLP's), for every tensor, beside the backward pass's value."""

from __future__ import annotations

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
