"""Command line: ``tui-trainer`` (the app) and its subcommands, one module each: train, sample, sweep
(headless), serve and lesson (the app in a browser, in lesson mode).

Every bad argument or file ends in one line on stderr and exit status 2: the arguments' own checks
before anything starts; what only building the session finds (a file's content, a word outside
--vocab, a model too large, a bad checkpoint) after the app, which paints before the session is
built, has closed and restored the terminal.

Nothing imported here loads NumPy or ``core``: a command loads them when it runs, the app after its
first paint (``TrainerApp``'s ``session_factory``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .app import build_app
from .command import PROG, CommandLine, UsageError
from .parser import build_parser
from .signals import Termination

if TYPE_CHECKING:
    from .session import session_from_args

__all__ = ["PROG", "UsageError", "build_app", "build_parser", "main", "session_from_args"]


def main(argv: Sequence[str] | None = None) -> int:
    """The ``tui-trainer`` console script; the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    with Termination() as term:  # SIGTERM: files being written are removed, the terminal restored
        try:
            args, rest = parser.parse_known_args(argv)
            if rest and not args.passes_on:
                parser.error(f"unrecognized arguments: {' '.join(rest)}")
            outcome = args.func(CommandLine(argv, args, rest, parser))
        except UsageError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # e.g. `tui-trainer train | head`
            sys.stderr.close()
            return 0
        except KeyboardInterrupt:
            return 130
        if isinstance(outcome, int):
            return outcome
        # an app (the app, lesson): run outside the handlers above, as it reports its own errors
        term.app = outcome
        outcome.run()
    if term.received:
        return term.status
    error = outcome.startup_error  # (building its session, after the first paint)
    if isinstance(error, UsageError):
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    if error is not None:  # a bug: its traceback, now that the terminal is restored
        raise error
    return outcome.return_code or 0


def __getattr__(name: str):
    # session_from_args loads core and NumPy: only when asked for (the app's start does not)
    if name == "session_from_args":
        from .session import session_from_args

        return session_from_args
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
