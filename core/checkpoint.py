"""Checkpoints: save a session and load it back, bit for bit.

A checkpoint is a NumPy ``.npz`` archive read with ``allow_pickle=False``
(never pickle: loading a file must not run code). It holds

    header        a JSON document as UTF-8 bytes: format, version, the
                  session's config, the model's kind and its tensors
                  (``"tensors": [[name, shape], ...]`` in flat order), vocabulary,
                  step, learning rate, optimizer name and its scalar state
    params        the flat parameter vector (``tensors`` says how to cut it)
    opt.<name>    each array of the optimizer's state (velocity, m, v)
    hist.<field>  the training history, one array per field

Only the session's public API is used: ``Session.create``, ``model.params``,
``optimizer.state_dict`` / ``load_state_dict``, ``history``, ``step``, ``lr``.
A loaded session has the forward pass of its parameters (phase ``forward``), and its
timeline starts there; training
continues exactly as it would have without the save and load.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np

from .files import FileTooLargeError, NotRegularFileError, read_regular, write_atomic
from .history import SCALARS, History
from .optim import OPTIMIZERS
from .session import Session, SessionConfig

FORMAT = "tui-trainer-checkpoint"
VERSION = 2
#: version 1 kept one record per update (step s: the loss before update s); still read
READABLE = (1, 2)
#: Largest checkpoint read: 20,000,000 parameters with Adam's two arrays, and a long history.
MAX_CHECKPOINT_BYTES = 1 << 30


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
            "config": _config_to_json(replace(session.config, clip=session.clip)),
            # what ``params`` holds, for readers without this package: the model's kind and every
            # tensor as [name, shape] in the order of the flat vector (each a C-order reshape of its slice)
            "model": session.model.kind,
            "tensors": [[name, list(shape)] for name, shape in session.model.tensors.shapes.items()],
            "vocab": list(session.vocab.tokens),
            "step": int(session.step),
            "lr": float(session.lr),
            "optimizer": session.optimizer.name,
            "optimizer_scalars": {k: v for k, v in opt_state.items() if not isinstance(v, np.ndarray)},
            "optimizer_arrays": sorted(k for k, v in opt_state.items() if isinstance(v, np.ndarray)),
            # the rows of the steps before this one (a loaded session has no forward pass yet)
            "history_optimizers": [r.optimizer for r in session.history[: session.step]],
        }
        arrays: dict[str, np.ndarray] = {
            "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
            "params": session.model.params.copy(),
        }
        for k in header["optimizer_arrays"]:
            arrays[f"opt.{k}"] = np.asarray(opt_state[k])
        arrays.update(_history_arrays(session.history, session.step))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())
    return path


def _config_to_json(config: SessionConfig) -> dict:
    d = asdict(config)
    if d["vocab"] is not None:
        d["vocab"] = list(d["vocab"])
    return d


def _history_arrays(history, rows: int) -> dict[str, np.ndarray]:
    """The first ``rows`` rows, one array per column (``core.history``)."""
    out = {f"hist.{name}": np.array(history.column(name)[:rows]) for name in SCALARS}
    out["hist.target_probs"] = np.array(history.column("target_probs")[:rows])
    out["hist.position_losses"] = np.array(history.column("position_losses")[:rows])
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
        raw = read_regular(path, MAX_CHECKPOINT_BYTES)
    except NotRegularFileError as e:
        raise CheckpointError(f"cannot read checkpoint {name}: it is not a regular file ({e.kind})") from None
    except FileTooLargeError:
        raise CheckpointError(f"cannot read checkpoint {name}: larger than {MAX_CHECKPOINT_BYTES >> 20} MB") from None
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
    if header.get("version") not in READABLE:
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
        if header.get("version") == 1:
            cfg.setdefault("reduction", "sum")  # version 1 trained on the total
            cfg.setdefault("val_fraction", 0.0)  # ... of every sentence
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
    listed = header.get("tensors")  # (older checkpoints do not list them)
    if listed is not None and listed != [[n, list(sh)] for n, sh in m.tensors.shapes.items()]:
        raise bad("its tensors do not match the model it describes")
    if header.get("model", m.kind) != m.kind:
        raise bad(f"its model {header.get('model')!r} is not the one its settings build")
    state: dict = dict(scalars)
    for k in array_keys:
        a = arrays.get(f"opt.{k}")
        if a is None or a.shape != m.params.shape:
            raise bad(f"optimizer state {k!r} is missing or the wrong size")
        state[k] = a
    tracked = len(session.tracked)
    if header["version"] == 1:
        history = _history_v1(arrays, hist_opts, tracked, step, bad)
    else:
        history = _history_from_arrays(arrays, hist_opts, tracked, step, bad)
    try:
        session.load_state(params, opt_name, state, lr, step, history)
    except ValueError:
        raise bad("optimizer state does not fit") from None
    return session


def _history_from_arrays(arrays: dict[str, np.ndarray], opts: list, tracked: int, step: int, bad) -> History:
    try:
        cols = {n: arrays[f"hist.{n}"] for n in SCALARS}
        probs, losses = arrays["hist.target_probs"], arrays["hist.position_losses"]
    except KeyError:
        raise bad("history is missing") from None
    n = len(opts)
    if n != step or any(c.shape != (n,) or c.dtype != np.float64 for c in cols.values()):
        raise bad("history columns do not match its step")
    if probs.shape != (n, tracked) or losses.shape != (n, tracked):
        raise bad("history per-position columns do not fit the text")
    h = History(tracked, tuple(OPTIMIZERS), capacity=max(64, n))
    h.n = n
    for name in SCALARS:
        h.cols[name][:n] = cols[name]
    for i, o in enumerate(opts):
        if str(o) not in OPTIMIZERS:
            raise bad(f"unknown optimizer {str(o)!r} in the history")
        h.opt[i] = h.optimizers.index(str(o))
    h.probs[:n], h.losses[:n] = probs, losses
    return h


def _history_v1(arrays: dict[str, np.ndarray], optimizers: list, tracked: int, step: int, bad) -> History:
    """Version 1 numbered rows from 1, each the loss before that update: row s is step s - 1."""
    try:
        loss, mean = arrays["hist.loss"], arrays["hist.mean_loss"]
        lr, gnorm, clipped = arrays["hist.lr"], arrays["hist.grad_norm"], arrays["hist.clipped"]
        plens, pflat = arrays["hist.target_probs.len"], arrays["hist.target_probs"]
        llens, lflat = arrays["hist.position_losses.len"], arrays["hist.position_losses"]
    except KeyError:
        raise bad("history is missing") from None
    n = len(optimizers)
    if n != step or any(len(c) != n for c in (loss, mean, lr, gnorm, clipped, plens, llens)):
        raise bad("history columns do not match its step")
    if int(plens.sum()) != pflat.size or int(llens.sum()) != lflat.size or (plens < 0).any():
        raise bad("history target_probs does not add up")
    h = History(tracked, tuple(OPTIMIZERS), capacity=max(64, n))
    h.n = n
    h.cols["total_loss"][:n], h.cols["mean_loss"][:n] = loss, mean
    h.cols["lr"][:n], h.cols["grad_norm"][:n] = lr, gnorm
    h.cols["clip_factor"][:n] = np.where(clipped, np.nan, 1.0)  # clipped by an unrecorded factor
    starts = np.concatenate([[0], np.cumsum(plens)[:-1]]) if n else []
    for i in range(n):
        if str(optimizers[i]) not in OPTIMIZERS:
            raise bad(f"unknown optimizer {optimizers[i]!r} in the history")
        h.opt[i] = h.optimizers.index(str(optimizers[i]))
        if plens[i] >= tracked and llens[i] == plens[i]:  # a full batch: its first positions are the tracked ones
            h.probs[i] = pflat[starts[i] : starts[i] + tracked]
            h.losses[i] = lflat[starts[i] : starts[i] + tracked]
    return h


def _words(tokens: tuple[str, ...], k: int = 6) -> str:
    return " ".join(tokens[:k]) + (" ..." if len(tokens) > k else "")
