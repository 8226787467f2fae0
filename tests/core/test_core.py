"""The model, its gradients, the session engine."""

import json
import subprocess
import sys

import numpy as np
import pytest

import core
from core import BACKWARD, FORWARD, READY, Session
from core.divergence import diverged_in
from core.models import MLPLanguageModel, ModelConfig
from tui_trainer.narrate_errors import say

# --- vocabulary and data -------------------------------------------------------------------


def test_default_vocabulary_and_positions():
    s = Session.create()
    assert s.vocab.tokens == core.LESSON_VOCAB
    assert len(s.vocab) == 12
    d = s.data
    assert d.n_positions == 4
    assert [d.target_word(i) for i in range(4)] == ["we", "love", "deep", "learning"]
    assert [d.context_words(i) for i in range(4)] == [
        ["<BOS>"],
        ["<BOS>", "we"],
        ["<BOS>", "we", "love"],
        ["<BOS>", "we", "love", "deep"],
    ]
    # contexts are the last k=4 tokens, padded with <BOS>
    bos = s.vocab.id("<BOS>")
    assert d.contexts[0].tolist() == [bos] * 4
    assert s.vocab.decode(d.contexts[3]) == ["<BOS>", "we", "love", "deep"]


def test_eos_option_adds_a_prediction():
    s = Session.create(add_eos=True)
    assert s.data.n_positions == 5
    assert s.data.target_word(4) == "<EOS>"


def test_vocabulary_from_text_and_several_sentences():
    s = Session.create(text="The cat sat. The dog sat!\nA bird")
    assert s.vocab.tokens[:2] == ("<BOS>", "<EOS>")
    assert "cat" in s.vocab and "." not in s.vocab
    assert s.data.n_positions == 3 + 3 + 2
    assert s.data.sentence_of.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_unknown_words_are_named_with_where_they_occur():
    with pytest.raises(core.VocabError) as e:
        Session.create(text="we love pizza and deep pizza", vocab=core.LESSON_VOCAB)
    msg = say(e.value)  # (core gives a code and data; the sentence is the app's)
    assert "'pizza' (sentence 1 word 3, sentence 1 word 6)" in msg and "'and'" in msg


def test_unk_maps_unknown_words():
    s = Session.create(text="we love pizza", vocab=core.LESSON_VOCAB, unk=True)
    assert s.vocab.tokens[-1] == core.UNK
    assert s.data.target_word(2) == core.UNK


@pytest.mark.parametrize("text", ["", "   ", "...", "\n\n"])
def test_text_without_words_is_rejected(text):
    with pytest.raises(core.VocabError):
        Session.create(text=text)


def test_tokenizer_handles_unicode_and_punctuation():
    assert core.split_sentences("Ça va, très bien! naïve café-crème") == [
        ["ça", "va", ",", "très", "bien"],
        ["naïve", "café-crème"],
    ]


# --- gradients -----------------------------------------------------------------------------


def _lesson_model(**sizes):
    s = Session.create(**sizes)
    return s.model, s.data.contexts, s.data.targets


@pytest.mark.parametrize("sizes", [{}, {"embed_dim": 3, "hidden1": 5, "hidden2": 7, "context": 2}])
def test_gradcheck_every_tensor(sizes):
    s = Session.create(**sizes)
    start = s.model.params.copy()
    # train a little so the check is not only at the initial point
    assert s.run(5).ok and s.step == 5 and not np.array_equal(s.model.params, start)
    errs = core.gradcheck(s.model, s.data.contexts, s.data.targets)
    assert set(errs) == {"embedding", "layer1.W", "layer1.b", "layer2.W", "layer2.b", "output.W", "output.b"}
    for name, err in errs.items():
        assert err < 1e-6, (name, err)


def test_gradcheck_after_training_and_on_a_batch_of_sentences():
    s = Session.create(text="we love deep learning\nthe model is great\nhello world", add_eos=True)
    s.run(20)
    errs = core.gradcheck(s.model, s.data.contexts, s.data.targets)
    assert max(errs.values()) < 1e-6, errs
    # and the objective training uses: the mean per position
    errs = core.gradcheck(s.model, s.data.contexts, s.data.targets, scale=1 / s.data.n_positions)
    assert max(errs.values()) < 1e-6, errs


def test_the_mean_objective_is_the_sum_scaled():
    a, b = Session.create(), Session.create(reduction="sum")
    a.backward()
    b.backward()
    n = a.data.n_positions
    np.testing.assert_allclose(a.backward_result.grads * n, b.backward_result.grads, rtol=1e-12, atol=1e-15)
    # the lesson's P - target per position is the same either way
    np.testing.assert_array_equal(a.backward_result.dlogits, b.backward_result.dlogits)


