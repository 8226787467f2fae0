"""Crafted and damaged files (issue 23): checkpoint headers and arrays checked before any of it is
used, zip sizes before anything is unpacked; lesson files nested deep or without scenes; a
checkpoint of NaN parameters loads as a diverged state. One clear line each, never a traceback."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from conftest import adam_checkpoint, write_checkpoint

from core import Session
from core import checkpoint_read as reader
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tui_trainer.cli import main
from tui_trainer.lesson import LessonError, load_lesson
from tui_trainer.narrate_errors import say


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A checkpoint's arrays (an Adam run of 5 steps) as a dict, the header as a dict."""
    return adam_checkpoint(tmp_path_factory.mktemp("ck"))[1:]


write = write_checkpoint


def edited(good, **changes):
    header, arrays = json.loads(json.dumps(good[0])), dict(good[1])
    for key, value in changes.items():
        where, _, field = key.partition("__")
        if not field:
            header[key] = value
        elif where == "config":
            header["config"][field] = value
        elif where == "scalars":
            header["optimizer_scalars"][field] = value
        elif where == "array":
            arrays[field.replace("_", ".", 1)] = value
        else:
            header[key] = value
    return header, arrays


def refused(path, expect: str = "") -> str:
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    msg = say(e.value)  # (the sentence a user sees)
    assert "\n" not in msg and expect in msg, msg
    return msg


HEADER_CASES = {
    "t is 10**400": {"scalars__t": 10**400},
    "t is -1": {"scalars__t": -1},
    "t is a string": {"scalars__t": "5"},
    "t is a float": {"scalars__t": 5.5},
    "an extra scalar": {"scalars__x": 1},
    "context 10**30": {"config__context": 10**30},
    "context 4.0": {"config__context": 4.0},
    "context true": {"config__context": True},
    "embed 0": {"config__embed_dim": 0},
    "divergence_loss null": {"config__divergence_loss": None},
    "divergence_loss a string": {"config__divergence_loss": "50"},
    "divergence_loss -1": {"config__divergence_loss": -1},
    "lr 1e300": {"lr": 1e300},
    "lr true": {"lr": True},
    "lr a string": {"lr": "0.1"},
    "config lr 1e300": {"config__lr": 1e300},
    "step 10**30": {"step": 10**30},
    "step a float": {"step": 5.0},
    "vocab of numbers": {"vocab": [1, 2, 3]},
    "history optimizers of numbers": {"history_optimizers": [1, 2, 3, 4, 5]},
    "history optimizers too few": {"history_optimizers": ["adam"]},
    "optimizer arrays missing v": {"optimizer_arrays": ["m"]},
    "optimizer arrays twice m": {"optimizer_arrays": ["m", "m", "v"]},
    "config a list": {"config": [1, 2]},
    "text a number": {"config__text": 5},
    "model a number": {"model": 5},
    "tensors a string": {"tensors": "x"},
    "version 10**30": {"version": 10**30},
}


@pytest.mark.parametrize("case", list(HEADER_CASES), ids=list(HEADER_CASES))
def test_every_header_field_is_checked(case, good, tmp_path):
    refused(write(tmp_path, *edited(good, **HEADER_CASES[case])), "not a usable tui-trainer checkpoint")


@pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN"])
def test_json_constants_are_refused(literal, good, tmp_path):
    text = json.dumps(good[0]).replace('"t": 5', f'"t": {literal}')
    assert literal in text
    refused(write(tmp_path, text, good[1]), "damaged header")


def test_a_deeply_nested_header_is_refused(good, tmp_path):
    refused(write(tmp_path, "[" * 100_000 + "]" * 100_000, good[1]), "damaged header")


ARRAY_CASES = {
    "target_probs of strings": {"array__hist_target_probs": np.full((5, 4), "x")},
    "complex history": {"array__hist_total_loss": np.zeros(5, dtype=complex)},
    "float32 history": {"array__hist_total_loss": np.zeros(5, dtype=np.float32)},
    "history of another length": {"array__hist_mean_loss": np.zeros(6)},
    "params of ints": {"array__params": np.zeros(1100, dtype=np.int64)},
    "params too long": {"array__params": np.zeros(1101)},
    "params 2-d": {"array__params": np.zeros((1100, 1))},
    "adam's v float32": {"array__opt_v": np.zeros(1100, dtype=np.float32)},
    "adam's m complex": {"array__opt_m": np.zeros(1100, dtype=complex)},
    "big-endian params": {"array__params": np.zeros(1100, dtype=">f8")},
}


