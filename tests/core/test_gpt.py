"""The GPT (core.models.gpt): microgpt's model, exact gradients, causal, and a session like the MLP's.

The rebuild below is written plainly, position by position and head by head with a key/value cache,
as microgpt's ``gpt()`` function: the batched model must give its numbers.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from core import Session, SessionConfig
from core.checkpoint import load_checkpoint, save_checkpoint
from core.data import dataset_from_text
from core.generate import sample
from core.gradcheck import gradcheck
from core.models import MODELS, GPTConfig, GPTLanguageModel
from core.models.windows import gather, layout, sample_windows
from core.readout import chain_terms
from tui_trainer.narrate_errors import say


def small(layers: int = 1, heads: int = 2, seed: int = 0, V: int = 7, C: int = 8, block: int = 6) -> GPTLanguageModel:
    return GPTLanguageModel(GPTConfig(vocab_size=V, block=block, embed=C, heads=heads, layers=layers), seed=seed)


def microgpt_logits(p: dict[str, np.ndarray], tokens: list[int], layers: int, heads: int) -> np.ndarray:
    """microgpt's gpt(), one token at a time with a growing key/value cache: (T, V) logits."""

    def rmsnorm(x):
        ms = sum(xi * xi for xi in x) / len(x)
        return [xi * (ms + 1e-5) ** -0.5 for xi in x]

    def linear(x, w):  # w (out, in)
        return [sum(w[o][i] * x[i] for i in range(len(x))) for o in range(len(w))]

    def softmax(xs):
        m = max(xs)
        e = [math.exp(x - m) for x in xs]
        return [x / sum(e) for x in e]

    P = {n: a.tolist() for n, a in p.items()}
    C = len(P["wte"][0])
    hd = C // heads
    keys: list[list] = [[] for _ in range(layers)]
    values: list[list] = [[] for _ in range(layers)]
    out = []
    for pos, tok in enumerate(tokens):
        x = rmsnorm([t + q for t, q in zip(P["wte"][tok], P["wpe"][pos], strict=True)])
        for li in range(layers):
            res = x
            x = rmsnorm(x)
            q = linear(x, P[f"layer{li}.attn_wq"])
            keys[li].append(linear(x, P[f"layer{li}.attn_wk"]))
            values[li].append(linear(x, P[f"layer{li}.attn_wv"]))
            x_attn = []
            for h in range(heads):
                hs = h * hd
                q_h = q[hs : hs + hd]
                k_h = [ki[hs : hs + hd] for ki in keys[li]]
                v_h = [vi[hs : hs + hd] for vi in values[li]]
                w = softmax([sum(q_h[j] * k_h[t][j] for j in range(hd)) / hd**0.5 for t in range(len(k_h))])
                x_attn.extend(sum(w[t] * v_h[t][j] for t in range(len(v_h))) for j in range(hd))
            x = [a + b for a, b in zip(linear(x_attn, P[f"layer{li}.attn_wo"]), res, strict=True)]
            res = x
            x = [max(0.0, a) for a in linear(rmsnorm(x), P[f"layer{li}.mlp_fc1"])]
            x = [a + b for a, b in zip(linear(x, P[f"layer{li}.mlp_fc2"]), res, strict=True)]
        out.append(linear(x, P["lm_head"]))
    return np.array(out)


def test_names_shapes_and_count_are_microgpt_s():
    m = GPTLanguageModel(GPTConfig(vocab_size=27, block=16, embed=16, heads=4, layers=1))
    assert m.size == 4192
    assert list(m.tensors.shapes.items()) == [
        ("wte", (27, 16)),
        ("wpe", (16, 16)),
        ("lm_head", (27, 16)),
        ("layer0.attn_wq", (16, 16)),
        ("layer0.attn_wk", (16, 16)),
        ("layer0.attn_wv", (16, 16)),
        ("layer0.attn_wo", (16, 16)),
        ("layer0.mlp_fc1", (64, 16)),
        ("layer0.mlp_fc2", (16, 64)),
    ]
    # V C + block C + V C + layers (4 C² + 8 C²)
    for V, C, block, L in [(12, 16, 16, 1), (27, 8, 5, 3)]:
        cfg = GPTConfig(vocab_size=V, block=block, embed=C, heads=2, layers=L)
        assert GPTLanguageModel(cfg).size == 2 * V * C + block * C + L * 12 * C * C
    assert abs(m.params.std() - 0.08) < 0.005 and abs(m.params.mean()) < 0.01


@pytest.mark.parametrize("layers,heads", [(1, 1), (1, 4), (2, 2)])
def test_the_batched_forward_is_microgpt_s_gpt_function(layers, heads):
    m = small(layers, heads, seed=3)
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 7, size=(3, 6))
    f = m.forward(tokens, np.zeros_like(tokens))
    got = f.logits.reshape(3, 6, -1)
    for b in range(3):
        want = microgpt_logits(m.p, tokens[b].tolist(), layers, heads)
        np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-12)


