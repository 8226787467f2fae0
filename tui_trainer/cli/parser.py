"""The whole command line: the app's options at the top, one subparser per subcommand, each naming
its run function (``set_defaults(func=...)``)."""

from __future__ import annotations

import argparse

from . import app, lesson, sample, serve, sweep, train
from .command import PROG, Parser
from .options import add_session_options


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Step through how a tiny language model learns: forward, loss, backward, update.",
        epilog="Run 'tui-trainer train --help' for the headless trainer.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    add_session_options(parser)
    app.add_app_options(parser)
    # no subcommand: the app; only serve and lesson take arguments they do not know (the app's)
    parser.set_defaults(func=app.run, passes_on=False)
    sub = parser.add_subparsers(dest="command")  # (argparse names every command in the usage)
    for command in (train, sample, sweep, serve, lesson):
        command.add_parser(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__
