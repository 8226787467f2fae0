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

import json
import math
import os
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .checkpoint_read import NAMES_THE_FILE, Archive, CheckpointError, check_header, check_size, read_header
from .data import dataset_from_text
from .files import FileTooLargeError, NotRegularFileError, open_regular, write_atomic
from .history import SCALARS, History
from .optim import OPTIMIZERS
from .session import Divergence, Session, SessionConfig
from .tokens import Tokenizer

__all__ = ["FORMAT", "VERSION", "CheckpointError", "load_checkpoint", "save_checkpoint"]

FORMAT = "tui-trainer-checkpoint"
VERSION = 2
#: version 1 kept one record per update (step s: the loss before update s); still read
READABLE = (1, 2)
#: Largest checkpoint read: 20,000,000 parameters with Adam's two arrays, and a long history.
MAX_CHECKPOINT_BYTES = 1 << 30


# --- save ---------------------------------------------------------------------------------


def save_checkpoint(session: Session, path: str | os.PathLike) -> Path:
    """Write ``session`` to ``path`` (atomically: a crash leaves no half-written file), one
    array after another straight into the archive (a long history is never copied whole).

    Raises ``OSError`` if the file cannot be written."""
    path = Path(path)
    with session.lock:  # (held while writing: the arrays are the session's own)
        opt_state = session.optimizer.state_dict()
        history = session.history
        rows = history.index(session.step)  # the rows of the steps before this one
        rows = len(history) if rows is None else rows
        names = tuple(OPTIMIZERS)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "config": _config_to_json(replace(session.config, clip=session.clip)),
            # what ``params`` holds, for readers without this package: the model's kind and every
            # tensor as [name, shape] in the order of the flat vector (each a C-order reshape of its slice)
            "model": session.model.kind,
            "tensors": [[name, list(shape)] for name, shape in session.model.tensors.shapes.items()],
            # what a token is: BPE's merges in the order they were learned (a reader can cut text the same way)
            "tokenizer": _tokenizer_to_json(session.data.tokenizer),
            "vocab": list(session.vocab.tokens),
            "step": int(session.step),
            "lr": float(session.lr),
            "optimizer": session.optimizer.name,
            "optimizer_scalars": {k: v for k, v in opt_state.items() if not isinstance(v, np.ndarray)},
            "optimizer_arrays": sorted(k for k, v in opt_state.items() if isinstance(v, np.ndarray)),
            # the rows of the steps before this one (a loaded session has no forward pass yet)
            "history_optimizers": [names[o] for o in history.column("optimizer")[:rows]],
        }
        if history.stride > 1:  # thinned: the rows' steps are in hist.step
            header["history_stride"] = history.stride
        arrays: dict[str, np.ndarray] = {
            "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
            "params": session.model.params,
        }
        for k in header["optimizer_arrays"]:
            arrays[f"opt.{k}"] = np.asarray(opt_state[k])
        arrays.update(_history_arrays(history, rows))
        write_atomic(path, lambda f: _write_npz(f, arrays))
    return path


