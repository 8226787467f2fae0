"""Reading a checkpoint archive without trusting it (``core.checkpoint`` restores from it).

A checkpoint may be damaged or crafted. Nothing in it is used before it is checked: the zip's
member names and declared sizes before anything is unpacked (a 1.5 MB file may declare
gigabytes), every header field's type and range before a session is built from it, and each
array's dtype and shape (from its ``.npy`` header) before its data is read. Each problem is a
``CheckpointError`` with a one-line reason.
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

#: Largest model a checkpoint (or a command line) may describe, in parameters.
MAX_PARAMETERS = 20_000_000
#: Largest header: the config's text (20 M characters, up to 6 bytes each as JSON escapes),
#: the vocabulary, and one optimizer name per step.
MAX_HEADER_BYTES = 8 * MAX_TEXT_CHARS + (64 << 20)
#: Largest total a checkpoint's members may unpack to.
MAX_UNPACKED_BYTES = 2 << 30
#: Largest step, ``t`` or other count (exact in a float64).
MAX_COUNT = 2**53


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message says why, in one line. ``cause``: the
    error its settings raised (a reason code and data, ``core.reasons``), which the message quotes
    as ``str(cause)`` and the app words in its place (``tui_trainer.narrate_errors``)."""

    def __init__(self, message: str, cause: Exception | None = None) -> None:
        super().__init__(message)
        self.cause = cause


# --- the archive ------------------------------------------------------------------------------


class Archive:
    """The ``.npy`` members of a checkpoint's zip, read one at a time once checked."""

    def __init__(self, f: IO[bytes]) -> None:
        try:
            self.zip = zipfile.ZipFile(f)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            raise CheckpointError(f"damaged or truncated ({type(e).__name__})") from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.filename[:-4] in self.members:
                raise CheckpointError(f"unexpected member {info.filename[:60]!r} in the archive")
            self.members[info.filename[:-4]] = info
        total = sum(i.file_size for i in infos)
        if total > MAX_UNPACKED_BYTES:
            limit = MAX_UNPACKED_BYTES >> 20
            raise CheckpointError(f"it would unpack to {total / 2**20:,.0f} MB (the limit is {limit} MB)")

    def __contains__(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str, shape: tuple[int, ...] | None, dtypes: tuple[str, ...], limit: int = 0) -> np.ndarray:
        """Member ``name`` as an array, refused unless its dtype's kind and byte order is one of
        ``dtypes`` (e.g. ``"<f8"``, or a kind ``"f"``) and its shape is ``shape`` (None: any, up to
        ``limit`` bytes). The zip's declared size must match before anything is unpacked."""
        info = self.members.get(name)
        if info is None:
            raise CheckpointError(f"{name} is missing")
        with self._open(name) as f:
            got, dtype, offset = self._npy_header(name, f)
            if not any(dtype.str == d or (len(d) == 1 and dtype.kind == d) for d in dtypes) or dtype.hasobject:
                raise CheckpointError(f"{name} holds {dtype} numbers, not {' or '.join(dtypes)}")
            if shape is not None and got != shape:
                raise CheckpointError(f"{name} has shape {got}, not {shape}")
            nbytes = math.prod(got) * dtype.itemsize
            if shape is None and nbytes > limit:
                raise CheckpointError(f"{name} is larger than it can be")
            if info.file_size != offset + nbytes:
                raise CheckpointError(f"{name}'s size in the archive does not match its shape")
            try:
                data = f.read(nbytes)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:  # (a bad CRC, a cut stream)
                raise CheckpointError(f"damaged or truncated ({type(e).__name__})") from None
        if len(data) != nbytes:
            raise CheckpointError(f"{name} is truncated")
        return np.frombuffer(data, dtype=dtype).reshape(got).astype(dtype.newbyteorder("="))

    def _open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(self.members[name])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as e:
            raise CheckpointError(f"damaged or truncated ({type(e).__name__})") from None

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
            raise CheckpointError(f"{name} is not a NumPy array ({type(e).__name__})") from None
        if fortran and len(shape) > 1:
            raise CheckpointError(f"{name} is stored in Fortran order")
        if not all(isinstance(n, int) and 0 <= n <= MAX_UNPACKED_BYTES for n in shape):
            raise CheckpointError(f"{name} has an impossible shape")
        return tuple(shape), dtype, offset


def read_header(archive: Archive) -> dict:
    """The header's JSON document, its size checked before it is unpacked."""
    if "header" not in archive:
        raise CheckpointError("no checkpoint header")
    raw = archive.read("header", None, ("|u1",), MAX_HEADER_BYTES)
    if raw.ndim != 1:
        raise CheckpointError("no checkpoint header")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise CheckpointError("damaged header") from None
    return header


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} in a checkpoint header")  # (JSON has no Infinity or NaN)


# --- the header's fields ---------------------------------------------------------------------


