"""One query's readouts for the step-by-step view (core.attention) and the GPT's chain rule: the
softmax's e^x and its sum, A[t]·v[t] key by key, each head through attn_wo and the residual; every
GPT tensor's chain terms summing to a finite-difference gradient; an attention weight's term
written out through the softmax (dA -> dS) cell by cell."""

from __future__ import annotations

import numpy as np
import pytest

from core import Session
from core.attention import AttentionOutput, chain_through_softmax, change, session_output, session_row
from core.readout import chain_terms


@pytest.fixture(scope="module")
def gpt() -> Session:
    """Two layers after two steps, gradients fresh (float64)."""
    s = Session.create(model="gpt", layers=2)
    s.run(2)
    s.backward()
    return s


def test_the_softmax_s_pieces_and_the_weighted_sum_key_by_key(gpt):
    f = gpt.forward_result
    for layer in (0, 1):
        r = session_row(gpt, 2, layer, 3)
        seen = ~r.mask
        # the largest unmasked score becomes e^0 = 1; masked keys e^-inf = exactly 0
        assert r.exp[seen].max() == 1.0 and np.all(r.exp[r.mask] == 0.0)
        assert r.exp_sum == pytest.approx(np.exp(r.scaled[seen] - r.scaled[seen].max()).sum(), rel=1e-13)
        np.testing.assert_allclose(r.exp / r.exp_sum, r.att, rtol=1e-13)
        np.testing.assert_allclose(r.weighted_rows.sum(axis=0), r.weighted, rtol=1e-13, atol=1e-16)
        assert r.weighted_rows[3].tolist() == [0.0] * 4  # the later key adds nothing
        np.testing.assert_allclose(r.weighted_rows[1], r.att[1] * f.v[layer, 0, 3, 1], rtol=1e-15)
        # after b: the row's weighted average of dA, and dA less it (dS = A ⊙ that)
        assert r.att_sum == pytest.approx(1.0, abs=1e-14)
        assert r.rowdot == pytest.approx(sum(a * d for a, d in zip(r.att, r.dA, strict=True)), rel=1e-12)
        np.testing.assert_allclose(r.att * r.centred, r.dS, rtol=1e-12, atol=1e-18)


def test_the_change_of_one_query_s_weights_over_an_update():
    s = Session.create(model="gpt")
    s.forward()
    before = s.forward_result.att[0, 0, 2, 1, :4].copy()
    assert change(s, 1, 0, 2) is None  # no update yet
    s.backward()
    s.update()
    assert change(s, 1, 0, 2) is None  # the forward pass after it not run yet
    s.forward()
    c = change(s, 1, 0, 2)
    after = s.forward_result.att[0, 0, 2, 1, :4]
    assert np.array_equal(c.before, before) and np.array_equal(c.after, after)
    np.testing.assert_allclose(c.delta, after - before, rtol=0, atol=1e-17)
    assert c.delta[2:].tolist() == [0.0, 0.0] and abs(c.delta.sum()) < 1e-15  # masked keys; rows sum to 1


