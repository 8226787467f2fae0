"""Breakpoints on learning conditions (train --until) and the learning-rate sweep."""

from __future__ import annotations

import json

import pytest

from core import Session
from core.breakpoints import BreakpointError, parse
from tui_trainer import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines()]


@pytest.mark.parametrize(
    "expr,first",
    [
        ("p(learning)>0.9", lambda r, prev: r["target_probs"][3] > 0.9),
        ("total<0.5", lambda r, prev: r["total_loss"] < 0.5),
        ("loss<0.3", lambda r, prev: r["mean_loss"] < 0.3),
        ("step>=7", lambda r, prev: r["step"] >= 7),
        ("grad_norm<0.5", lambda r, prev: prev is not None and prev["grad_norm"] < 0.5),
    ],
)
def test_until_stops_exactly_at_the_first_step_where_it_holds(capsys, expr, first):
    _, out, _ = run(capsys, "train", "--steps", "60", "--json")
    whole = rows_of(out)
    want = next(r["step"] for i, r in enumerate(whole) if first(r, whole[i - 1] if i else None))
    code, out, _ = run(capsys, "train", "--steps", "60", "--json", "--until", expr)
    got = rows_of(out)
    assert code == 0 and got[-1]["step"] == want and got[-1]["until"] == expr
    # the same rows as the run without it (the last one may still lack its update)
    assert [r["total_loss"] for r in got] == [r["total_loss"] for r in whole[: want + 1]]


def test_until_loss_up_stops_at_the_first_overshoot(capsys):
    _, out, _ = run(capsys, "train", "--steps", "30", "--json", "--lr", "3")
    whole = rows_of(out)
    want = next(r["step"] for i, r in enumerate(whole) if i and r["mean_loss"] > whole[i - 1]["mean_loss"])
    code, out, _ = run(capsys, "train", "--steps", "30", "--lr", "3", "--until", "total<0.01,loss_up")
    assert code == 0 and f"stopped at step {want}: loss_up holds" in out


def test_a_condition_true_at_the_start_takes_no_step():
    s = Session.create()
    r = s.run(10, until=parse("step>=0", []))
    assert r.stopped == "breakpoint" and r.steps == 0 and s.step == 0 and r.detail == "step>=0"


def test_all_correct_and_nonfinite():
    s = Session.create()
    r = s.run(200, until=parse("all_correct", ["we", "love", "deep", "learning"]))
    assert r.stopped == "breakpoint" and r.detail == "all_correct"
    f = s.model.forward(s.data.contexts, s.data.targets)
    assert (f.probs.argmax(axis=1) == s.data.targets).all()
    s.goto(s.step - 1)
    f = s.model.forward(s.data.contexts, s.data.targets)
    assert not (f.probs.argmax(axis=1) == s.data.targets).all()


@pytest.mark.parametrize(
    "expr,needle",
    [
        ("loss<<3", "'<3' is not a number"),
        ("p(hate)>0.5", "'hate' is not a target"),
        ("p(we)>2", "between 0 and 1"),
        ("lossy<3", "cannot read 'lossy<3'"),
        ("total<1,,loss_up", "empty condition"),
    ],
)
def test_bad_expressions_are_one_line_naming_the_part(capsys, expr, needle):
    code, out, err = run(capsys, "train", "--until", expr)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1
    with pytest.raises(BreakpointError):
        parse(expr, ["we", "love", "deep", "learning"])


def test_sweep_rows_agree_with_separate_train_runs_bit_for_bit(capsys):
    code, out, _ = run(capsys, "sweep", "--lr", "0.1,1,100", "--optimizer", "sgd,adam", "--steps", "40", "--json")
    rows = rows_of(out)
    assert code == 0 and [(r["optimizer"], r["lr"]) for r in rows] == [
        ("sgd", 0.1),
        ("sgd", 1.0),
        ("sgd", 100.0),
        ("adam", 0.1),
        ("adam", 1.0),
        ("adam", 100.0),
    ]
    for r in rows:
        c, t, _ = run(capsys, "train", "--steps", "40", "--json", "--optimizer", r["optimizer"], "--lr", str(r["lr"]))
        last = rows_of(t)[-1]
        assert last["total_loss"] == r["final_total"] and last["step"] == r["steps"]
        assert (c == 1) == (r["diverged_at"] is not None)
    sgd1 = rows[1]
    assert sgd1["reached_total_0.05"] == 27 and sgd1["diverged_at"] is None
    assert rows[2]["diverged_at"] == 1 and rows[2]["cause"] == "loss_exploded"


def test_sweep_table(capsys):
    code, out, _ = run(capsys, "sweep", "--lr", "0.01,1", "--steps", "50")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:2] == ["optimizer", "lr"]
    assert "never" in lines[1] and "step 27" in lines[2]


def test_sweep_table_names_its_loss_and_keeps_the_goal_where_it_means_something(capsys, tmp_path):
    """Issue 27.11: 'final loss' was the mean beside a 'total<0.05' column, and on a sampled
    text 'total<0.05 at never' meant nothing; sweep without --lr crashed (a TypeError)."""
    code, out, _ = run(capsys, "sweep", "--lr", "1", "--steps", "10")
    head = out.splitlines()[0]
    assert code == 0 and "final mean" in head and "best mean" in head and "total<0.05 at" in head
    mean10 = float(out.splitlines()[1].split()[2])
    code, out, _ = run(capsys, "sweep", "--lr", "1", "--steps", "10", "--reduction", "sum")
    head = out.splitlines()[0]
    assert code == 0 and "final total" in head and "final mean" not in head
    # the lesson's numbers, computed here: its mean is the total over its 4 positions / 4
    s = Session.create(undo_memory=0)
    s.run(10)
    f = s.compute_forward()
    assert abs(mean10 - f.total_loss / f.targets.size) < 1e-4
    text = tmp_path / "t.txt"
    rng = __import__("random").Random(3)
    words = "a cat sat on the mat and a dog ran to the park".split()
    text.write_text("\n".join(" ".join(rng.choice(words) for _ in range(9)) + "." for _ in range(300)))
    code, out, _ = run(capsys, "sweep", "--lr", "1", "--steps", "5", "--corpus", str(text))
    assert code == 0 and "total<0.05" not in out and "never" not in out, out
    code, out, _ = run(capsys, "sweep", "--optimizer", "sgd,adam", "--steps", "3")  # no --lr
    rows = [line.split() for line in out.splitlines()[1:]]
    assert code == 0 and [(r[0], float(r[1])) for r in rows] == [("sgd", 1.0), ("adam", 0.01)], out