def check_header(header: Any, format_name: str, readable: tuple[int, ...]) -> dict:
    """``header`` with every field checked: types, ranges, the optimizer's state, the model's size."""
    if not isinstance(header, dict) or header.get("format") != format_name:
        raise CheckpointError("not a checkpoint header")
    version = header.get("version")
    if not _is_int(version) or version not in readable:
        raise CheckpointError(f"checkpoint version {version!r}, this program reads {max(readable)}")
    missing = [k for k in ("config", "vocab", "step", "lr", "optimizer", "optimizer_scalars", "optimizer_arrays",
                           "history_optimizers") if k not in header]  # fmt: skip
    if missing:
        raise CheckpointError(f"incomplete header (no {missing[0]!r})")
    if not _is_int(header["step"]) or not 0 <= header["step"] <= MAX_COUNT:
        raise CheckpointError("bad step or optimizer")
    if not isinstance(header["optimizer"], str) or header["optimizer"] not in OPTIMIZERS:
        raise CheckpointError("bad step or optimizer")
    if not (_is_int(header["lr"]) or isinstance(header["lr"], float)) or lr_problem(header["lr"]) is not None:
        raise CheckpointError(f"bad learning rate {_short(header['lr'])}")
    vocab = header["vocab"]
    if not (isinstance(vocab, list) and vocab and all(isinstance(w, str) for w in vocab)):
        raise CheckpointError("bad vocabulary")
    opts = header["history_optimizers"]
    if not (isinstance(opts, list) and all(isinstance(o, str) and o in OPTIMIZERS for o in opts)):
        raise CheckpointError("unknown optimizer in the history")
    stride = header.get("history_stride", 1)  # (a thinned history: fewer rows than steps)
    if not _is_int(stride) or not 1 <= stride <= MAX_COUNT:
        raise CheckpointError("bad history stride")
    if len(opts) != header["step"] if stride == 1 else len(opts) > header["step"]:
        raise CheckpointError("history columns do not match its step")
    _check_optimizer_state(header)
    for key, kind in (("model", str), ("tensors", list), ("tokenizer", dict)):  # (older checkpoints have none)
        if key in header and not isinstance(header[key], kind):
            raise CheckpointError(f"bad {key!r} in the header")
    header["config"] = check_config(header["config"])
    return header


def _check_optimizer_state(header: dict) -> None:
    """The scalars and arrays the optimizer's own ``state_dict`` has, and nothing else."""
    scalars, arrays = header["optimizer_scalars"], header["optimizer_arrays"]
    expected = make_optimizer(header["optimizer"], 1).state_dict()
    want_arrays = sorted(k for k, v in expected.items() if isinstance(v, np.ndarray))
    if not isinstance(arrays, list) or sorted(map(str, arrays)) != want_arrays or len(arrays) != len(want_arrays):
        raise CheckpointError(f"optimizer state {arrays!r:.60} is not {header['optimizer']}'s")
    if not isinstance(scalars, dict) or set(scalars) != set(expected) - set(want_arrays):
        raise CheckpointError(f"optimizer scalars are not {header['optimizer']}'s")
    for k, v in scalars.items():
        if not (_is_int(v) and 0 <= v <= MAX_COUNT):
            raise CheckpointError(f"bad optimizer {k!r}: {_short(v)}")


def check_config(cfg: Any) -> dict:
    """The config's known fields, each of its declared type (``int`` is no ``bool``; a float is
    finite; a count is 0 to ``MAX_COUNT``), then the model's size: at most ``MAX_PARAMETERS``
    with the smallest vocabulary (before any data is built from it)."""
    if not isinstance(cfg, dict):
        raise CheckpointError("incomplete header (config)")
    out = {}
    for f in fields(SessionConfig):
        if f.name not in cfg:
            continue
        v = cfg[f.name]
        kinds = {t.strip() for t in str(f.type).split("|")}
        if not ((v is None and "None" in kinds) or any(_of_type(v, k) for k in kinds)):
            raise CheckpointError(f"bad {f.name!r} in its config: {_short(v)}")
        out[f.name] = tuple(v) if isinstance(v, list) else v
    text = out.get("text")
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise CheckpointError("its text is longer than the limit")
    if "divergence_loss" in out and not out["divergence_loss"] > 0:
        raise CheckpointError(f"bad 'divergence_loss' in its config: {_short(out['divergence_loss'])}")
    try:
        config = SessionConfig(**out)
        check_size(config, 3, config.context)  # (<BOS>, <EOS> and a word)
    except (TypeError, ValueError, KeyError, OverflowError) as e:
        raise CheckpointError(f"its settings do not build a session ({e})", cause=e) from None
    return out


def check_size(config: SessionConfig, vocab_size: int, context: int) -> int:
    """The model's parameter count, or ``CheckpointError`` above ``MAX_PARAMETERS``."""
    shapes = MODELS[config.model].shapes_for(config, vocab_size, context)
    n = sum(math.prod(sh) for sh in shapes.values())
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"its model would have {n:.3g} parameters (the limit is {MAX_PARAMETERS:,})")
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


def _short(v: Any) -> str:
    r = repr(v) if not isinstance(v, int) or abs(v) < 10**30 else f"an integer of {len(str(abs(v)))} digits"
    return r if len(r) <= 40 else r[:37] + "..."
