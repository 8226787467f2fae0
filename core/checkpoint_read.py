"""Reading a checkpoint archive without trusting it (``core.checkpoint`` restores from it).

A checkpoint may be damaged or crafted. Nothing in it is used before it is checked: the zip's
member names and declared sizes before anything is unpacked (a 1.5 MB file may declare
gigabytes), every header field's type and range before a session is built from it, and each
array's dtype and shape (from its ``.npy`` header) before its data is read. Each problem is a
``CheckpointError``: a reason code and its data (``core.reasons``), worded by the app.
"""

from __future__ import annotations

import json
import math
import zipfile
import zlib
from dataclasses import fields
from typing import IO, Any

import numpy as np

from .config import SessionConfig, lr_problem
from .data import MAX_TEXT_CHARS
from .models import MODELS
from .optim import OPTIMIZERS, make_optimizer
from .reasons import CodedError

#: Largest model a checkpoint (or a command line) may describe, in parameters.
MAX_PARAMETERS = 20_000_000
#: Largest header: the config's text (20 M characters, up to 6 bytes each as JSON escapes),
#: the vocabulary, and one optimizer name per step.
MAX_HEADER_BYTES = 8 * MAX_TEXT_CHARS + (64 << 20)
#: Largest total a checkpoint's members may unpack to.
MAX_UNPACKED_BYTES = 2 << 30
#: Largest step, ``t`` or other count (exact in a float64).
MAX_COUNT = 2**53


class CheckpointError(CodedError):
    """A file that is not a usable checkpoint: a reason code and its data (still a ``ValueError``).
    A reason about what is in the file is wrapped, once it is known, in ``not_usable`` with the
    file's ``name`` (``core.checkpoint``); ``reason`` and ``error`` hold the inner error itself."""

    CODES = {
        # the file (core.checkpoint): each names it
        "not_regular_file": ("name", "kind"),
        "too_large": ("name", "limit"),  # (limit in bytes)
        "unreadable": ("name", "error"),  # (the OSError)
        "not_usable": ("name", "reason"),  # (reason: the CheckpointError of what is wrong in it)
        "other_vocabulary": ("name", "vocab", "given"),
        # the archive
        "not_an_archive": (),
        "damaged": ("error",),  # (the name of the exception the zip or a stream raised)
        "would_unpack": ("size", "limit"),  # (bytes)
        "unexpected_member": ("member",),
        "member_missing": ("member",),
        "member_dtype": ("member", "dtype", "dtypes"),
        "member_shape": ("member", "shape", "expected"),
        "member_too_large": ("member",),
        "member_size": ("member",),
        "member_truncated": ("member",),
        "not_npy": ("member", "error"),  # (the exception's name)
        "fortran_order": ("member",),
        "impossible_shape": ("member",),
        # the header
        "no_header": (),
        "damaged_header": (),
        "not_a_header": (),
        "version": ("version", "readable"),
        "missing_field": ("field",),
        "bad_step_or_optimizer": (),
        "bad_lr": ("lr",),
        "bad_vocab": (),
        "history_optimizer": (),
        "bad_history_stride": (),
        "history_columns": (),
        "bad_field": ("field",),
        "optimizer_arrays": ("arrays", "optimizer"),
        "optimizer_scalars": ("optimizer",),
        "bad_optimizer_scalar": ("scalar", "value"),
        "no_config": (),
        "bad_config_field": ("field", "value"),
        "text_too_long": (),
        "settings": ("error",),  # (the error its settings raised: often a CodedError)
        "too_many_parameters": ("parameters", "limit"),
        # what the header describes against what its settings build (core.checkpoint)
        "vocab_mismatch": (),
        "tokenizer_mismatch": (),
        "tensors_mismatch": (),
        "model_mismatch": ("model",),
        "params_do_not_fit": (),
        "optimizer_state_missing": ("array",),
        "optimizer_state_does_not_fit": (),
        "history_missing": (),
        "history_does_not_fit": ("version", "reason"),  # (reason: the CheckpointError of the array)
        "history_out_of_order": (),
        "history_does_not_add_up": (),
    }


#: the codes that name the file (the others are wrapped in ``not_usable`` with its name)
NAMES_THE_FILE = frozenset({"not_regular_file", "too_large", "unreadable", "not_usable", "other_vocabulary"})


