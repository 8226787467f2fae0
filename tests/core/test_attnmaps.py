"""Attention as whole matrices (core.attnmaps): the Attention pane's numbers, checked against an
independent computation from the model's tensors, against core.attention's one-row readout, and
for the mask (exactly 0 in A, dA and dS), the row sums, and A before and after an update."""

from __future__ import annotations

import math

import numpy as np

from core import Session
from core.attention import session_row
from core.attnmaps import attention_maps, attention_part
from core.frame import build_frame

TEXT = "the cat sat on the mat and the dog sat on the log while the bird sang in the tree by the house"


def independent_attention(s: Session, tokens: np.ndarray) -> np.ndarray:
    """Layer 0's A (H, n, n) for one window, written here from the tensors: x = rmsnorm(wte[token] +
    wpe[t]), h = rmsnorm(x), q = h Wq^T, k = h Wk^T, per head softmax(q k^T / sqrt(hd)) over keys up
    to the query (the keys after it masked: weight 0)."""
    p = s.model.p
    n = tokens.shape[0]

    def rms(x):
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)

    h = rms(rms(p["wte"][tokens] + p["wpe"][:n]))
    q, k = h @ p["layer0.attn_wq"].T, h @ p["layer0.attn_wk"].T
    H = s.config.heads
    hd = q.shape[1] // H
    out = np.zeros((H, n, n))
    for head in range(H):
        cols = slice(head * hd, (head + 1) * hd)
        for t in range(n):  # query t sees keys 0 … t
            scores = np.array([q[t, cols] @ k[j, cols] for j in range(t + 1)]) / math.sqrt(hd)
            e = np.exp(scores - scores.max())
            out[head, t, : t + 1] = e / e.sum()
    return out


def test_every_head_s_weights_match_a_softmax_written_in_the_test():
    s = Session.create(model="gpt")
    s.run(3)
    for i in range(4):
        maps = build_frame(s, i).attention.maps
        assert maps.query == i and maps.token_ids.tolist() == s.forward_result.inputs[0].tolist()
        np.testing.assert_allclose(maps.att[0], independent_attention(s, maps.token_ids), rtol=1e-10, atol=1e-15)


def test_rows_sum_to_one_and_masked_cells_are_exactly_zero_in_a_da_and_ds():
    s = Session.create(model="gpt", text=TEXT, layers=2)
    s.forward()
    s.backward()
    for i in (0, 5, 17, 21):
        maps = build_frame(s, i).attention.maps
        n = maps.token_ids.shape[0]
        mask = maps.mask
        assert mask.tolist() == [[j > t for j in range(n)] for t in range(n)]
        np.testing.assert_allclose(maps.att.sum(axis=-1), 1.0, rtol=0, atol=1e-14)
        for m in (maps.att, maps.dA, maps.dS):
            assert m.shape == (2, 4, n, n)
            assert np.all(m[..., mask] == 0.0)
            assert all(math.copysign(1.0, x) == 1.0 for x in m[..., mask].ravel())  # never -0
        # unmasked: dS = A ⊙ (dA - Σ A ⊙ dA), and both agree with core.attention's row
        a, da = maps.att, maps.dA
        np.testing.assert_allclose(maps.dS, a * (da - (a * da).sum(-1, keepdims=True)), rtol=1e-9, atol=1e-18)
        for layer in range(2):
            for head in range(4):
                row = session_row(s, i, layer, head)
                t = maps.query
                np.testing.assert_array_equal(maps.att[layer, head, t], row.att)
                np.testing.assert_array_equal(maps.dS[layer, head, t], row.dS)
                np.testing.assert_array_equal(maps.dA[layer, head, t][~row.mask], row.dA[~row.mask])


def test_a_before_an_update_and_its_change():
    s = Session.create(model="gpt")
    s.forward()
    before = s.forward_result.att[:, 0].copy()  # (L, H, n, n): A of the step-0 parameters
    assert build_frame(s, 2).attention.maps.before is None  # no update yet
    s.train_step()  # update, then the forward pass of the new parameters on the same positions
    maps = build_frame(s, 2).attention.maps
    np.testing.assert_array_equal(maps.before, before)
    np.testing.assert_array_equal(maps.delta, maps.att - before)
    assert not np.array_equal(maps.att, before)
    np.testing.assert_allclose(maps.att[0], independent_attention(s, maps.token_ids), rtol=1e-10, atol=1e-15)
    s.backward()  # fresh gradients on the same forward pass: dA and dS too (the before stays true)
    maps = build_frame(s, 2).attention.maps
    assert maps.dA is not None and np.array_equal(maps.before, before)
    s.update()  # the update's own state (no forward pass of the new parameters yet): no before
    assert build_frame(s, 2).attention.maps.before is None


def test_the_window_a_query_sees_in_a_sentence_longer_than_the_block():
    s = Session.create(model="gpt", text=TEXT, context=8)
    s.forward()
    # position 19 predicts the 20th token from input 19: window 2 (inputs 16 … 23), query 3
    part = build_frame(s, 19).attention
    assert (part.block, part.first_seen, part.query_index, part.layers, part.heads) == (8, 16, 19, 1, 4)
    assert part.maps.query == 3
    words = ["<BOS>", *TEXT.split()]
    # (inputs 16 … 22: the sentence's last word is only a target)
    assert [s.vocab.tokens[t] for t in part.maps.token_ids] == words[16:-1]


def test_no_attention_part_for_the_mlp():
    s = Session.create()
    assert build_frame(s, 0).attention is None
    s.forward()
    assert build_frame(s, 0).attention is None
    assert attention_maps(s.forward_result, 0) is None
    assert attention_part(s, 0, 0) is None
    g = Session.create(model="gpt")
    assert build_frame(g, 0).attention.maps is None  # before a forward pass: the window, no weights
