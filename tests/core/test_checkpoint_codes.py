"""A checkpoint that cannot be loaded gives a reason code and its data, never a sentence
(core.checkpoint_read.CheckpointError, a core.reasons.CodedError; the app words it:
tui_trainer/narrate_checkpoint.py, tests/app/test_checkpoint_messages.py). A reason about what is
in the file comes wrapped in ``not_usable`` with the file's name."""

from __future__ import annotations

import ast
import copy
import inspect
import io
import json
import pickle
import zipfile

import numpy as np
import pytest
from conftest import adam_checkpoint, write_checkpoint

from core import checkpoint
from core import checkpoint_read as reader
from core.checkpoint import CheckpointError, load_checkpoint
from core.config import ConfigError, SessionConfig
from core.models import ModelConfigError
from core.vocab import VocabError


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """An Adam run of 5 steps on the lesson: its file, header and arrays."""
    return adam_checkpoint(tmp_path_factory.mktemp("ck"))


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=False)
    return buf.getvalue()


_file = write_checkpoint


def edit(header=None, config=None, scalars=None, arrays=None, drop=()):
    """A maker of a bad checkpoint: the good one with these changes."""

    def make(good, tmp_path):
        h, a = json.loads(json.dumps(good[1])), dict(good[2])
        h.update(header or {})
        if config:
            h["config"].update(config)
        if scalars:
            h["optimizer_scalars"].update(scalars)
        a.update(arrays or {})
        for k in drop:
            (h if k in h else a).pop(k)
        return _file(tmp_path, h, a)

    return make


def raw(data: bytes, name: str = "bad.npz"):
    def make(good, tmp_path):
        (tmp_path / name).write_bytes(data)
        return tmp_path / name

    return make


def zipped(members: dict[str, bytes]):
    def make(good, tmp_path):
        with zipfile.ZipFile(tmp_path / "bad.npz", "w") as z:
            for k, v in members.items():
                z.writestr(k, v)
        return tmp_path / "bad.npz"

    return make


def out_of_order(good, tmp_path):
    """A thinned history (stride 2) of 3 rows whose steps go 0, 2, 1."""
    h, a = json.loads(json.dumps(good[1])), {k: v[:3] if k.startswith("hist.") else v for k, v in good[2].items()}
    h.update(history_stride=2, history_optimizers=["adam"] * 3)
    return _file(tmp_path, h, {**a, "hist.step": np.array([0, 2, 1])})


def version_1(good, tmp_path):
    """A version 1 history (one record per update) whose target_probs lengths add up to 15, not 10."""
    h = {**json.loads(json.dumps(good[1])), "version": 1}
    a = {k: v for k, v in good[2].items() if not k.startswith("hist.")}
    for c in ("loss", "mean_loss", "lr", "grad_norm"):
        a[f"hist.{c}"] = np.zeros(5)
    a["hist.clipped"] = np.zeros(5, dtype=bool)
    a["hist.target_probs.len"], a["hist.position_losses.len"] = np.full(5, 3), np.full(5, 2)
    a["hist.target_probs"], a["hist.position_losses"] = np.zeros(10), np.zeros(10)
    return _file(tmp_path, h, a)