CASES = [
    (layers, heads, T, reduction)
    for layers in (1, 2)
    for heads in (1, 4)
    for T in (3, 6)  # short, and the whole block
    for reduction in ("mean", "sum")
]


@pytest.mark.parametrize("layers,heads,T,reduction", CASES)
def test_gradcheck_of_every_tensor(layers, heads, T, reduction):
    m = small(layers, heads, seed=layers * 10 + heads)
    rng = np.random.default_rng(T)
    tokens = rng.integers(0, 7, size=(2, T))
    targets = rng.integers(0, 7, size=(2, T))
    targets[0, 1] = -1  # a cell not predicted: no gradient flows from it
    n = int((targets >= 0).sum())
    scale = 1.0 / n if reduction == "mean" else 1.0
    m.params[...] *= 5  # weights of a trained model's size: attention far from uniform, and the
    # gradients of wq and wk well above the rounding of the differences (at the init they are ~1e-5)
    errors = gradcheck(m, tokens, targets, max_per_tensor=24, seed=1, scale=scale)
    assert set(errors) == set(m.tensors.names)
    assert max(errors.values()) <= 1e-6, errors


def test_a_later_token_never_changes_an_earlier_position_and_masked_cells_are_zero():
    m = small(2, 2, seed=5)
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, 7, size=(1, 6))
    f = m.forward(tokens, np.zeros_like(tokens))
    for t in range(5):
        other = tokens.copy()
        other[0, t + 1 :] = (other[0, t + 1 :] + 1) % 7
        g = m.forward(other, np.zeros_like(other))
        assert np.array_equal(g.logits[: t + 1], f.logits[: t + 1])
        assert not np.array_equal(g.logits[t + 1 :], f.logits[t + 1 :])
    upper = np.triu(np.ones((6, 6), dtype=bool), k=1)
    assert np.all(f.att[..., upper] == 0.0) and np.all(f.scores[..., upper] == -np.inf)
    assert np.all(f.att[..., ~upper] > 0.0)
    np.testing.assert_allclose(f.att.sum(-1), 1.0, rtol=0, atol=1e-12)
    b = m.backward(f)
    assert np.all(b.pieces["dS"][..., upper] == 0.0)


def test_the_positions_asked_are_read_in_their_windows():
    # one sentence of 11 inputs cut into windows of 4: 4 + 4 + 3
    text = "a b c d e f g h i j k"
    data = dataset_from_text(text, context_size=4)
    lay = layout(data, 4)
    assert lay.length.tolist() == [4, 4, 3] and lay.offset.tolist() == [0, 1, 2, 3] * 2 + [0, 1, 2]
    m = small(1, 2, V=len(data.vocab), block=4)
    full = m.forward_at(data, None)
    assert full.inputs.shape == (3, 4) and full.targets.tolist() == data.targets.tolist()
    # the second window alone reads tokens 4..7, from position 0
    f2 = m.forward(full.inputs[1:2], data.targets[4:8][None])
    np.testing.assert_allclose(f2.logits, full.logits[4:8], rtol=0, atol=1e-13)
    idx = np.array([9, 2, 5])  # any order: rows in the order asked, windows only as long as needed
    some = m.forward_at(data, idx)
    assert some.inputs.shape == (3, 3) and some.targets.tolist() == data.targets[idx].tolist()
    np.testing.assert_allclose(some.logits, full.logits[idx], rtol=0, atol=1e-13)
    # the gradient is the exact gradient of the loss over those positions
    errors = gradcheck_at(m, data, idx)
    assert max(errors) < 1e-6


def gradcheck_at(m: GPTLanguageModel, data, idx, eps: float = 1e-6) -> list[float]:
    analytic = m.backward(m.forward_at(data, idx)).grads
    out = []
    for name in m.tensors.names:
        sl = m.slices[name][0]
        i = sl.start + int(np.argmax(np.abs(analytic[sl])))
        old = m.params[i]
        m.params[i] = old + eps
        up = m.forward_at(data, idx).losses.sum()
        m.params[i] = old - eps
        down = m.forward_at(data, idx).losses.sum()
        m.params[i] = old
        num = (up - down) / (2 * eps)
        out.append(abs(num - analytic[i]) / max(abs(num) + abs(analytic[i]), 1e-300))
    return out


