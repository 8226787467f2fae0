"""The app with the GPT: F forks the other model (the curve labels each branch by its model), / runs
until an attention condition holds, and every key of the key table works or says why not."""

from __future__ import annotations

import numpy as np
from conftest import narration, settle, text_of
from textual.widgets import Input, OptionList, Static

from core import Session
from core.attention import head_habits
from tui_trainer.app import TrainerApp
from tui_trainer.keymap import ALWAYS, KEYMAP
from tui_trainer.screens.main import MainScreen
from tui_trainer.screens.timeline import BreakpointInput, ForkForm
from tui_trainer.widgets.base import fmt
from tui_trainer.widgets.losscurve import LossPane


def habits(s: Session) -> tuple[np.ndarray, np.ndarray]:
    """Layer 0's (prev, entropy) per head over the tracked positions, from their own forward pass."""
    h = head_habits(s.model.forward_at(s.data, s.tracked))
    return h.previous[0], h.entropy[0]


async def type_into(pilot, form, text: str) -> str:
    """Submit ``text`` in an input form; the error under it ('' if the form closed)."""
    form.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()
    return str(form.query_one("#error", Static).render()) if pilot.app.screen is form else ""


async def test_fork_the_other_model_and_run_until_an_attention_condition():
    app = TrainerApp(run_n=10)
    async with app.run_test(size=(120, 36)) as pilot:
        s = app.session
        await pilot.press("slash")  # the MLP has no attention: refused, naming the model
        form = app.screen
        assert isinstance(form, BreakpointInput)
        assert "no attention (the MLP)" in await type_into(pilot, form, "prev(0)>0.5")
        await pilot.press("escape", "r")
        await settle(app, pilot)
        await pilot.press("F")
        form = app.screen
        assert isinstance(form, ForkForm)
        for bad, why in [
            ("model", "type model gpt or model mlp"),
            ("model rnn", "unknown model 'rnn'"),
            ("model mlp", "this branch trains the MLP already"),
            ("model gpt adam", "type model gpt or model mlp, alone"),
        ]:
            assert why in await type_into(pilot, form, bad), bad
        assert await type_into(pilot, form, "model gpt") == ""
        assert s.branch == 1 and s.model.kind == "gpt" and s.step == 0
        assert "Branch 1 from step 0 of branch 0: a fresh GPT (3,712 parameters)" in narration(app)
        await pilot.press("r")
        await settle(app, pilot)
        # each branch is what a session of its own model trains: the curve draws both, by model
        mlp, gpt = Session.create(), Session.create(model="gpt")
        mlp.run(10)
        gpt.run(10)
        assert np.array_equal(s.model.params, gpt.model.params)
        curve = app.frame.curve
        assert curve.models == {1: "gpt", 0: "mlp"}
        assert np.array_equal(curve.losses, gpt.branch_history().column("total_loss"))
        assert np.array_equal(dict(curve.others)[0], mlp.branch_history().column("total_loss"))
        legend = text_of(app.query_one(LossPane))
        # (the loss pane of the GPT's layout is narrow: the labels are short, not cut; review finding)
        assert "b1 gpt (this)" in legend and "b0 mlp" in legend, legend
        await pilot.press("B")
        compare = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert "MLP, sgd lr 1" in compare[0] and "GPT, sgd lr 1" in compare[1]
        await pilot.press("escape")
        # / on the GPT: a head out of range names the heads; then a condition that holds a few
        # steps on, found here by training the reference step by step
        values = []
        while len(values) < 30:
            values.append(habits(gpt)[0])
            gpt.train_step()
        head = int(np.argmax(np.abs(values[15] - values[0])))
        mid = (values[0][head] + values[15][head]) / 2
        op = ">" if values[15][head] > values[0][head] else "<"
        expr = f"prev({head}){op}{mid:.4f}"
        want = 10 + next(k for k, v in enumerate(values) if (v[head] > mid if op == ">" else v[head] < mid))
        await pilot.press("slash")
        form = app.screen
        assert "there is no head 4: this GPT has 4 heads (0-3) in 1 layer (0)" in await type_into(
            pilot, form, "prev(4)>0.5"
        )
        assert await type_into(pilot, form, expr) == ""
        await settle(app, pilot)
        assert s.step == want and f"stopped: {expr} holds at step {want}" in narration(app)
        # and what it measured: the reference's value at that step, as the narration writes numbers
        assert f"(head {head} of layer 0: {fmt(values[want - 10][head], 3)} on the previous token" in narration(app)


def respond(app) -> tuple:
    """What a key may change that a user sees: the screen, the narration, the view, the count,
    the loss pane's flags, the speed, and where the session is."""
    s, pane = app.session, app.query_one(LossPane)
    return (
        type(app.screen).__name__,
        narration(app) if isinstance(app.screen, MainScreen) else "",
        app.view,
        app.count,
        (pane.log_scale, pane.show_table, pane.show_positions),
        app.position,
        (s.branch, s.position, s.step, s.phase, s.optimizer.name, s.lr, s.clip),
        getattr(app, "speed", None),
    )


async def test_every_key_works_or_says_why_not_in_gpt_mode(tmp_path):
    app = TrainerApp(Session.create(model="gpt"), run_n=5, output_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        pressed = []
        for entry in KEYMAP:
            for key in entry.keys:
                for name in key.names():
                    if name in ("q", "pagedown", "enter"):  # quit is last; no key script to step through
                        continue
                    app.say("·")  # (a sentence said by the key replaces this)
                    app.count = ""  # (a count is at most 7 digits)
                    before = respond(app)
                    await pilot.press(name)
                    if name == "space":  # play until paused
                        await pilot.pause()
                        await pilot.press("space")
                    await settle(app, pilot)
                    after = respond(app)
                    assert app.return_code is None, name
                    if entry.when != ALWAYS or name not in ("escape",):
                        assert after != before, f"{name} ({key.action}) did nothing and said nothing"
                    if not isinstance(app.screen, MainScreen):  # a view or a form: it opened; close it
                        await pilot.press("escape")
                        await settle(app, pilot)
                    pressed.append(name)
        assert {"f", "b", "u", "x", "w", "T", "F", "slash", "c", "C", "ctrl+s", "e"} <= set(pressed)
        assert list(tmp_path.glob("*.npz")) and list(tmp_path.glob("*.svg")) and list(tmp_path.glob("*.csv"))
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_the_loss_curve_title_fits_the_gpt_layout():
    """A GPT's wide layout gives the loss curve 40 columns: on a text with a validation share its
    title was cut to 'Loss curve: mean, validation (lin…'. It is said shorter where it does not
    fit ('Loss: mean, validation (linear)'), whole where it does."""
    from rich.cells import cell_len

    from tui_trainer.widgets.losscurve import LossPane

    text = "\n".join(f"sentence {i} says word {i % 7} and then {i % 5} more" for i in range(80))
    app = TrainerApp(Session.create(model="gpt", text=text, batch_positions=64))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        pane = app.query_one(LossPane)
        assert pane.border_title == "Loss: mean, validation (linear)", pane.border_title
        assert cell_len(pane.border_title) + 4 <= pane.size.width
        await pilot.resize_terminal(200, 36)  # a wider pane: the whole title again
        await pilot.pause()
        assert pane.border_title == "Loss curve: mean, validation (linear)", pane.border_title
