"""``tui-trainer train``: train without a screen and print each step (a table, or --json lines)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..inputs import non_negative_int, positive_int
from .command import PROG, CommandLine, UsageError
from .options import add_session_options

if TYPE_CHECKING:
    from core import Session


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train without a screen and print each step", description="Train headless.")
    add_session_options(t)
    t.add_argument("--steps", type=non_negative_int, default=300, help="training steps (default 300)")
    t.add_argument("--json", action="store_true", help="print one JSON object per step")
    t.add_argument(
        "--every",
        type=positive_int,
        default=None,
        metavar="N",
        help="table mode: print every N-th step (default: about 10 rows)",
    )
    t.add_argument(
        "--until",
        metavar="EXPR",
        help="stop at the first step where a condition holds, e.g. 'p(learning)>0.9' or 'total<0.05,loss_up' "
        "(comma = or; see the README for every condition)",
    )
    replaced = "an existing FILE is replaced"
    t.add_argument("--export", metavar="FILE", help=f"write the training history to FILE (.json or .csv; {replaced})")
    t.add_argument("--save-checkpoint", metavar="FILE", help=f"save a checkpoint (.npz) after training ({replaced})")
    t.set_defaults(func=run)


def run(line: CommandLine) -> int:
    # options before the command are the app's: train would run without them, silently
    line.check_first(f"{PROG} train [options] (options before 'train' would be ignored)")
    return run_headless(line.args)


def run_headless(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Train ``--steps`` and print the rows; 1 if training diverged, 2 if a file could not be written."""
    from .session import session_from_args  # (NumPy and core load when a command runs: the app paints first)

    out = out or sys.stdout
    err = err or sys.stderr
    export, ckpt = _output_paths(args)
    # no going back in time headless: the timeline keeps no checkpoints
    session = session_from_args(args, undo_memory=0)
    until = _breakpoint(args.until, session) if args.until is not None else None
    rows = _Rows(session, args, out)
    rows.header()
    if session.divergence is not None:  # a checkpoint that starts diverged (NaN parameters)
        return _diverged_at_start(session, until, rows, export, ckpt, err)
    result = session.run(args.steps, on_step=rows.on_step, until=until)
    if not session.history:  # --steps 0: measure the untrained model
        session.forward()
    rows.last(result.detail if result.stopped == "breakpoint" else None)
    if not _write_files(session, export, ckpt, err):
        return 2
    if result.stopped == "diverged":
        from .. import narrate  # (imports Textual: only when needed)

        d = result.divergence
        print(f"{PROG}: diverged at step {d.step}: {narrate.cause(d)}; {narrate.advice(d, headless=True)}", file=err)
        return 1
    rows.summary()
    if until is not None and result.stopped != "breakpoint" and not args.json:
        print(f"{args.until} did not hold in {result.steps} steps", file=out)  # (not left to guess)
    return 0


def _diverged_at_start(session: Session, until, rows: _Rows, export: Path | None, ckpt: Path | None, err) -> int:
    """No step from a diverged state: its row (with the --until condition that holds), why, exit 1."""
    from .. import narrate  # (imports Textual: only when needed)

    rows.last(until.check(session) if until is not None else None)
    if not _write_files(session, export, ckpt, err):
        return 2
    d = session.divergence
    print(f"{PROG}: the loaded state has diverged (step {d.step}: {narrate.cause(d)}): no step was run", file=err)
    return 1


def _output_paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """--export's and --save-checkpoint's paths, checked before training (``UsageError``)."""
    from ..export import check_export_path

    for option, value in (("--export", args.export), ("--save-checkpoint", args.save_checkpoint)):
        if value is not None and not value.strip():
            raise UsageError(f"{option}: the file name is empty")
    try:
        export = check_export_path(args.export) if args.export is not None else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    ckpt = Path(args.save_checkpoint) if args.save_checkpoint is not None else None
    if ckpt is not None and (ckpt.is_dir() or not (ckpt.parent if str(ckpt.parent) else Path(".")).is_dir()):
        raise UsageError(f"cannot save a checkpoint to {str(ckpt)!r}: no such directory, or it is one")
    return export, ckpt


def _breakpoint(expr: str, session: Session):
    from core.breakpoints import BreakpointError, attention_shape, parse
    from core.readout import tracked

    from ..narrate_breakpoints import breakpoint_error

    try:
        return parse(expr, [t for _, _, t in tracked(session)], attention_shape(session.model))
    except BreakpointError as e:
        raise UsageError(f"--until: {breakpoint_error(e)}") from None