ADAM = "adam"
# what is wrong, how to make it, then the code and data inside not_usable (bad.npz), written out here
IN_THE_FILE = [
    ("not PK", raw(b"hello"), "not_an_archive", {}),
    ("PK garbage", raw(b"PKgarbage"), "damaged", {"error": "BadZipFile"}),
    ("a member without .npy", zipped({"header": b""}), "unexpected_member", {"member": "header"}),
    ("no header", zipped({"params.npy": _npy(np.zeros(3))}), "no_header", {}),
    ("a 2-d header", zipped({"header.npy": _npy(np.zeros((2, 2), dtype=np.uint8))}), "no_header", {}),
    ("a float header", zipped({"header.npy": _npy(np.zeros(3))}), "member_dtype",
     {"member": "header", "dtype": np.dtype("<f8"), "dtypes": ("|u1",)}),
    ("header not npy", zipped({"header.npy": b"garbage"}), "not_npy", {"member": "header", "error": "ValueError"}),
    ("header of shape -3", zipped({"header.npy": _npy(np.zeros(3, dtype=np.uint8)).replace(b"(3,)", b"(-3,)")}),
     "impossible_shape", {"member": "header"}),
    ("header cut short", zipped({"header.npy": _npy(np.zeros(3, dtype=np.uint8))[:-1]}), "member_size",
     {"member": "header"}),
    ("header in Fortran order", zipped({"header.npy": _npy(np.zeros((2, 2), dtype=np.uint8, order="F"))}),
     "fortran_order", {"member": "header"}),
    ("header not UTF-8", zipped({"header.npy": _npy(np.frombuffer(b"\xff\xfe", dtype=np.uint8))}),
     "damaged_header", {}),
    ("header a list", lambda good, tmp: _file(tmp, "[1]", good[2]), "not_a_header", {}),
    ("version 3", edit(header={"version": 3}), "version", {"version": 3, "readable": (1, 2)}),
    ("no step", edit(drop=["step"]), "missing_field", {"field": "step"}),
    ("step 5.0", edit(header={"step": 5.0}), "bad_step_or_optimizer", {}),
    ("lr '0.1'", edit(header={"lr": "0.1"}), "bad_lr", {"lr": "0.1"}),
    ("vocab []", edit(header={"vocab": []}), "bad_vocab", {}),
    ("history of optimizer 1", edit(header={"history_optimizers": [1] * 5}), "history_optimizer", {}),
    ("stride 0", edit(header={"history_stride": 0}), "bad_history_stride", {}),
    ("history of 4 steps", edit(header={"history_optimizers": ["adam"] * 4}), "history_columns", {}),
    ("optimizer arrays m", edit(header={"optimizer_arrays": ["m"]}), "optimizer_arrays",
     {"arrays": ["m"], "optimizer": ADAM}),
    ("optimizer scalar x", edit(scalars={"x": 1}), "optimizer_scalars", {"optimizer": ADAM}),
    ("t -1", edit(scalars={"t": -1}), "bad_optimizer_scalar", {"scalar": "t", "value": -1}),
    ("model 5", edit(header={"model": 5}), "bad_field", {"field": "model"}),
    ("config a list", edit(header={"config": [1, 2]}), "no_config", {}),
    ("context 4.0", edit(config={"context": 4.0}), "bad_config_field", {"field": "context", "value": 4.0}),
    ("divergence_loss -1", edit(config={"divergence_loss": -1}), "bad_config_field",
     {"field": "divergence_loss", "value": -1}),
    ("header vocab a b", edit(header={"vocab": ["a", "b"]}), "vocab_mismatch", {}),
    ("tokenizer char", edit(header={"tokenizer": {"kind": "char", "merges": []}}), "tokenizer_mismatch", {}),
    ("tensors x", edit(header={"tensors": [["x", [1]]]}), "tensors_mismatch", {}),
    ("model gpt", edit(header={"model": "gpt"}), "model_mismatch", {"model": "gpt"}),
    ("params 1101", edit(arrays={"params": np.zeros(1101)}), "params_do_not_fit", {}),
    ("v float32", edit(arrays={"opt.v": np.zeros(1100, dtype=np.float32)}), "optimizer_state_missing",
     {"array": "v"}),
    ("no hist.total_loss", edit(drop=["hist.total_loss"]), "history_missing", {}),
    ("steps 0 2 1", out_of_order, "history_out_of_order", {}),
    ("version 1 of 15 probs", version_1, "history_does_not_add_up", {}),
]  # fmt: skip


@pytest.mark.parametrize("make,code,data", [c[1:] for c in IN_THE_FILE], ids=[c[0] for c in IN_THE_FILE])
def test_what_is_wrong_in_a_file_is_a_code_inside_not_usable(good, tmp_path, make, code, data):
    with pytest.raises(ValueError) as e:  # (callers catch ValueError)
        load_checkpoint(make(good, tmp_path))
    err = e.value
    assert type(err) is CheckpointError and err.code == "not_usable" and err.name == "bad.npz"
    assert type(err.reason) is CheckpointError and err.reason.code == code and err.reason.data() == data
    for again in (copy.copy(err), pickle.loads(pickle.dumps(err))):  # (the inner error survives too)
        assert again.code == "not_usable" and again.reason.code == code and again.reason.data() == data


def test_a_history_that_does_not_fit_holds_the_array_s_reason(good, tmp_path):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(edit(arrays={"hist.mean_loss": np.zeros(6)})(good, tmp_path))
    inner = e.value.reason
    assert (inner.code, inner.version, inner.reason.code) == ("history_does_not_fit", 2, "member_shape")
    assert inner.reason.data() == {"member": "hist.mean_loss", "shape": (6,), "expected": (5,)}


@pytest.mark.parametrize(
    "config,cls,code,data",
    [
        ({"embed_dim": 0}, ModelConfigError, "not_positive_integer", {"name": "embed_dim", "value": 0}),
        ({"reduction": "max"}, ConfigError, "unknown_reduction", {"reduction": "max", "choices": ("mean", "sum")}),
        ({"text": "... !"}, VocabError, "no_words", {}),  # (once its data is built: core.checkpoint)
    ],
)
def test_settings_that_build_no_session_hold_the_error_they_raised(good, tmp_path, config, cls, code, data):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(edit(config=config)(good, tmp_path))
    inner = e.value.reason
    assert inner.code == "settings" and type(inner.error) is cls
    assert inner.error.code == code and inner.error.data() == data


