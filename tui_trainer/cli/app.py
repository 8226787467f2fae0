"""``tui-trainer [options]``, no subcommand: the app. Its own options, their checks, and the app they build
(serve and lesson build theirs from the same options)."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..inputs import MAX_PARAMETERS, InputError, positive_int, read_text_file
from ..keys import Beat, KeyScriptError, parse_script
from .command import CommandLine, UsageError
from .values import key_delay, speed, undo_memory

if TYPE_CHECKING:
    from ..app import TrainerApp

THEMES = ("textual-dark", "textual-light", "nord", "gruvbox", "dracula", "monokai", "tokyo-night", "solarized-light")


def add_app_options(parser: argparse.ArgumentParser) -> None:
    """The app's options (after the session's): the "app" and "scripting" groups."""
    a = parser.add_argument_group("app")
    a.add_argument("--run-n", type=positive_int, default=100, metavar="N", help="steps run by the r key (default 100)")
    a.add_argument("--theme", default="textual-dark", help=f"colour theme: {', '.join(THEMES)}")
    a.add_argument("--presenter", action="store_true", help="large panes, high contrast (projectors)")
    a.add_argument(
        "--speed",
        type=speed,
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
        type=undo_memory,
        default=64,
        metavar="MB",
        help="memory for undo's checkpoints; older states are recomputed from them (default 64)",
    )
    s = parser.add_argument_group("scripting (for demos; see the README)")
    s.add_argument("--keys", metavar="SCRIPT", help='play a key script on start, e.g. "f right b u 200r z"')
    s.add_argument(
        "--key-delay",
        type=key_delay,
        default=0.0,
        metavar="SECONDS",
        help="pause before each scripted key beat (a count and its r are one beat)",
    )
    s.add_argument("--exit-after", action="store_true", help="quit when the key script has played and runs finished")


def check_app_args(args: argparse.Namespace) -> list[Beat]:
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


def check_sizes(args: argparse.Namespace) -> None:
    """A context or embedding so large that no model of it fits, refused before the app starts
    (every model has at least context x embedding parameters: the MLP's layer1.W, the GPT's wpe);
    the exact count is checked with the session, after the first paint."""
    at_least = (args.context or 1) * (args.embed or 1)
    if at_least > MAX_PARAMETERS:
        raise UsageError(
            f"the model would have more than {at_least:,} parameters (context {args.context} × embedding "
            f"{args.embed or 'its default'}); the limit is {MAX_PARAMETERS:,}: use a smaller --context or --embed"
        )


def check_files(args: argparse.Namespace) -> None:
    """The text files the session will read (--corpus, --vocab @FILE) are there and are files: the
    same one-line error reading them gives, before the app starts (their content is read, and
    checked, with the session: after the first paint)."""
    files = [(args.corpus, "corpus")]
    if args.vocab is not None and args.vocab.startswith("@"):
        files.append((args.vocab[1:], "vocabulary"))
    for path, what in files:
        if path is not None and not Path(path).is_file():
            try:
                read_text_file(path, what)  # (stops at "does not exist" or "is a directory")
            except InputError as e:
                raise UsageError(str(e)) from None


def build_app(args: argparse.Namespace, app_class: type[TrainerApp] | None = None, **extra) -> TrainerApp:
    """The ``TrainerApp`` (or ``app_class``: lesson mode's) the app options describe (validated
    first: ``UsageError``); ``extra`` goes to the app as it is (lesson mode passes its lesson).

    The app gets a session factory, not a session: it paints its frame, then builds the session in
    a thread (NumPy and ``core`` load there); what goes wrong then is a ``UsageError`` in its
    ``startup_error`` (``main`` prints it). ``app.load_session()`` builds it at once instead."""
    keys = check_app_args(args)
    check_sizes(args)
    check_files(args)
    from ..app import TrainerApp  # Textual loads only when the app starts

    return (app_class or TrainerApp)(
        session_factory=partial(_session, args),
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


def _session(args: argparse.Namespace):
    """The session the options describe (``UsageError`` if it cannot be built)."""
    from .session import session_from_args

    return session_from_args(args, undo_memory=args.undo_memory * 2**20)


def run(line: CommandLine) -> TrainerApp:
    """The app to run (``main`` runs it)."""
    return build_app(line.args)
