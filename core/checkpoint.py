"""Checkpoints: save a session and load it back, bit for bit.

A checkpoint is a NumPy ``.npz`` archive read with ``allow_pickle=False``
(never pickle: loading a file must not run code). It holds

    header        a JSON document as UTF-8 bytes: format, version, the
                  session's config, vocabulary, step, learning rate,
                  optimizer name and its scalar state
    params        the flat parameter vector
    opt.<name>    each array of the optimizer's state (velocity, m, v)
    hist.<field>  the training history, one array per field

Only the session's public API is used: ``Session.create``, ``model.params``,
``optimizer.state_dict`` / ``load_state_dict``, ``history``, ``step``, ``lr``.
A loaded session is in phase ``ready`` with an empty undo stack; training
continues exactly as it would have without the save and load.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np

from .optim import OPTIMIZERS
from .session import Session, SessionConfig, StepRecord

FORMAT = "tui-trainer-checkpoint"
VERSION = 1

# StepRecord fields by kind; the per-position and per-tensor arrays are stored
# concatenated, with their lengths, so any history shape round-trips.
_SCALARS = ("step", "loss", "mean_loss", "perplexity", "lr", "grad_norm", "clipped")
_ARRAYS = ("position_losses", "target_probs", "grad_norms", "update_norms")


def _file_mode() -> int:
    """0o666 less the umask: what ``open`` would give (``mkstemp`` alone gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message says why, in one line."""


# --- save ---------------------------------------------------------------------------------


def save_checkpoint(session: Session, path: str | os.PathLike) -> Path:
    """Write ``session`` to ``path`` (atomically: a crash leaves no half-written file).

    Raises ``OSError`` if the file cannot be written."""
    path = Path(path)
    with session.lock:
        opt_state = session.optimizer.state_dict()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "config": _config_to_json(session.config),
            "vocab": list(session.vocab.tokens),
            "step": int(session.step),
            "lr": float(session.lr),
            "optimizer": session.optimizer.name,
            "optimizer_scalars": {k: v for k, v in opt_state.items() if not isinstance(v, np.ndarray)},
            "optimizer_arrays": sorted(k for k, v in opt_state.items() if isinstance(v, np.ndarray)),
            "history_optimizers": [r.optimizer for r in session.history],
        }
        arrays: dict[str, np.ndarray] = {
            "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
            "params": session.model.params.copy(),
        }
        for k in header["optimizer_arrays"]:
            arrays[f"opt.{k}"] = np.asarray(opt_state[k])
        arrays.update(_history_arrays(session.history))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    fd, tmp = tempfile.mkstemp(prefix=".tui-trainer-", suffix=".tmp", dir=path.parent if str(path.parent) else ".")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _config_to_json(config: SessionConfig) -> dict:
    d = asdict(config)
    if d["vocab"] is not None:
        d["vocab"] = list(d["vocab"])
    return d


def _history_arrays(history: list[StepRecord]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in _SCALARS:
        kind = np.int64 if name == "step" else (np.bool_ if name == "clipped" else np.float64)
        out[f"hist.{name}"] = np.array([getattr(r, name) for r in history], dtype=kind)
    for name in _ARRAYS:
        parts = [np.asarray(getattr(r, name)) for r in history]
        out[f"hist.{name}.len"] = np.array([len(p) for p in parts], dtype=np.int64)
        out[f"hist.{name}"] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
    return out


# --- load ---------------------------------------------------------------------------------


def load_checkpoint(path: str | os.PathLike, **overrides) -> Session:
    """A new session restored from the checkpoint at ``path``.

    ``overrides`` are ``SessionConfig`` fields: ``text``, ``vocab``,
    ``add_eos`` and ``unk`` train the restored model on other data (the
    resulting vocabulary must be the checkpoint's); model sizes must not be
    overridden. Raises ``CheckpointError`` with a one-line reason for a
    missing, damaged, truncated or foreign file, or another vocabulary.
    """
    name = Path(path).name
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CheckpointError(f"cannot read checkpoint {name}: {e.strerror or e}") from None
    try:
        header, arrays = _read_archive(raw)
    except CheckpointError as e:
        raise CheckpointError(f"{name} is not a usable tui-trainer checkpoint: {e}") from None
    return _restore(name, header, arrays, overrides)


def _read_archive(raw: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    if not raw.startswith(b"PK"):
        raise CheckpointError("not a checkpoint archive")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise CheckpointError(f"damaged or truncated ({type(e).__name__})") from None
    if "header" not in arrays or arrays["header"].dtype != np.uint8 or arrays["header"].ndim != 1:
        raise CheckpointError("no checkpoint header")
    try:
        header = json.loads(arrays.pop("header").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError("damaged header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError("not a checkpoint header")
    if header.get("version") != VERSION:
        raise CheckpointError(f"checkpoint version {header.get('version')!r}, this program reads {VERSION}")
    return header, arrays


def _restore(name: str, header: dict, arrays: dict[str, np.ndarray], data_overrides: dict) -> Session:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{name} is not a usable tui-trainer checkpoint: {why}")

    try:
        cfg = dict(header["config"])
        known = {f.name for f in fields(SessionConfig)}
        cfg = {k: v for k, v in cfg.items() if k in known}
        if cfg.get("vocab") is not None:
            cfg["vocab"] = tuple(cfg["vocab"])
        vocab = tuple(header["vocab"])
        step, lr, opt_name = header["step"], header["lr"], header["optimizer"]
        scalars, array_keys = dict(header["optimizer_scalars"]), list(header["optimizer_arrays"])
        hist_opts = list(header["history_optimizers"])
    except (KeyError, TypeError, ValueError):
        raise bad("incomplete header") from None
    if not (isinstance(step, int) and step >= 0) or opt_name not in OPTIMIZERS:
        raise bad("bad step or optimizer")
    if not (isinstance(lr, float | int) and math.isfinite(lr) and lr > 0):
        raise bad("bad learning rate")
    try:
        config = replace(SessionConfig(**cfg), optimizer=opt_name, **data_overrides)
        session = Session.create(config)
    except (TypeError, ValueError) as e:  # VocabError is a ValueError
        raise bad(f"its settings do not build a session ({e})") from None
    got = session.vocab.tokens
    if got != vocab:
        if data_overrides.keys() & {"text", "vocab", "add_eos", "unk"}:
            raise CheckpointError(
                f"{name} was trained on another vocabulary: it has {len(vocab)} words "
                f"({_words(vocab)}), the given text or --vocab has {len(got)} ({_words(got)})"
            )
        raise bad("its vocabulary does not match its own text")
    params = arrays.get("params")
    m = session.model
    if params is None or params.shape != m.params.shape or params.dtype != m.params.dtype:
        raise bad("the parameters do not fit the model it describes")
    state: dict = dict(scalars)
    for k in array_keys:
        a = arrays.get(f"opt.{k}")
        if a is None or a.shape != m.params.shape:
            raise bad(f"optimizer state {k!r} is missing or the wrong size")
        state[k] = a
    history = _history_from_arrays(arrays, hist_opts, bad)
    try:
        session.optimizer.load_state_dict(state)
    except (KeyError, TypeError, ValueError):
        raise bad("optimizer state does not fit") from None
    m.params[...] = params
    session.set_lr(float(lr))
    session.step = step
    session.history = history
    return session


def _history_from_arrays(arrays: dict[str, np.ndarray], optimizers: list, bad) -> list[StepRecord]:
    try:
        cols = {n: arrays[f"hist.{n}"] for n in _SCALARS}
        n = len(optimizers)
        if any(c.ndim != 1 or len(c) != n for c in cols.values()):
            raise bad("history columns of different lengths")
        parts = {}
        for name in _ARRAYS:
            lens, flat = arrays[f"hist.{name}.len"], arrays[f"hist.{name}"]
            if lens.ndim != 1 or len(lens) != n or (lens < 0).any() or int(lens.sum()) != flat.size:
                raise bad(f"history {name} does not add up")
            parts[name] = np.split(flat, np.cumsum(lens)[:-1]) if n else []
    except KeyError:
        raise bad("history is missing") from None
    return [
        StepRecord(
            step=int(cols["step"][i]),
            loss=float(cols["loss"][i]),
            mean_loss=float(cols["mean_loss"][i]),
            perplexity=float(cols["perplexity"][i]),
            position_losses=parts["position_losses"][i].copy(),
            target_probs=parts["target_probs"][i].copy(),
            lr=float(cols["lr"][i]),
            optimizer=str(optimizers[i]),
            grad_norm=float(cols["grad_norm"][i]),
            grad_norms=parts["grad_norms"][i].copy(),
            update_norms=parts["update_norms"][i].copy(),
            clipped=bool(cols["clipped"][i]),
        )
        for i in range(n)
    ]


def _words(tokens: tuple[str, ...], k: int = 6) -> str:
    return " ".join(tokens[:k]) + (" ..." if len(tokens) > k else "")
