"""Bounded-memory undo: old states are replayed from sparse checkpoints, bit for bit."""

import numpy as np
import pytest

import core
from core import Session
from core.session import UNDO_RECENT


def _state(s: Session):
    """Everything undo must restore, as plain values (arrays copied)."""
    f, b, u = s.forward_result, s.backward_result, s.last_update
    return {
        "params": s.model.params.copy(),
        "opt": s.optimizer.name,
        "opt_state": {k: np.copy(v) for k, v in s.optimizer.state_dict().items()},
        "lr": s.lr,
        "phase": s.phase,
        "step": s.step,
        "history": [(h.step, h.loss, h.grad_norm) for h in s.history],
        "divergence": s.divergence,
        "probs": None if f is None else f.probs.copy(),
        "logits": None if f is None else f.logits.copy(),
        "grads": None if b is None else b.grads.copy(),
        "dlogits": None if b is None else b.dlogits.copy(),
        "delta": None if u is None else u.delta.copy(),
    }


def _assert_same(a, b, where):
    assert a.keys() == b.keys()
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, dict):
            assert x.keys() == y.keys(), where
            for kk in x:
                assert np.array_equal(x[kk], y[kk]), (where, k, kk)
        elif isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            assert x is not None and y is not None and np.array_equal(x, y), (where, k)
        else:
            assert x == y, (where, k, x, y)


ACTIONS = ["step", "step", "forward", "backward", "update", "forward", "step", "backward", "backward", "update"]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_undo_over_the_whole_history_is_exact_with_a_tiny_memory_cap(optimizer):
    # a cap of a few checkpoints forces thinning: most old states must be replayed
    s = Session.create(optimizer=optimizer, undo_memory=60_000)
    states = []
    for i in range(120):
        a = ACTIONS[i % len(ACTIONS)]
        if i == 83:
            s.set_lr(0.05)  # not an action of its own: the next action's snapshot records it
        states.append(_state(s))
        if i == 57:
            assert s.set_optimizer("momentum", lr=0.02).ok
            continue
        assert getattr(s, "train_step" if a == "step" else a)().ok
    assert s._stride > 1  # the cap was hit: checkpoints were thinned
    assert s.undo_bytes <= 60_000 + (UNDO_RECENT + 2) * 40_000
    assert s.undo_depth == 120
    for i in reversed(range(120)):
        r = s.undo()
        assert r.ok, (i, r.note)
        _assert_same(_state(s), states[i], i)
    assert not s.undo().ok


def test_undo_after_replay_then_new_actions_stays_exact():
    s = Session.create(optimizer="adam", undo_memory=30_000)
    s.run(80)
    for _ in range(40):
        s.undo()
    assert s.step == 40
    s.run(10)
    ref = Session.create(optimizer="adam")
    ref.run(50)
    assert np.array_equal(s.model.params, ref.model.params)
    assert [h.loss for h in s.history] == [h.loss for h in ref.history]
    for _ in range(50):
        assert s.undo().ok
    fresh = Session.create(optimizer="adam")
    assert np.array_equal(s.model.params, fresh.model.params) and s.step == 0