def test_gradcheck_can_fail():
    """A broken backward must be caught: flip one gradient's sign."""
    model, ctx, y = _lesson_model()
    real = MLPLanguageModel.backward

    def broken(self, f, scale=1.0):
        b = real(self, f, scale)
        sl, _ = self.slices["layer2.b"]
        b.grads[sl] *= -1
        return b

    MLPLanguageModel.backward = broken
    try:
        errs = core.gradcheck(model, ctx, y)
    finally:
        MLPLanguageModel.backward = real
    assert errs["layer2.b"] > 0.5
    assert errs["layer1.W"] < 1e-6


def test_backward_is_idempotent():
    s = Session.create()
    s.backward()
    g1 = s.backward_result.grads.copy()
    r = s.backward()
    assert r.ok and r.code == "unchanged"
    np.testing.assert_array_equal(s.backward_result.grads, g1)


def test_upstream_gradients_and_dlogits():
    s = Session.create()
    s.backward()
    b, f = s.backward_result, s.forward_result
    onehot = np.eye(12)[f.targets]
    np.testing.assert_array_equal(b.dlogits, f.probs - onehot)
    assert list(b.upstream) == list(core.BACKWARD_ORDER)
    assert b.upstream["embedding"].shape == (4, 4 * 8)


def test_float32_model_runs_and_learns():
    s = Session.create(dtype="float32")
    assert s.model.params.dtype == np.float32
    s.run(100)
    assert s.history[-1].total_loss < s.history[0].total_loss / 5


# --- the session ---------------------------------------------------------------------------


def test_phases_in_order():
    s = Session.create()
    assert s.phase == READY and not s.stale
    assert s.forward().ran == ("forward",)
    assert s.phase == FORWARD
    assert s.backward().ran == ("backward",)
    assert s.phase == BACKWARD
    r = s.update()
    assert r.ran == ("update",) and r.ok
    assert s.phase == READY and s.stale and s.step == 1
    # step 0's row (measured by the forward pass); step 1 has no forward pass yet
    assert [h.step for h in s.history] == [0]


def test_out_of_order_calls_run_what_is_missing_and_say_so():
    s = Session.create()
    r = s.backward()
    assert r.ok and r.ran == ("forward", "backward") and r.code == "forward_first" and not r.stale
    s2 = Session.create()
    r = s2.update()
    assert r.ok and r.ran == ("forward", "backward", "update") and r.code == "gradients_first"
    # update twice: the second needs new gradients (the old ones are stale)
    r = s2.update()
    assert r.ran == ("forward", "backward", "update") and r.stale
    assert s2.step == 2
    # a full step ends with the forward pass of the new parameters
    assert s2.train_step().ran == ("forward", "backward", "update", "forward")
    assert s2.phase == FORWARD and s2.step == 3


def test_undo_is_exact():
    s = Session.create(optimizer="adam")
    s.run(3)
    before = (s.model.params.copy(), s.optimizer.state_dict(), s.phase, s.step, len(s.history))
    f_before = s.forward_result
    s.forward()
    s.backward()
    s.update()
    s.train_step()  # from a stale state: its forward pass, then the step (two actions)
    for _ in range(4):
        assert s.undo().ok
    assert np.array_equal(s.model.params, before[0])
    st = s.optimizer.state_dict()
    assert st["t"] == before[1]["t"]
    assert np.array_equal(st["m"], before[1]["m"]) and np.array_equal(st["v"], before[1]["v"])
    assert (s.phase, s.step, len(s.history)) == before[2:]
    assert np.array_equal(s.forward_result.probs, f_before.probs)
    # and stepping again from there gives exactly what it gave the first time
    s.train_step()
    s.train_step()
    ref = Session.create(optimizer="adam")
    ref.run(5)
    assert np.array_equal(s.model.params, ref.model.params)


def test_undo_at_start_is_refused_politely():
    s = Session.create()
    r = s.undo()
    assert not r.ok and r.code == "at_start" and r.value == 0


def test_undo_across_an_optimizer_switch():
    s = Session.create()
    s.run(2)
    p = s.model.params.copy()
    s.set_optimizer("adam")
    s.train_step()
    assert s.undo().command.op == "step"
    assert s.undo().command.op == "set_optimizer"
    assert s.optimizer.name == "sgd"
    assert np.array_equal(s.model.params, p)


