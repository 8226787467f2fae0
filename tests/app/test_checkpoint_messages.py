"""The sentence for each reason a checkpoint cannot be loaded (core.checkpoint_read.CheckpointError,
a code and its data; worded by tui_trainer/narrate_checkpoint.py through narrate_errors.say), where a
user sees it: --load on the command line, C in the app. Each sentence is written out: the words of
before the reasons became codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import narration

from core import Session
from core.checkpoint import CheckpointError, save_checkpoint
from core.config import ConfigError
from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.narrate_checkpoint import CODES
from tui_trainer.narrate_errors import say

E = CheckpointError
MEMBER = {"member": "params"}

# an error as core raises it, the sentence a user reads for it
SENTENCES = [
    (E("not_regular_file", name="f.npz", kind="fifo"), "cannot read checkpoint f.npz: it is not a regular file (fifo)"),
    (E("too_large", name="f.npz", limit=1 << 30), "cannot read checkpoint f.npz: larger than 1024 MB"),
    (E("unreadable", name="f.npz", error=PermissionError(13, "Permission denied")),
     "cannot read checkpoint f.npz: Permission denied"),
    (E("unreadable", name="f.npz", error=OSError("disk gone")), "cannot read checkpoint f.npz: disk gone"),
    (E("not_usable", name="f.npz", reason=E("no_header")),
     "f.npz is not a usable tui-trainer checkpoint: no checkpoint header"),
    (E("other_vocabulary", name="f.npz", vocab=("<BOS>", "a", "b", "c", "d", "e", "f"), given=("<BOS>", "x")),
     "f.npz was trained on another vocabulary: it has 7 words (<BOS> a b c d e ...), "
     "the given text or --vocab has 2 (<BOS> x)"),
    (E("not_an_archive"), "not a checkpoint archive"),
    (E("damaged", error="BadZipFile"), "damaged or truncated (BadZipFile)"),
    (E("would_unpack", size=(64 << 20) + 600_000, limit=32 << 20), "it would unpack to 65 MB (the limit is 32 MB)"),
    (E("would_unpack", size=3000 << 20, limit=2 << 30), "it would unpack to 3,000 MB (the limit is 2048 MB)"),
    (E("unexpected_member", member="x" * 70), f"unexpected member '{'x' * 60}' in the archive"),
    (E("member_missing", **MEMBER), "params is missing"),
    (E("member_dtype", member="params", dtype=np.dtype(">f8"), dtypes=("<f8", "f")),
     "params holds >f8 numbers, not <f8 or f"),
    (E("member_dtype", member="header", dtype=np.dtype("<f8"), dtypes=("|u1",)),
     "header holds float64 numbers, not |u1"),
    (E("member_shape", member="params", shape=(1100, 1), expected=(1100,)),
     "params has shape (1100, 1), not (1100,)"),
    (E("member_too_large", **MEMBER), "params is larger than it can be"),
    (E("member_size", **MEMBER), "params's size in the archive does not match its shape"),
    (E("member_truncated", **MEMBER), "params is truncated"),
    (E("not_npy", member="params", error="ValueError"), "params is not a NumPy array (ValueError)"),
    (E("fortran_order", **MEMBER), "params is stored in Fortran order"),
    (E("impossible_shape", **MEMBER), "params has an impossible shape"),
    (E("no_header"), "no checkpoint header"),
    (E("damaged_header"), "damaged header"),
    (E("not_a_header"), "not a checkpoint header"),
    (E("version", version=10**30, readable=(1, 2)), "checkpoint version 1000000000000000000000000000000, "
     "this program reads 2"),
    (E("version", version="2", readable=(1, 2)), "checkpoint version '2', this program reads 2"),
    (E("missing_field", field="lr"), "incomplete header (no 'lr')"),
    (E("bad_step_or_optimizer"), "bad step or optimizer"),
    (E("bad_lr", lr="0.1"), "bad learning rate '0.1'"),
    (E("bad_lr", lr=1e300), "bad learning rate 1e+300"),
    (E("bad_lr", lr=-(10**50)), "bad learning rate an integer of 51 digits"),
    (E("bad_vocab"), "bad vocabulary"),
    (E("history_optimizer"), "unknown optimizer in the history"),
    (E("bad_history_stride"), "bad history stride"),
    (E("history_columns"), "history columns do not match its step"),
    (E("bad_field", field="tensors"), "bad 'tensors' in the header"),
    (E("optimizer_arrays", arrays=["m", "m", "v"], optimizer="adam"), "optimizer state ['m', 'm', 'v'] is not adam's"),
    (E("optimizer_arrays", arrays=["m" * 80], optimizer="sgd"), f"optimizer state ['{'m' * 58} is not sgd's"),
    (E("optimizer_scalars", optimizer="adam"), "optimizer scalars are not adam's"),
    (E("bad_optimizer_scalar", scalar="t", value=10**400), "bad optimizer 't': an integer of 401 digits"),
    (E("bad_optimizer_scalar", scalar="t", value=5.5), "bad optimizer 't': 5.5"),
    (E("no_config"), "incomplete header (config)"),
    (E("bad_config_field", field="text", value="a" * 50), f"bad 'text' in its config: '{'a' * 36}..."),
    (E("bad_config_field", field="divergence_loss", value=None), "bad 'divergence_loss' in its config: None"),
    (E("text_too_long"), "its text is longer than the limit"),
    (E("settings", error=ConfigError("bad_val_every", val_every=0)),
     "its settings do not build a session (val_every must be at least 1)"),
    (E("settings", error=KeyError("x")), "its settings do not build a session ('x')"),
    (E("settings", error=E("too_many_parameters", parameters=25_185_027, limit=20_000_000)),
     "its settings do not build a session (its model would have 2.52e+07 parameters (the limit is 20,000,000))"),
    (E("too_many_parameters", parameters=10**10, limit=20_000_000),
     "its model would have 1e+10 parameters (the limit is 20,000,000)"),
    (E("vocab_mismatch"), "its vocabulary does not match its own text"),
    (E("tokenizer_mismatch"), "its tokenizer does not match the one its text and settings make"),
    (E("tensors_mismatch"), "its tensors do not match the model it describes"),
    (E("model_mismatch", model="y" * 50), f"its model '{'y' * 39} is not the one its settings build"),
    (E("model_mismatch", model="gpt"), "its model 'gpt' is not the one its settings build"),
    (E("params_do_not_fit"), "the parameters do not fit the model it describes"),
    (E("optimizer_state_missing", array="v"), "optimizer state 'v' is missing or the wrong size"),
    (E("optimizer_state_does_not_fit"), "optimizer state does not fit"),
    (E("history_missing"), "history is missing"),
    (E("history_does_not_fit", version=2, reason=E("member_shape", member="hist.loss", shape=(6,), expected=(5,))),
     "its history does not fit its step and text (hist.loss has shape (6,), not (5,))"),
    (E("history_does_not_fit", version=1, reason=E("member_missing", member="hist.lr")),
     "its history does not fit its step (hist.lr is missing)"),
    (E("history_out_of_order"), "its history's steps are out of order"),
    (E("history_does_not_add_up"), "history target_probs does not add up"),
]  # fmt: skip


def test_every_code_is_worded_and_said_here():
    assert CODES == set(CheckpointError.CODES) == {e.code for e, _ in SENTENCES}


@pytest.mark.parametrize("error,sentence", SENTENCES, ids=[f"{i} {e.code}" for i, (e, _) in enumerate(SENTENCES)])
def test_each_reason_s_sentence(error, sentence):
    assert say(error) == sentence


# crafted files: the header's change, the sentence after 'NAME is not a usable tui-trainer checkpoint: '
FILES = [
    ({"optimizer_scalars": {"t": -1}}, "bad optimizer 't': -1"),
    ({"version": 3}, "checkpoint version 3, this program reads 2"),
    ({"model": "gpt"}, "its model 'gpt' is not the one its settings build"),
    ({"config": {"val_every": 0}}, "its settings do not build a session (val_every must be at least 1)"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Each crafted file of FILES (a lesson run of 2 steps, edited) -> the whole sentence; and a directory."""
    folder = tmp_path_factory.mktemp("ck")
    s = Session.create()
    s.run(2)
    with np.load(save_checkpoint(s, folder / "good.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays.pop("header").tobytes())
    out = {}
    for i, (change, sentence) in enumerate(FILES):
        h = json.loads(json.dumps(header))
        for k, v in change.items():
            h[k] = {**h[k], **v} if isinstance(v, dict) else v
        buf = io.BytesIO()
        np.savez(buf, header=np.frombuffer(json.dumps(h).encode(), dtype=np.uint8), **arrays)
        (folder / f"bad{i}.npz").write_bytes(buf.getvalue())
        out[folder / f"bad{i}.npz"] = f"bad{i}.npz is not a usable tui-trainer checkpoint: {sentence}"
    (folder / "dir.npz").mkdir()
    out[folder / "dir.npz"] = "cannot read checkpoint dir.npz: it is not a regular file (directory)"
    return out


def test_on_the_command_line(capsys, files):
    for path, sentence in files.items():
        assert cli.main(["train", "--load", str(path)]) == 2
        assert capsys.readouterr().err == f"tui-trainer: error: {sentence}\n"


async def test_in_the_app(files):
    app = TrainerApp(Session.create())
    async with app.run_test(size=(100, 30)) as pilot:
        for path, sentence in files.items():
            app.files.load_checkpoint(str(path))
            await pilot.pause()
            assert narration(app) == f"Checkpoint not loaded: {sentence}. The session is unchanged."