def test_each_head_through_attn_wo_and_the_residual(gpt):
    f, p = gpt.forward_result, gpt.model.p
    o = session_output(gpt, 3, 1)
    assert isinstance(o, AttentionOutput) and o.heads.shape == (4, 16)
    wo = p["layer1.attn_wo"]
    for h in range(4):  # head h's output y through columns h*4 … h*4+3 of attn_wo, by hand
        y = f.heads_out[1, 0, 3, 4 * h : 4 * h + 4]
        np.testing.assert_allclose(o.heads[h], [sum(wo[c, 4 * h + e] * y[e] for e in range(4)) for c in range(16)])
    np.testing.assert_allclose(o.total, wo @ f.heads_out[1, 0, 3], rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(o.residual + o.total, o.mid, rtol=1e-12, atol=1e-15)
    assert np.array_equal(o.residual, f.stream[1, 0, 3]) and np.array_equal(o.mid, f.mid[1, 0, 3])
    assert session_output(Session.create(model="gpt"), 0, 0) is None  # no forward pass yet
    s = Session.create(model="gpt")
    s.forward()
    s.update()
    assert s.stale and session_output(s, 0, 0) is None  # attn_wo moved since the forward pass
    mlp = Session.create()
    mlp.forward()
    assert session_output(mlp, 0, 0) is None  # the MLP has no attention


TENSORS = [
    "wte",
    "wpe",
    "layer0.attn_wq",
    "layer1.attn_wk",
    "layer0.attn_wv",
    "layer1.attn_wo",
    "layer0.mlp_fc1",
    "layer1.mlp_fc2",
    "lm_head",
]


@pytest.mark.parametrize("name", TENSORS)
def test_chain_terms_sum_to_a_finite_difference_gradient(gpt, name):
    """For the weight of each GPT tensor kind with the largest gradient: the terms' sum against
    (L(w + ε) - L(w - ε)) / 2ε of the objective trained (the mean loss), measured here."""
    g = gpt.backward_result.grad(name)
    index = np.unravel_index(int(np.abs(g).argmax()), g.shape)
    c = chain_terms(gpt, name, tuple(int(i) for i in index))
    assert c.values.shape == (len(c.terms), 2) and np.all(np.isfinite(c.values))
    flat = gpt.model.tensors.flat_index(name, c.index)
    params, eps, n = gpt.model.params, 1e-5, gpt.forward_result.targets.shape[0]
    old = params[flat]
    losses = []
    for w in (old + eps, old - eps):
        params[flat] = w
        losses.append(float(gpt.compute_forward().losses.sum()) / n)
    params[flat] = old
    fd = (losses[0] - losses[1]) / (2 * eps)
    assert abs(c.total) > 1e-6
    assert c.total == pytest.approx(fd, rel=1e-6, abs=1e-11)


@pytest.mark.parametrize("name", ["layer0.attn_wq", "layer1.attn_wk", "layer1.attn_wv"])
def test_an_attention_term_through_the_softmax_cell_by_cell(gpt, name):
    f, b = gpt.forward_result, gpt.backward_result
    layer = int(name[5])
    c = chain_terms(gpt, name, (6, 2))  # head 1, column e = 2
    for row in range(len(c.terms)):
        st = chain_through_softmax(gpt, name, (6, 2), row)
        assert (st.head, st.column, st.position) == (1, 2, row)
        assert st.parts.sum() == pytest.approx(c.values[row, 1], rel=1e-12, abs=1e-18)
        assert st.total == pytest.approx(c.values[row, 1], rel=1e-12, abs=1e-18)
        A = f.att[layer, 0, 1]  # (T, T) this head's weights
        if name.endswith("wv"):
            assert st.dS is None and st.masked.tolist() == [t < row for t in range(4)]
            np.testing.assert_allclose(st.parts, A[:, row] * b.pieces["dy"][layer, 0, 1, :, 2])
            continue
        # dS = A ⊙ (dA - Σ A·dA), by hand from A and dA = dy · v
        dy, v = b.pieces["dy"][layer, 0, 1], f.v[layer, 0, 1]
        dA = dy @ v.T  # (T, T): dA[i, j] = dy[i]·v[j]
        dS = A * (dA - (A * dA).sum(axis=1, keepdims=True))
        cut = (slice(row, row + 1), slice(None)) if name.endswith("wq") else (slice(None), slice(row, row + 1))
        np.testing.assert_allclose(st.dA, dA[cut].ravel(), rtol=1e-12, atol=1e-18)
        np.testing.assert_allclose(st.dS, dS[cut].ravel(), rtol=1e-10, atol=1e-18)
        # the masked pairs: keys after the query (wq's row), queries before the key (wk's column)
        want = [t > row for t in range(4)] if name.endswith("wq") else [t < row for t in range(4)]
        assert st.masked.tolist() == want
        assert all(x == 0.0 and np.copysign(1.0, x) == 1.0 for x in st.dS[st.masked])
    assert chain_through_softmax(gpt, "layer0.mlp_fc1", (6, 2), 0) is None