# --- the archive ------------------------------------------------------------------------------


class Archive:
    """The ``.npy`` members of a checkpoint's zip, read one at a time once checked."""

    def __init__(self, f: IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(f)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            raise CheckpointError("damaged", error=type(e).__name__) from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in self.members:
                raise CheckpointError("unexpected_member", member=info.filename)
            self.members[info.filename[:-4]] = info
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            raise CheckpointError("would_unpack", size=total, limit=MAX_UNPACKED_BYTES)

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str, shape: tuple[int, ...] | None, dtypes: tuple[str, ...], limit: int = 0) -> np.ndarray:
        """Member ``name`` as an array, refused unless its dtype's kind and byte order is one of
        ``dtypes`` (e.g. ``"<f8"``, or a kind ``"f"``) and its shape is ``shape`` (None: any, up to
        ``limit`` bytes). The zip's declared size must match before anything is unpacked."""
        info = self.members.get(name)
        if info is None:
            raise CheckpointError("member_missing", member=name)
        with self._open(name) as f:
            got, dtype, offset = self._npy_header(name, f)
            if not any(dtype.str == d or (len(d) == 1 and dtype.kind == d) for d in dtypes) or dtype.hasobject:
                raise CheckpointError("member_dtype", member=name, dtype=dtype, dtypes=dtypes)
            if shape is not None and got != shape:
                raise CheckpointError("member_shape", member=name, shape=got, expected=shape)
            nbytes = math.prod(got) * dtype.itemsize
            if shape is None and nbytes > limit:
                raise CheckpointError("member_too_large", member=name)
            if info.file_size != offset + nbytes:
                raise CheckpointError("member_size", member=name)
            try:
                data = f.read(nbytes)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:  # (a bad CRC, a cut stream)
                raise CheckpointError("damaged", error=type(e).__name__) from None
        if len(data) != nbytes:
            raise CheckpointError("member_truncated", member=name)
        return np.frombuffer(data, dtype=dtype).reshape(got).astype(dtype.newbyteorder("="))

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(self.members[name])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
            raise CheckpointError("damaged", error=type(e).__name__) from None

    @staticmethod
    def _npy_header(name: str, f: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"npy version {version}")
            offset = f.tell()
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error, SyntaxError, TypeError) as e:
            raise CheckpointError("not_npy", member=name, error=type(e).__name__) from None
        if fortran and len(shape) > 1:
            raise CheckpointError("fortran_order", member=name)
        if not all(isinstance(n, int) and 0 <= n <= MAX_UNPACKED_BYTES for n in shape):
            raise CheckpointError("impossible_shape", member=name)
        return tuple(shape), dtype, offset


def read_header(archive: Archive) -> dict:
    """The header's JSON document, its size checked before it is unpacked."""
    if "header" not in archive:
        raise CheckpointError("no_header")
    raw = archive.read("header", None, ("|u1",), MAX_HEADER_BYTES)
    if raw.ndim != 1:
        raise CheckpointError("no_header")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise CheckpointError("damaged_header") from None
    return header


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} in a checkpoint header")  # (JSON has no Infinity or NaN)


# --- the header's fields ---------------------------------------------------------------------


def check_header(header: Any, format_name: str, readable: tuple[int, ...]) -> dict:
    """``header`` with every field checked: types, ranges, the optimizer's state, the model's size."""
    if not isinstance(header, dict) or header.get("format") != format_name:
        raise CheckpointError("not_a_header")
    version = header.get("version")
    if not _is_int(version) or version not in readable:
        raise CheckpointError("version", version=version, readable=readable)
    missing = [k for k in ("config", "vocab", "step", "lr", "optimizer", "optimizer_scalars", "optimizer_arrays",
                           "history_optimizers") if k not in header]  # fmt: skip
    if missing:
        raise CheckpointError("missing_field", field=missing[0])
    if not _is_int(header["step"]) or not 0 <= header["step"] <= MAX_COUNT:
        raise CheckpointError("bad_step_or_optimizer")
    if not isinstance(header["optimizer"], str) or header["optimizer"] not in OPTIMIZERS:
        raise CheckpointError("bad_step_or_optimizer")
    if not (_is_int(header["lr"]) or isinstance(header["lr"], float)) or lr_problem(header["lr"]) is not None:
        raise CheckpointError("bad_lr", lr=header["lr"])
    vocab = header["vocab"]
    if not (isinstance(vocab, list) and vocab and all(isinstance(w, str) for w in vocab)):
        raise CheckpointError("bad_vocab")
    opts = header["history_optimizers"]
    if not (isinstance(opts, list) and all(isinstance(o, str) and o in OPTIMIZERS for o in opts)):
        raise CheckpointError("history_optimizer")
    stride = header.get("history_stride", 1)  # (a thinned history: fewer rows than steps)
    if not _is_int(stride) or not 1 <= stride <= MAX_COUNT:
        raise CheckpointError("bad_history_stride")
    if len(opts) != header["step"] if stride == 1 else len(opts) > header["step"]:
        raise CheckpointError("history_columns")
    _check_optimizer_state(header)
    for key, kind in (("model", str), ("tensors", list), ("tokenizer", dict)):  # (older checkpoints have none)
        if key in header and not isinstance(header[key], kind):
            raise CheckpointError("bad_field", field=key)
    header["config"] = check_config(header["config"])
    return header


