"""Teaching truth (issue 27): every scene of the bundled lesson shows what its caption talks about,
at 80x24 and at 120x36, read off the screen as drawn (the composited cells, not a widget's text);
Backspace restores a scene's highlights; no caption shows a number that does not exist yet; an
exploded model does not walk into the scenes about learning; the chain rule's labels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import narration, settle

from core import Session
from tui_trainer.keys import KEYS
from tui_trainer.lesson import BUNDLED, load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.band import LessonBand

LESSON = load_lesson(BUNDLED)


def screen(app) -> str:
    """The screen as drawn: what a learner sees, clipped panes and dialogs included."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def squeeze(text: str) -> str:
    """Box borders and line breaks out, runs of spaces as one: a caption's words in order."""
    return re.sub(r"\s+", " ", re.sub(r"[│║╭╮╰╯╔╗╚╝─═]", " ", text)).strip()


def rows_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(w in line for w in words)]


def check_scene(app, band: LessonBand, shown: str, size: tuple[int, int]) -> None:
    """What the scene's caption names is on screen now (the scene's keys pressed)."""
    s, label = app.session, band.scene.label
    wide = size[0] >= 120
    # the caption is shown whole: its last words are on screen, and no number is missing ("-")
    assert squeeze(band.caption_text)[-40:] in squeeze(shown), (label, band.caption_text)
    assert not re.search(r"(?<![\w−-])-(?![\w.\d])", band.caption_text), (label, band.caption_text)
    tokens = s.vocab.tokens
    if label.startswith("S1 "):
        assert all(w in band.caption_text for w in tokens), "S1 lists the vocabulary"
    elif label.startswith("S2 "):
        assert "no bias" in band.caption_text and "4 × 8 inputs" in band.caption_text
        assert "32×16" in band.caption_text
    elif label.startswith("S3 "):
        f = s.forward_result
        assert rows_with(shown, "we", f"{f.logits[0][s.data.targets[0]]:.2f}", "◀"), "the target's logit bar"
    elif label.startswith("S4 "):
        assert "sum" in shown and "e^logit" in shown
    elif label.startswith("S6 "):
        assert "worse than a uniform guess among the 12 words" in band.caption_text
        assert "ppl 12.289" in shown  # the perplexity the caption compares, on the status line
    elif label.startswith("S7 "):
        assert rows_with(shown, "the ", "+0.121"), "the word the question asks about is in the table"
        assert rows_with(shown, "we ", "-0.906")
    elif label.startswith("S9 "):
        assert "|Δ|" in shown and "total 4.8526" in shown
    elif "too small" in band.scene.title:
        # the loss axis fits this branch: the exploded branch of the scene before runs off the top
        assert rows_with(shown, "10.035┤") and not rows_with(shown, "307.689┤")
    elif label.startswith("S11"):
        assert "m̂/(√v̂+ε)" in shown and "Largest change" in shown
    elif label.startswith("S12"):
        steps = {int(k) for k in re.findall(r"[║│] +(\d+) +[01]\.\d{3} ", shown)}
        assert {0, 1, 10, 20, 41} <= steps, steps  # step 1 and the lr changes are rows
    elif label.startswith("S13"):
        assert "(log)" in shown and rows_with(shown, "307.689┤")  # the spike of branch 1, on a log axis
        assert "unigram" in shown and "uniform guess" in shown and "not the context" in band.caption_text
    elif label.startswith("S14"):
        assert "half-way" not in band.caption_text and f"show step {s.step}" in band.caption_text
    elif label.startswith("S15"):
        assert "P(we)" in shown and "P(target) per position" in shown
    if wide:  # every pane the scene is about is on screen (the compact layout shows one of them)
        for pane in band.scene.panes:
            title = {"context": "Context", "logits": "Logits", "softmax": "Softmax", "gradients": "Gradient"}
            want = title.get(pane, "Loss curve|Training progress|P\\(target\\) per position")
            assert re.search(want, shown), (label, pane)


