"""Command line: ``tui-trainer`` (the app) and ``tui-trainer train`` (headless).

Every bad argument or file ends in one line on stderr and exit status 2,
before anything starts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from core import OPTIMIZERS, Session, SessionConfig, VocabError, check_lr

from .inputs import InputError, non_negative_int, parse_vocab, positive_float, positive_int, read_text_file

PROG = "tui-trainer"
THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "dracula", "monokai", "tokyo-night", "solarized-light")


class UsageError(Exception):
    """Raised instead of exiting so that ``main`` prints one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _lr(text: str) -> float:
    try:
        return check_lr(float(text))
    except ValueError as e:
        raise InputError(str(e) if "learning rate" in str(e) else f"expected a number, got {text!r}") from None


def _add_session_options(p: argparse.ArgumentParser) -> None:
    d = p.add_argument_group("data")
    d.add_argument(
        "--text",
        help='training text (default: the lesson\'s "we love deep learning"); sentences split at newlines and . ! ?',
    )
    d.add_argument("--corpus", metavar="FILE", help="read the training text from a UTF-8 file")
    d.add_argument(
        "--vocab",
        metavar="WORDS|@FILE",
        help="a fixed vocabulary: space-separated words, or @FILE; default: the text's own words",
    )
    d.add_argument("--unk", action="store_true", help="map words outside --vocab to <UNK> instead of failing")
    d.add_argument("--eos", action="store_true", help="also predict <EOS> after the last word")
    d.add_argument(
        "--batch-positions",
        type=positive_int,
        default=512,
        metavar="N",
        help="positions per step; larger texts train on a random sample of N (default 512)",
    )
    m = p.add_argument_group("model")
    m.add_argument("--context", type=positive_int, default=4, metavar="K", help="tokens of context (default 4)")
    m.add_argument("--embed", type=positive_int, default=8, metavar="D", help="embedding size (default 8)")
    m.add_argument("--hidden", type=positive_int, default=16, metavar="H", help="layer1 width (default 16)")
    m.add_argument("--hidden2", type=positive_int, default=None, metavar="H", help="layer2 width (default: --hidden)")
    m.add_argument("--dtype", choices=("float64", "float32"), default="float64", help="float precision")
    o = p.add_argument_group("training")
    o.add_argument(
        "--optimizer", default="sgd", metavar="{" + ",".join(OPTIMIZERS) + "}", help="sgd (default), momentum or adam"
    )
    o.add_argument("--lr", type=_lr, default=None, help="learning rate (default: sgd 0.1, momentum 0.01, adam 0.01)")
    o.add_argument("--clip", type=positive_float, default=None, metavar="NORM", help="clip the gradient norm to NORM")
    o.add_argument("--seed", type=non_negative_int, default=0, help="random seed for the initial weights (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Step through how a tiny language model learns: forward, loss, backward, update.",
        epilog="Run 'tui-trainer train --help' for the headless trainer.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _add_session_options(parser)
    a = parser.add_argument_group("app")
    a.add_argument("--run-n", type=positive_int, default=100, metavar="N", help="steps run by the r key (default 100)")
    a.add_argument("--theme", default="textual-dark", help=f"colour theme: {', '.join(THEMES)}")
    sub = parser.add_subparsers(dest="command", metavar="{train}")
    t = sub.add_parser("train", help="train without a screen and print each step", description="Train headless.")
    t.error = parser.error  # type: ignore[method-assign]
    _add_session_options(t)
    t.add_argument("--steps", type=non_negative_int, default=300, help="training steps (default 300)")
    t.add_argument("--json", action="store_true", help="print one JSON object per step")
    t.add_argument(
        "--every",
        type=positive_int,
        default=None,
        metavar="N",
        help="table mode: print every N-th step (default: about 10 rows)",
    )
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def session_from_args(args: argparse.Namespace, **overrides) -> Session:
    """Build the session the options describe; ``UsageError`` for anything unusable."""
    if args.text is not None and args.corpus is not None:
        raise UsageError("give --text or --corpus, not both")
    if args.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {args.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
    try:
        text = args.text
        if args.corpus is not None:
            text = read_text_file(args.corpus)
        if text is not None and not text.strip():
            raise UsageError("the text is empty")
        vocab = tuple(parse_vocab(args.vocab)) if args.vocab is not None else None
        return Session.create(
            SessionConfig(
                text=text,
                vocab=vocab,
                add_eos=args.eos,
                unk=args.unk,
                context=args.context,
                embed_dim=args.embed,
                hidden1=args.hidden,
                hidden2=args.hidden2 or args.hidden,
                dtype=args.dtype,
                optimizer=args.optimizer,
                lr=args.lr,
                clip=args.clip,
                seed=args.seed,
                batch_positions=args.batch_positions,
            ),
            **overrides,
        )
    except (InputError, VocabError, ValueError) as e:
        raise UsageError(str(e)) from None
    except MemoryError:
        raise UsageError("not enough memory for this text and model: use a smaller vocabulary or model") from None


# --- headless ---------------------------------------------------------------------------


def step_row(rec) -> dict:
    """One history record as the JSON row the headless command prints."""
    return {
        "step": rec.step,
        "loss": rec.loss,
        "mean_loss": rec.mean_loss,
        "perplexity": rec.perplexity,
        "target_probs": [float(p) for p in rec.target_probs],
        "position_losses": [float(v) for v in rec.position_losses],
        "lr": rec.lr,
        "optimizer": rec.optimizer,
        "grad_norm": rec.grad_norm,
        "clipped": rec.clipped,
    }


def run_headless(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    session = session_from_args(args, undo_limit=0)
    steps = args.steps
    every = args.every or max(1, steps // 10)
    if not args.json:
        v = session.vocab
        print(
            f"{session.data.n_positions} positions, vocabulary {len(v)}, {session.model.size:,} parameters, "
            f"{session.optimizer.name} lr {session.lr:g}, seed {session.config.seed}",
            file=out,
        )
        print(f"{'step':>6}  {'loss':>9}  {'mean':>8}  {'ppl':>8}  P(target) per position", file=out)

    def emit(s: Session) -> None:
        rec = s.history[-1]
        if args.json:
            out.write(json.dumps(step_row(rec)) + "\n")
        elif rec.step % every == 0 or rec.step == 1 or rec.step == steps:
            probs = " ".join(f"{p:.3f}" for p in rec.target_probs[:8])
            more = " ..." if len(rec.target_probs) > 8 else ""
            print(
                f"{rec.step:>6}  {rec.loss:>9.4f}  {rec.mean_loss:>8.4f}  {rec.perplexity:>8.3f}  {probs}{more}",
                file=out,
            )

    result = session.run(steps, on_step=emit)
    if result.stopped == "diverged":
        d = result.divergence
        print(f"{PROG}: diverged at step {d.step}: {d.cause}; {d.advice}", file=err)
        return 1
    if not args.json and session.history:
        first, last = session.history[0], session.history[-1]
        print(f"total loss {first.loss:.4f} -> {last.loss:.4f} in {last.step} steps", file=out)
    return 0


# --- entry point ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train":
            return run_headless(args)
        if args.theme not in THEMES:
            raise UsageError(f"unknown theme {args.theme!r} (choose from {', '.join(THEMES)})")
        session = session_from_args(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `tui-trainer train | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    from .app import TrainerApp  # Textual loads only when the app starts

    app = TrainerApp(session, run_n=args.run_n, theme=args.theme)
    app.run()
    return app.return_code or 0
