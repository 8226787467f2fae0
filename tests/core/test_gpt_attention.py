"""Attention's readouts (core.attention): one query's row of one head, each head's habits."""

from __future__ import annotations

import math

import numpy as np

from core import Session
from core.attention import attention_row, before_after, head_habits, session_row


def test_a_query_s_row_of_one_head_from_q_k_v_to_the_weighted_sum():
    s = Session.create(model="gpt")
    assert session_row(s, 0, 0, 0) is None  # before any forward pass
    s.run(5)
    s.backward()
    f = s.forward_result
    for i in range(4):
        for head in range(4):
            r = session_row(s, i, 0, head)
            assert r.query == i and r.tokens.tolist() == f.inputs[0].tolist()
            hd = r.q.shape[0]
            np.testing.assert_allclose(r.raw, r.k @ r.q, rtol=1e-15)
            np.testing.assert_allclose(r.scaled, r.raw / math.sqrt(hd), rtol=1e-15)
            assert r.mask.tolist() == [t > i for t in range(4)]
            assert np.all(r.scores[r.mask] == -np.inf)
            np.testing.assert_allclose(r.scores[~r.mask], r.scaled[~r.mask], rtol=1e-13)
            assert np.all(r.att[r.mask] == 0.0) and abs(r.att.sum() - 1.0) < 1e-14
            e = np.exp(r.scaled[~r.mask] - r.scaled[~r.mask].max())
            np.testing.assert_allclose(r.att[~r.mask], e / e.sum(), rtol=1e-13)
            # the weighted sum of V is this head's columns of the joined heads' output
            np.testing.assert_allclose(r.weighted, f.heads_out[0, 0, i, head * hd : (head + 1) * hd], rtol=1e-13)
            # after b: dS = A ⊙ (dA - Σ A ⊙ dA), exactly 0 (never -0) where masked
            np.testing.assert_allclose(r.dS, r.att * (r.dA - (r.att * r.dA).sum()), rtol=1e-12, atol=1e-18)
            assert all(math.copysign(1.0, x) == 1.0 for x in r.dS[r.mask])
            assert math.isnan(r.previous) if i == 0 else r.previous == r.att[i - 1]
            assert 0.0 <= r.entropy <= math.log(i + 1) + 1e-12
    assert attention_row(Session.create().compute_forward(), 0, 0, 0) is None  # the MLP has none


def test_each_head_s_habits_and_the_weights_before_and_after_an_update():
    s = Session.create(model="gpt", layers=2)
    s.forward()
    h = head_habits(s.forward_result)
    assert h.previous.shape == h.entropy.shape == (2, 4)
    f = s.forward_result
    want = np.mean([f.att[1, 0, 2, t, t - 1] for t in range(1, 4)])
    assert abs(h.previous[1, 2] - want) < 1e-15
    assert np.all(h.entropy > 0) and np.all(h.entropy < math.log(4))
    assert before_after(s, 1, 0, 0) is None
    s.backward()
    s.update()
    s.forward()
    old, new = before_after(s, 1, 0, 0)
    assert np.array_equal(old, f.att[0, 0, 0, 1, :4]) and not np.array_equal(old, new)
    assert abs(new.sum() - 1) < 1e-14