async def _walk(size: tuple[int, int]) -> None:
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        for _ in LESSON.scenes:
            q = band.scene.question
            if q is not None:
                await pilot.press(KEYS[q.answer])
            for key in band.scene.wait_keys:
                await pilot.press(key)
                await settle(app, pilot)
                if key == "x":  # the chain-rule view: the symbols are defined where it has room
                    if size[0] >= 120:
                        shown = screen(app)
                        assert "x[p,i]: layer1's input" in shown and "dz1[p,j]: dLoss/d" in shown
                    await pilot.press("escape")
                    await settle(app, pilot)
            await pilot.pause(0.15)
            check_scene(app, band, screen(app), size)
            await pilot.press("enter")
            await settle(app, pilot)


@pytest.mark.slow
async def test_every_scene_shows_what_its_caption_names_at_80x24():
    # (at 120x36, test_lesson_mode.py's test_play_every_scene[right] checks each scene the same way
    # as it plays it: one walk through the lesson instead of two)
    await _walk((80, 24))


async def _enter_to(app, pilot, band: LessonBand, index: int) -> None:
    while band.index < index:
        if band.scene.question is not None and band.answer is None:
            await pilot.press(KEYS[band.scene.question.answer])
        await pilot.press("enter")
        await settle(app, pilot)
        while len(app.screen_stack) > 1:
            await pilot.press("escape")
            await settle(app, pilot)


async def test_backspace_restores_the_scenes_highlights():
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        await _enter_to(app, pilot, band, 3)  # S4: softmax
        await pilot.press("backspace")
        await settle(app, pilot)
        assert band.scene.section == "S3"
        lit = {p.id for p in app.query(".lesson-focus")}
        assert lit == {"logits"}, lit


async def test_no_caption_shows_a_number_before_it_exists():
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        await _enter_to(app, pilot, band, 2)  # S3, before f
        assert app.session.forward_result is None
        assert "logit -" not in band.caption_text and "Press f." in band.caption_text
        await pilot.press("f")
        await settle(app, pilot)
        assert re.search(r"gets the logit -?\d\.\d\d", band.caption_text), band.caption_text


async def test_a_diverged_model_does_not_walk_on():
    """S10: s at lr 100, then s again (not z): Enter refuses until the step is taken back."""
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        k = next(i for i, sc in enumerate(LESSON.scenes) if "far too large" in sc.title)
        await _enter_to(app, pilot, band, k)
        await pilot.press("plus", "s")
        await settle(app, pilot)
        band.waited = len(band.scene.wait_keys)  # as if the learner had pressed the rest
        assert app.session.divergence is not None
        await pilot.press("enter")
        await settle(app, pilot)
        assert band.index == k and "diverged" in narration(app)
        await pilot.press("z")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert band.index == k + 1 and app.session.divergence is None


def test_the_chain_rule_compares_within_the_dtypes_precision():
    from core.readout import chain_terms
    from tui_trainer.screens.chain import same_sum

    s = Session.create(dtype="float32")
    s.backward()
    c = chain_terms(s, "layer1.W", (3, 2))
    # the backward pass's value one float32 ulp away (another order of the same additions)
    moved = type(c)(**{**c.__dict__, "backward": float(np.nextafter(np.float32(c.total), np.float32(np.inf)))})
    _, ok, dtype = same_sum(moved)
    assert ok and dtype == "float32"
    wrong = type(c)(**{**c.__dict__, "backward": c.total * 1.01 + 1e-3})
    assert not same_sum(wrong)[1]


async def test_a_training_key_from_the_past_says_whether_it_branched():
    """40G s with the same settings is a redo (no new branch): the narration says which it was."""
    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5", "r")
        await settle(app, pilot)
        await pilot.press("2", "G")
        await settle(app, pilot)
        assert "unless it repeats what came next" in narration(app)
        await pilot.press("s")
        await settle(app, pilot)
        assert len(app.session.branches()) == 1
        assert "a redo, no new branch" in narration(app)
        await pilot.press("less_than_sign", "u")  # back to step 2, then the update alone: a new branch
        await settle(app, pilot)
        assert len(app.session.branches()) == 2
        assert "A new branch 1 starts here" in narration(app), narration(app)


