"""Forking the other model (F: model gpt / model mlp): one command on a branch from step 0.

The reference for each forked model is a separate ``Session.create`` of that model: the fork must
reach the same parameters and losses bit for bit, and time travel across the two models must
restore either exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import Session
from core.checkpoint import load_checkpoint, save_checkpoint
from core.modelfork import branch_model
from tui_trainer import cli

TEXT = "\n".join(f"the cat {w} the {v} ." for w in ("saw", "ate", "had", "met") for v in ("dog", "rat", "hat", "mat"))


def losses(s: Session) -> np.ndarray:
    return s.branch_history().column("mean_loss")


@pytest.mark.parametrize(
    "start,other,settings",
    [
        ("mlp", "gpt", {}),
        ("gpt", "mlp", {}),
        ("mlp", "gpt", {"context": 3, "optimizer": "adam"}),
        ("mlp", "gpt", {"text": TEXT, "batch_positions": 40, "val_every": 2}),
    ],
    ids=["mlp-to-gpt", "gpt-to-mlp", "context-given", "sampled-batches"],
)
def test_a_forked_model_is_the_model_create_builds_and_trains_alike(start, other, settings):
    s = Session.create(model=start, **settings)
    s.run(6)
    r = s.fork_model(other)
    assert r.ok and r.action == "fork" and r.branch == 1 and r.detail == other
    assert s.model.kind == other and s.config.model == other and s.step == 0 and s.phase == "ready"
    ref = Session.create(model=other, **settings)
    assert np.array_equal(s.model.params, ref.model.params)
    assert s.data.context_size == ref.data.context_size and np.array_equal(s.data.targets, ref.data.targets)
    assert (s.val_data is None) == (ref.val_data is None)
    if ref.val_data is not None:
        assert s.val_data.sentences == ref.val_data.sentences
    s.run(9)
    ref.run(9)
    assert np.array_equal(s.model.params, ref.model.params)
    np.testing.assert_array_equal(losses(s), losses(ref))  # (NaN where neither measured)
    np.testing.assert_array_equal(s.branch_history().column("val_loss"), ref.branch_history().column("val_loss"))
    b = {x.id: x for x in s.branches()}[1]
    assert b.parent == 0 and b.fork_step == 0 and b.steps == 9
    assert branch_model(s) == other and branch_model(s, 0) == start


@pytest.mark.parametrize("undo_memory", [0, 64 * 2**20])
def test_time_travel_across_the_two_models_is_exact(undo_memory):
    s = Session.create(undo_memory=undo_memory)
    seen = {}
    s.run(5)
    for k in range(6):
        s.goto(k)
        seen[(0, k)] = ("mlp", s.model.params.copy())
    s.goto(5)
    s.fork_model("gpt")
    s.run(5)
    for k in range(6):
        s.goto(k)
        seen[(1, k)] = ("gpt", s.model.params.copy())
    for (branch, step), (kind, params) in reversed(list(seen.items())):
        assert s.goto(step, branch=branch).ok
        assert s.model.kind == kind and s.config.model == kind and np.array_equal(s.model.params, params)
    # undo from the GPT branch's first state goes back to where it forked: the MLP, untrained
    s.goto_position(1, branch=1)
    assert s.model.kind == "gpt" and s.undo().ok
    assert s.model.kind == "mlp" and s.step == 0 and s.data.context_size == 4
    assert s.redo().ok and s.model.kind == "gpt" and np.array_equal(s.model.params, seen[(1, 0)][1])


def test_branches_off_a_model_branch_keep_its_model():
    s = Session.create()
    s.run(3)
    s.fork_model("gpt")
    s.run(4)
    s.goto(2)
    s.set_lr(0.5)  # a branch off the GPT branch, after its set_model
    assert s.branch == 2 and branch_model(s) == "gpt" and s.model.kind == "gpt"
    s.goto_position(0, branch=1)  # the GPT branch's first state is the MLP's start
    assert s.model.kind == "mlp"
    s.train_step()  # a branch at position 0: before the set_model, so the MLP
    assert s.branch == 3 and branch_model(s) == "mlp" and s.model.kind == "mlp"
    assert [branch_model(s, b) for b in range(4)] == ["mlp", "gpt", "gpt", "mlp"]


def test_refusals_are_codes_and_change_nothing(tmp_path):
    s = Session.create()
    s.run(2)
    before = (s.branch, s.position, s.model.params.copy())
    for kind, code in (("rnn", "unknown_model"), ("mlp", "unchanged")):
        r = s.fork_model(kind)
        assert not r.ok and r.code == code
        assert s.check_model(kind).code == code
    assert (s.branch, s.position) == before[:2] and np.array_equal(s.model.params, before[2])
    odd = Session.create(embed_dim=10)
    r = odd.fork_model("gpt")
    assert not r.ok and r.code == "heads_split" and r.value == 10 and r.detail == "4"
    path = tmp_path / "c.npz"
    save_checkpoint(s, path)
    loaded = load_checkpoint(path)
    r = loaded.fork_model("gpt")
    assert not r.ok and r.code == "model_from_checkpoint" and r.value == 2


def test_a_checkpoint_of_the_gpt_branch_loads_as_the_gpt(tmp_path):
    s = Session.create()
    s.run(2)
    s.fork_model("gpt")
    s.run(3)
    save_checkpoint(s, tmp_path / "g.npz")
    back = load_checkpoint(tmp_path / "g.npz")
    assert back.model.kind == "gpt" and back.step == 3 and np.array_equal(back.model.params, s.model.params)


def test_an_independent_fork_of_a_gpt_branch_shares_nothing():
    s = Session.create()
    s.fork_model("gpt")
    s.run(2)
    t = s.fork()
    t.run(3)
    assert s.step == 2 and t.step == 5 and t.model.kind == "gpt"
    t.goto(0)
    assert t.model.kind == "gpt"  # its time starts at the state it was forked from


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def test_sweep_over_models_names_each_rows_model(capsys):
    code, out = run(capsys, "sweep", "--model", "mlp,gpt", "--lr", "0.1,1", "--steps", "12", "--json")
    rows = [json.loads(x) for x in out.splitlines()]
    want = [("mlp", 0.1), ("mlp", 1.0), ("gpt", 0.1), ("gpt", 1.0)]
    assert code == 0 and [(r["model"], r["lr"]) for r in rows] == want
    _, one = run(capsys, "sweep", "--lr", "0.1,1", "--steps", "12", "--json")
    assert [json.loads(x) for x in one.splitlines()] == rows[:2]  # the MLP's rows as a sweep of it alone
    for r in rows[2:]:
        _, t = run(capsys, "train", "--model", "gpt", "--lr", str(r["lr"]), "--steps", "12", "--json")
        assert json.loads(t.splitlines()[-1])["total_loss"] == r["final_total"]
    # and F's fork of the GPT reaches the same numbers as the sweep's GPT rows
    s = Session.create(lr=1.0)
    s.fork_model("gpt")
    s.run(12)
    assert s.history[-1].total_loss == rows[3]["final_total"]
    code, table = run(capsys, "sweep", "--model", "mlp,gpt", "--lr", "1", "--steps", "5")
    lines = table.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["model", "optimizer", "lr"]
    assert lines[1].split()[0] == "mlp" and lines[2].split()[0] == "gpt"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--model", "mlp,rnn"], "unknown model 'rnn'"),
        (["--model", "gpt,gpt"], "named twice"),
    ],
)
def test_sweep_refuses_bad_model_lists_in_one_line(capsys, argv, message):
    code = cli.main(["sweep", *argv])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
