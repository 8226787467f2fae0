"""Attention breakpoints: prev(H)>X and attn_entropy(H)<X over the tracked positions.

The expected values are computed here from the GPT's parameters by hand (embedding, rmsnorm, q and k,
the causal softmax), each tracked position read in its window of ``block`` tokens, without
``core.attention``."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from core import Session
from core.breakpoints import BreakpointError, attention_shape, attention_value, parse
from tui_trainer import cli
from tui_trainer.narrate_breakpoints import breakpoint_error

TWO_SENTENCES = "we love deep learning models . they learn slowly ."


def rms(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-5)


def by_hand(s: Session, layer: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(prev, entropy) per head of layer 0 (only layer 0: the stream before it is the embedding)
    over the tracked positions: the first sentence's first positions, each in its window."""
    assert layer == 0
    p, cfg = s.model.p, s.model.config
    H, C = cfg.heads, cfg.embed
    hd = C // H
    tracked = [int(i) for i in s.tracked]
    tokens = [int(s.data.contexts[i, -1]) for i in tracked]  # each position's input token
    index = [int(s.data.index_in_sentence[i]) for i in tracked]
    prevs, ents = [[] for _ in range(H)], [[] for _ in range(H)]
    for i in index:
        start = i - i % cfg.block  # the window's first position in the sentence
        cells = [k for k in range(len(index)) if start <= index[k] <= i]  # the window up to this query
        x = np.array([p["wte"][tokens[k]] + p["wpe"][index[k] - start] for k in cells])
        h = rms(rms(x))  # the stream's rmsnorm, then attention's own
        q, k = h @ p["layer0.attn_wq"].T, h @ p["layer0.attn_wk"].T
        for head in range(H):
            sl = slice(head * hd, (head + 1) * hd)
            scores = k[:, sl] @ q[-1, sl] / math.sqrt(hd)  # the query is the window's last cell here
            a = np.exp(scores - scores.max())
            a /= a.sum()
            ents[head].append(float(-(a * np.log(a)).sum()))
            if len(cells) > 1:
                prevs[head].append(float(a[-2]))
    prev = np.array([np.mean(v) if v else np.nan for v in prevs])
    return prev, np.array([np.mean(v) for v in ents])


def shape(s: Session) -> tuple[int, int] | None:
    return attention_shape(s.model)


@pytest.mark.parametrize(
    "text,context", [(None, None), (TWO_SENTENCES, 2), (TWO_SENTENCES, 3)], ids=["lesson-block16", "block2", "block3"]
)
def test_values_match_an_independent_computation(text, context):
    s = Session.create(model="gpt", text=text, context=context, optimizer="adam", lr=0.01)
    s.run(15)
    want_prev, want_ent = by_hand(s)
    from core.breakpoints import _tracked_habits

    prev, ent = _tracked_habits(s)
    np.testing.assert_allclose(prev[0], want_prev, rtol=1e-9)
    np.testing.assert_allclose(ent[0], want_ent, rtol=1e-9)
    # what the narration quotes after a stop: the same numbers, per condition
    for head in range(4):
        c, x = attention_value(s, f"prev({head})>0.5")
        assert (c.kind, c.layer, c.head) == ("prev", 0, head) and x == pytest.approx(want_prev[head], rel=1e-9)
        c, x = attention_value(s, f"attn_entropy(0.{head})<=1")
        assert c.kind == "attn_entropy" and x == pytest.approx(want_ent[head], rel=1e-9)
    assert attention_value(s, "loss<1") is None