def test_undo_memory_stays_bounded_while_history_grows():
    s = Session.create(undo_memory=200_000)
    s.run(3000)
    assert s.undo_depth == 3000
    assert s.undo_bytes <= 200_000 + (UNDO_RECENT + 2) * 40_000


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_large_states_shrink_the_recent_window_and_checkpoints_go_lean(optimizer):
    # a cap of about two states: the window of whole recent states shrinks, checkpoints keep
    # only parameters and optimizer state, and every undo is still exact
    s = Session.create(optimizer=optimizer, undo_memory=100_000)
    states = []
    for i in range(90):
        states.append(_state(s))
        a = "step" if i % 9 else ACTIONS[(i // 9) % len(ACTIONS)]
        assert getattr(s, "train_step" if a == "step" else a)().ok
    assert s._recent_window() < UNDO_RECENT
    state_bytes = s._state_bytes[next(iter(s._state_bytes))]
    assert s.undo_held_bytes() <= 2 * 100_000 + 2 * state_bytes
    for i in reversed(range(90)):
        assert s.undo().ok, i
        _assert_same(_state(s), states[i], i)
    assert not s.undo().ok


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_checkpoints_of_a_run_keep_no_results(optimizer):
    s = Session.create(optimizer=optimizer, undo_memory=200_000)
    s.run(200)
    lean = [snap for snap in s._undo if snap.lean]
    assert len(lean) >= 2
    assert all(snap.forward is None and snap.backward is None and snap.update is None for snap in lean)
    assert all(snap.params is not None and snap.opt_state is not None for snap in lean)
    assert all(snap.nbytes == snap.params.nbytes * (3 if optimizer == "adam" else 1) for snap in lean)
    ref = Session.create(optimizer=optimizer)
    ref.run(150)
    for _ in range(50):
        assert s.undo().ok
    _assert_same(_state(s), _state(ref), "150 steps, by undo and directly")


def test_a_big_vocabulary_does_not_hold_sixteen_copies_of_its_logits():
    words = " ".join(f"w{i}" for i in range(3000))
    s = Session.create(text=words, undo_memory=8 * 2**20)
    n_by_v = s.data.n_positions * len(s.vocab) * 8  # one N x V float64 array
    s.run(30)
    # before: 16 recent states, each with logits, probabilities and dL/dlogits (48 x N x V)
    assert s.undo_held_bytes() <= 8 * 2**20 + 4 * n_by_v
    start = _state(s)
    s.run(5)
    for _ in range(5):
        assert s.undo().ok
    _assert_same(_state(s), start, "after 5 undos")


def test_undo_limit_still_caps_the_number_of_actions():
    s = Session.create(undo_limit=5)
    s.run(12)
    assert 1 <= s.undo_depth <= 5
    while s.can_undo:
        assert s.undo().ok
    r = s.undo()
    assert not r.ok and "only the last 5 actions" in r.note


def test_divergence_after_many_forward_presses_restores_the_last_good_state():
    s = Session.create(lr=0.1)
    s.run(3)
    good = s.model.params.copy()
    s.set_lr(60.0)
    s.train_step()
    for _ in range(UNDO_RECENT + 3):
        r = s.forward()
    # whatever happened, the state is finite and consistent
    assert np.isfinite(s.model.params).all() and len(s.history) == s.step
    if not r.ok:
        assert np.array_equal(s.model.params, good)


# --- the in-place softmax of the forward pass equals the reference math --------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_matches_the_reference_softmax_and_cross_entropy(dtype):
    s = Session.create(
        text="we love deep learning\nthe model is great\nhello world", add_eos=True, dtype=dtype, optimizer="adam"
    )
    s.run(30)
    m, ctx, y = s.model, s.data.contexts, s.data.targets
    f = m.forward(ctx, y)
    p = m.p
    x = p["embedding"][ctx].reshape(len(y), -1)
    h1 = np.tanh(x @ p["layer1.W"] + p["layer1.b"])
    h2 = np.tanh(h1 @ p["layer2.W"] + p["layer2.b"])
    logits = h2 @ p["output.W"] + p["output.b"]
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(f.logits, logits, rtol=tol, atol=tol)
    np.testing.assert_allclose(f.probs, core.softmax(logits), rtol=tol, atol=tol)
    np.testing.assert_allclose(f.losses, core.cross_entropy(logits, y), rtol=tol, atol=tol)
    np.testing.assert_allclose(f.probs.sum(axis=1), 1.0, rtol=tol)


@pytest.mark.parametrize("seed", range(4))
def test_random_actions_and_undos_stay_exact_under_any_cap(seed):
    import random

    rng = random.Random(seed)
    cap = [20_000, 60_000, 150_000, 10**9][seed]
    s = Session.create(optimizer=rng.choice(["sgd", "adam", "momentum"]), undo_memory=cap)
    before: list[dict] = []  # the state before each action undo can still take back
    for it in range(150):
        if rng.random() < 0.25 and before:
            for _ in range(rng.randint(1, min(5, len(before)))):
                assert s.undo().ok
                _assert_same(_state(s), before.pop(), (seed, it))
            continue
        kind = rng.choices(["step", "forward", "backward", "update", "opt", "lr"], [6, 1, 1, 1, 0.3, 0.3])[0]
        if kind == "lr":
            s.set_lr(rng.choice([0.01, 0.05, 0.1]))  # a setting, recorded by the next action
            continue
        state = _state(s)
        if kind == "opt":
            r = s.set_optimizer(rng.choice(["sgd", "adam", "momentum"]))
        else:
            r = getattr(s, "train_step" if kind == "step" else kind)()
        assert r.ok, r.note
        before.append(state)
    while before:
        assert s.undo().ok
        _assert_same(_state(s), before.pop(), (seed, "to the start"))