async def test_samples_say_where_they_stop_and_what_their_p_is():
    """w: the lesson's text trains no <EOS>, so a sample stops at the longest sentence (4 words,
    not 16 running past 'learning'), and the view says its P is renormalised without <BOS>."""
    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "0", "r")
        await settle(app, pilot)
        await pilot.press("w")
        await settle(app, pilot)
        shown = squeeze(screen(app))
        assert "<EOS> is not trained here" in shown and "renormalised" in shown, shown
        words = re.findall(r"step +20 +T 1 +((?:\S+ [01]\.\d\d ?)+)", shown)
        assert words and len(words[0].split()) // 2 <= 4, words
        # the first word's P: the softmax pane's P at position 1 without <BOS>, renormalised
        first = app.sampler.samples[-1].words[0]
        probs = app.session.forward_result.probs[0]
        tokens = list(app.session.vocab.tokens)
        p_bos = probs[tokens.index("<BOS>")]
        assert abs(first.p - probs[tokens.index(first.word)] / (1 - p_bos)) < 1e-9


async def test_the_learning_rate_keys_speak_of_this_optimizer():
    """Issue 27.12: ] from 0.3 to 1 (SGD's usual rate) is not 'Large'; under Adam the narration
    does not explain lr × grad."""
    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("left_square_bracket")  # sgd 1 -> 0.3
        await settle(app, pilot)
        assert app.session.lr == 0.3 and "Below sgd's usual 1" in narration(app)
        await pilot.press("right_square_bracket")  # 0.3 -> 1: the usual rate, no warning
        await settle(app, pilot)
        said = narration(app)
        assert app.session.lr == 1 and "sgd's usual rate" in said and "divergence" not in said, said
        assert "lr × grad" in said
        await pilot.press("right_square_bracket")  # 1 -> 3: above the usual one
        await settle(app, pilot)
        assert "Above sgd's usual 1: watch the loss for divergence" in narration(app)
        await pilot.press("o", "o")  # momentum, then adam (lr 0.01)
        await settle(app, pilot)
        assert app.session.optimizer.name == "adam"
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        said = narration(app)
        assert "lr × grad" not in said and "Adam divides by √v" in said and "Above adam's usual 0.01" in said, said


@pytest.mark.parametrize("size", [(40, 12), (60, 18), (80, 24), (100, 30), (120, 36)])
async def test_help_and_quit_stay_in_the_footer(size):
    """Issue 27.17: at 80x24 the footer was cut after 'z Und': '? Help' and 'q Quit' must be seen
    at every size, in free play and in lesson mode (the keys dropped to make room still work).
    At 40x12 (below the 60x18 the app needs) it cut 'q Quit' off after 'f Forward  b Backward
    u Update  ? Help', though f, b and u wait there and q works; at 60x18 lesson mode's read
    '… u Update  ? Help  q Qu': the step keys give way last, so help and quit are what is left."""
    from tui_trainer.app import TrainerApp

    for app in (TrainerApp(), LessonApp(lesson=LESSON)):
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            for _ in range(50):  # the footer is built once the bindings are ready
                footer = screen(app).splitlines()[-1]
                if footer.strip():
                    break
                await pilot.pause(0.02)
            assert re.search(r"\? Help +q Quit", footer), footer
            if size[0] >= 80:
                assert "f Forward" in footer and "b Backward" in footer and "u Update" in footer, footer
            if size[0] >= 120 and isinstance(app, TrainerApp) and not isinstance(app, LessonApp):
                assert "] lr+" in footer and "^p palette" in footer, footer  # nothing dropped when it fits