def _check_optimizer_state(header: dict) -> None:
    """The scalars and arrays the optimizer's own ``state_dict`` has, and nothing else."""
    scalars, arrays = header["optimizer_scalars"], header["optimizer_arrays"]
    expected = make_optimizer(header["optimizer"], 1).state_dict()
    want_arrays = sorted(k for k, v in expected.items() if isinstance(v, np.ndarray))
    if not isinstance(arrays, list) or sorted(map(str, arrays)) != want_arrays or len(arrays) != len(want_arrays):
        raise CheckpointError("optimizer_arrays", arrays=arrays, optimizer=header["optimizer"])
    if not isinstance(scalars, dict) or set(scalars) != set(expected) - set(want_arrays):
        raise CheckpointError("optimizer_scalars", optimizer=header["optimizer"])
    for k, v in scalars.items():
        if not (_is_int(v) and 0 <= v <= MAX_COUNT):
            raise CheckpointError("bad_optimizer_scalar", scalar=k, value=v)


def check_config(cfg: Any) -> dict:
    """The config's known fields, each of its declared type (``int`` is no ``bool``; a float is
    finite; a count is 0 to ``MAX_COUNT``), then the model's size: at most ``MAX_PARAMETERS``
    with the smallest vocabulary (before any data is built from it)."""
    if not isinstance(cfg, dict):
        raise CheckpointError("no_config")
    out = {}
    for f in fields(SessionConfig):
        if f.name not in cfg:
            continue
        v = cfg[f.name]
        kinds = {t.strip() for t in str(f.type).split("|")}
        if not ((v is None and "None" in kinds) or any(_of_type(v, k) for k in kinds)):
            raise CheckpointError("bad_config_field", field=f.name, value=v)
        out[f.name] = tuple(v) if isinstance(v, list) else v
    text = out.get("text")
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise CheckpointError("text_too_long")
    if "divergence_loss" in out and not out["divergence_loss"] > 0:
        raise CheckpointError("bad_config_field", field="divergence_loss", value=out["divergence_loss"])
    try:
        config = SessionConfig(**out)
        check_size(config, 3, config.context)  # (<BOS>, <EOS> and a word)
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise CheckpointError("settings", error=e) from None
    return out


def check_size(config: SessionConfig, vocab_size: int, context: int) -> int:
    """The model's parameter count, or ``CheckpointError`` above ``MAX_PARAMETERS``."""
    shapes = MODELS[config.model].shapes_for(config, vocab_size, context)
    n = sum(math.prod(sh) for sh in shapes.values())
    if n > MAX_PARAMETERS:
        raise CheckpointError("too_many_parameters", parameters=n, limit=MAX_PARAMETERS)
    return n


def _of_type(v: Any, kind: str) -> bool:
    if kind == "int":
        return _is_int(v) and 0 <= v <= MAX_COUNT
    if kind == "float":
        return (_is_int(v) or isinstance(v, float)) and math.isfinite(v) and abs(v) <= 1e300
    if kind == "str":
        return isinstance(v, str)
    if kind == "bool":
        return isinstance(v, bool)
    if kind.startswith("tuple[str"):
        return isinstance(v, list) and all(isinstance(w, str) for w in v)
    return False  # a type this reader does not know: refused rather than trusted


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)
