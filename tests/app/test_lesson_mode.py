"""Lesson mode (issue 14): the bundled lesson played scene by scene with Pilot, its captions'
numbers checked against the session and the panes, Backspace and Enter restoring states bit for
bit, a teacher's lesson on another text, and bad lesson files on the command line."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DATA, settle
from test_lesson_truth import check_scene, screen  # (the same check, one walk)

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.cli import main
from tui_trainer.keys import KEYS
from tui_trainer.lesson import BUNDLED, TOTAL_AT, LessonError, load_lesson, placeholders_in
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.band import LessonBand
from tui_trainer.lesson.placeholders import BASIC
from tui_trainer.widgets.context import ContextPane
from tui_trainer.widgets.gradients import GradientPane
from tui_trainer.widgets.logits import LogitsPane
from tui_trainer.widgets.softmax import SoftmaxPane
from tui_trainer.widgets.status import Narration, StatusBar

LESSON = load_lesson(BUNDLED)


def text_of(widget) -> str:
    """What a widget shows, as plain text (every line: a tall console, unlike conftest's)."""
    from rich.console import Console

    console = Console(width=max(widget.content_size.width, 20), record=True, color_system=None, height=10_000)
    with console.capture() as cap:
        console.print(widget.render())
    return cap.get()


# --- expected values, computed here from the session (not by tui_trainer.lesson) -------------------


def f4(x: float) -> str:
    assert 1e-4 <= abs(x) < 1e6, x  # the panes switch to scientific notation outside this range
    return f"{x:.4f}"


def expected(app: TrainerApp, name: str) -> tuple[str, list[type] | None]:
    """The text ``{name}`` should show now, and the panes that show the same number."""
    s = app.session
    f, i = s.forward_result, app.position
    tid = int(s.data.targets[i]) if s.full_batch else None
    if name == "step":
        return str(s.step), [StatusBar]
    if name == "lr":
        return f"{s.lr:g}", [StatusBar]
    if name == "optimizer":
        return s.optimizer.name, [StatusBar]
    if name == "vocab_size":
        return str(len(s.data.vocab.tokens)), None
    if name == "vocab":
        return ", ".join(s.data.vocab.tokens), None
    if name == "context_size":
        return str(s.model.p["layer1.W"].shape[0] // s.model.p["embedding"].shape[1]), None
    if name == "embed_dim":
        return str(s.model.p["embedding"].shape[1]), None
    if name == "n_positions":
        return str(len(s.data.targets)), None
    if name == "sentences":  # the lesson's text: one sentence
        return "one sentence", None
    if name == "first_sentence":
        return '"we", then "love", "deep", "learning"', None
    if name == "n_params":
        return f"{s.model.params.size:,}", [ContextPane]
    if name == "shapes":
        p = s.model.p
        parts = [f"embedding {p['embedding'].shape[0]}×{p['embedding'].shape[1]}"]
        for layer in ("layer1", "layer2", "output"):
            w = p[f"{layer}.W"]
            parts.append(f"{layer} {w.shape[0]}×{w.shape[1]} + {p[f'{layer}.b'].size}")
        return ", ".join(parts), None
    if name == "position":
        return str(i + 1), None
    if name == "context":
        return " ".join(s.data.context_words(i)), None
    if name == "target":
        return s.data.vocab.tokens[tid], [ContextPane]
    if name == "uniform":
        return f4(math.log(len(s.data.vocab.tokens))), None
    if name == "total_start":
        return f4(s.history[0].total_loss), None
    if m := TOTAL_AT.fullmatch(name):
        return f4(s.history[int(m.group(1))].total_loss), None
    if name == "p_targets":
        words = [s.data.vocab.tokens[int(s.data.targets[p])] for p in s.tracked]
        return ", ".join(f"{w} {p:.3f}" for w, p in zip(words, s.history[-1].target_probs, strict=True)), None
    if name == "learned_order":
        probs = np.array([r.target_probs for r in s.history])
        words = [s.data.vocab.tokens[int(s.data.targets[p])] for p in s.tracked]
        first = []
        for j, w in enumerate(words):
            steps = [k for k in range(len(probs)) if probs[k, j] >= 0.9]
            first.append((steps[0] if steps else math.inf, j, w))
        return ", ".join(f"{w} (step {k})" if k != math.inf else f"{w} (not yet)" for k, _, w in sorted(first)), None
    assert f is not None, f"{{{name}}} needs a forward pass"
    logits = f.logits[i].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    p = float(probs[tid])
    total = float(f.losses.sum())
    mean = total / len(f.targets)
    if name == "p_target":
        return f"{p:.4f}", [ContextPane]
    if name == "loss":
        assert -math.log(p) == pytest.approx(float(f.losses[i]), rel=1e-9)
        return f4(-math.log(p)), [ContextPane]
    if name == "top_word":
        return s.data.vocab.tokens[int(probs.argmax())], [ContextPane]
    if name == "top_prob":
        return f"{probs.max():.1%}", [ContextPane]
    if name == "logit_target":
        return f"{logits[tid]:.2f}", [LogitsPane, SoftmaxPane]
    if name == "exp_sum":
        e = float(np.exp(logits).sum())
        return (f"{e:.2f}" if 0.01 <= e < 1e5 else f"{e:.2e}"), [SoftmaxPane]
    if name == "total_loss":
        return f4(total), [StatusBar]
    if name == "mean_loss":
        return f4(mean), [StatusBar]
    if name == "perplexity":
        return f"{math.exp(mean):.3f}", [StatusBar]
    if name == "vs_uniform":
        ratio = float(f"{math.exp(mean):.3f}") / len(s.data.vocab.tokens)
        return ("worse than" if ratio > 1.0005 else "better than" if ratio < 0.9995 else "as good as"), None
    if name == "dlogit_target":
        assert s.phase == "backward"
        return f"{p - 1:+.3f}", [GradientPane]
    raise AssertionError(f"no expected value for {{{name}}}")


def check_numbers(app: TrainerApp, band: LessonBand, template: str, shown: str) -> None:
    """Every placeholder of ``template`` shows the number computed here, and so do the panes."""
    for name in placeholders_in(template):
        value, panes = expected(app, name)
        assert value in shown, (band.scene.label, name, value, shown)
        for pane in panes or []:
            assert value in text_of(app.query_one(pane)), (band.scene.label, name, value, pane.__name__)


async def test_every_placeholder_is_checked():
    """Each of the lesson's own placeholders has its own expected value above (a new one needs one
    too), and the filled text matches it (attention's and the comparisons': test_lesson_attention.py)."""
    from tui_trainer.lesson import fill_caption, placeholder_values

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("5", "r")
        await settle(app, pilot)
        await pilot.press("right", "b")
        await settle(app, pilot)
        values = placeholder_values(app.session, app.position)
        for name in [*BASIC, "total_at_3"]:
            value, _ = expected(app, name)
            assert fill_caption(f"<{{{name}}}>", values) == f"<{value}>", name


# --- playing the bundled lesson ---------------------------------------------------------------


async def _close_screens(app, pilot) -> None:
    """The chain-rule view (x) is a screen of its own: Esc closes it, as the scene says."""
    while len(app.screen_stack) > 1:
        await pilot.press("escape")
        await settle(app, pilot)


@pytest.mark.slow
@pytest.mark.parametrize("answers", ["right", "wrong"])
async def test_play_every_scene(answers):
    """Each scene played as a learner would (its keys pressed by hand), its caption checked. With
    the right answers the same app then goes back from every scene to the one before and forward
    again (Enter pressing the keys): each scene's state comes back bit for bit (one walk fewer than
    a test of its own)."""
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        n = len(LESSON.scenes)
        seen_sections = []
        states = []  # each scene's state as it begins
        for k, scene in enumerate(LESSON.scenes):
            assert band.index == k
            states.append(state_of(app.session))
            assert band.border_title == f"Lesson {k + 1}/{n} · {scene.label}"
            seen_sections.append(scene.section)
            # the panes the scene talks about are highlighted, and only those
            for pane in app.query("#main > Pane"):
                assert pane.has_class("lesson-focus") == (pane.id in scene.panes), (scene.label, pane.id)
            q = scene.question
            if q is not None:
                assert "press" in str(band.render())
                choice = q.answer if answers == "right" else next(c for c in q.choices if c != q.answer)
                await pilot.press(KEYS[choice])
                await settle(app, pilot)
            for key in scene.wait_keys:
                await pilot.press(key)
                await settle(app, pilot)
                if scene.section == "S10" and key == "s":  # the real divergence, before the learner undoes it
                    assert app.session.divergence is not None
                    assert "DIVERGED" in text_of(app.query_one(StatusBar))
                if key == "x":  # the chain-rule view defines its symbols where it has room
                    shown = screen(app)
                    assert "x[p,i]: layer1's input" in shown and "dz1[p,j]: dLoss/d" in shown
                await _close_screens(app, pilot)
            await pilot.pause(0.15)  # the band re-reads the state (it polls during runs)
            if answers == "right":  # every pane, row or line the caption names is on screen
                check_scene(app, band, screen(app), (120, 36))
            shown = str(band.render())
            check_numbers(app, band, scene.caption, band.caption_text)
            if q is not None:
                verdict = "✓ right" if answers == "right" else "✗ not quite"
                assert verdict in shown, shown
                check_numbers(app, band, q.why, shown)
            assert band.done
            await pilot.press("enter")
            await settle(app, pilot)
        assert band.index == n - 1
        assert "last scene" in str(app.query_one(Narration).render())
        assert app.session.divergence is None  # the exploded step was undone
        if answers == "right":
            await _back_and_forward_again(app, pilot, band, states)
    assert seen_sections[0] == "S1" and seen_sections[-1] == "S15"
    sections = [int(s[1:]) for s in seen_sections]
    assert sections == sorted(sections) and set(sections) == set(range(1, 16))


@pytest.mark.slow
async def test_a_question_comes_before_its_reveal():
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        # to S7 (in S5 the first Enter presses → three times, the second goes on)
        for key in ("enter", "enter", "f", "enter", "enter", "enter", "enter", "enter"):
            await pilot.press(key)
            await settle(app, pilot)
        assert band.scene.section == "S7" and band.scene.question is not None
        await pilot.press("b")  # the reveal, before a prediction: refused
        await settle(app, pilot)
        assert app.session.phase == "forward"
        assert "First your prediction" in str(app.query_one(Narration).render())
        await pilot.press("enter")  # Enter does not skip the question either
        await settle(app, pilot)
        assert band.index == 6 and app.session.phase == "forward"
        await pilot.press("plus", "b")
        await settle(app, pilot)
        assert app.session.phase == "backward" and band.done


def state_of(s: Session) -> tuple:
    """Everything that must come back bit for bit: parameters, optimizer state, step, place in time."""
    opt = {k: (v.tobytes() if isinstance(v, np.ndarray) else v) for k, v in s.optimizer.state_dict().items()}
    return (s.model.params.tobytes(), s.optimizer.name, opt, s.lr, s.step, s.phase, s.branch, s.position)


async def _back_and_forward_again(app, pilot, band: LessonBand, states: list[tuple]) -> None:
    """From the last scene, Backspace to every scene before it and Enter forward again: each scene's
    state (``states``, as the walk first reached it) comes back bit for bit."""
    n = len(states)

    async def enter_until(index: int) -> None:
        """Enter through the current scene (answering, letting Enter press its keys) to ``index``."""
        while band.index < index:
            if band.scene.question is not None and band.answer is None:
                await pilot.press(KEYS[band.scene.question.answer])
            await pilot.press("enter")
            await settle(app, pilot)
            await _close_screens(app, pilot)

    assert len({st[0] for st in states}) >= 4  # the model really changed along the way (steps 0, 12, 20, 41)
    for k in range(n - 2, -1, -1):  # Backspace from every scene to the one before
        await pilot.press("backspace")
        await settle(app, pilot)
        assert band.index == k
        assert state_of(app.session) == states[k], LESSON.scenes[k].label
    for k in range(1, n):  # and forward again
        await enter_until(k)
        assert state_of(app.session) == states[k], LESSON.scenes[k].label
    # the learner's own detour in a scene (an extra step) makes the next scene play from there
    await pilot.press("backspace", "backspace")
    await settle(app, pilot)
    assert state_of(app.session) == states[n - 3]


def test_a_changed_state_is_detected():
    """The comparison above can fail: one bit of one parameter differs."""
    s = Session.create()
    a = state_of(s)
    s.model.params[3] = np.nextafter(s.model.params[3], np.inf)
    assert state_of(s) != a


async def test_escape_leaves_lesson_mode_and_keeps_the_model():
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for key in ("enter", "enter", "f", "enter"):
            await pilot.press(key)
            await settle(app, pilot)
        before = state_of(app.session)
        await pilot.press("escape")
        await settle(app, pilot)
        assert not app.query(LessonBand)
        assert not app.query(".lesson-focus")
        assert state_of(app.session) == before
        assert "Free play" in str(app.query_one(Narration).render())
        await pilot.press("b", "enter")  # every key is the app's again
        await settle(app, pilot)
        assert app.session.phase == "backward"


async def test_space_and_right_go_on_only_where_unambiguous():
    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        await pilot.press("space")  # S1 plays and waits for nothing: next scene
        await settle(app, pilot)
        assert band.index == 1 and not app.running
        await pilot.press("right", "right")  # S2 -> S3 (logits), which waits for f: there → moves the position
        await settle(app, pilot)
        assert band.index == 2 and app.position == 1
        for key in ("f", "enter", "enter"):  # to S5: it waits for →, which moves the position
            await pilot.press(key)
            await settle(app, pilot)
        assert band.index == 4
        await pilot.press("right")
        await settle(app, pilot)
        assert band.index == 4 and app.position == 2


async def test_a_key_script_drives_the_lesson():
    from tui_trainer.keys import parse_script

    keys = parse_script("enter enter f enter enter right right right enter backspace")
    app = LessonApp(lesson=LESSON, keys=keys)
    async with app.run_test(size=(120, 36)) as pilot:
        while app.player.playing:
            await pilot.pause(0.05)
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        assert band.index == 4 and app.position == 0  # S5 again, as it began
        assert app.session.forward_result is not None


@pytest.mark.slow
async def test_a_teachers_lesson_on_another_text():
    lesson = load_lesson(DATA / "teacher_lesson.toml")
    assert len(lesson.scenes) == 5 and lesson.text is not None
    session = Session.create(text=lesson.text)
    app = LessonApp(session, lesson=lesson)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        for k, scene in enumerate(lesson.scenes):
            assert band.index == k
            if scene.question is not None:
                await pilot.press(KEYS[scene.question.answer])
            for key in scene.wait_keys:
                await pilot.press(key)
                await settle(app, pilot)
            await pilot.pause(0.15)
            check_numbers(app, band, scene.caption, band.caption_text)
            await pilot.press("enter")
            await settle(app, pilot)
        assert band.index == 4
        assert "cat" in session.data.vocab.tokens and app.session.step > 0


# --- lesson files and the command line ----------------------------------------------------------


@pytest.mark.slow
def test_the_cli_runs_the_teachers_lesson(monkeypatch):
    """The whole path from the command line: --file, the lesson's own text, a key script."""
    apps = []
    run = TrainerApp.run

    def headless(self, **kw):
        apps.append(self)
        return run(self, headless=True, size=(100, 30))

    monkeypatch.setattr(TrainerApp, "run", headless)
    keys = "enter f enter enter + b enter"
    assert main(["lesson", "--file", str(DATA / "teacher_lesson.toml"), "--keys", keys, "--exit-after"]) == 0
    (app,) = apps
    assert app.lesson.title == "The cat and the dog"
    assert "cat" in app.session.data.vocab.tokens
    # the script answered, pressed b through the lesson, and its last Enter played scene 5's 30 steps
    assert app.session.step == 30 and app.session.branch == 0


BAD = {
    "no title": (
        '[[scene]]\ncaption = "hello"\n',
        "scene 1: missing 'title'",
    ),
    "unknown key token": (
        '[[scene]]\ntitle = "one"\ncaption = "hi"\n\n[[scene]]\ntitle = "two"\ncaption = "x"\nkeys = "f Q"\n',
        "scene 2 ('two'): keys: key script token 2 'Q' is not a key",
    ),
    "unknown placeholder": (
        '[[scene]]\ntitle = "one"\ncaption = "loss {los}"\n',
        "scene 1 ('one'): caption: unknown placeholder {los}",
    ),
    "not TOML": (
        "this is not [toml\n",
        "not valid TOML",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_lesson_files_are_one_line_and_exit_2(tmp_path, capsys, case):
    text, problem = BAD[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["lesson", "--file", str(path)]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith(f"tui-trainer: error: {path}:"), lines[0]
    assert problem in lines[0], lines[0]
    assert "Traceback" not in out.err


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[lesson]\ntitle = "t"\n', "no scenes"),
        ('[[scene]]\ntitle = "a"\ncaption = "x"\nwait = "enter"\n', "steers the lesson itself"),
        ('[[scene]]\ntitle="a"\ncaption="x"\nwait="b"\n[scene.question]\nask="?"\nanswer="y"\nwhy=""', "answer"),
        ('[[scene]]\ntitle = "a"\ncaption = "x"\n[scene.question]\nask = "?"\nanswer = "+"\nwhy = ""\n', "needs keys"),
        ('[[scene]]\ntitle = "a"\ncaption = "{lr:.3f}"\n', "takes no format"),
        ('[[scene]]\ntitle = "a"\ncaption = "a { b"\n', "literal braces"),
        ('[[scene]]\ntitle = "a"\ncaption = "x"\npanes = ["status"]\n', "unknown pane"),
        ('[[scene]]\ntitle = "a"\ncaption = "x"\ntypo = 1\n', "unknown key 'typo'"),
        ('[lesson]\ncorpus = "missing.txt"\n[[scene]]\ntitle = "a"\ncaption = "x"\n', "is not a file"),
    ],
)
def test_more_bad_lesson_files(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert problem in str(e.value) and "\n" not in str(e.value)


def test_a_missing_or_binary_lesson_file(tmp_path, capsys):
    assert main(["lesson", "--file", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read it" in capsys.readouterr().err
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["lesson", "--file", str(path)]) == 2
    assert "not a UTF-8 text file" in capsys.readouterr().err


def test_the_bundled_lesson_follows_the_lessons_sections():
    sections = [s.section for s in LESSON.scenes]
    assert sections[0] == "S1" and sections[-1] == "S15"
    assert [int(x[1:]) for x in sections] == sorted(int(x[1:]) for x in sections)
    assert {int(x[1:]) for x in sections} == set(range(1, 16))
    assert sum(s.question is not None for s in LESSON.scenes) >= 3


async def test_backspace_after_loading_a_checkpoint_says_why_not(tmp_path):
    """C replaces the session: the scenes recorded before it are on the old one's timeline."""
    app = LessonApp(lesson=LESSON, output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        for key in ("enter", "enter", "f", "c", "C"):
            await pilot.press(key)
            await settle(app, pilot)
        assert band.index == 2
        step_before = app.session.step
        await pilot.press("backspace")
        await settle(app, pilot)
        assert band.index == 2 and app.session.step == step_before
        assert "checkpoint was loaded" in str(app.query_one(Narration).render())


async def test_help_lists_the_lesson_keys_first_only_in_lesson_mode():
    from rich.table import Table

    from tui_trainer.keymap import KEYMAP
    from tui_trainer.lesson.band import LESSON_KEYS
    from tui_trainer.screens.help import HelpScreen

    def rows(app) -> list[str]:
        table = app.screen.query_one("#keys").render()._renderable
        assert isinstance(table, Table)
        return list(table.columns[0].cells)

    app = LessonApp(lesson=LESSON)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert rows(app) == [k for k, _ in LESSON_KEYS] + [e.shown for e in KEYMAP]
        await pilot.press("escape")  # closes the help; the lesson goes on
        assert app.query(LessonBand)
        await pilot.press("escape")  # free play
        await pilot.pause()
        assert not app.query(LessonBand)
        await pilot.press("question_mark")
        await pilot.pause()
        assert rows(app) == [e.shown for e in KEYMAP]