@pytest.mark.parametrize("reduction", ["mean", "sum"])
async def test_the_loss_change_line_names_which_loss_it_is(reduction):
    """Issue 27.11: 'Δloss -1.296 actual' was the mean's change while the total fell by 5.18.
    The line names the objective, and its actual figure is that loss's change on the status line."""
    from tui_trainer.app import TrainerApp

    app = TrainerApp(session=Session.create(reduction=reduction))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")
        await settle(app, pilot)
        shown = squeeze(screen(app))
        name = "mean" if reduction == "mean" else "total"
        m = re.search(r"Δ(\w+) loss (-?[\d.]+) predicted \(g·Δθ\), (-?[\d.]+) actual", shown)
        assert m and m.group(1) == name, shown
        # the actual change, from the status line's numbers before and after the step (read independently)
        s = app.session
        before = Session.create(reduction=reduction)
        f0 = before.compute_forward()
        l0 = f0.total_loss if reduction == "sum" else f0.total_loss / f0.targets.size
        l1 = s.forward_result.total_loss if reduction == "sum" else s.forward_result.total_loss / f0.targets.size
        assert abs(float(m.group(3)) - (l1 - l0)) < 1e-3, (m.group(3), l1 - l0)


def test_a_branchs_history_says_where_it_diverged_as_the_live_rules_did():
    """Issue 27.15: B marks a diverged branch. The picker reads the branch's losses (its end state
    is not at hand); the step found must be the one the live rules flagged, for every cause."""
    from core.divergence import diverged_in

    for lr, model in ((10, "mlp"), (100, "mlp"), (30, "gpt"), (1, "mlp"), (3, "mlp")):
        s = Session.create(lr=lr, model=model, undo_memory=0)
        r = s.run(60)
        h = s.history
        found = diverged_in(h.column("mean_loss"), h.column("total_loss"), s.log_vocab, s.config.divergence_loss)
        live = r.divergence.step if r.divergence is not None else None
        assert found == live, (lr, model, found, live)


async def test_a_sweep_lands_on_the_lowest_loss_that_did_not_diverge():
    """Issue 27.15: after S the app stayed on the last rate's branch (lr 10, diverged); the picker
    did not mark it, and enter in it did nothing. The lr 10 branch's advice named step 2."""
    from tui_trainer.app import TrainerApp

    # what each rate does on its own, in sessions of the test's
    alone = {}
    for lr in (0.01, 0.1, 1, 10):
        s = Session.create(lr=lr, undo_memory=0)
        r = s.run(40)
        alone[lr] = (s.history[-1].total_loss, r.divergence)
    best = min((lr for lr in alone if alone[lr][1] is None), key=lambda lr: alone[lr][0])
    assert best == 1 and alone[10][1] is not None

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("S")
        await settle(app, pilot)
        form = app.screen.query_one("Input")
        form.value = "0.01,0.1,1,10 40"
        await pilot.press("enter")
        await app.runs.wait()
        await settle(app, pilot)
        s = app.session
        assert s.lr == best and s.step == 40 and s.divergence is None
        assert abs(s.history[-1].total_loss - alone[best][0]) < 1e-9
        d = alone[10][1]
        picker = app.screen.query_one("OptionList")
        rows = [squeeze(str(picker.get_option_at_index(i).prompt)) for i in range(picker.option_count)]
        marked = [r for r in rows if "DIVERGED" in r]
        assert len(marked) == 1 and "sgd lr 10: total loss now" in marked[0], rows
        assert marked[0].endswith(f"DIVERGED at step {d.step}"), marked
        assert "DIVERGED" in squeeze(screen(app))  # on screen
        # enter on the lr 10 branch goes there (it did nothing after a sweep)
        target = next(i for i, b in enumerate(s.branches()) if b.steps == d.step)
        picker.highlighted = target
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.session.lr == 10 and app.session.step == d.step


async def test_the_advice_after_a_divergence_names_the_best_step_before_it():
    """Issue 27.15: lr 10 diverges at step 3 with the step before at total 71.9: go back to the
    lowest loss before it, not to step 2."""
    from tui_trainer.app import TrainerApp

    ref = Session.create(lr=10, undo_memory=0)
    r = ref.run(20)
    d = r.divergence
    totals = [ref.history[k].total_loss for k in range(d.step)]
    lowest = int(np.argmin(totals))
    assert lowest < d.step - 1  # the case the issue is about

    app = TrainerApp(session=Session.create(lr=10))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "0", "r")
        await app.runs.wait()
        await settle(app, pilot)
        said = narration(app)
        assert f"go back to step {lowest}, this branch's lowest loss before it" in said, said


