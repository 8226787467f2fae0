"""Command line: ``tui-trainer`` (the app) and ``tui-trainer train`` (headless).

Every bad argument or file ends in one line on stderr and exit status 2,
before anything starts.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from core import OPTIMIZERS, Session, SessionConfig, VocabError, check_lr
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.config import FLOAT32_VOCAB, auto_dtype

from .export import check_export_path, export_history, step_row
from .inputs import (
    InputError,
    bounded_float,
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
    return bounded_float(text, "key delay", 0, 60, unit="seconds")


def _fraction(text: str) -> float:
    return bounded_float(text, "validation fraction", 0, 0.5)


def _temperature(text: str) -> float:
    return bounded_float(text, "temperature", 0, 100, low_open=True)


def _speed(text: str) -> float:
    return bounded_float(text, "speed", 0, MAX_SPEED, low_open=True, unit="steps per second")


def _port(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise InputError(f"expected a port number, got {text!r}") from None
    if not 1 <= x <= 65535:
        raise InputError(f"the port must be between 1 and 65535, not {x}")
    return x


def _lrs(text: str) -> list[float]:
    return [_lr(x) for x in text.split(",")]


def _optimizers(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",")]
    for n in names:
        if n not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {n!r} (choose from {', '.join(OPTIMIZERS)})")
    return names


def _add_session_options(p: argparse.ArgumentParser, sweep: bool = False) -> None:
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
    d.add_argument(
        "--val-fraction",
        type=_fraction,
        default=0.1,
        metavar="F",
        help="share of the sentences held out for a validation loss, for texts larger than one batch (default 0.1)",
    )
    m = p.add_argument_group("model")
    m.add_argument("--context", type=positive_int, default=4, metavar="K", help="tokens of context (default 4)")
    m.add_argument("--embed", type=positive_int, default=8, metavar="D", help="embedding size (default 8)")
    m.add_argument("--hidden", type=positive_int, default=16, metavar="H", help="layer1 width (default 16)")
    m.add_argument("--hidden2", type=positive_int, default=None, metavar="H", help="layer2 width (default: --hidden)")
    m.add_argument(
        "--dtype",
        choices=("auto", "float64", "float32"),
        default="auto",
        help=f"float precision (default auto: float32 from {FLOAT32_VOCAB:,} words of vocabulary on, else float64)",
    )
    o = p.add_argument_group("training")
    if sweep:  # lists: one run per combination
        o.add_argument("--optimizer", type=_optimizers, default=["sgd"], help="optimizers, e.g. sgd,momentum,adam")
        o.add_argument("--lr", type=_lrs, default=[None], help="learning rates, e.g. 0.001,0.01,0.1,1,10")
    else:
        o.add_argument(
            "--optimizer",
            default="sgd",
            metavar="{" + ",".join(OPTIMIZERS) + "}",
            help="sgd (default), momentum or adam",
        )
        o.add_argument("--lr", type=_lr, default=None, help="learning rate (default: sgd 1, momentum 0.3, adam 0.01)")
    o.add_argument(
        "--reduction",
        choices=("mean", "sum"),
        default="mean",
        help="the objective: the mean loss per position (default), or the lesson's total over positions",
    )
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
        "--output-dir",
        "--screenshot-dir",
        dest="output_dir",
        default=".",
        metavar="DIR",
        help="where ctrl+s (screenshots), e (history) and c (checkpoints) write, and C looks "
        "(default: the current directory; --screenshot-dir is the old name)",
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
    sub = parser.add_subparsers(dest="command", metavar="{train,sample,sweep,serve}")
    t = _session_command(sub, parser, "train", "train without a screen and print each step", "Train headless.")
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
    t.add_argument("--export", metavar="FILE", help="write the training history to FILE (.json or .csv)")
    t.add_argument("--save-checkpoint", metavar="FILE", help="save a checkpoint (.npz) after training")
    g = _session_command(
        sub,
        parser,
        "sample",
        "print text the model writes (the default session, --steps of training, or --load)",
        "Sample text from the model, one word at a time. Deterministic for a given --seed.",
    )
    g.add_argument("--steps", type=non_negative_int, default=0, help="train this many steps first (default 0)")
    g.add_argument("--prompt", default="", help="words to start from (default: the start of a sentence)")
    g.add_argument(
        "--temperature",
        type=_temperature,
        default=1.0,
        help="reshapes the softmax: P(w) ~ exp(logit/T); below 1 sharper, above 1 flatter (default 1)",
    )
    g.add_argument("--top-k", type=positive_int, default=None, metavar="K", help="sample among the K likeliest words")
    g.add_argument("--max-words", type=positive_int, default=20, metavar="N", help="stop after N words (default 20)")
    g.add_argument("--samples", type=positive_int, default=1, metavar="N", help="how many samples (default 1)")
    g.add_argument("--probs", action="store_true", help="show each word's probability at T and at T = 1")
    w = _session_command(
        sub,
        parser,
        "sweep",
        "train the same start with several learning rates or optimizers and compare them",
        "One run per --lr x --optimizer, from the same initial weights; a table (or --json rows).",
        sweep=True,
    )
    w.add_argument("--steps", type=non_negative_int, default=300, help="training steps per run (default 300)")
    w.add_argument("--json", action="store_true", help="print one JSON object per run")
    # listed for --help; `tui-trainer serve ...` is parsed by serve_main
    sub.add_parser("serve", help="serve the app to a web browser (pip install 'tui-trainer[serve]')", add_help=False)
    # listed for --help; `tui-trainer lesson ...` is parsed by lesson_cli.lesson_main
    sub.add_parser("lesson", help="a guided walk through the lesson on the live model (--file F)", add_help=False)
    return parser


def _session_command(
    sub, parser: argparse.ArgumentParser, name: str, help: str, description: str, sweep: bool = False
) -> argparse.ArgumentParser:
    """A subcommand that builds a session (train, sample, sweep): its errors read as the main
    parser's, and it takes every session option."""
    p = sub.add_parser(name, help=help, description=description)
    p.error = parser.error  # type: ignore[method-assign]
    _add_session_options(p, sweep=sweep)
    return p


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


