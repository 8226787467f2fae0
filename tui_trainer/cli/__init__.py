"""Command line: ``tui-trainer`` (the app) and its subcommands, one module each: train, sample, sweep
(headless), serve and lesson (the app in a browser, in lesson mode).

Every bad argument or file ends in one line on stderr and exit status 2, before anything starts.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .app import build_app
from .command import PROG, CommandLine, UsageError
from .parser import build_parser
from .session import session_from_args
from .signals import Termination

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
    return term.status if term.received else outcome.return_code or 0
