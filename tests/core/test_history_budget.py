"""A long run's history stays within its budget of rows (issue 23, item 13): the newest steps
whole, the older every stride-th; every reader still works on it; the timeline's command log
stays a few runs. The budget is made small here (64 rows) so that a thousand steps outgrow it;
the expected rows come from a session that never thinned (the default budget)."""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest

import core.history as history_module
from core import Session
from core.checkpoint import load_checkpoint, save_checkpoint
from core.commandlog import OpLog, UpdateLog
from core.frame import build_frame
from tui_trainer.export import export_history, history_json, step_row, write_history_csv

BUDGET = 64
STEPS = 1000


@pytest.fixture(scope="module")
def reference() -> Session:
    """The same run with every row kept."""
    s = Session.create(undo_memory=0)
    s.run(STEPS)
    assert len(s.history) == STEPS + 1 and s.history.stride == 1
    return s


@pytest.fixture
def small(monkeypatch) -> None:
    monkeypatch.setattr(history_module, "BUDGET_ROWS", BUDGET)


def _run(steps: int = STEPS, **kw) -> Session:
    s = Session.create(**kw)
    s.run(steps)
    return s


def test_the_rows_fit_the_budget_newest_whole_older_on_the_stride(small, reference):
    s = _run(STEPS - 100, undo_memory=0)
    for _ in range(100):  # at every step (thinned now and then): the newest quarter whole
        s.train_step()
        assert set(range(s.step - BUDGET // 4 + 1, s.step + 1)) <= set(s.history.column("step").tolist())
    h = s.history
    steps = h.column("step")
    stride = h.stride
    assert len(h) <= BUDGET and stride > 1 and stride & (stride - 1) == 0  # a power of two
    assert steps[-1] == STEPS and (np.diff(steps) > 0).all()
    kept = set(steps.tolist())
    assert set(range(0, STEPS + 1, stride)) <= kept  # every multiple of the stride
    assert set(range(STEPS - BUDGET // 4 + 1, STEPS + 1)) <= kept  # the newest quarter, whole
    assert all(k % stride == 0 or k > STEPS - BUDGET // 2 for k in kept)  # nothing else that old
    ref = reference.history
    for name in ("total_loss", "mean_loss", "grad_norm", "lr", "clip_factor", "target_probs"):
        np.testing.assert_array_equal(h.column(name), ref.column(name)[steps], err_msg=name)
    assert [r.step for r in h] == steps.tolist() and h[-1].mean_loss == ref[-1].mean_loss


def test_memory_stays_flat_once_the_budget_fills(small):
    s = Session.create(undo_memory=0)
    s.run(3 * BUDGET)
    before = s.timeline.nbytes()
    s.run(2000)
    assert s.timeline.nbytes() <= before  # rows, commands and updates: none grows with the steps
    assert s.timeline.cur.history.capacity <= BUDGET


def test_goto_into_the_thinned_past_shows_that_state_and_its_own_row(small, reference):
    s = _run(undo_memory=200_000)
    ref = reference.history
    for k in (333, 17, 901, 500):
        assert s.goto(k).ok and s.step == k
        h = s.history
        assert h.last_step == k and h[-1].step == k
        assert h[-1].mean_loss == ref[k].mean_loss and h[-1].target_probs.tolist() == ref[k].target_probs.tolist()
        assert h.column("step")[-1] == k and h.column("mean_loss")[-1] == ref[k].mean_loss
        assert h.at(k - 1).mean_loss == ref[k - 1].mean_loss  # the row before (the narration's "before")
        fresh = Session.create(undo_memory=0)
        fresh.run(k)
        assert np.array_equal(fresh.model.params, s.model.params)
    assert s.goto(STEPS).ok and s.history.last_step == STEPS


def test_a_fork_in_the_thinned_past_keeps_the_rows_before_it(small, reference):
    s = _run(undo_memory=200_000)
    s.goto(501)
    assert s.set_lr(0.05).ok  # a new branch at step 501
    s.run(3)
    h = s.history
    assert h.last_step == 504 and h.at(501).mean_loss == reference.history[501].mean_loss
    assert set(range(0, 501, s.history.stride)) <= set(h.column("step").tolist())


def test_a_thinned_checkpoint_loads_and_goes_on_bit_for_bit(small, tmp_path):
    s = _run(undo_memory=0)
    path = save_checkpoint(s, tmp_path / "long.npz")
    t = load_checkpoint(path, undo_memory=0)
    a, b = s.history, t.history
    assert b.stride == a.stride and len(b) == len(a)
    for name in ("step", "total_loss", "mean_loss", "lr", "target_probs"):
        np.testing.assert_array_equal(b.column(name), a.column(name), err_msg=name)
    s.run(200)
    t.run(200)
    assert np.array_equal(s.model.params, t.model.params)
    np.testing.assert_array_equal(s.history.column("mean_loss"), t.history.column("mean_loss"))


def test_exports_of_a_thinned_history_name_each_row_by_its_step(small, tmp_path, reference):
    s = _run(undo_memory=0)
    steps = s.history.column("step").tolist()
    doc = json.loads(export_history(s, tmp_path / "h.json").read_text())
    assert [r["step"] for r in doc["steps"]] == steps
    assert doc["steps"][-1]["mean_loss"] == reference.history[-1].mean_loss
    lines = export_history(s, tmp_path / "h.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == steps


@pytest.mark.parametrize("steps", [0, 1, 7])
def test_the_streamed_json_is_the_whole_document_s_bytes(monkeypatch, steps):
    import tui_trainer.export as export

    monkeypatch.setattr(export, "CHUNK_ROWS", 3)  # rows in several chunks
    s = _run(steps, optimizer="adam", clip=0.5)
    if not steps:
        s.forward()
    doc = json.loads(history_json(s))
    doc["steps"] = [step_row(r, s.config.reduction) for r in s.history]  # the document built whole
    assert history_json(s) == json.dumps(doc, indent=1) + "\n"
    buf = io.BytesIO()
    write_history_csv(s, buf)
    assert len(buf.getvalue().decode().splitlines()) == len(s.history) + 1


def test_the_curve_is_drawn_every_stride_th_step(small, reference):
    s = _run(undo_memory=0)
    c = build_frame(s, 0).curve
    stride = s.history.stride
    assert c.every == stride
    grid = np.arange(0, STEPS + 1, stride)
    np.testing.assert_array_equal(c.losses, reference.history.column("total_loss")[grid])
    assert c.target_probs.shape == (len(grid), len(s.tracked))


def test_a_run_within_the_budget_is_drawn_every_step(reference):
    c = build_frame(reference, 0).curve
    assert c.every == 1 and c.losses.shape == (STEPS + 1,)


def test_the_command_logs_answer_as_plain_lists():
    rng = random.Random(3)
    for _ in range(40):
        ops, plain_ops = OpLog(), []
        upd, plain_upd = UpdateLog(), []
        p = 0
        for _ in range(rng.randrange(0, 200)):
            code = rng.choice([3, 3, 3, 0, 1, 2, 4])
            ops.append(code)
            plain_ops.append(code)
            if code in (2, 3) and rng.random() < 0.9:
                upd.add(p)
                plain_upd.append(p)
            p += 1
        assert len(ops) == len(plain_ops) and [ops[i] for i in range(len(ops))] == plain_ops
        assert ops[2:9] == bytearray(plain_ops[2:9]) and ops[:] == bytearray(plain_ops)
        for end in range(-1, len(plain_ops) + 2):
            for code in (0, 3, 4):
                assert ops.rfind(code, end) == bytearray(plain_ops).rfind(code, 0, max(end, 0)), (code, end)
        assert len(upd) == len(plain_upd) and [upd[j] for j in range(len(upd))] == plain_upd
        for q in range(-1, p + 2):
            below = sum(x < q for x in plain_upd)
            assert upd.count_before(q) == below
            pre = upd.prefix(q)
            assert [pre[j] for j in range(len(pre))] == plain_upd[:below]
            pre.add(q + 5)  # a branch's own updates go on from its prefix
            assert pre[len(pre) - 1] == q + 5 and upd.count_before(q) == below


def test_a_play_s_log_is_one_run():
    s = Session.create(undo_memory=0)
    s.run(5000)
    b = s.timeline.cur
    assert len(b.ops) == 5001 and len(b.ops.codes) == 2  # forward, then one run of steps
    assert len(b.upd) == 5000 and len(b.upd.pos) == 1


def test_the_goal_is_reached_at_a_step_not_a_row(small, reference):
    from core.readout import GOAL_TOTAL, branch_summaries

    s = _run(undo_memory=0)
    steps = s.history.column("step")
    totals = reference.history.column("total_loss")
    first_kept = next(int(k) for k in steps if totals[k] < GOAL_TOTAL)  # (the first below may be thinned)
    assert steps.tolist().index(first_kept) != first_kept  # (its row number is not its step)
    assert branch_summaries(s)[0].reached == first_kept


def test_a_view_taken_before_the_rows_are_thinned_keeps_its_rows(small):
    # (a frame on screen holds a view and its columns while the run goes on and thins)
    s = Session.create(undo_memory=0)
    h = s.timeline.cur.history
    for _ in range(3 * BUDGET):
        v = s.history
        col = v.column("mean_loss")
        steps, losses = v.column("step").copy(), col.copy()
        n = h.n
        s.train_step()
        if h.n < n:  # that step thinned the rows
            break
    else:
        pytest.fail("the rows were never thinned")
    np.testing.assert_array_equal(v.column("step"), steps)
    np.testing.assert_array_equal(v.column("mean_loss"), losses)
    np.testing.assert_array_equal(col, losses)
    assert [r.step for r in v] == steps.tolist() and v.index(int(steps[-1])) == len(v) - 1
