"""``tui-trainer serve [--host H] [--port P] [app options]``: the app in a web browser (textual-serve)."""

from __future__ import annotations

import argparse
import shlex
import sys

from .app import check_app_args
from .command import PROG, CommandLine, UsageError
from .values import port

USAGE = f"{PROG} serve [--host H] [--port P] [app options]"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to a web browser (pip install 'tui-trainer[serve]')",
        description="Serve the app to a web browser with textual-serve (pip install 'tui-trainer[serve]'). "
        "Every other option is passed to the app, e.g. tui-trainer serve --presenter --text 'the cat sat'. "
        "For larger text open the page with ?fontsize=N, e.g. http://127.0.0.1:8000/?fontsize=24.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=port, default=8000, help="port (default 8000)")
    # every other argument is the app's, passed on to the app each browser tab starts
    p.set_defaults(func=run, passes_on=True)


def run(line: CommandLine) -> int:
    """Check the app's options here (not in the browser), then serve until interrupted."""
    from .session import session_from_args

    args = line.args
    line.check_first(USAGE)
    if not args.host.strip():  # ("" would listen on every interface)
        raise UsageError("--host: the address is empty (127.0.0.1: this machine only; 0.0.0.0: the network)")
    app_args = line.app_args()
    check_app_args(app_args)
    session_from_args(app_args)
    try:
        from ..serve import TrainerServer, bind_problem
    except ImportError:
        raise UsageError("serve needs textual-serve: pip install 'tui-trainer[serve]'") from None
    if problem := bind_problem(args.host, args.port):  # (before textual-serve's banner)
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {problem}")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"{PROG}: warning: serving on {args.host}: anyone who can reach it can use the app", file=sys.stderr)
    command = shlex.join([sys.executable, "-m", "tui_trainer", *line.rest])
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
