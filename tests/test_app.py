"""The app driven headless with Pilot: every key's effect on the session and the panes."""

import textwrap

import numpy as np
import pytest

from core import BACKWARD, FORWARD, READY, Session
from tui_trainer.app import TrainerApp
from tui_trainer.screens.help import KEY_HELP, HelpScreen
from tui_trainer.widgets.gradients import GradientPane
from tui_trainer.widgets.logits import LogitsPane
from tui_trainer.widgets.losscurve import LossPane
from tui_trainer.widgets.softmax import SoftmaxPane
from tui_trainer.widgets.status import Narration


def text_of(widget) -> str:
    """What a widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=max(widget.content_size.width, 20), record=True, file=None, color_system=None)
    with console.capture() as cap:
        console.print(widget.render())
    return cap.get()


def narration(app) -> str:
    return str(app.query_one(Narration).render())


async def settle(app, pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_start_screen_shows_the_lesson_and_hints():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.session.step == 0 and app.session.phase == READY
        assert "never seen 'we love deep learning'" in narration(app)
        assert "Press f" in text_of(app.query_one(LogitsPane))


async def test_f_b_u_in_order():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f")
        s = app.session
        assert s.phase == FORWARD
        p = s.forward_result.target_probs[0]
        assert f"gives 'we' {p:.1%}" in narration(app)
        soft = text_of(app.query_one(SoftmaxPane))
        assert "1.000000" in soft and "-log P(we)" in soft
        assert "◀" in text_of(app.query_one(LogitsPane))
        await pilot.press("b")
        assert s.phase == BACKWARD
        grads = text_of(app.query_one(GradientPane))
        assert "dL/dlogits" in grads and "P - target" in grads
        assert "Backward pass" in narration(app)
        await pilot.press("u")
        assert s.phase == READY and s.stale and s.step == 1
        assert "update 1" in text_of(app.query_one(GradientPane))
        assert "stale" in narration(app)


async def test_out_of_order_keys_say_what_they_did():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("b")
        assert app.session.phase == BACKWARD
        assert "Ran the forward pass first" in narration(app)
        await pilot.press("u", "u")
        assert app.session.step == 2
        assert "first" in narration(app)
        await pilot.press("z", "z", "z", "z")
        assert app.session.step == 0
        await pilot.press("z")
        assert "nothing to undo" in narration(app)


async def test_step_and_run_lower_the_loss():
    app = TrainerApp(run_n=50)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")
        assert app.session.step == 1
        await pilot.press("r")
        await settle(app, pilot)
        s = app.session
        assert s.step == 51 and not app.running
        assert s.history[-1].loss < s.history[0].loss / 10
        assert "Ran 50 steps" in narration(app)
        assert "step 1" in text_of(app.query_one(LossPane))


async def test_typed_count_before_r():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "5")
        assert app.count == "25"
        await pilot.press("r")
        await settle(app, pilot)
        assert app.session.step == 25 and app.count == ""
        await pilot.press("7", "escape")
        assert app.count == "" and "cleared" in narration(app)


async def test_keys_during_a_run_are_refused_or_stop_it():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")  # play until paused
        await pilot.pause(0.2)
        assert app.running
        await pilot.press("f", "z", "o")
        assert "press space or escape to stop" in narration(app)
        await pilot.press("right")  # navigation stays live
        await pilot.press("escape")
        await settle(app, pilot)
        assert not app.running and app.session.step > 0
        s = app.session
        assert len(s.history) == s.step
        assert s.optimizer.name == "sgd"


async def test_positions_move_with_arrows_and_hl():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "right")
        assert app.position == 1
        assert "after '<BOS> we' the model gives 'love'" in narration(app)
        await pilot.press("l", "l", "l")  # wraps around
        assert app.position == 0
        await pilot.press("h")
        assert app.position == 3
        assert "learning" in text_of(app.query_one(SoftmaxPane))


async def test_optimizer_and_learning_rate_keys():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o")
        assert app.session.optimizer.name == "momentum"
        await pilot.press("o")
        assert app.session.optimizer.name == "adam"
        await pilot.press("o")
        assert app.session.optimizer.name == "sgd"
        await pilot.press("right_square_bracket")
        assert app.session.lr == 0.3
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.session.lr == 0.03
        assert "0.1 → 0.03" in narration(app)


async def test_divergence_is_shown_and_undo_recovers():
    app = TrainerApp(Session.create(lr=50.0))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await settle(app, pilot)
        s = app.session
        assert s.divergence is not None
        assert "Diverged at step" in narration(app) and "too large" in narration(app)
        for pane in app.query("#main > Pane"):
            assert "nan" not in text_of(pane).lower()
        assert np.isfinite(s.model.params).all()
        await pilot.press("left_square_bracket")
        assert s.divergence is None and s.lr == 30.0


async def test_help_screen_lists_every_key():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
    keys = {k for b in app.BINDINGS for k in b.key.split(",")}
    documented = " ".join(k for k, _ in KEY_HELP)
    for key in ("f", "b", "u", "s", "r", "space", "escape", "z", "o", "g", "p", "v", "q", "h", "l"):
        assert key in keys and key in documented


async def test_log_scale_and_progress_table_toggles():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("1", "0", "r")
        await settle(app, pilot)
        pane = app.query_one(LossPane)
        await pilot.press("g")
        assert pane.log_scale and "log" in pane.border_title
        await pilot.press("p")
        assert pane.show_table and "P(we)" in text_of(pane)


async def test_compact_layout_and_too_small():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        root = app.query_one("#root")
        assert root.has_class("compact")
        await pilot.press("f")
        assert app.query_one(SoftmaxPane).display
        await pilot.press("b")
        assert app.query_one(GradientPane).display and not app.query_one(SoftmaxPane).display
        await pilot.press("v")
        assert app.query_one(LossPane).display
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert root.has_class("too-small")
        await pilot.press("s")  # still answers, but nothing would show it: the state waits
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert not root.has_class("too-small") and not root.has_class("compact")
        assert app.session.step == 0


async def test_screenshot_key_writes_an_svg(tmp_path):
    app = TrainerApp(screenshot_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s", "ctrl+s")
        files = list(tmp_path.glob("*.svg"))
        assert [f.name for f in files] == ["tui-trainer-step-00001.svg"]
        assert "<svg" in files[0].read_text()
        assert str(files[0]) in narration(app)


@pytest.mark.parametrize("key", ["q"])
async def test_quit_during_a_run(key):
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        await pilot.pause(0.1)
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0


def test_welcome_quotes_a_long_text_briefly():
    from tui_trainer import narrate

    long = " ".join(f"w{i}" for i in range(40)) + ". second sentence here. and a third"
    text = narrate.welcome(Session.create(text=long))
    assert "'w0 w1 w2 w3 w4 w5 w6 w7 …' (and 2 more sentences)" in text
    assert "w8" not in text
    assert "never seen 'we love deep learning'. Press f" in narrate.welcome(Session.create())


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_a_long_narration_is_shown_whole(size):
    app = TrainerApp()
    async with app.run_test(size=size) as pilot:
        await pilot.press("u")  # runs forward and backward first: three sentences
        await pilot.pause()
        bar = app.query_one(Narration)
        lines = textwrap.wrap(narration(app), width=bar.content_size.width)
        assert "stale" in narration(app) and len(lines) >= 3
        assert bar.content_size.height >= len(lines)
        assert "Update 1" in narration(app)


async def test_step_counter_and_loss_stay_live_when_full_refreshes_are_slow(monkeypatch):
    import tui_trainer.app as appmod
    from tui_trainer.widgets.status import StatusBar

    monkeypatch.setattr(appmod, "RUN_UI_SHARE", 1e-6)  # as if painting every pane were very slow
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        shown, full = [], []
        bar, loss = app.query_one(StatusBar), app.query_one(LossPane)
        real_bar, real_full = bar.show, app.refresh_panes
        monkeypatch.setattr(bar, "show", lambda s, *a, **k: (shown.append(s.step), real_bar(s, *a, **k)))
        monkeypatch.setattr(app, "refresh_panes", lambda: (full.append(1), real_full()))
        await pilot.press("space")
        await pilot.pause(2.0)
        await pilot.press("escape")
        await settle(app, pilot)
        # full refreshes starved (one at the start), the status line every 0.4 s, with new steps
        assert len(full) <= 3 and len(shown) >= 4
        assert len(set(shown)) >= 3 and loss.is_mounted


async def test_gradient_numbers_survive_the_smallest_layout():
    app = TrainerApp()
    async with app.run_test(size=(60, 18)) as pilot:
        await pilot.press("f", "b")
        await pilot.pause()
        pane = app.query_one(GradientPane)
        shown = text_of(pane)
        assert pane.display and pane.content_size.width < 40
        for number in ("1.926", "0.943", "-0.906", "+0.121"):  # layer norms, dLoss/dlogit
            assert number in shown, (number, shown)


async def test_keys_wait_while_the_terminal_is_too_small():
    app = TrainerApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press("s", "2", "0", "r", "]")
        await settle(app, pilot)
        assert app.session.step == 0 and app.session.lr == 0.1 and not app.running
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        await pilot.press("s")
        assert app.session.step == 1


async def test_v_on_a_wide_screen_says_why_nothing_changed():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("v")
        assert "Every pane is on screen" in narration(app)


async def test_status_line_drops_its_hints_when_the_step_number_is_long():
    from tui_trainer.widgets.status import StatusBar

    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        app.session.step = 102_117
        bar = app.query_one(StatusBar)
        bar.show(app.session, True, "25")
        await pilot.pause()
        line = str(bar.render())
        assert "● running" in line and "count 25_" in line and "(space/esc stops)" not in line
        assert len(line) <= bar.content_size.width
        bar.show(app.session, False, "")
        assert "running" not in str(bar.render())


def test_backward_narration_shows_tiny_gradients_as_numbers():
    from tui_trainer import narrate

    s = Session.create(optimizer="adam", lr=0.03)
    s.run(1500)
    s.backward()
    text = narrate._backward(s, 0)
    assert "-0.000" not in text and " 0.00 " not in text and "0.00 →" not in text
    assert "e-0" in text  # tiny norms in scientific notation


async def test_cycling_the_optimizer_mentions_its_usual_learning_rate():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("o")  # sgd -> momentum, lr stays 0.1
        assert app.session.optimizer.name == "momentum" and app.session.lr == 0.1
        assert "momentum's usual lr is 0.01" in narration(app)