def _write_files(session: Session, export: Path | None, ckpt: Path | None, err: TextIO) -> bool:
    """Write the history and the checkpoint asked for; False (and one line on ``err``) if one cannot be."""
    from core.checkpoint import save_checkpoint

    from ..export import export_history

    try:
        if export is not None:
            export_history(session, export)
        if ckpt is not None:
            save_checkpoint(session, ckpt)
    except OSError as e:
        print(f"{PROG}: error: cannot write {e.filename or 'the output file'}: {e.strerror or e}", file=err)
        return False
    return True


def _ppl(x: float) -> str:
    return f"{x:.3f}" if x < 1e5 else f"{x:.2e}"


class _Rows:
    """What train prints on stdout: one JSON object per step, or a table of about ten steps between a
    header and a summary."""

    def __init__(self, session: Session, args: argparse.Namespace, out: TextIO) -> None:
        self.session = session
        self.json = args.json
        self.steps = args.steps
        self.every = args.every or max(1, args.steps // 10)
        #: a text with held-out sentences: a validation column (measured every ``val_every`` steps,
        #: so the default rows fall on measured steps)
        self.val = session.val_data is not None
        if self.val and args.every is None:
            v = session.config.val_every
            self.every = max(v, round(self.every / v) * v)
        self.out = out

    def shown(self, step: int) -> bool:
        return self.json or step % self.every == 0 or step <= 1 or step == self.steps

    def header(self) -> None:
        if self.json:
            return
        s = self.session
        n = s.data.n_positions
        print(
            f"{n} position{'s' if n != 1 else ''}, vocabulary {len(s.vocab)}; {_sizes(s)}: "
            f"{s.model.size:,} parameters; {s.optimizer.name} lr {s.lr:g}, seed {s.config.seed}",
            file=self.out,
        )
        val = f"  {'val mean':>8}" if self.val else ""
        print(f"{'step':>6}  {'total':>9}  {'mean':>8}  {'ppl':>8}{val}  P(target) per position", file=self.out)

    def on_step(self, s: Session) -> None:
        # step k's row is printed once the update that leaves it is made (the last one at the
        # end); the record is built only for a row that is printed: building one every step
        # cost the lesson's model a sixth of its step rate
        h = s.history
        k = h.last_step - 1
        if self.shown(k):
            self.row(h[-2])

    def row(self, rec, extra: dict | None = None) -> None:
        if self.json:
            from ..export import step_row

            self.out.write(json.dumps({**step_row(rec, self.session.config.reduction), **(extra or {})}) + "\n")
        elif extra or self.shown(rec.step):
            probs = " ".join(f"{p:.3f}" for p in rec.target_probs[:8])
            more = " ..." if len(rec.target_probs) > 8 else ""
            val = ""
            if self.val:  # measured every val_every steps; "-" between
                val = f"  {'-' if math.isnan(rec.val_loss) else f'{rec.val_loss:.4f}':>8}"
            losses = f"{rec.total_loss:>9.4f}  {rec.mean_loss:>8.4f}  {_ppl(rec.perplexity):>8}"
            print(f"{rec.step:>6}  {losses}{val}  {probs}{more}", file=self.out)

    def last(self, hit: str | None) -> None:
        """The last step's row; ``hit``: the --until condition that stopped the run."""
        self.row(self.session.history[-1], {"until": hit} if hit else None)
        if hit and not self.json:
            print(f"stopped at step {self.session.step}: {hit} holds", file=self.out)

    def summary(self) -> None:
        h = self.session.history
        if self.json or not h:
            return
        first, last = h[0], h[-1]
        if self.session.full_batch:  # every position each step: the lesson's total means something
            print(f"total loss {first.total_loss:.4f} -> {last.total_loss:.4f} in {last.step} steps", file=self.out)
        else:
            print(f"mean loss {first.mean_loss:.4f} -> {last.mean_loss:.4f} in {last.step} steps", file=self.out)


def _sizes(s: Session) -> str:
    """The model's sizes in a few words (the MLP's widths follow the vocabulary: say them)."""
    c = s.config
    if s.model.kind == "gpt":
        layers = f"{c.layers} layer{'s' if c.layers != 1 else ''}"
        return f"gpt ({layers} of {c.heads} heads, embed {c.embed_dim}, block {c.context})"
    return f"mlp (context {c.context}, embed {c.embed_dim}, hidden {c.hidden1} and {c.hidden2})"
