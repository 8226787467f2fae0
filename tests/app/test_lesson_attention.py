"""The attention lesson (issue 25, item 7) and the lessons' catalogue: the attention placeholders
against attention computed here from the model's tensors, the tokenizers' and the race's against
computations of their own, a lesson's [lesson] run keys and their errors, `lesson NAME` and
`lesson --list`, panes the app lacks, and a key script that plays the lesson from its first scene
to its last."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import bpe_by_hand, settle
from test_lesson_truth import screen, squeeze

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.cli import main
from tui_trainer.keys import KEYS
from tui_trainer.lesson import LessonError, bundled_lessons, load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.attnvalues import NAMES as ATTENTION
from tui_trainer.lesson.band import LessonBand
from tui_trainer.lesson.placeholders import MISSING, filled, placeholder_values

ATTN = load_lesson(next(p for p in bundled_lessons() if p.stem == "attention"))
COLOUR = 9  # position 10: "<BOS> the cat that sat on the old mat was" -> black


def gpt_session(**kw) -> Session:
    r = ATTN.run
    return Session.create(
        text=ATTN.text, model=r["model"], optimizer=r["optimizer"], seed=r["seed"], add_eos=r["eos"], **kw
    )


def by_token(words: list[str], xs, digits: int) -> str:
    return ", ".join(f"{w} {x:.{digits}f}".replace(" -0.000", " 0.000") for w, x in zip(words, xs, strict=True))


# --- the numbers ----------------------------------------------------------------------------------


def test_attention_placeholders_against_attention_computed_here():
    """Q and K from the layer's input and attn_wq, attn_wk; q·k; ÷ √hd; the mask; softmax: written
    here, from the model's tensors, and compared with what the captions show."""
    s = gpt_session()
    s.forward()
    f = s.forward_result
    v = placeholder_values(s, COLOUR)
    C = s.model.p["wte"].shape[1]
    H = f.att.shape[2]
    hd = C // H
    T = f.inputs.shape[1]
    w, t = divmod(int(f.cells[COLOUR]), T)
    n = int(f.lengths[w])
    x = f.h_attn[0, w, :n]  # (n, C) attention's input
    q = (x @ s.model.p["layer0.attn_wq"].T)[t, :hd]  # head 0: the first hd columns
    k = (x @ s.model.p["layer0.attn_wk"].T)[:, :hd]
    raw = k @ q
    scores = np.where(np.arange(n) > t, -np.inf, raw / math.sqrt(hd))
    a = np.exp(scores - scores.max())
    a /= a.sum()
    words = [s.vocab.tokens[int(i)] for i in f.inputs[w, :n]]
    assert words[t] == "was" and words[t + 1 :] == ["black"]  # the word to predict is the masked key
    assert v["query"] == "was" and v["n_keys"] == str(t + 1) and v["n_masked"] == "1" and v["masked_keys"] == "black"
    assert v["head_dim"] == str(hd) == "4" and v["sqrt_hd"] == "2" and v["n_heads"] == "4"
    assert v["q_vec"] == "[" + ", ".join(f"{z:.3f}" for z in q) + "]"
    assert v["scores_raw"] == by_token(words[: t + 1], raw[: t + 1], 3)
    assert v["scores_scaled"] == by_token(words[: t + 1], raw[: t + 1] / 2, 3)
    assert v["att_row"] == by_token(words[: t + 1], a[: t + 1], 2)
    assert v["att_sum"] == "1.0000" and a[t + 1] == 0.0
    top = int(np.argmax(raw[: t + 1]))
    assert v["top_key"] == words[top] and v["qk_sum"].endswith(f"= {raw[top]:.3f}")
    assert v["att_self"] == f"{a[t]:.2f}"
    assert v["head_tops"].startswith(f"head 0 → {words[int(np.argmax(a))]} {a.max():.2f}; head 1 → ")
    # every query of the step, every head: the mean weight on the previous token, written here
    prev = [f.att[0, b, 0, i, i - 1] for b in range(f.att.shape[1]) for i in range(1, int(f.lengths[b]))]
    assert v["head_habits"].startswith(f"head 0: {np.mean(prev):.2f} on the previous token, entropy ")
    for name in ("dA_row", "dS_row", "ds_masked", "ds_sum", "ds_top", "att_change"):
        assert v[name] == MISSING, name  # no gradient, no update yet: their sentences wait
    s.backward()
    v = placeholder_values(s, COLOUR)
    assert v["ds_masked"] == "0"  # the masked key's score gets exactly no gradient
    assert re.fullmatch(r"-?[\d.e+-]+", v["ds_sum"]) and abs(float(v["ds_sum"])) < 1e-12