def _write_npz(f: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez``'s archive, written into ``f`` member by member (``np.savez`` into a
    ``BytesIO`` held the whole archive: 215 MB after a long run, issue 23)."""
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, a in arrays.items():
            with z.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(a), allow_pickle=False)


def _tokenizer_to_json(tok: Tokenizer) -> dict:
    return {"kind": tok.kind, "merges": [[m.left, m.right, m.count] for m in tok.merges]}


def _config_to_json(config: SessionConfig) -> dict:
    d = asdict(config)
    if d["vocab"] is not None:
        d["vocab"] = list(d["vocab"])
    return d


def _history_arrays(history, rows: int) -> dict[str, np.ndarray]:
    """The first ``rows`` rows, one array per column (``core.history``; views, not copies),
    with their steps when thinned."""
    out = {f"hist.{name}": history.column(name)[:rows] for name in SCALARS}
    out["hist.target_probs"] = history.column("target_probs")[:rows]
    out["hist.position_losses"] = history.column("position_losses")[:rows]
    if history.stride > 1:
        out["hist.step"] = history.column("step")[:rows]
    return out


# --- load ---------------------------------------------------------------------------------


def load_checkpoint(path: str | os.PathLike, **overrides) -> Session:
    """A new session restored from the checkpoint at ``path``.

    ``overrides`` are ``SessionConfig`` fields: ``text``, ``vocab``,
    ``add_eos`` and ``unk`` train the restored model on other data (the
    resulting vocabulary must be the checkpoint's); model sizes must not be
    overridden. Raises ``CheckpointError`` (a reason code and its data) for a
    missing, damaged, truncated, crafted or foreign file, or another vocabulary
    (``core.checkpoint_read`` checks everything before it is used). A checkpoint
    whose parameters are not finite loads as a diverged state (``nonfinite_params``).
    """
    name = Path(path).name
    try:
        fd = open_regular(path, MAX_CHECKPOINT_BYTES)
    except NotRegularFileError as e:
        raise CheckpointError("not_regular_file", name=name, kind=e.kind) from None
    except FileTooLargeError:
        raise CheckpointError("too_large", name=name, limit=MAX_CHECKPOINT_BYTES) from None
    except OSError as e:
        raise CheckpointError("unreadable", name=name, error=e) from None
    with os.fdopen(fd, "rb") as f:
        try:
            if f.read(2) != b"PK":
                raise CheckpointError("not_an_archive")
            f.seek(0)
            archive = Archive(f)
            header = check_header(read_header(archive), FORMAT, READABLE)
            return _restore(name, header, archive, overrides)
        except CheckpointError as e:
            if e.code in NAMES_THE_FILE:
                raise
            raise CheckpointError("not_usable", name=name, reason=e) from None
        except OSError as e:
            raise CheckpointError("unreadable", name=name, error=e) from None


def _restore(name: str, header: dict, archive: Archive, data_overrides: dict) -> Session:
    cfg = dict(header["config"])
    if header["version"] == 1:
        cfg.setdefault("reduction", "sum")  # version 1 trained on the total
        cfg.setdefault("val_fraction", 0.0)  # ... of every sentence
    vocab = tuple(header["vocab"])
    step, lr, opt_name = header["step"], header["lr"], header["optimizer"]
    try:
        config = replace(SessionConfig(**cfg), optimizer=opt_name, **data_overrides)
        config.validate()
        vocab_given = list(config.vocab) if config.vocab else None
        data = dataset_from_text(
            config.text, vocab_given, config.context, config.add_eos, config.unk, tokens=config.tokens
        )
        check_size(config, len(data.vocab), data.context_size)
        session = Session.create(config, data=data)
    except (TypeError, ValueError, OverflowError, IndexError) as e:  # VocabError is a ValueError
        raise CheckpointError("settings", error=e) from None
    got = session.vocab.tokens
    if got != vocab:
        if data_overrides.keys() & {"text", "vocab", "add_eos", "unk"}:
            raise CheckpointError("other_vocabulary", name=name, vocab=vocab, given=got)
        raise CheckpointError("vocab_mismatch")
    m = session.model
    stored = header.get("tokenizer")  # (older checkpoints are in words)
    if stored is not None and stored != _tokenizer_to_json(session.data.tokenizer):
        raise CheckpointError("tokenizer_mismatch")
    listed = header.get("tensors")  # (older checkpoints do not list them)
    if listed is not None and listed != [[n, list(sh)] for n, sh in m.tensors.shapes.items()]:
        raise CheckpointError("tensors_mismatch")
    if header.get("model", m.kind) != m.kind:
        raise CheckpointError("model_mismatch", model=header.get("model"))
    flat, dtype = m.params.shape, m.params.dtype.str
    try:
        params = archive.read("params", flat, (dtype,))
    except CheckpointError:
        raise CheckpointError("params_do_not_fit") from None
    state: dict = dict(header["optimizer_scalars"])
    for k in header["optimizer_arrays"]:
        try:
            state[k] = archive.read(f"opt.{k}", flat, (dtype,))
        except CheckpointError:
            raise CheckpointError("optimizer_state_missing", array=k) from None
    tracked, opts = len(session.tracked), header["history_optimizers"]
    if header["version"] == 1:
        history = _history_v1(archive, opts, tracked, step)
    else:
        history = _history_from_arrays(archive, opts, tracked, step, header.get("history_stride", 1))
    try:
        session.load_state(params, opt_name, state, lr, step, history)
    except ValueError:
        raise CheckpointError("optimizer_state_does_not_fit") from None
    if not np.isfinite(params).all():  # a start that is already diverged, said as one
        session.divergence = Divergence(step, "nonfinite_params", math.nan, float(lr), None)
    return session


def _history_from_arrays(archive: Archive, opts: list, tracked: int, step: int, stride: int) -> History:
    n = len(opts)
    if not all(f"hist.{c}" in archive for c in (*SCALARS, "target_probs", "position_losses")):
        raise CheckpointError("history_missing")
    try:
        cols = {c: archive.read(f"hist.{c}", (n,), ("<f8",)) for c in SCALARS}
        probs = archive.read("hist.target_probs", (n, tracked), ("<f8",))
        losses = archive.read("hist.position_losses", (n, tracked), ("<f8",))
        steps = archive.read("hist.step", (n,), ("<i8",)) if stride > 1 else np.arange(n)
    except CheckpointError as e:
        raise CheckpointError("history_does_not_fit", version=2, reason=e) from None
    # a thinned history: rising steps from 0, every multiple of its stride among them
    if n and (steps[0] != 0 or steps[-1] >= step or (np.diff(steps) <= 0).any()):
        raise CheckpointError("history_out_of_order")
    if step and np.count_nonzero(steps % stride == 0) != (step - 1) // stride + 1:
        raise CheckpointError("history_out_of_order")
    opt = np.array([tuple(OPTIMIZERS).index(o) for o in opts], dtype=np.int8)
    return History.from_columns(tuple(OPTIMIZERS), steps, cols, opt, probs, losses, stride)


def _history_v1(archive: Archive, optimizers: list, tracked: int, step: int) -> History:
    """Version 1 numbered rows from 1, each the loss before that update: row s is step s - 1."""
    n = len(optimizers)
    names = ("loss", "mean_loss", "lr", "grad_norm", "clipped", "target_probs.len", "position_losses.len")
    if not all(f"hist.{c}" in archive for c in (*names, "target_probs", "position_losses")):
        raise CheckpointError("history_missing")
    try:
        loss, mean, lr, gnorm = (archive.read(f"hist.{c}", (n,), ("f",)) for c in names[:4])
        clipped = archive.read("hist.clipped", (n,), ("b", "i", "u"))
        plens, llens = (archive.read(f"hist.{c}.len", (n,), ("i", "u")) for c in ("target_probs", "position_losses"))
        limit = 8 * (int(plens.sum()) + 1)
        pflat = archive.read("hist.target_probs", None, ("f",), limit)
        lflat = archive.read("hist.position_losses", None, ("f",), 8 * (int(llens.sum()) + 1))
    except CheckpointError as e:
        raise CheckpointError("history_does_not_fit", version=1, reason=e) from None
    if pflat.ndim != 1 or lflat.ndim != 1 or (plens < 0).any() or (llens < 0).any():
        raise CheckpointError("history_does_not_add_up")
    if int(plens.sum()) != pflat.size or int(llens.sum()) != lflat.size:
        raise CheckpointError("history_does_not_add_up")
    nan, grid = np.full(n, np.nan), np.full((n, tracked), np.nan)
    cols = {c: nan for c in SCALARS}
    h = History.from_columns(tuple(OPTIMIZERS), np.arange(n), cols, np.full(n, -1), grid, grid)
    h.cols["total_loss"][:n], h.cols["mean_loss"][:n] = loss, mean
    h.cols["lr"][:n], h.cols["grad_norm"][:n] = lr, gnorm
    h.cols["clip_factor"][:n] = np.where(clipped, np.nan, 1.0)  # clipped by an unrecorded factor
    starts = np.concatenate([[0], np.cumsum(plens)[:-1]]) if n else []
    for i in range(n):
        h.opt[i] = h.optimizers.index(optimizers[i])
        if plens[i] >= tracked and llens[i] == plens[i]:  # a full batch: its first positions are the tracked ones
            h.probs[i] = pflat[starts[i] : starts[i] + tracked]
            h.losses[i] = lflat[starts[i] : starts[i] + tracked]
    return h
