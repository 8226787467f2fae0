"""Real texts at default settings: the mean objective, the model's true window, tracked
positions, validation and generation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from conftest import EMOJI_TEXT, ROOT

from core import Session
from core.generate import Word, prompt_ids, sample
from core.losses import softmax
from core.readout import baselines, position_info, tracked
from tui_trainer import cli, narrate
from tui_trainer.export import history_csv, history_json

#: the README's first 30,000 characters: a real text of some 2,000 words (the whole README grows
#: with every feature, and the tests training on it with it)
README = (ROOT / "README.md").read_text(encoding="utf-8")[:30_000]


def markov_text(n_sentences: int = 400, seed: int = 3) -> str:
    """A text with a known distribution: a first-order Markov chain over 60 words."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)]
    trans = rng.dirichlet(np.full(60, 0.1), size=60)
    out = []
    for _ in range(n_sentences):
        w = int(rng.integers(60))
        sent = [words[w]]
        for _ in range(int(rng.integers(5, 15))):
            w = int(rng.choice(60, p=trans[w]))
            sent.append(words[w])
        out.append(" ".join(sent) + ".")
    return "\n".join(out)


TEXTS = {
    "the project's README": README,
    "a Markov chain": markov_text(),
    "the lesson's sentence 50 times": "\n".join(["we love deep learning"] * 50),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_real_texts_train_at_default_settings(name, optimizer):
    s = Session.create(text=TEXTS[name], optimizer=optimizer, undo_memory=0)
    r = s.run(100)
    assert r.ok and s.divergence is None, (r.code, s.divergence)
    mean = s.history.column("mean_loss")
    assert mean[-1] < 0.85 * mean[0], (mean[0], mean[-1])


def test_the_lesson_still_learns_at_defaults():
    s = Session.create()
    s.run(100)
    total = s.history.column("total_loss")
    first = int(np.argmax(total < 0.05))
    assert total[first] < 0.05 and 0 < first <= 100
    assert first == 27  # the README's figure


def test_the_summed_objective_diverges_on_a_repeated_sentence_where_the_mean_does_not():
    text = TEXTS["the lesson's sentence 50 times"]
    # the lesson's literal total takes a step 200 times larger on 200 positions
    s = Session.create(text=text, reduction="sum", undo_memory=0)
    assert not s.run(100).ok and s.divergence is not None
    assert Session.create(text=text, undo_memory=0).run(100).ok


def test_worse_than_guessing_is_a_divergence_with_a_concrete_lr():
    s = Session.create(text=markov_text(), lr=30.0, undo_memory=0)
    r = s.run(100)
    d = r.divergence
    assert d is not None and d.cause in ("worse_than_guessing", "loss_exploded") and d.suggested_lr == 3.0
    assert "3" in narrate.advice(d, headless=True)


# --- the model's true window --------------------------------------------------------------------


def test_context_two_shows_what_the_model_reads():
    s = Session.create(context=2)
    s.forward()
    info = position_info(s, 3)  # predicting "learning" after <BOS> we love deep
    assert info.context == ["<BOS>", "we", "love", "deep"]
    assert info.window == ["love", "deep"]
    said = narrate.forward(s, 3)
    assert "after '… love deep'" in said and "we love" not in said
    # the window is what the model really reads: its context ids
    ids = s.data.contexts[3]
    assert [s.vocab.tokens[i] for i in ids] == info.window


# --- tracked positions under sampling -------------------------------------------------------------


def test_sampled_batches_keep_per_position_columns_for_the_same_words():
    s = Session.create(batch_positions=2, val_fraction=0, text="we love deep learning\nthe model is great")
    assert [t for _, _, t in tracked(s)] == ["we", "love", "deep", "learning"]
    s.run(5)
    # each row's P(target) is for the tracked positions, measured independently here
    for row in s.history:
        s2 = Session.create(batch_positions=2, val_fraction=0, text="we love deep learning\nthe model is great")
        s2.goto(row.step) if row.step == 0 else s2.run(row.step)
        f = s2.model.forward(s2.data.contexts[s2.tracked], s2.data.targets[s2.tracked])
        np.testing.assert_array_equal(row.target_probs, f.target_probs)
    header = history_csv(s).splitlines()[0].split(",")
    words = ["1_we", "2_love", "3_deep", "4_learning"]
    assert header[-8:] == [f"p_{w}" for w in words] + [f"loss_{w}" for w in words]
    doc = json.loads(history_json(s))
    assert [p["target"] for p in doc["tracked_positions"]] == ["we", "love", "deep", "learning"]
    assert doc["tracked_positions"][3]["context"] == ["<BOS>", "we", "love", "deep"]


# --- validation -----------------------------------------------------------------------------------


def test_validation_holds_out_sentences_and_measures_them_every_ten_steps():
    text = markov_text()
    s = Session.create(text=text, undo_memory=0)
    assert s.val_data is not None
    n_sent = len(s.data.sentences) + len(s.val_data.sentences)
    assert len(s.val_data.sentences) == round(0.1 * n_sent)
    s.run(25)
    val = s.history.column("val_loss")
    assert np.isfinite(val[[0, 10, 20]]).all() and np.isnan(np.delete(val, [0, 10, 20])).all()
    # the value is the mean -log P(target) over the held-out positions (at most 2,048, evenly spread)
    s.goto(20)
    v = s.val_data
    idx = np.linspace(0, v.n_positions - 1, min(2048, v.n_positions)).astype(int)
    logp = np.log(softmax(s.model.forward(v.contexts[idx], v.targets[idx]).logits))
    assert val[20] == pytest.approx(-logp[np.arange(idx.size), v.targets[idx]].mean(), rel=1e-12)


@pytest.mark.parametrize(("n_words", "positions"), [(3_000, 2048), (8_000, 1048), (20_000, 512)])
def test_validation_measures_fewer_positions_of_a_large_vocabulary(n_words, positions):
    """Each validation loss reads at most 2,048 x 4,096 logits: 2,048 positions of a small
    vocabulary, fewer of a larger one (8,002 tokens: 8,388,608 // 8,002 = 1,048), never fewer
    than a training batch (512)."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(n_words)]
    text = "\n".join(" ".join(f"w{i}" for i in rng.integers(n_words, size=12)) + "." for _ in range(4_000))
    s = Session.create(text=text, vocab=("<BOS>", "<EOS>", *words), undo_memory=0)
    v = s.val_data
    assert v.n_positions > 2048  # (so the cap is what decides)
    assert len(s.vocab) == n_words + 2
    idx = np.linspace(0, v.n_positions - 1, positions).astype(int)
    logp = np.log(softmax(s.model.forward(v.contexts[idx], v.targets[idx]).logits))
    assert s.validation_loss() == pytest.approx(-logp[np.arange(positions), v.targets[idx]].mean(), rel=1e-12)


def test_texts_of_one_batch_have_no_validation_and_baselines_are_right():
    s = Session.create()
    assert s.val_data is None
    b = baselines(s)
    assert b["uniform"] == pytest.approx(math.log(12))
    assert b["unigram"] == pytest.approx(math.log(4))  # four different targets, once each


def test_train_json_rows_carry_the_validation_loss_when_measured(capsys, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text(markov_text(), encoding="utf-8")
    assert cli.main(["train", "--corpus", str(f), "--steps", "12", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["step"] for r in rows if "val_loss" in r] == [0, 10]
    assert rows[0]["loss"] == rows[0]["mean_loss"] != rows[0]["total_loss"]


# --- generation ---------------------------------------------------------------------------------


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sample_is_deterministic_from_the_seed(capsys):
    a = run_cli(capsys, "sample", "--steps", "60", "--samples", "3")
    b = run_cli(capsys, "sample", "--steps", "60", "--samples", "3")
    c = run_cli(capsys, "sample", "--steps", "60", "--samples", "3", "--seed", "1")
    assert a == b and a[0] == 0 and len(a[1].splitlines()) == 3
    assert c[1] != a[1]
    assert run_cli(capsys, "sample", "--steps", "60", "--prompt", "we love")[1].startswith("we love ")


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--temperature", "0"], "temperature"),
        (["--temperature", "nan"], "temperature"),
        (["--top-k", "0"], "at least 1"),
        (["--max-words", "-3"], "at least 1"),
        (["--prompt", "we hate"], "'hate'"),
    ],
)
def test_sample_rejects_bad_options_in_one_line(capsys, argv, needle):
    code, out, err = run_cli(capsys, "sample", *argv)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_sampled_words_carry_their_probability_at_t_and_at_1():
    s = Session.create()
    s.run(30)
    rng = np.random.default_rng(5)
    words = sample(s.model, s.data, prompt_ids(s.data, "we"), max_words=3, temperature=2.0, rng=rng)
    assert len(words) == 3 and all(isinstance(w, Word) for w in words)
    # recompute the first word's probabilities by hand: logits of the window <BOS> <BOS> <BOS> we
    ctx = np.array([[0, 0, 0, s.vocab.id("we")]])
    logits = s.model.forward(ctx, np.zeros(1, dtype=int)).logits[0].copy()
    logits[s.vocab.id("<BOS>")] = -np.inf
    j = s.vocab.id(words[0].word)
    e1, e2 = np.exp(logits - logits.max()), np.exp((logits - logits.max()) / 2.0)
    assert words[0].p_at_1 == pytest.approx(e1[j] / e1.sum(), rel=1e-12)
    assert words[0].p == pytest.approx(e2[j] / e2.sum(), rel=1e-12)


def test_top_k_one_is_the_most_likely_word():
    s = Session.create()
    s.run(80)
    words = sample(s.model, s.data, [], max_words=4, top_k=1)
    assert [w.word for w in words] == ["we", "love", "deep", "learning"]
    assert all(w.p == 1.0 for w in words)


# --- wide characters ------------------------------------------------------------------------------


def test_emoji_and_wide_characters_stay_one_token():
    from core.vocab import split_sentences

    sents = split_sentences(EMOJI_TEXT)
    assert sents[0] == ["i", "love", "🍕", "and", "日本語", "text"]
    assert "👩\u200d👩\u200d👧" in sents[1] and "👍🏽" in sents[1] and "❤️" in sents[1]
