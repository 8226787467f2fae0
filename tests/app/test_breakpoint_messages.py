"""The sentence for each reason a condition cannot be read (core gives a code and data;
tui_trainer/narrate_breakpoints.py words it): train --until prints it, the / form shows it."""

from __future__ import annotations

import pytest
from conftest import settle
from textual.widgets import Input, Static

from core import Session
from core.breakpoints import CODES, BreakpointError, parse
from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.narrate_breakpoints import NARRATED, breakpoint_error
from tui_trainer.screens.timeline import BreakpointInput, ForkForm

USAGE = "use total<X, loss<X, val<X, p(WORD)>X, grad_norm>X, step>=N, prev(H)>X, attn_entropy(H)<X, loss_up, "
USAGE += "all_correct or nonfinite (comma = or)"
TWO_BY_TWO = "this GPT has 2 heads (0-1) in 2 layers (0-1)"

# code, the model (None: the lesson's MLP; else the GPT's (layers, heads)), expression, the sentence
SAID = [
    ("empty_condition", None, "total<1,,loss_up",
     "empty condition in 'total<1,,loss_up': write conditions separated by commas"),
    ("unreadable", None, "lossy<3", f"cannot read 'lossy<3': {USAGE}"),
    ("not_a_target", None, "p(hate)>0.5",
     "'p(hate)>0.5': 'hate' is not a target of the tracked positions (they predict: we, love, deep, learning)"),
    ("probability_range", None, "p(we)>2", "'p(we)>2': a probability is between 0 and 1"),
    ("no_attention", None, "prev(0)>0.5",
     "'prev(0)>0.5': this model has no attention (the MLP); prev(H) needs --model gpt"),
    ("not_a_number", None, "loss<<3", "'loss<<3': '<3' is not a number"),
    ("not_finite", None, "step>=inf", "'step>=inf': the number must be finite"),
    ("not_whole", (2, 2), "prev(a)>0.5", f"'prev(a)>0.5': write prev(H) or prev(L.H) with whole numbers; {TWO_BY_TWO}"),
    ("no_layer", (2, 2), "attn_entropy(2.0)<1", f"'attn_entropy(2.0)<1': there is no layer 2: {TWO_BY_TWO}"),
    ("no_head", (2, 2), "prev(1.2)>0.5", f"'prev(1.2)>0.5': there is no head 2: {TWO_BY_TWO}"),
    ("no_head", (1, 1), "prev(1)>0.5", "'prev(1)>0.5': there is no head 1: this GPT has 1 head (0-0) in 1 layer (0)"),
    ("previous_range", (2, 2), "prev(0)>1.5", "'prev(0)>1.5': a weight on the previous token is between 0 and 1"),
    ("entropy_range", (2, 2), "attn_entropy(0)<-0.5", "'attn_entropy(0)<-0.5': an entropy is 0 or more (nats)"),
]  # fmt: skip


def test_every_code_is_worded_and_said_here():
    assert set(CODES) == NARRATED == {code for code, *_ in SAID}


@pytest.mark.parametrize("code,gpt,expr,sentence", SAID)
def test_train_until_prints_the_sentence(capsys, code, gpt, expr, sentence):
    model = ["--model", "gpt", "--layers", str(gpt[0]), "--heads", str(gpt[1])] if gpt else []
    assert cli.main(["train", *model, "--until", expr]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"tui-trainer: error: --until: {sentence}\n"
    with pytest.raises(BreakpointError) as e:  # (the sentence is the narration of this code)
        parse(expr, ["we", "love", "deep", "learning"], gpt)
    assert e.value.code == code and breakpoint_error(e.value) == sentence


async def submit(pilot, form, text: str) -> str:
    """Enter ``text`` in the form; the error it shows ('' if the form closed)."""
    form.query_one(Input).value = text
    await pilot.press("enter")
    await pilot.pause()
    return str(form.query_one("#error", Static).render()) if pilot.app.screen is form else ""


async def test_the_slash_form_shows_the_sentence():
    """One app: the sentences a 2x2 GPT gives (all but the MLP's), then, F: model mlp, the MLP's."""
    app = TrainerApp(Session.create(model="gpt", layers=2, heads=2))
    async with app.run_test(size=(120, 36)) as pilot:
        for model in ("gpt", "mlp"):
            if model == "mlp":
                await pilot.press("F")
                assert isinstance(app.screen, ForkForm)
                assert await submit(pilot, app.screen, "model mlp") == ""
                await settle(app, pilot)
                assert app.session.model.kind == "mlp"
            await pilot.press("slash")
            form = app.screen
            assert isinstance(form, BreakpointInput)
            for code, gpt, expr, sentence in SAID:
                if (code == "no_attention") == (model == "mlp") and gpt in (None, (2, 2)):
                    assert await submit(pilot, form, expr) == sentence, code
            await pilot.press("escape")
