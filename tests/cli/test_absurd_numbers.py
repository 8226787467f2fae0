"""Absurd numbers: refused before anything is built, or computed so that they work (issue 23)."""

from __future__ import annotations

import numpy as np
import pytest

import core.data
import tui_trainer.app
from core import Session
from core.generate import sample
from tui_trainer import inputs
from tui_trainer.cli import main


@pytest.mark.parametrize("command", [[], ["train"], ["sample"], ["sweep", "--lr", "0.1"]])
@pytest.mark.parametrize("context", ["99999999999999999999999999", "50000000"])
def test_an_absurd_context_is_refused_before_the_data_is_built(command, context, capsys, monkeypatch):
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", lambda self, *a, **k: pytest.fail("the app started"))
    monkeypatch.setattr(core.data, "dataset_from_text", lambda *a, **k: pytest.fail("built the data"))
    assert main([*command, "--context", context]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tui-trainer: error: the model would have") and "the limit is 20,000,000" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("option", ["--until", "--export", "--save-checkpoint"])
def test_an_empty_file_name_or_condition_is_an_error(option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "1", option, ""]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tui-trainer: error: {option}: ") and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("t", [1e-310, 5e-324, 1e-300])
def test_a_tiny_temperature_samples_the_most_likely_word(t):
    s = Session.create()
    s.run(30)
    with np.errstate(over="raise", invalid="raise"):  # no warning either
        words = sample(s.model, s.data, [], 10, t, None, np.random.default_rng(0))
    greedy = sample(s.model, s.data, [], 10, 1e-3, None, np.random.default_rng(0))
    assert [w.word for w in words] == [w.word for w in greedy]
    assert all(w.p == 1.0 for w in words)


def test_sample_with_a_tiny_temperature_on_the_command_line(capsys):
    assert main(["sample", "--steps", "30", "--temperature", "1e-310"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("we love deep learning") and err == ""


def test_the_command_line_s_parameter_limit_is_the_checkpoint_reader_s():
    # (the command line keeps its own copy, so that it parses before core loads)
    from core.checkpoint_read import MAX_PARAMETERS

    assert inputs.MAX_PARAMETERS == MAX_PARAMETERS