def test_same_seed_same_run_and_different_seed_differs():
    a, b, c = Session.create(seed=7), Session.create(seed=7), Session.create(seed=8)
    for s in (a, b, c):
        s.run(25)
    assert [r.total_loss for r in a.history] == [r.total_loss for r in b.history]
    assert np.array_equal(a.model.params, b.model.params)
    assert a.history[-1].total_loss != c.history[-1].total_loss


def test_default_run_learns_the_sentence():
    """The default settings bring the total loss below 0.05 within 500 steps."""
    s = Session.create()
    s.run(500)
    losses = [r.total_loss for r in s.history]
    assert losses[-1] < 0.05
    assert losses[-1] < losses[0] / 100
    assert min(i for i, v in enumerate(losses) if v < 0.05) < 500
    s.forward()
    assert (s.forward_result.target_probs > 0.98).all()


def test_lr_is_validated_and_changeable_between_steps():
    s = Session.create()
    for bad in (0, -1, float("nan"), float("inf"), 1e9, 1e-320):
        r = s.set_lr(bad)
        assert not r.ok and r.code == "bad_lr" and r.detail
    assert s.lr == 1.0
    assert s.set_lr(0.05).ok
    s.train_step()
    # row 0 records the update that left step 0: made at lr 0.05
    assert s.history[0].lr == 0.05 and s.last_update.lr == 0.05


def test_gradient_clipping():
    s = Session.create(clip=0.5)
    s.train_step()
    rec = s.history[0]
    assert rec.clipped and rec.grad_norm > 0.5
    assert rec.clip_factor == pytest.approx(0.5 / rec.grad_norm)
    np.testing.assert_allclose(np.linalg.norm(s.last_update.grad), 0.5)
    assert s.last_update.clip_factor == rec.clip_factor


@pytest.mark.parametrize(
    "optimizer,lr,cause",
    [
        ("sgd", 200.0, "loss_exploded"),
        ("sgd", 10.0, "worse_than_guessing"),
        ("adam", 10.0, "loss_exploded"),
        ("momentum", 50.0, "loss_exploded"),
    ],
)
def test_divergence_is_a_state_and_undo_goes_back_to_a_good_one(optimizer, lr, cause):
    s = Session.create(optimizer=optimizer, lr=lr)
    r = s.run(200)
    assert r.stopped == "diverged" and not r.ok
    d = s.divergence
    assert d is not None and d.step == s.step == r.steps and d.suggested_lr == lr / 10
    assert d.cause == cause
    # the diverged forward pass is kept to be looked at
    mean = s.history.column("mean_loss")
    if cause == "loss_exploded":
        assert mean[-1] > s.config.divergence_loss
    else:  # three steps in a row above ln V and the start
        assert (mean[-3:] > max(np.log(12), mean[0])).all() and not (mean[-4:] > max(np.log(12), mean[0])).all()
    # lowering the lr does not train from exploded parameters: undo goes back
    assert s.set_lr(0.05).ok and not s.run(5).ok
    while s.divergence is not None:
        assert s.undo().ok
    assert np.isfinite(s.model.params).all() and s.step < d.step
    assert all(np.isfinite(h.total_loss) for h in s.history)


def test_run_can_be_cancelled_between_steps():
    s = Session.create()
    calls = iter(range(100))
    r = s.run(100, should_stop=lambda: next(calls) >= 7)
    assert r.stopped == "cancelled" and r.steps == 7 and s.step == 7


def test_run_rejects_negative_counts():
    r = Session.create().run(-1)
    assert not r.ok and r.code == "bad_count"


def test_history_records_every_step():
    s = Session.create(optimizer="momentum")
    s.run(10)
    assert [h.step for h in s.history] == list(range(11))
    h = s.history[-1]
    assert h.optimizer == "momentum" and np.isnan(h.grad_norm)  # no backward pass at step 10 yet
    assert all(np.isfinite(r.grad_norm) and r.lr == 0.3 for r in s.history[:-1])
    assert h.perplexity == pytest.approx(np.exp(h.mean_loss))
    np.testing.assert_allclose(np.exp(-h.position_losses), h.target_probs)


def test_large_corpus_uses_sampled_batches_deterministically():
    text = "\n".join(f"w{i % 50} w{(i * 7) % 50} w{(i * 3) % 50} w{i % 13}" for i in range(400))
    a = Session.create(text=text, batch_positions=64, seed=3)
    b = Session.create(text=text, batch_positions=64, seed=3)
    # 400 sentences of 4 positions, 40 held out for validation
    assert a.data.n_positions == 1440 and a.val_data.n_positions == 160 and not a.full_batch
    a.run(3)
    b.run(3)
    assert a.forward_result is not None and len(a.forward_result.targets) == 64
    assert np.array_equal(a.model.params, b.model.params)


