"""Command line: ``tui-trainer`` (the app) and ``tui-trainer train`` (headless).

Every bad argument or file ends in one line on stderr and exit status 2,
before anything starts.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from core import OPTIMIZERS, Session, SessionConfig, VocabError, check_lr
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

from .export import check_export_path, export_history, step_row
from .inputs import (
    InputError,
    check_model_size,
    load_dataset,
    non_negative_int,
    parse_vocab,
    positive_float,
    positive_int,
    read_text_file,
)
from .keys import Beat, KeyScriptError, parse_script
from .pace import MAX_SPEED

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


def _undo_memory(text: str) -> int:
    mb = non_negative_int(text)
    if mb > 2**20:
        raise InputError(f"the undo memory is in megabytes: {mb:,} MB is more than a terabyte")
    return mb


def _key_delay(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(x) and 0 <= x <= 60):
        raise InputError(f"the key delay must be between 0 and 60 seconds, not {text}")
    return x


def _speed(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"expected a number of steps per second, got {text!r}") from None
    if not (math.isfinite(x) and 0 < x <= MAX_SPEED):
        raise InputError(f"the speed must be more than 0 and at most {MAX_SPEED:g} steps per second, not {text}")
    return x


def _port(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise InputError(f"expected a port number, got {text!r}") from None
    if not 1 <= x <= 65535:
        raise InputError(f"the port must be between 1 and 65535, not {x}")
    return x


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
    o.add_argument(
        "--load",
        metavar="FILE",
        help="start from a checkpoint (c in the app, --save-checkpoint): its model, optimizer, lr, step and history; "
        "a --text/--corpus/--vocab given too must have its vocabulary",
    )


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
    a.add_argument("--presenter", action="store_true", help="large panes, high contrast (projectors)")
    a.add_argument(
        "--speed",
        type=_speed,
        default=None,
        metavar="STEPS_PER_SECOND",
        help="slow motion for r and play (space); - and + change it live (default: as fast as possible)",
    )
    a.add_argument(
        "--screenshot-dir",
        default=".",
        metavar="DIR",
        help="where ctrl+s (screenshots), e (history) and c (checkpoints) write (default: the current directory)",
    )
    a.add_argument(
        "--undo-memory",
        type=_undo_memory,
        default=64,
        metavar="MB",
        help="memory for undo's checkpoints; older states are recomputed from them (default 64)",
    )
    s = parser.add_argument_group("scripting (for demos; see the README)")
    s.add_argument("--keys", metavar="SCRIPT", help='play a key script on start, e.g. "f right b u 200r z"')
    s.add_argument(
        "--key-delay",
        type=_key_delay,
        default=0.0,
        metavar="SECONDS",
        help="pause before each scripted key beat (a count and its r are one beat)",
    )
    s.add_argument("--exit-after", action="store_true", help="quit when the key script has played and runs finished")
    sub = parser.add_subparsers(dest="command", metavar="{train,serve}")
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
    t.add_argument("--export", metavar="FILE", help="write the training history to FILE (.json or .csv)")
    t.add_argument("--save-checkpoint", metavar="FILE", help="save a checkpoint (.npz) after training")
    # listed for --help; `tui-trainer serve ...` is parsed by serve_main
    sub.add_parser("serve", help="serve the app to a web browser (pip install 'tui-trainer[serve]')", add_help=False)
    return parser


def build_serve_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=f"{PROG} serve",
        description="Serve the app to a web browser with textual-serve (pip install 'tui-trainer[serve]'). "
        "Every other option is passed to the app, e.g. tui-trainer serve --presenter --text 'the cat sat'. "
        "For larger text open the page with ?fontsize=N, e.g. http://127.0.0.1:8000/?fontsize=24.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    return p


def _version() -> str:
    from . import __version__

    return __version__


def session_from_args(args: argparse.Namespace, **overrides) -> Session:
    """Build the session the options describe; ``UsageError`` for anything unusable."""
    if getattr(args, "load", None) is not None:
        return _load_session(args, **overrides)
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
        data = load_dataset(text, vocab, args.context, args.eos, args.unk)
        check_model_size(len(data.vocab), args.context, args.embed, args.hidden, args.hidden2 or args.hidden)
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
            data=data,
            **overrides,
        )
    except (InputError, VocabError, ValueError) as e:
        raise UsageError(str(e)) from None
    except MemoryError:
        raise UsageError("not enough memory for this text and model: use a smaller vocabulary or model") from None


def _load_session(args: argparse.Namespace, **overrides) -> Session:
    """The session in the checkpoint ``--load`` names; data options given too must keep its vocabulary."""
    try:
        if args.text is not None and args.corpus is not None:
            raise UsageError("give --text or --corpus, not both")
        data: dict = {}
        text = read_text_file(args.corpus) if args.corpus is not None else args.text
        if text is not None:
            if not text.strip():
                raise UsageError("the text is empty")
            data["text"] = text
        if args.vocab is not None:
            data["vocab"] = tuple(parse_vocab(args.vocab))
        if args.eos:
            data["add_eos"] = True
        if args.unk:
            data["unk"] = True
        return load_checkpoint(args.load, **data, **overrides)
    except (InputError, CheckpointError) as e:
        raise UsageError(str(e)) from None
    except MemoryError:
        raise UsageError("not enough memory to load this checkpoint") from None


# --- headless ---------------------------------------------------------------------------


def run_headless(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        export = check_export_path(args.export) if args.export else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    ckpt = Path(args.save_checkpoint) if args.save_checkpoint else None
    if ckpt is not None and (ckpt.is_dir() or not (ckpt.parent if str(ckpt.parent) else Path(".")).is_dir()):
        raise UsageError(f"cannot save a checkpoint to {str(ckpt)!r}: no such directory, or it is one")
    session = session_from_args(args, undo_limit=0)
    steps = args.steps
    every = args.every or max(1, steps // 10)
    if not args.json:
        v = session.vocab
        print(
            f"{session.data.n_positions} position{'s' if session.data.n_positions != 1 else ''}, "
            f"vocabulary {len(v)}, {session.model.size:,} parameters, "
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
    try:
        if export is not None:
            export_history(session, export)
        if ckpt is not None:
            save_checkpoint(session, ckpt)
    except OSError as e:
        print(f"{PROG}: error: cannot write {e.filename or 'the output file'}: {e.strerror or e}", file=err)
        return 2
    if result.stopped == "diverged":
        d = result.divergence
        # the app's advice says "step again"; here the next step is another command line
        advice = (
            f"the learning rate {session.lr:g} is too large: rerun with a smaller --lr (e.g. {d.suggested_lr:g})"
            if d.suggested_lr is not None
            else "rerun with a smaller --lr or with --clip"
        )
        print(f"{PROG}: diverged at step {d.step}: {d.cause}; {advice}", file=err)
        return 1
    if not args.json and session.history:
        first, last = session.history[0], session.history[-1]
        print(f"total loss {first.loss:.4f} -> {last.loss:.4f} in {last.step} steps", file=out)
    return 0


# --- entry point ------------------------------------------------------------------------


def _check_app_args(args: argparse.Namespace) -> list[Beat]:
    """Validate the app-only options; the parsed key script."""
    if args.theme not in THEMES:
        raise UsageError(f"unknown theme {args.theme!r} (choose from {', '.join(THEMES)})")
    d = Path(args.screenshot_dir)
    if d.exists() and not d.is_dir():
        raise UsageError(f"--screenshot-dir {args.screenshot_dir!r} is not a directory")
    try:
        return parse_script(args.keys) if args.keys is not None else []
    except KeyScriptError as e:
        raise UsageError(str(e)) from None


def serve_main(argv: Sequence[str]) -> int:
    """``tui-trainer serve [--host H] [--port P] [app options]``: the app in a browser."""
    try:
        args, rest = build_serve_parser().parse_known_args(argv)
        app_args = build_parser().parse_args(rest)
        if app_args.command is not None:
            raise UsageError(f"serve runs the app; it cannot run {app_args.command!r}")
        _check_app_args(app_args)
        session_from_args(app_args)  # fail here, not in the browser
        try:
            from .serve import TrainerServer
        except ImportError:
            raise UsageError("serve needs textual-serve: pip install 'tui-trainer[serve]'") from None
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"{PROG}: warning: serving on {args.host}: anyone who can reach it can use the app", file=sys.stderr)
    command = shlex.join([sys.executable, "-m", "tui_trainer", *rest])
    server = TrainerServer(command, host=args.host, port=args.port, title=PROG)
    try:
        server.serve()
    except OSError as e:
        print(f"{PROG}: error: cannot serve on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        server.end_apps()
    return 0


def build_app(args: argparse.Namespace):
    """The ``TrainerApp`` the app options describe (validated first: ``UsageError``)."""
    keys = _check_app_args(args)
    session = session_from_args(args, undo_memory=args.undo_memory * 2**20)
    from .app import TrainerApp  # Textual loads only when the app starts

    return TrainerApp(
        session,
        run_n=args.run_n,
        theme=args.theme,
        screenshot_dir=args.screenshot_dir,
        presenter=args.presenter,
        keys=keys,
        key_delay=args.key_delay,
        exit_after=args.exit_after,
        speed=args.speed,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train":
            return run_headless(args)
        if args.command == "serve":
            raise UsageError("put serve first: tui-trainer serve [--host H] [--port P] [app options]")
        app = build_app(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `tui-trainer train | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
    app.run()
    return app.return_code or 0