def test_batches_are_whole_windows():
    rng = np.random.default_rng(0)
    text = "\n".join(" ".join(f"w{(i * 7 + j) % 13}" for j in range(i % 23 + 1)) for i in range(60))
    data = dataset_from_text(text, context_size=4)
    for size, block in [(32, 16), (100, 6), (7, 16), (200, 4)]:
        lay = layout(data, block)
        pos = sample_windows(lay, size, rng)
        assert pos.shape == (size,) and np.all(np.diff(pos) > 0) and 0 <= pos[0] and pos[-1] < data.n_positions
        wins, counts = np.unique(lay.window[pos], return_counts=True)
        short = counts < lay.length[wins]
        assert short.sum() <= 1  # every window whole but the last one drawn ...
        for w in wins[short]:  # ... which is its first cells (a window is read from its start)
            assert np.array_equal(np.sort(lay.offset[pos[lay.window[pos] == w]]), np.arange(counts[wins == w][0]))
    data = dataset_from_text("a b c. d e f g h. i j k l m n o p q r s", context_size=4)
    batch = gather(layout(data, 4), np.arange(4, 8))
    assert batch.tokens.shape[0] == 2  # positions 4..7 span the second sentence's first window and the next's


def test_session_defaults_and_the_mlp_s_are_unchanged():
    s = SessionConfig()
    assert (s.context, s.embed_dim) == (4, 8)
    g = replace(s, model="gpt")
    assert (g.context, g.embed_dim, g.layers, g.heads) == (16, 16, 1, 4)
    assert replace(s, model="gpt", context=8).context == 8
    assert replace(g, model="mlp").context == 4
    with pytest.raises(ValueError) as e:
        Session.create(model="gpt", embed_dim=10)
    assert say(e.value) == "the embedding size 10 is not divisible by 4 heads"  # (core's code, the app's words)
    assert "gpt" in MODELS


@pytest.fixture(scope="module")
def trained() -> Session:
    s = Session.create(model="gpt")
    s.run(200)
    return s


def test_the_lesson_sentence_is_learned(trained):
    f = trained.forward_result
    assert trained.model.kind == "gpt" and trained.model.size == 2 * 12 * 16 + 16 * 16 + 12 * 16 * 16
    assert np.array_equal(f.probs.argmax(1), f.targets)
    assert trained.history[-1].total_loss < 0.01


def test_chain_terms_sum_to_the_backward_pass_for_every_tensor():
    s = Session.create(model="gpt", layers=2, text="we love deep learning. deep learning is great")
    s.run(3)
    s.backward()
    rng = np.random.default_rng(0)
    for name, shape in s.model.tensors.shapes.items():
        for _ in range(3):
            idx = tuple(int(rng.integers(n)) for n in shape)
            c = chain_terms(s, name, idx)
            assert c.total == pytest.approx(c.backward, rel=1e-11, abs=1e-15), (name, idx)


def test_undo_redo_goto_and_fork_are_bit_for_bit():
    s = Session.create(model="gpt", optimizer="adam", undo_memory=0)
    s.run(5)
    s.backward()
    grads, params = s.backward_result.grads.copy(), s.model.params.copy()
    s.update()
    after = s.model.params.copy()
    for _ in range(3):
        s.undo()
    s.redo()
    s.redo()
    assert s.phase == "backward" and np.array_equal(s.backward_result.grads, grads)
    assert np.array_equal(s.model.params, params)
    s.redo()
    assert np.array_equal(s.model.params, after)
    s.goto(2)
    t = s.fork()
    t.run(3)
    s.run(3)
    assert np.array_equal(s.model.params, t.model.params)


def test_a_checkpoint_loads_back_bit_for_bit(trained, tmp_path):
    path = save_checkpoint(trained, tmp_path / "gpt.npz")
    with np.load(path) as z:
        header = json.loads(z["header"].tobytes().decode())
    assert header["model"] == "gpt" and header["config"]["heads"] == 4 and header["config"]["layers"] == 1
    assert [n for n, _ in header["tensors"]] == trained.model.tensors.names
    t = load_checkpoint(path)
    assert t.model.kind == "gpt" and t.step == trained.step
    assert np.array_equal(t.model.params, trained.model.params)
    assert np.array_equal(t.forward_result.logits, trained.forward_result.logits)


def test_sample_writes_the_lesson_s_words(trained):
    words = [w.word for w in sample(trained.model, trained.data, max_words=4, temperature=0.01)]
    assert words == ["we", "love", "deep", "learning"]


def test_a_text_larger_than_a_batch_trains_on_windows():
    text = ". ".join(" ".join(f"w{(i * 7 + j) % 13}" for j in range(3 + i % 20)) for i in range(60))
    s = Session.create(model="gpt", text=text, batch_positions=64, context=8, optimizer="adam")
    assert s.val_data is not None
    r = s.run(20)
    assert r.ok and len(s.forward_result.targets) == 64
    assert np.isfinite(s.history[-1].val_loss) or np.isnan(s.history[-1].val_loss)


def test_add_rows_sums_rows_by_id_as_np_add_at_does():
    from core.models.gpt import add_rows

    rng = np.random.default_rng(0)
    for n in (5, 64, 65, 1500):
        ids = rng.integers(0, 40, n)
        rows = rng.standard_normal((n, 8))
        got = np.full((40, 8), np.nan)  # every entry is written (0 where no id is)
        add_rows(got, ids, rows)
        want = np.zeros((40, 8))
        np.add.at(want, ids, rows)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
