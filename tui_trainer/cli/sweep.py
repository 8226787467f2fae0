"""``tui-trainer sweep``: the same start trained once per learning rate and optimizer, compared."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from ..inputs import non_negative_int
from .command import CommandLine
from .options import add_session_options

if TYPE_CHECKING:
    from core import ActionResult, Session
    from core.runs import SweepRun


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser(
        "sweep",
        help="train the same start with several learning rates or optimizers and compare them",
        description="One run per --lr x --optimizer, from the same initial weights; a table (or --json rows).",
    )
    add_session_options(w, sweep=True)
    w.add_argument("--steps", type=non_negative_int, default=300, help="training steps per run (default 300)")
    w.add_argument("--json", action="store_true", help="print one JSON object per run")
    w.set_defaults(func=run)


def run(line: CommandLine) -> int:
    return run_sweep(line.args)


def sweep_row(session: Session, result: ActionResult) -> dict:
    """One run of a sweep, as data: final and best loss, when total < 0.05 was reached, divergence."""
    import numpy as np  # (NumPy and core load when a command runs: the app paints before they do)

    from core.readout import reached_goal

    h = session.history
    total, mean = h.column("total_loss"), h.column("mean_loss")
    objective = mean if session.config.reduction == "mean" else total
    d = result.divergence
    return {
        "optimizer": session.optimizer.name,
        "lr": session.lr,
        "steps": session.step,
        "final_loss": float(objective[-1]),
        "final_total": float(total[-1]),
        "final_mean": float(mean[-1]),
        "best_loss": float(np.nanmin(objective)) if np.isfinite(objective).any() else None,
        "reached_total_0.05": reached_goal(total, session.full_batch, h.column("step")),
        "diverged_at": d.step if d is not None else None,
        "cause": d.cause if d is not None else None,
    }


def run_sweep(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the sweep (``Session.sweep``, as the app's S: one branch per setting from the same
    start); --json prints each run's row as it finishes, the table waits for them all."""
    from .session import session_from_args

    out = out or sys.stdout
    first = argparse.Namespace(**{**vars(args), "optimizer": args.optimizer[0], "lr": args.lr[0]})
    session = session_from_args(first, undo_memory=0)
    rows = []

    def finished(run: SweepRun) -> None:  # the session is at the end of this run's branch
        rows.append(sweep_row(session, run.result))
        if args.json:
            print(json.dumps(rows[-1]), file=out, flush=True)

    session.sweep(args.lr, args.steps, args.optimizer, on_run=finished)
    if not args.json:
        _table(rows, out)
    return 0


def _table(rows: list[dict], out: TextIO) -> None:
    head = f"{'optimizer':<9} {'lr':>8} {'final loss':>11} {'best loss':>10} {'total<0.05 at':>14}  diverged"
    print(head, file=out)
    for r in rows:
        reached = "never" if r["reached_total_0.05"] is None else f"step {r['reached_total_0.05']}"
        div = "" if r["diverged_at"] is None else f"at step {r['diverged_at']} ({r['cause'].replace('_', ' ')})"
        best = "-" if r["best_loss"] is None else f"{r['best_loss']:.4f}"
        print(f"{r['optimizer']:<9} {r['lr']:>8g} {r['final_loss']:>11.4f} {best:>10} {reached:>14}  {div}", file=out)