@pytest.mark.parametrize("case", list(ARRAY_CASES), ids=list(ARRAY_CASES))
def test_every_arrays_dtype_and_shape_is_checked(case, good, tmp_path):
    refused(write(tmp_path, *edited(good, **ARRAY_CASES[case])), "not a usable tui-trainer checkpoint")


@pytest.mark.parametrize("member", ["header", "params"])
def test_a_member_without_npy_is_refused(member, good, tmp_path):
    path = write(tmp_path, *good)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members[member] = members.pop(f"{member}.npy")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    refused(path, "unexpected member")


def test_declared_sizes_are_checked_before_unpacking(good, tmp_path, monkeypatch):
    """A zip bomb: members that declare more than the limit are refused before any is unpacked;
    a member whose declared size does not match its .npy header's shape is never read."""
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.npy", _npy(np.frombuffer(json.dumps(good[0]).encode(), dtype=np.uint8)))
        for k, a in good[1].items():
            z.writestr(f"{k}.npy", _npy(a))
        z.writestr("junk.npy", b"\0" * (64 << 20))  # 64 MB of zeros: some 64 kB in the file
    assert path.stat().st_size < 1 << 20
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 32 << 20)
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("unpacked a member"))
    refused(path, "would unpack to 64 MB (the limit is 32 MB)")


def test_a_member_larger_than_its_shape_is_never_unpacked(good, tmp_path):
    header, arrays = good
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("header.npy", _npy(np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)))
        for k, a in arrays.items():
            data = _npy(a) + (b"\0" * (64 << 20) if k == "params" else b"")  # params declares 64 MB more
            z.writestr(f"{k}.npy", data)
    refused(path, "the parameters do not fit the model")


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


def test_the_good_checkpoint_still_loads(good, tmp_path):
    s = load_checkpoint(write(tmp_path, *good))
    assert s.step == 5 and s.optimizer.name == "adam" and s.divergence is None


def test_crafted_headers_on_the_command_line_are_one_line(good, tmp_path, capsys):
    path = write(tmp_path, *edited(good, scalars__t=10**400))
    assert main(["train", "--load", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "bad optimizer 't'" in err


# --- NaN parameters: a diverged state, said as one ------------------------------------------------


@pytest.fixture
def nan_checkpoint(tmp_path):
    s = Session.create()
    s.run(20)
    s.model.params[3] = np.nan
    return save_checkpoint(s, tmp_path / "nan.npz")


def test_nan_parameters_load_as_a_divergence(nan_checkpoint):
    s = load_checkpoint(nan_checkpoint)
    assert s.divergence is not None and s.divergence.cause == "nonfinite_params"
    assert not s.run(5).ok and s.step == 20


@pytest.mark.parametrize("until", [None, "nonfinite"])
def test_train_from_nan_parameters_runs_no_step_and_says_why(nan_checkpoint, until, capsys):
    argv = ["train", "--steps", "2", "--load", str(nan_checkpoint)] + (["--until", until] if until else [])
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "the loaded state has diverged (step 20: a parameter is not a finite number" in err
    assert "no step was run" in err and "-> nan" not in out
    assert ("stopped at step 20: nonfinite holds" in out) == (until is not None)


# --- lesson files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,problem",
    [
        ("x = " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("scene = []", "no scenes"),
    ],
    ids=["5000 deep", "scene = []"],
)
def test_crafted_lesson_files(tmp_path, capsys, text, problem):
    path = tmp_path / "l.toml"
    path.write_text(text)
    with pytest.raises(LessonError, match=problem):
        load_lesson(path)
    assert main(["lesson", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and problem in err


def test_the_reader_checks_a_members_declared_size_against_its_shape(good, tmp_path):
    path = tmp_path / "long.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("params.npy", _npy(good[1]["params"]) + b"\0" * 800)
    with open(path, "rb") as f, pytest.raises(CheckpointError) as e:
        reader.Archive(f).read("params", (1100,), ("<f8",))
    assert say(e.value) == "params's size in the archive does not match its shape"
