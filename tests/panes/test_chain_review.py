"""The chain-rule view (x) on a GPT's attention weights, as a learner checks it: the factors
written on each line multiply to the term written after them, the gloss of dS says what its rows
sum to, and the largest term's heading names the row of the table that is its cell."""

from __future__ import annotations

import re

import numpy as np
import pytest
from textual.color import Color

from core import Session
from core.attention import chain_through_softmax
from core.readout import chain_terms
from tui_trainer.palette import _palette
from tui_trainer.screens.chain import ChainView, render_chain

INK = _palette({}, Color(0, 0, 0), Color(255, 255, 255))
#: the lesson sentence's cells: what each reads and what it predicts
READS = ["<BOS>", "we", "love", "deep"]
PREDICTS = ["we", "love", "deep", "learning"]


def _view(s: Session, name: str, index: tuple[int, int]) -> ChainView:
    c = chain_terms(s, name, index)
    row = int(abs(c.terms).argmax())
    st = chain_through_softmax(s, name, index, row)
    keys = [s.data.vocab.tokens[int(t)] for t in st.tokens]
    return ChainView(c, PREDICTS, [], st, row, keys)


@pytest.mark.parametrize("name", ["layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv", "lm_head"])
def test_the_factors_written_multiply_to_the_term_written(name):
    s = Session.create(model="gpt")
    s.backward()  # step 0: the attention gradients are small (dS·k about 1e-4 and less)
    c = chain_terms(s, name, (3, 5))
    text = render_chain(ChainView(c, PREDICTS, []), INK).plain
    lines = [ln for ln in text.splitlines() if re.match(r"p\d+ ", ln)]
    assert len(lines) == 4
    for line in lines:
        product, term = line.split(" = ")
        factors = [float(x) for x in product.split()[2:] if x != "×"]
        written = float(term)
        # each factor is written to 3 or more significant digits: the product agrees to 1%
        assert np.prod(factors) == pytest.approx(written, rel=1e-2, abs=1e-15), line


def test_the_gloss_of_ds_says_its_rows_sum_to_0():
    s = Session.create(model="gpt")
    s.backward()
    dS = s.backward_result.pieces["dS"]
    assert np.abs(dS.sum(axis=-1)).max() < 1e-12  # (why: adding one number to a row's scores changes no A)
    text = render_chain(_view(s, "layer0.attn_wk", (3, 5)), INK).plain
    assert "its rows sum to 0 (A's sum to 1)" in text and "its rows sum to 1," not in text


@pytest.mark.parametrize("name", ["layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv"])
def test_the_largest_term_names_the_row_of_its_cell(name):
    s = Session.create(model="gpt")
    s.backward()
    view = _view(s, name, (3, 5))
    p = view.through_row
    text = render_chain(view, INK).plain
    # p is named by what it predicts in the sum; in the table below by what it reads, row p (one window)
    heading = next(ln for ln in text.splitlines() if ln.startswith("The largest term"))
    assert heading.startswith(f"The largest term, p{p + 1} {PREDICTS[p]!r}:")
    assert heading.endswith(f"; p{p + 1} reads {READS[p]!r}, row {p} below")
    table = text.split(heading, 1)[1].splitlines()[2:6]
    assert table[p].split()[:2] == [str(p), READS[p]]