def test_the_mlp_has_no_attention_numbers_and_their_sentences_wait():
    s = Session.create()
    s.forward()
    v = placeholder_values(s, 3)
    assert v["mlp_window"] == "4" and v["mlp_sees"] == "<BOS> we love deep"
    for name in ATTENTION:
        if name not in ("mlp_window", "mlp_sees"):
            assert v[name] == MISSING, name
    assert filled("A window of {mlp_window}. The query is {query}.", v) == "A window of 4."


def test_words_characters_and_bpe_on_the_same_sentence():
    from core.tokens import Tokenizer
    from core.vocab import split_sentences

    s = gpt_session()
    v = placeholder_values(s, COLOUR)
    sentence = "the cat that sat on the old mat was black"
    assert v["tok_sentence"] == sentence and v["tok_words"] == "10"
    assert v["tok_chars"] == str(len(sentence)) == "41"
    assert v["tok_char_pieces"].split(" ") == [c.replace(" ", "▁") for c in sentence]
    merges = Tokenizer.learn("bpe", split_sentences(ATTN.text)).merges
    assert v["tok_bpe_merges"] == str(len(merges))
    early = bpe_by_hand(sentence.split(), merges[:10])
    assert v["tok_bpe_early"] == " ".join(p.replace(" ", "▁") for p in early)
    assert v["tok_bpe_early_count"] == str(len(early)) and 10 < len(early) < 41
    assert v["tok_bpe_count"] == "10"  # every word of this small text ends up one piece


def test_the_race_is_two_fresh_runs_from_the_same_settings():
    """The GPT's race result is this run's own loss (trained the same way), and the MLP's is an
    MLP trained here for as many steps from the same text, seed and optimizer."""
    s = gpt_session()
    v = placeholder_values(s, COLOUR)
    assert v["race_steps"] == MISSING  # step 0: no race yet
    for _ in range(12):
        s.train_step()
    v = placeholder_values(s, COLOUR)
    mlp = Session.create(text=ATTN.text, model="mlp", optimizer="adam", seed=0, add_eos=True)
    for _ in range(12):
        mlp.train_step()
    n = len(s.forward_result.targets)
    assert v["race_steps"] == "12"
    assert v["race_gpt"] == f"{s.forward_result.total_loss / n:.4f}"
    assert v["race_mlp"] == f"{mlp.forward_result.total_loss / n:.4f}"
    assert v["race_mlp_here"] == f"{mlp.forward_result.losses[COLOUR]:.4f}"
    assert v["race_mlp_window"] == "4" and v["race_gpt_window"] == "16"
    ahead = "the GPT" if float(v["race_gpt"]) < float(v["race_mlp"]) else "the MLP"
    assert v["race_ahead"] == ahead


# --- lesson files: the run they set up -----------------------------------------------------------------


@pytest.mark.parametrize(
    "head, problem",
    [
        ('model = "rnn"', "model 'rnn' is not a model"),
        ("seed = -1", "seed = -1: it must be 0 or more"),
        ('seed = "one"', "seed must be a whole number"),
        ("context = 0", "context = 0: it must be 1 to 4096"),
        ("heads = 3", "heads sets the GPT's size, and this lesson's model is mlp"),
        ('model = "gpt"\nhidden = 8', "hidden sets the MLP's size"),
        ('model = "gpt"\nembed = 10\nheads = 4', "not divisible by 4 heads"),
        ('tokens = "bpe:x"', "unknown tokens 'bpe:x'"),
        ("lr = 0", "the learning rate must be greater than 0"),
        ('optimizer = "rmsprop"', "unknown optimizer 'rmsprop'"),
        ('eos = "yes"', "eos must be true or false"),
        ("sizes = 3", "unknown key 'sizes' in [lesson]"),
    ],
)
def test_bad_run_keys_are_one_line(tmp_path, head, problem):
    path = tmp_path / "bad.toml"
    path.write_text(f'[lesson]\n{head}\n[[scene]]\ntitle = "a"\ncaption = "x"\n')
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert problem in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_good_run_keys_are_kept(tmp_path):
    path = tmp_path / "good.toml"
    head = 'model = "gpt"\ntokens = "char"\nseed = 7\nlayers = 2\nheads = 2\nembed = 8\nlr = 1\neos = true'
    path.write_text(f'[lesson]\n{head}\n[[scene]]\ntitle = "a"\ncaption = "x"\n')
    lesson = load_lesson(path)
    assert lesson.run == {"model": "gpt", "tokens": "char", "seed": 7, "embed": 8, "layers": 2, "heads": 2} | {
        "lr": 1.0,
        "eos": True,
    }


