"""``tui-trainer sweep``: the same start trained once per learning rate and optimizer, compared."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, TextIO

from ..inputs import non_negative_int
from .command import PROG, CommandLine, UsageError
from .options import add_session_options

if TYPE_CHECKING:
    from core import ActionResult, Session
    from core.runs import SweepRun


def add_parser(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser(
        "sweep",
        help="train the same start with several learning rates or optimizers and compare them",
        description="One run per --model x --optimizer x --lr, each model from its own initial weights (the same "
        "seed); a table (or --json rows).",
    )
    add_session_options(w, sweep=True)
    w.add_argument("--steps", type=non_negative_int, default=300, help="training steps per run (default 300)")
    w.add_argument("--json", action="store_true", help="print one JSON object per run")
    w.set_defaults(func=run)


def run(line: CommandLine) -> int:
    # options before the command are the app's: sweep would run without them, silently
    line.check_first(f"{PROG} sweep [options] (options before 'sweep' would be ignored)")
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
        "model": session.model.kind,
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
    start) for each --model in turn, each from its own fresh start (as F's ``model gpt`` forks it:
    the same text, tokens and seed); --json prints each run's row as it finishes, the table waits
    for them all."""
    from .session import session_from_args

    out = out or sys.stdout
    if args.load is not None and len(args.model) > 1:
        raise UsageError("--load starts from one checkpoint's model: give --model one model, or no --load")
    rows = []
    for model in args.model:
        first = argparse.Namespace(**{**vars(args), "model": model, "optimizer": args.optimizer[0], "lr": args.lr[0]})
        session = session_from_args(first, undo_memory=0)

        def finished(run: SweepRun, session: Session = session) -> None:  # at the end of this run's branch
            rows.append(sweep_row(session, run.result))
            if args.json:
                print(json.dumps(rows[-1]), file=out, flush=True)

        session.sweep(args.lr, args.steps, args.optimizer, on_run=finished)
    if not args.json:
        objective = "mean" if session.config.reduction == "mean" else "total"
        _table(rows, out, models=len(args.model) > 1, objective=objective, goal=session.full_batch)
    return 0


def _table(rows: list[dict], out: TextIO, models: bool = False, objective: str = "mean", goal: bool = True) -> None:
    """The rows as a table; ``models``: a first column naming each row's model (several were swept);
    ``objective``: the loss the final and best columns are ("mean" per position, or "total");
    ``goal``: the lesson's total < 0.05 column (only where each step sees every position: on a
    sampled text a batch's total says nothing)."""
    reached_head = f" {'total<0.05 at':>14}" if goal else ""
    head = f"{'optimizer':<9} {'lr':>8} {'final ' + objective:>12} {'best ' + objective:>11}{reached_head}  diverged"
    print(f"{'model':<5} {head}" if models else head, file=out)
    for r in rows:
        reached = "never" if r["reached_total_0.05"] is None else f"step {r['reached_total_0.05']}"
        div = "" if r["diverged_at"] is None else f"at step {r['diverged_at']} ({r['cause'].replace('_', ' ')})"
        best = "-" if r["best_loss"] is None else f"{r['best_loss']:.4f}"
        reached = f" {reached:>14}" if goal else ""
        line = f"{r['optimizer']:<9} {r['lr']:>8g} {r['final_loss']:>12.4f} {best:>11}{reached}  {div}"
        print(f"{r['model']:<5} {line}" if models else line, file=out)