@pytest.mark.parametrize(
    "expr,kind,op,head",
    [
        ("prev(0)<0.2", "prev", "<", 0),
        ("prev(0.1)>=0.75", "prev", ">=", 1),
        ("prev(3)<=0.1", "prev", "<=", 3),
        ("prev(1)>0.7", "prev", ">", 1),
        ("attn_entropy(0.2)<0.05", "attn_entropy", "<", 2),
        ("attn_entropy(1)<=0.19", "attn_entropy", "<=", 1),
    ],
)
def test_a_run_stops_at_the_first_step_where_it_holds(expr, kind, op, head):
    settings = {"model": "gpt", "text": TWO_SENTENCES, "context": 2, "optimizer": "adam", "lr": 0.01}
    ref = Session.create(**settings)
    threshold = float(expr.split(op)[-1])
    compare = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}[op]
    want = None
    for step in range(60):
        ref.forward()
        prev, ent = by_hand(ref)
        if compare((prev if kind == "prev" else ent)[head], threshold):
            want = step
            break
        ref.train_step()
    assert want is not None and want > 0, "the test's threshold should be crossed after a few steps"
    s = Session.create(**settings)
    r = s.run(60, until=parse(expr, [], shape(s)))
    assert r.stopped == "breakpoint" and r.detail == expr and s.step == want


def test_a_first_sentence_of_one_position_has_no_previous_token():
    s = Session.create(model="gpt", text="hello . we love deep learning .")
    assert len(s.tracked) == 1
    assert np.isnan(by_hand(s)[0]).all()
    r = s.run(3, until=parse("prev(0)<1,prev(0)>=0", [], shape(s)))
    assert r.stopped is None and s.step == 3  # never holds: there is no previous token to weigh
    r = s.run(3, until=parse("attn_entropy(0)<=0", [], shape(s)))
    assert r.stopped == "breakpoint"  # one key: all its weight on itself, entropy 0


@pytest.mark.parametrize(
    "expr,words",
    [
        ("prev(4)>0.5", ["no head 4", "2 heads (0-1)", "2 layers (0-1)"]),
        ("prev(2.0)>0.5", ["no layer 2", "2 heads (0-1) in 2 layers"]),
        ("attn_entropy(1.-1)<1", ["no head -1"]),
        ("prev(a)>0.5", ["whole numbers"]),
        ("prev(0)>1.5", ["between 0 and 1"]),
        ("attn_entropy(0)<-0.5", ["0 or more"]),
        ("prev(0)>x", ["'x' is not a number"]),
    ],
)
def test_bad_heads_and_values_are_refused_naming_the_heads_and_layers(expr, words):
    s = Session.create(model="gpt", heads=2, layers=2)
    with pytest.raises(BreakpointError) as e:
        parse(expr, [], shape(s))
    for w in words:  # (core gives a code and data; the sentence is the app's)
        assert w in breakpoint_error(e.value)


def test_the_mlp_refuses_attention_conditions():
    s = Session.create()
    assert shape(s) is None
    for expr in ("prev(0)>0.5", "attn_entropy(0)<1"):
        with pytest.raises(BreakpointError) as e:
            parse(expr, [], shape(s))
        assert re.search(r"no attention .*--model gpt", breakpoint_error(e.value))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_until_prev_on_the_command_line(capsys):
    args = ["train", "--model", "gpt", "--optimizer", "adam", "--lr", "0.01", "--steps", "60", "--json"]
    code, out, _ = run(capsys, *args, "--until", "prev(0)>0.5")
    assert code == 0
    import json

    rows = [json.loads(x) for x in out.splitlines()]
    last = rows[-1]
    s = Session.create(model="gpt", optimizer="adam", lr=0.01)
    s.run(last["step"])
    assert last["until"] == "prev(0)>0.5" and by_hand(s)[0][0] > 0.5
    if last["step"] > 0:  # the step before did not hold
        s = Session.create(model="gpt", optimizer="adam", lr=0.01)
        s.run(last["step"] - 1)
        assert not by_hand(s)[0][0] > 0.5


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--until", "prev(0)>0.5"], "--until: 'prev(0)>0.5': this model has no attention"),
        (["--model", "gpt", "--until", "prev(9)>0.5"], "there is no head 9: this GPT has 4 heads (0-3) in 1 layer (0)"),
    ],
)
def test_train_refuses_a_bad_attention_condition_in_one_line(capsys, argv, message):
    code, _, err = run(capsys, "train", "--steps", "3", *argv)
    assert code == 2 and message in err and "Traceback" not in err