def _check_text_options(args: argparse.Namespace) -> None:
    if args.text is not None and args.corpus is not None:
        raise UsageError("give --text or --corpus, not both")
    # a text that names a file: the file was meant (--text would train on its path's words)
    path = (args.text or "").strip()
    if path and os.path.isfile(path):
        raise UsageError(f"--text takes the text itself and {path!r} is a file: use --corpus {shlex.quote(path)}")


def session_from_args(args: argparse.Namespace, **overrides) -> Session:
    """Build the session the options describe; ``UsageError`` for anything unusable."""
    if getattr(args, "load", None) is not None:
        return _load_session(args, **overrides)
    _check_text_options(args)
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
                dtype=auto_dtype(len(data.vocab)) if args.dtype == "auto" else args.dtype,
                optimizer=args.optimizer,
                lr=args.lr,
                clip=args.clip,
                seed=args.seed,
                batch_positions=args.batch_positions,
                reduction=args.reduction,
                val_fraction=args.val_fraction,
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
        _check_text_options(args)
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


def _breakpoint(expr: str, session: Session):
    from core.breakpoints import BreakpointError, parse
    from core.readout import tracked

    try:
        return parse(expr, [t for _, _, t in tracked(session)])
    except BreakpointError as e:
        raise UsageError(f"--until: {e}") from None


def _ppl(x: float) -> str:
    return f"{x:.3f}" if x < 1e5 else f"{x:.2e}"


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
    # no going back in time headless: the timeline keeps no checkpoints
    session = session_from_args(args, undo_memory=0)
    until = _breakpoint(args.until, session) if args.until else None
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
        print(f"{'step':>6}  {'total':>9}  {'mean':>8}  {'ppl':>8}  P(target) per position", file=out)

    def emit(rec, extra: dict | None = None) -> None:
        if args.json:
            out.write(json.dumps({**step_row(rec, session.config.reduction), **(extra or {})}) + "\n")
        elif extra or rec.step % every == 0 or rec.step <= 1 or rec.step == steps:
            probs = " ".join(f"{p:.3f}" for p in rec.target_probs[:8])
            more = " ..." if len(rec.target_probs) > 8 else ""
            print(
                f"{rec.step:>6}  {rec.loss:>9.4f}  {rec.mean_loss:>8.4f}  {_ppl(rec.perplexity):>8}  {probs}{more}",
                file=out,
            )

    def on_step(s: Session) -> None:
        # step k's row is printed once the update that leaves it is made (the last one at the
        # end); the record is built only for a row that is printed: building one every step
        # cost the lesson's model a sixth of its step rate
        h = s.history
        k = len(h) - 2  # (the row emit prints: the condition is emit's own)
        if args.json or k % every == 0 or k <= 1 or k == steps:
            emit(h[k])

    result = session.run(steps, on_step=on_step, until=until)
    if not session.history:  # --steps 0: measure the untrained model
        session.forward()
    hit = result.detail if result.stopped == "breakpoint" else None
    emit(session.history[-1], {"until": hit} if hit else None)
    if hit and not args.json:
        print(f"stopped at step {session.step}: {hit} holds", file=out)
    try:
        if export is not None:
            export_history(session, export)
        if ckpt is not None:
            save_checkpoint(session, ckpt)
    except OSError as e:
        print(f"{PROG}: error: cannot write {e.filename or 'the output file'}: {e.strerror or e}", file=err)
        return 2
    if result.stopped == "diverged":
        from . import narrate  # (imports Textual: only when needed)

        d = result.divergence
        print(f"{PROG}: diverged at step {d.step}: {narrate.cause(d)}; {narrate.advice(d, headless=True)}", file=err)
        return 1
    if not args.json and session.history:
        first, last = session.history[0], session.history[-1]
        if session.full_batch:  # every position each step: the lesson's total means something
            print(f"total loss {first.loss:.4f} -> {last.loss:.4f} in {last.step} steps", file=out)
        else:
            print(f"mean loss {first.mean_loss:.4f} -> {last.mean_loss:.4f} in {last.step} steps", file=out)
    return 0