def test_a_model_too_large_gives_its_count_and_the_limit():
    # 3 words, 8-wide embeddings, context 4, two hidden layers of 5,000: each layer's weights and biases
    n = 3 * 8 + (4 * 8 * 5000 + 5000) + (5000 * 5000 + 5000) + (5000 * 3 + 3)
    with pytest.raises(CheckpointError) as e:
        reader.check_size(SessionConfig(hidden1=5000, hidden2=5000), 3, 4)
    assert (e.value.code, e.value.data()) == ("too_many_parameters", {"parameters": n, "limit": 20_000_000})


def test_a_text_over_the_limit(good, tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_TEXT_CHARS", 10)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(edit(config={"text": "we love deep learning"})(good, tmp_path))
    assert e.value.reason.code == "text_too_long" and e.value.reason.data() == {}


def test_the_archive_s_own_checks(good, tmp_path, monkeypatch):
    """Members read one by one (``Archive.read``), and the total they declare."""
    path = zipped({"params.npy": _npy(good[2]["params"]) + b"\0" * 8, "a.npy": b"\0" * (2 << 20)})(good, tmp_path)
    with open(path, "rb") as f:
        archive = reader.Archive(f)
        for args, code, data in [
            (("x", (3,), ("<f8",)), "member_missing", {"member": "x"}),
            (("params", None, ("<f8",), 10), "member_too_large", {"member": "params"}),
            (("params", (3,), ("<f8",)), "member_shape", {"member": "params", "shape": (1100,), "expected": (3,)}),
        ]:
            with pytest.raises(CheckpointError) as e:
                archive.read(*args)
            assert (e.value.code, e.value.data()) == (code, data)
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 1 << 20)
    with open(path, "rb") as f, pytest.raises(CheckpointError) as e:
        reader.Archive(f)
    size = (1100 * 8 + len(_npy(np.zeros(0)))) + 8 + (2 << 20)  # (params with its .npy header, the junk)
    assert (e.value.code, e.value.data()) == ("would_unpack", {"size": size, "limit": 1 << 20})


def test_the_file_itself(good, tmp_path, monkeypatch):
    """Codes that name the file are not wrapped: a directory, a missing file, one too large, another vocabulary."""
    (tmp_path / "d.npz").mkdir()
    cases = [(tmp_path / "d.npz", "not_regular_file", {"name": "d.npz", "kind": "directory"})]
    for path, code, data in cases:
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(path)
        assert (e.value.code, e.value.data()) == (code, data)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path / "missing.npz")
    assert e.value.code == "unreadable" and e.value.name == "missing.npz"
    assert isinstance(e.value.error, FileNotFoundError)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(good[0], text="b a b")
    lesson = ("<BOS>", "we", "love", "deep", "learning", "<EOS>", "the", "is", "great", "model", "hello", "world")
    data = {"name": "good.npz", "vocab": lesson, "given": ("<BOS>", "<EOS>", "b", "a")}
    assert (e.value.code, e.value.data()) == ("other_vocabulary", data)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 1000)
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(good[0])
    assert (e.value.code, e.value.data()) == ("too_large", {"name": "good.npz", "limit": 1000})


def test_the_cases_cover_every_code():
    """Each code is made above but two no crafted file reaches (``member_truncated``: the zip's
    declared size was checked first; ``optimizer_state_does_not_fit``: checked field by field before)."""
    covered = {c[2] for c in IN_THE_FILE} | {"not_usable", "history_does_not_fit", "settings", "too_many_parameters"}
    covered |= {"text_too_long", "member_missing", "member_too_large", "member_shape", "would_unpack"}
    covered |= {"not_regular_file", "unreadable", "other_vocabulary", "too_large"}
    assert covered | {"member_truncated", "optimizer_state_does_not_fit"} == set(CheckpointError.CODES)


def test_the_checkpoint_modules_build_no_english():
    """Every raise of a CheckpointError in core.checkpoint and core.checkpoint_read names a code of
    its CODES and gives data: no string is built there (an f-string, a sentence of words)."""
    raised = set()
    for module in (reader, checkpoint):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
                continue
            call = node.exc
            if getattr(call.func, "id", "") != "CheckpointError":
                continue
            code, *rest = call.args
            assert isinstance(code, ast.Constant) and code.value in CheckpointError.CODES, ast.unparse(node)
            for arg in rest + [k.value for k in call.keywords]:
                for part in ast.walk(arg):
                    assert not isinstance(part, ast.JoinedStr), ast.unparse(node)
                    sentence = isinstance(part, ast.Constant) and isinstance(part.value, str) and " " in part.value
                    assert not sentence, ast.unparse(node)
            raised.add(code.value)
    assert raised == set(CheckpointError.CODES)
