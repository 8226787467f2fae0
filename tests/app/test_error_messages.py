"""The sentence for each reason core gives as a code (core.reasons.CodedError; worded by
tui_trainer/narrate_errors.py), where a user sees it: the command line, a lesson file, a checkpoint
loaded on the command line or in the app. Each sentence is written out: the same words as before
the errors became codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import narration

from core import Session
from core.checkpoint import save_checkpoint
from core.generate import SamplingError, sample
from core.reasons import CodedError
from core.tokens import TokensError
from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.lesson import LessonError, load_lesson
from tui_trainer.narrate_errors import SAYS, say

PROG = "tui-trainer: error: "

# the --tokens (or a lesson's tokens =) given, its sentence
TOKENS = [
    ("bpe:x", "unknown tokens 'bpe:x': word, char, bpe or bpe:N (N merges)"),
    ("char:3", "char takes no number: only bpe:N does"),
    ("bpe:20001", "bpe:20001: the number of merges must be 0 to 20,000"),
]


def test_every_code_is_worded():
    assert set(SAYS) == {TokensError, SamplingError}
    for cls, says in SAYS.items():
        assert issubclass(cls, CodedError) and set(says) == set(cls.CODES)


@pytest.mark.parametrize("spec,sentence", TOKENS)
def test_tokens_on_the_command_line(capsys, spec, sentence):
    assert cli.main(["train", "--tokens", spec]) == 2  # (argparse reads --tokens: its usage, then the line)
    assert capsys.readouterr().err.splitlines()[-1] == f"{PROG}argument --tokens: {sentence}"


@pytest.mark.parametrize("spec,sentence", TOKENS)
def test_tokens_in_a_lesson_file(tmp_path, spec, sentence):
    path = tmp_path / "bad.toml"
    path.write_text(f'[lesson]\ntokens = "{spec}"\n[[scene]]\ntitle = "a"\ncaption = "x"\n')
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert str(e.value).endswith(f"[lesson] {sentence}"), str(e.value)


def test_a_tokenizer_of_no_kind():  # (no user reaches it: a Tokenizer built in code)
    assert say(TokensError("unknown_kind", kind="x")) == "unknown tokens 'x': word, char or bpe"


@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory):
    """Checkpoints of the lesson whose settings core refuses with a code: name -> (path, sentence)."""
    folder = tmp_path_factory.mktemp("ck")
    s = Session.create()
    s.run(2)
    with np.load(save_checkpoint(s, folder / "good.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays.pop("header").tobytes())
    out = {}
    for spec, sentence in TOKENS:
        h = json.loads(json.dumps(header))
        h["config"]["tokens"] = spec
        buf = io.BytesIO()
        np.savez(buf, header=np.frombuffer(json.dumps(h).encode(), dtype=np.uint8), **arrays)
        name = f"tokens-{spec.replace(':', '-')}.npz"
        (folder / name).write_bytes(buf.getvalue())
        said = f"{name} is not a usable tui-trainer checkpoint: its settings do not build a session ({sentence})"
        out[spec] = (folder / name, said)
    return out


@pytest.mark.parametrize("spec", [spec for spec, _ in TOKENS])
def test_a_checkpoint_on_the_command_line(capsys, bad_checkpoints, spec):
    path, said = bad_checkpoints[spec]
    assert cli.main(["train", "--load", str(path)]) == 2
    assert capsys.readouterr().err == f"{PROG}{said}\n"


async def test_a_checkpoint_loaded_in_the_app(bad_checkpoints):
    app = TrainerApp(Session.create())
    async with app.run_test(size=(100, 30)) as pilot:
        for path, said in bad_checkpoints.values():
            app.files.load_checkpoint(str(path))
            await pilot.pause()
            assert narration(app) == f"Checkpoint not loaded: {said}. The session is unchanged."


# sampling settings (sample(): the command line and the app check theirs first), their sentence
SAMPLING = [
    ({"temperature": 0}, "the temperature must be a number greater than 0, not 0"),
    ({"temperature": float("nan")}, "the temperature must be a number greater than 0, not nan"),
    ({"temperature": "hot"}, "the temperature must be a number greater than 0, not hot"),
    ({"top_k": 0}, "top-k must be at least 1, not 0"),
    ({"max_words": -2}, "max-words must be at least 1, not -2"),
]


@pytest.mark.parametrize("settings,sentence", SAMPLING)
def test_sampling_settings(settings, sentence):
    s = Session.create()
    with pytest.raises(SamplingError) as e:
        sample(s.model, s.data, **settings)
    assert say(e.value) == sentence