def sweep_row(session: Session, result) -> dict:
    """One run of a sweep, as data: final and best loss, when total < 0.05 was reached, divergence."""
    h = session.history
    total, mean = h.column("total_loss"), h.column("mean_loss")
    objective = mean if session.config.reduction == "mean" else total
    below = np.flatnonzero(total < 0.05) if session.full_batch else np.zeros(0, dtype=int)
    d = result.divergence
    return {
        "optimizer": session.optimizer.name,
        "lr": session.lr,
        "steps": session.step,
        "final_loss": float(objective[-1]),
        "final_total": float(total[-1]),
        "final_mean": float(mean[-1]),
        "best_loss": float(np.nanmin(objective)) if np.isfinite(objective).any() else None,
        "reached_total_0.05": int(below[0]) if below.size else None,
        "diverged_at": d.step if d is not None else None,
        "cause": d.cause if d is not None else None,
    }


def run_sweep(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``tui-trainer sweep``: the same start, one run per learning rate and optimizer."""
    out = out or sys.stdout
    rows = []
    for opt in args.optimizer:
        for lr in args.lr:
            one = argparse.Namespace(**{**vars(args), "optimizer": opt, "lr": lr})
            session = session_from_args(one, undo_memory=0)
            result = session.run(args.steps)
            rows.append(sweep_row(session, result))
            if args.json:
                print(json.dumps(rows[-1]), file=out, flush=True)
    if args.json:
        return 0
    head = f"{'optimizer':<9} {'lr':>8} {'final loss':>11} {'best loss':>10} {'total<0.05 at':>14}  diverged"
    print(head, file=out)
    for r in rows:
        reached = "never" if r["reached_total_0.05"] is None else f"step {r['reached_total_0.05']}"
        div = "" if r["diverged_at"] is None else f"at step {r['diverged_at']} ({r['cause'].replace('_', ' ')})"
        best = "-" if r["best_loss"] is None else f"{r['best_loss']:.4f}"
        print(f"{r['optimizer']:<9} {r['lr']:>8g} {r['final_loss']:>11.4f} {best:>10} {reached:>14}  {div}", file=out)
    return 0


def run_sample(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """``tui-trainer sample``: train ``--steps`` (or load), then print ``--samples`` texts."""
    import numpy as np

    from core.generate import prompt_ids, sample

    out = out or sys.stdout
    session = session_from_args(args, undo_memory=0)
    try:
        prompt = prompt_ids(session.data, args.prompt.lower())
    except VocabError as e:
        raise UsageError(str(e)) from None
    r = session.run(args.steps)
    if not r.ok and r.divergence is not None:
        raise UsageError(f"training diverged at step {r.divergence.step}: rerun with a smaller --lr")
    rng = np.random.default_rng((args.seed, session.step))
    for _ in range(args.samples):
        words = sample(session.model, session.data, prompt, args.max_words, args.temperature, args.top_k, rng)
        if args.probs:
            text = " ".join(f"{w.word}({w.p:.2f}|{w.p_at_1:.2f})" for w in words)
        else:
            text = " ".join(w.word for w in words)
        print(" ".join([args.prompt.lower(), text]).strip(), file=out)
    return 0


# --- entry point ------------------------------------------------------------------------


def _check_app_args(args: argparse.Namespace) -> list[Beat]:
    """Validate the app-only options; the parsed key script."""
    if args.theme not in THEMES:
        raise UsageError(f"unknown theme {args.theme!r} (choose from {', '.join(THEMES)})")
    d = Path(args.output_dir)
    if d.exists() and not d.is_dir():
        raise UsageError(f"--output-dir {args.output_dir!r} is not a directory")
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


def build_app(args: argparse.Namespace, app_class: type | None = None, **extra):
    """The ``TrainerApp`` (or ``app_class``, lesson mode's) the app options describe (validated
    first: ``UsageError``); ``extra`` goes to the app as it is (lesson mode passes its lesson)."""
    keys = _check_app_args(args)
    session = session_from_args(args, undo_memory=args.undo_memory * 2**20)
    from .app import TrainerApp  # Textual loads only when the app starts

    return (app_class or TrainerApp)(
        session,
        run_n=args.run_n,
        theme=args.theme,
        output_dir=args.output_dir,
        presenter=args.presenter,
        keys=keys,
        key_delay=args.key_delay,
        exit_after=args.exit_after,
        speed=args.speed,
        **extra,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        return serve_main(argv[1:])
    if argv[:1] == ["lesson"]:
        from .lesson_cli import lesson_main

        return lesson_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "train":
            return run_headless(args)
        if args.command == "sample":
            return run_sample(args)
        if args.command == "sweep":
            return run_sweep(args)
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