# --- boundaries ----------------------------------------------------------------------------


def test_core_imports_without_textual_or_rich():
    code = (
        "import sys, core; s = core.Session.create(); s.run(2); "
        "print([m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui_trainer')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.replace("'", '"')) == []


def test_model_config_validation():
    with pytest.raises(ValueError):
        MLPLanguageModel(ModelConfig(hidden1=0))
    with pytest.raises(ValueError):
        MLPLanguageModel(ModelConfig(dtype="float16"))


def test_numerics_at_extreme_logits():
    for dt in (np.float32, np.float64):
        x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]], dtype=dt)
        p = core.softmax(x)
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
        loss = core.cross_entropy(x, [1, 0])
        np.testing.assert_allclose(loss, [2000.0, np.log(3)], rtol=1e-6)
        assert np.isfinite(core.log_softmax(x)).all()


@pytest.mark.parametrize("size", [7, 5000, 4096 * 13 + 17, 1_000_003])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_top_k_abs_matches_a_full_sort(size, dtype):
    from core.readout import top_k_abs

    x = np.random.default_rng(size).standard_normal(size).astype(dtype)
    x[size // 2] = -50.0  # the largest |x| is negative
    x[-1] = 40.0  # the second lies in the tail after the last whole block
    for k in (1, 3, 5):
        expect = np.argsort(-np.abs(x), kind="stable")[: min(k, size)]
        assert top_k_abs(x, k) == [int(i) for i in expect]


def test_largest_changes_are_the_updates_largest_deltas():
    from core.readout import largest_changes

    s = Session.create()
    s.train_step()
    u = s.last_update
    changes = largest_changes(s, 3)
    flat = np.argsort(-np.abs(u.delta), kind="stable")[:3]
    assert [c.new - c.old for c in changes] == pytest.approx([float(u.delta[i]) for i in flat])
    for c in changes:
        assert s.model.p[c.tensor][c.index] == c.new


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("steps", [1, 2, 10])
def test_optimizer_internals_agree_with_the_optimizer(optimizer, steps):
    from core.readout import largest_changes, optimizer_internals

    s = Session.create(optimizer=optimizer)
    s.run(steps)
    c = largest_changes(s, 1)[0]
    sl, shape = s.model.slices[c.tensor]
    flat = sl.start + int(np.ravel_multi_index(c.index, shape))
    i = optimizer_internals(s, flat)
    u = s.last_update
    assert i.step == u.delta[flat] and i.grad == u.grad[flat] and i.sgd_step == -u.lr * u.grad[flat]
    # rebuild the state by hand from every gradient the run used (the lesson's formulas)
    ref = Session.create(optimizer=optimizer, undo_memory=0)
    grads = []
    for _ in range(steps):
        ref.forward() if ref.phase == "ready" else None
        ref.backward()
        grads.append(float(ref.backward_result.grads[flat]))
        ref.update()
        ref.forward()
    if optimizer == "momentum":
        vel = 0.0
        for g in grads:
            vel = 0.9 * vel + g
        assert i.velocity == pytest.approx(vel, rel=1e-12) and i.step == pytest.approx(-u.lr * vel, rel=1e-12)
    if optimizer == "adam":
        m = v = 0.0
        for g in grads:
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        assert i.t == steps and i.c1 == pytest.approx(1 - 0.9**steps) and i.c2 == pytest.approx(1 - 0.999**steps)
        assert i.m == pytest.approx(m, rel=1e-12) and i.v == pytest.approx(v, rel=1e-12)
        assert i.step == pytest.approx(-u.lr * i.m_hat / (np.sqrt(i.v_hat) + 1e-8), rel=1e-9)
        if steps == 1:  # Adam's first step moves every parameter with a gradient by about lr
            assert abs(i.step) == pytest.approx(u.lr, rel=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_chain_rule_for_one_weight_adds_up_to_backward(reduction):
    from core.readout import chain_terms, nudge_probe

    s = Session.create(reduction=reduction, text="we love deep learning\nwe love it")
    s.run(5)
    s.backward()
    rng = np.random.default_rng(0)
    for name, (_sl, shape) in s.model.slices.items():
        for _ in range(3):
            index = tuple(int(rng.integers(n)) for n in shape)
            c = chain_terms(s, name, index)
            assert c.backward == s.backward_result.grad(name)[index]
            assert abs(c.total - c.backward) <= 1e-12 * max(1.0, abs(c.backward)), (name, index)
            assert c.terms.shape == (s.data.n_positions,)
    # output.W[i, j] = sum_p h2[p, i] (P - y)[p, j] (x 1/N for the mean): the lesson's formula, by hand
    f, d = s.forward_result, s.backward_result.dlogits
    scale = 1 / s.data.n_positions if reduction == "mean" else 1.0
    c = chain_terms(s, "output.W", (3, 2))
    assert c.total == pytest.approx(float((f.h2[:, 3] * d[:, 2]).sum() * scale), rel=1e-12)
    # the nudge probe: the measured change agrees with g x eps to first order, and changes nothing
    params = s.model.params.copy()
    sl, _ = s.model.slices["layer1.W"]
    for eps in (1e-4, -1e-4):
        measured, predicted = nudge_probe(s, sl.start + 7, eps)
        assert measured == pytest.approx(predicted, rel=1e-3)
    assert np.array_equal(s.model.params, params) and s.phase == "backward"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_models_fused_softmax_agrees_with_softmax_and_cross_entropy(dtype):
    """The forward pass's one-pass softmax + loss (``losses.softmax_cross_entropy``) gives the
    losses of ``cross_entropy`` (via ``log_softmax``) and the probabilities of ``softmax``."""
    from core.losses import softmax_cross_entropy

    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((6, 40)) * 30).astype(dtype)
    logits[0, 5] = 1000.0  # an extreme row: stable either way
    targets = rng.integers(0, 40, size=6)
    before = logits.copy()
    probs, losses = softmax_cross_entropy(logits, targets, np.arange(6))
    assert np.array_equal(logits, before)  # the logits are left as they were
    assert probs.dtype == losses.dtype == np.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(losses, core.cross_entropy(logits, targets), rtol=tol, atol=tol)
    np.testing.assert_allclose(probs, core.softmax(logits), rtol=tol, atol=1e-30)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_one_name_one_meaning_for_each_loss(reduction, capsys):
    """Issue 27.11: StepRecord.loss was the total while JSON's loss and --until loss<X were the
    objective. A record now has only total_loss and mean_loss; JSON's loss is the objective."""
    from tui_trainer import cli

    s = Session.create(reduction=reduction, undo_memory=0)
    s.run(3)
    rec = s.history[-1]
    assert not hasattr(rec, "loss")
    f = s.compute_forward()
    per_position = -np.log(f.probs[np.arange(f.targets.size), f.targets])  # computed here
    assert rec.total_loss == pytest.approx(per_position.sum(), rel=1e-12)
    assert rec.mean_loss == pytest.approx(per_position.mean(), rel=1e-12)
    assert cli.main(["train", "--steps", "3", "--json", "--reduction", reduction]) == 0
    row = __import__("json").loads(capsys.readouterr().out.splitlines()[-1])
    assert row["loss"] == pytest.approx(rec.mean_loss if reduction == "mean" else rec.total_loss, rel=1e-12)


# --- sizes that follow the vocabulary -------------------------------------------------------------


def test_the_mlp_is_the_lesson_s_16_wide_on_small_vocabularies_and_64_from_256_tokens():
    lesson = Session.create()
    assert (lesson.config.hidden1, lesson.config.hidden2) == (16, 16)
    assert lesson.model.p["output.W"].shape == (16, 12)
    words = " ".join(f"w{i}" for i in range(300))  # 300 words + <BOS> and <EOS>: past 256
    wide = Session.create(text=words, undo_memory=0)
    assert (wide.config.hidden1, wide.config.hidden2) == (64, 64)
    assert wide.model.p["output.W"].shape == (64, len(wide.vocab))
    narrow = " ".join(f"w{i}" for i in range(200))
    assert Session.create(text=narrow, undo_memory=0).config.hidden1 == 16
    # given widths stay; a hidden2 left unset follows hidden1, given or not
    assert (Session.create(text=words, hidden1=8, undo_memory=0).config.hidden2) == 8
    both = Session.create(text=words, hidden2=8, undo_memory=0).config
    assert (both.hidden1, both.hidden2) == (64, 8)


def test_a_text_with_nothing_to_learn_is_not_called_worse_than_guessing():
    """Sampled batches wander around the plateau of 3,000 words each seen once: at seed 0 the
    64-wide model's batches sat 0.3% above its start three steps in a row, and the rule without
    its margin called that diverged (training stopped at step 3)."""
    words = " ".join(f"w{i}" for i in range(3000))
    s = Session.create(text=words, undo_memory=0)
    r = s.run(10)
    assert r.ok and s.step == 10 and s.divergence is None
    mean = s.history.column("mean_loss")
    assert (mean[1:4] > max(s.log_vocab, mean[0])).all()  # the case: above the old bar, three in a row
    assert diverged_in(mean, s.history.column("total_loss"), s.log_vocab, s.config.divergence_loss) is None
