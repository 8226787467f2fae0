"""Training history as JSON or CSV, and the file names the app writes.

JSON: ``{"format": "tui-trainer-history", "version": 2, "vocab": [...],
"config": {...}, "steps": [row, ...]}`` with each row as ``tui-trainer train
--json`` prints it. CSV: one line per step, the row's scalars first, then
``p_<i>_<word>`` and ``loss_<i>_<word>`` per tracked position (i from 1, the word it predicts).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from core import Session
from core.files import write_atomic
from core.readout import tracked
from core.tokens import shown

FORMATS = (".json", ".csv")
#: rows formatted at a time when writing (the text of a long history is never whole in memory)
CHUNK_ROWS = 1000
SCALAR_COLUMNS = (
    "step",
    "loss",
    "total_loss",
    "mean_loss",
    "perplexity",
    "lr",
    "optimizer",
    "grad_norm",
    "clip_factor",
    "clipped",
)


def _num(x: float) -> float | None:
    """JSON has no NaN: a value not measured (yet) is null."""
    return None if math.isnan(x) else x


def step_row(rec, reduction: str = "mean") -> dict:
    """One history row as the JSON row the headless command prints (see ``core.history``):
    ``loss`` is the objective (the mean per position, or the total with ``reduction="sum"``)."""
    return {
        "step": rec.step,
        "loss": rec.mean_loss if reduction == "mean" else rec.total_loss,
        "total_loss": rec.total_loss,
        "mean_loss": rec.mean_loss,
        "perplexity": rec.perplexity,
        "target_probs": [float(p) for p in rec.target_probs],
        "position_losses": [float(v) for v in rec.position_losses],
        "lr": _num(rec.lr),
        "optimizer": rec.optimizer,
        "grad_norm": _num(rec.grad_norm),
        "clip_factor": _num(rec.clip_factor),
        "clipped": rec.clipped,
        **({} if math.isnan(rec.val_loss) else {"val_loss": rec.val_loss}),
    }


def _cell(v) -> str:
    """A CSV cell: floats exactly (repr), a value not measured empty."""
    if v is None:
        return ""
    return repr(v) if isinstance(v, float) else str(v)


def write_history_json(session: Session, f: BinaryIO) -> None:
    """The history as JSON into ``f``, a few rows at a time (the same bytes as ``json.dumps``
    of the whole document with ``indent=1``: a long history is never a document in memory)."""
    with session.lock:
        doc = {
            "format": "tui-trainer-history",
            "version": 2,
            "vocab": list(session.vocab.tokens),
            "config": asdict(session.config),
            # the positions the per-position values are for (every row, whatever the batch)
            "tracked_positions": [
                {"position": p, "context": ctx, "target": target} for p, ctx, target in tracked(session)
            ],
            "steps": [],
        }
        head = json.dumps(doc, indent=1)
        h = session.history
        if not h:
            f.write((head + "\n").encode("utf-8"))
            return
        f.write((head[: -len("[]\n}")] + "[\n").encode("utf-8"))  # (the steps come last)
        for i in range(0, len(h), CHUNK_ROWS):
            rows = (json.dumps(step_row(r, session.config.reduction), indent=1) for r in h[i : i + CHUNK_ROWS])
            text = ",\n".join("  " + row.replace("\n", "\n  ") for row in rows)  # each row two levels in
            f.write(((",\n" if i else "") + text).encode("utf-8"))
        f.write(b"\n ]\n}\n")


def write_history_csv(session: Session, f: BinaryIO) -> None:
    """The history as CSV into ``f``, a few rows at a time."""
    words = [target for _, _, target in tracked(session)]
    n = len(words)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            *SCALAR_COLUMNS,
            *(f"p_{i}_{shown(t)}" for i, t in enumerate(words, 1)),
            *(f"loss_{i}_{shown(t)}" for i, t in enumerate(words, 1)),
        ]
    )
    with session.lock:
        h = session.history
        for i in range(0, len(h), CHUNK_ROWS):
            for rec in h[i : i + CHUNK_ROWS]:
                r = step_row(rec, session.config.reduction)
                pad = [""] * (n - len(r["target_probs"]))
                w.writerow(
                    [
                        *(_cell(r.get(c)) for c in SCALAR_COLUMNS),
                        *(repr(p) for p in r["target_probs"]),
                        *pad,
                        *(repr(v) for v in r["position_losses"]),
                        *pad,
                    ]
                )
            f.write(out.getvalue().encode("utf-8"))
            out.seek(0)
            out.truncate()
        f.write(out.getvalue().encode("utf-8"))  # (the header, when there is no row)


def history_json(session: Session) -> str:
    buf = io.BytesIO()
    write_history_json(session, buf)
    return buf.getvalue().decode("utf-8")


def history_csv(session: Session) -> str:
    buf = io.BytesIO()
    write_history_csv(session, buf)
    return buf.getvalue().decode("utf-8")


def check_export_path(path: str | os.PathLike) -> Path:
    """``path`` if it names a .json or .csv file in an existing directory; ``ValueError`` otherwise."""
    p = Path(path)
    if p.suffix.lower() not in FORMATS:
        raise ValueError(f"cannot tell the export format of {str(p)!r}: the file name must end in .json or .csv")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"cannot export to {str(p)!r}: directory {str(parent)!r} does not exist")
    if p.is_dir():
        raise ValueError(f"cannot export to {str(p)!r}: it is a directory")
    return p


def export_history(session: Session, path: str | os.PathLike) -> Path:
    """Write the history to ``path``, as JSON or CSV by its extension. Raises ``ValueError``
    for another extension and ``OSError`` if the file cannot be written."""
    p = check_export_path(path)
    write = write_history_json if p.suffix.lower() == ".json" else write_history_csv
    write_atomic(p, lambda f: write(session, f))
    return p


def stem(session: Session) -> str:
    """The file name the app's ctrl+s, e and c start from, e.g. ``tui-trainer-step-00060``."""
    return f"tui-trainer-step-{session.step:05d}"


def free_stem(directory: Path, base: str, suffixes: tuple[str, ...]) -> Path:
    """``directory / base``, or ``base-2``, ``base-3``... : the first stem with no file of any of
    ``suffixes`` yet, so a save never overwrites an earlier one (JSON and CSV get one number)."""
    n = 1
    while True:
        p = directory / (base if n == 1 else f"{base}-{n}")
        if not any(p.with_name(p.name + s).exists() for s in suffixes):
            return p
        n += 1