async def test_the_progress_table_shows_the_curves_loss_whole():
    """Issue 27.9: on a text the progress table cut the total to '4243.1…' beside a curve of means.
    It shows the loss the curve draws, named, never cut; positions that do not fit are counted."""
    from tui_trainer.app import TrainerApp

    rng = __import__("random").Random(5)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) + "." for _ in range(400))
    s = Session.create(text=text, undo_memory=0)
    app = TrainerApp(session=s)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "0", "r")
        await app.runs.wait()
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        lines = screen(app).splitlines()
        head = next(line for line in lines if "step" in line and "loss" in line and "P(" in line)
        assert "mean loss" in head and "total loss" not in head, head
        rows = [re.findall(r"│\s+(\d+)\s.*?(\d+\.\d{3})\s*│", line) for line in lines]
        rows = [r[-1] for r in rows if r]
        assert len(rows) >= 5 and not any("…" in line for line in lines if "│" in line and "0." in line)
        means = s.history.column("mean_loss")
        for step, loss in rows:
            assert loss == f"{means[int(step)]:.3f}", (step, loss)
        assert re.search(r"\d+ more positions?: a wider pane shows them", squeeze(screen(app)))


async def test_a_short_fork_beside_a_long_branch_gets_an_axis_of_its_own():
    """Issue 27.15: a 102-step fork overlaid on a 47,889-step branch was one column wide. Here a
    20-step fork from step 0 beside a 300-step branch: the axis runs to 30, and says so."""
    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        for key in ("3", "0", "0", "r"):
            await pilot.press(key)
        await app.runs.wait()
        await pilot.press("home", "F")
        await settle(app, pilot)
        app.screen.query_one("Input").value = "0.1"
        await pilot.press("enter")
        await settle(app, pilot)
        for key in ("2", "0", "r"):
            await pilot.press(key)
        await app.runs.wait()
        await settle(app, pilot)
        s = app.session
        assert s.step == 20 and len(s.branches()) == 2
        shown = squeeze(screen(app))
        assert re.search(r"step 0 step 30 of 300\b", shown), shown
        # the other branch is drawn only up to the axis's end: its curve has 31 points there
        chart = app.main_screen.query_one("LossPane")._loss_chart()
        drawn = [ser.values.shape[0] for ser in chart.series if ser.values.size]  # (no validation here)
        assert chart is not None and len(drawn) == 3 and set(drawn) == {31}, drawn


async def test_the_help_says_what_the_curves_dashed_lines_are():
    """Issue 27.18: 'unigram' was never explained on screen: the help (?) says what both lines are."""
    from rich.console import Console

    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await settle(app, pilot)
        table = app.screen.query_one("#keys").render()._renderable  # the help's table of keys
        console = Console(width=120, record=True, file=__import__("io").StringIO())
        console.print(table)
        help_text = squeeze(console.export_text())
        assert "unigram (each token's own frequency, the context ignored)" in help_text, help_text
        assert "uniform guess (ln V, every token alike)" in help_text


def test_the_first_scene_names_the_text_it_trains_on():
    """tui-trainer lesson --corpus Apache-2.0: the first scene said 'It must learn one sentence:
    after <BOS> comes "we", then "love", "deep", "learning"' over a licence of 176 sentences. It
    names the text's own sentences and quotes the first one's words (the lesson's reads as before)."""
    from tui_trainer.lesson.placeholders import filled, placeholder_values

    caption = LESSON.scenes[0].caption
    s = Session.create(text="the cat sat on the old mat by the door today. a dog ran. it rained!")
    text = " ".join(filled(caption, placeholder_values(s, 0)).split())
    words = "the cat sat on the old mat by".split()  # the first eight of the first sentence
    quoted = f'"{words[0]}", then ' + ", ".join(f'"{w}"' for w in words[1:]) + ", …"
    assert f"It must learn 3 sentences, the first: after <BOS> comes {quoted}." in text, text
    assert '"love"' not in text
    s = Session.create()
    text = " ".join(filled(caption, placeholder_values(s, 0)).split())
    assert 'It must learn one sentence: after <BOS> comes "we", then "love", "deep", "learning".' in text