def test_the_attention_lesson_is_what_the_issue_asks():
    assert 8 <= len(ATTN.scenes) <= 12 and ATTN.model == "gpt"
    assert sum(s.question is not None for s in ATTN.scenes) >= 2
    assert any("attention" in s.panes for s in ATTN.scenes)
    text = " ".join(s.caption for s in ATTN.scenes)
    for name in ("mlp_sees", "q_vec", "qk_sum", "sqrt_hd", "masked_keys", "att_sum", "head_habits", "ds_top"):
        assert "{" + name + "}" in text, name
    assert "{tok_bpe_early}" in text and "{tok_chars}" in text  # issue 26's scene


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def started(monkeypatch):
    """The apps main would run (not run: their sessions are built, which is what these tests read)."""
    apps = []
    monkeypatch.setattr(TrainerApp, "run", lambda self, **kw: apps.append(self))
    return apps


def test_lesson_list_names_the_bundled_lessons(capsys):
    assert main(["lesson", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("basics ") and "(16 scenes, --model mlp)" in lines[0]
    assert any(ln.startswith("attention ") and "(10 scenes, --model gpt)" in ln for ln in lines), lines


def test_lesson_name_sets_up_its_run_and_the_command_line_wins(started):
    assert main(["lesson", "attention", "--seed", "3", "--presenter"]) == 0
    s = started[-1].session
    assert started[-1].lesson.name == "attention"
    assert s.config.model == "gpt" and s.config.optimizer == "adam" and s.data.add_eos
    assert s.config.seed == 3  # given on the command line: it wins over the lesson's 0
    assert "black" in s.vocab.tokens
    assert main(["lesson"]) == 0  # alone: the basics, as before
    assert started[-1].lesson.name == "basics" and started[-1].session.config.model == "mlp"


@pytest.mark.parametrize(
    "argv, problem",
    [
        (["lesson", "attention", "--model", "mlp"], "a lesson about the GPT: run it without --model"),
        (["lesson", "nope"], "no bundled lesson 'nope' (bundled: basics, attention"),
        (["lesson", "attention", "--file", "x.toml"], "NAME or --file, not both"),
        (["lesson", "--list", "attention"], "--list takes nothing else"),
    ],
)
def test_lesson_names_refused_in_one_line(capsys, argv, problem):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and len(err.strip().splitlines()) == 1, err


# --- panes the app lacks ----------------------------------------------------------------------------------


async def test_a_pane_the_app_lacks_is_simply_not_highlighted(tmp_path):
    path = tmp_path / "panes.toml"
    path.write_text('[[scene]]\ntitle = "a"\ncaption = "x"\npanes = ["attention", "softmax"]\n')
    lesson = load_lesson(path)
    app = LessonApp(lesson=lesson)  # the MLP: no attention to show
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        present = {p.id for p in app.query("#main > Pane")}
        lit = {p.id for p in app.query(".lesson-focus")}
        assert lit == {"attention", "softmax"} & present and "softmax" in lit
        assert app.view == "softmax"  # the compact layout follows the first pane it has


# --- playing it ----------------------------------------------------------------------------------------------


def _script() -> str:
    """Keys that play the lesson from its first scene to its last: each question answered right,
    Enter pressing the keys a scene waits for, then Enter for the next scene."""
    keys = []
    for scene in ATTN.scenes:
        if scene.question is not None:
            keys.append(scene.question.answer)
        keys += ["enter"] * (2 if scene.wait_keys else 1)
    # (the last Enter only says "last scene": a script's next key waits for the scene's keys, so
    # --exit-after quits after them)
    return " ".join(keys)


@pytest.mark.slow
def test_a_key_script_plays_the_attention_lesson_to_its_end(monkeypatch):
    """tui-trainer lesson attention --presenter --keys ... at 120x36: to the last scene, the race revealed."""
    apps = []
    run = TrainerApp.run

    def headless(self, **kw):
        apps.append(self)
        return run(self, headless=True, size=(120, 36))

    monkeypatch.setattr(TrainerApp, "run", headless)
    shown: list[tuple[int, bool, str]] = []  # each caption the band showed (the app is gone after)
    show = LessonBand.show_scene

    def recorded(band: LessonBand) -> None:
        show(band)
        shown.append((band.index, band.done, str(band.render())))

    monkeypatch.setattr(LessonBand, "show_scene", recorded)
    assert main(["lesson", "attention", "--presenter", "--keys", _script(), "--exit-after"]) == 0
    (app,) = apps
    assert {i for i, *_ in shown} == set(range(len(ATTN.scenes)))  # every scene, in order
    assert [i for i, *_ in shown] == sorted(i for i, *_ in shown)
    index, done, text = shown[-1]
    assert index == len(ATTN.scenes) - 1 and done
    assert app.session.step == 150 and app.session.divergence is None
    assert "you said 2" in text and "✓ right" in text and "the GPT is ahead" in text, text


@pytest.mark.slow
async def test_every_scene_shows_its_caption_whole_at_80x24():
    """Scene by scene at 80x24: the caption drawn whole (the band is not cut), no number missing,
    the panes the scene names highlighted where the app has them."""
    app = LessonApp(gpt_session(), lesson=ATTN)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        for k, scene in enumerate(ATTN.scenes):
            assert band.index == k
            present = {p.id for p in app.query("#main > Pane")}
            assert {p.id for p in app.query(".lesson-focus")} == set(scene.panes) & present, scene.label
            if scene.question is not None:
                await pilot.press(KEYS[scene.question.answer])
            for key in scene.wait_keys:
                await pilot.press(key)
                await settle(app, pilot)
            await pilot.pause(0.15)  # the band re-reads the state
            shown = squeeze(screen(app))
            whole = squeeze(str(band.render()))
            assert whole[-40:] in shown, (scene.label, whole)  # the last line is on screen: nothing cut off
            assert not re.search(r"(?<![\w−-])-(?![\w.\d])", band.caption_text), (scene.label, band.caption_text)
            if scene.section == "A4":  # the caption's q·k is the one the model computed
                assert band.caption_text.count("×") == 4
            await pilot.press("enter")
            await settle(app, pilot)
        assert band.index == len(ATTN.scenes) - 1


def test_what_the_readme_says_of_the_attention_lesson(capsys):
    """The README's figures, measured: --list's output, the sentence's tokens, the heads after 100
    Adam steps, and the race at step 150."""
    from conftest import ROOT

    from core.race import race

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert main(["lesson", "--list"]) == 0
    assert "$ tui-trainer lesson --list\n" + capsys.readouterr().out + "```" in readme
    s = gpt_session()
    v = placeholder_values(s, COLOUR)
    said = f"{v['tok_words']} words, {v['tok_chars']} characters, {v['tok_bpe_early_count']} pieces after 10"
    assert said in readme.replace("\n", " "), said
    for _ in range(100):
        s.train_step()
    top = placeholder_values(s, COLOUR)["head_tops"].split("; ")[0]
    assert f"`{top}`" in readme, top
    r = race(s.config, 150)
    mlp, gpt = r.of("mlp"), r.of("gpt")
    said = (
        f"the mean loss is {mlp.mean_loss:.4f} for the MLP against {gpt.mean_loss:.4f} for the GPT, and at `black` "
        f"{mlp.losses[COLOUR]:.4f} (the MLP shares P among the four colours) against {gpt.losses[COLOUR]:.4f}"
    )
    assert said in readme.replace("\n", " "), said


async def test_a_reveal_waits_for_the_run_its_keys_started(tmp_path):
    """Keys typed by hand (1 0 r): the answer and its race come after the run, not at every frame
    of it (each frame's step would be a new race)."""
    from tui_trainer.lesson import compare

    path = tmp_path / "race.toml"
    path.write_text(
        '[lesson]\nmodel = "gpt"\n[[scene]]\ntitle = "race"\ncaption = "x"\nwait = "10r"\n'
        '[scene.question]\nask = "?"\nanswer = "+"\nwhy = "MLP {race_mlp}, GPT {race_gpt}."\n'
    )
    lesson = load_lesson(path)
    s = Session.create(model="gpt")
    app = LessonApp(s, lesson=lesson, speed=20)  # (half a second: the run is seen going)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        await pilot.press("plus", "1", "0", "r")
        ran = 0
        for _ in range(500):  # (a bound: a run that never starts fails below, not by hanging)
            if app.running:
                ran += 1
                assert "✓" not in str(band.render())
                assert not any(k[0] == "race" for k in compare._CACHE.get(s, {}))
            elif ran:
                break
            await pilot.pause(0.01)
        assert ran  # the run was seen going
        await settle(app, pilot)
        await pilot.pause(0.1)
        assert app.session.step == 10 and "✓ right" in str(band.render())
        assert list(compare._CACHE[s]) == [("race", 10)]  # one race, at the run's end
