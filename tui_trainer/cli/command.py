"""What every command shares: the program's name, the one error, the parser class that raises
it, and the ``CommandLine`` a command's run function is given."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import NoReturn

PROG = "tui-trainer"


class UsageError(Exception):
    """Raised instead of exiting so that ``main`` prints one line and returns 2."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise ``UsageError`` (subcommands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class CommandLine:
    """One command line as ``main`` parsed it: what a command's ``func`` (its ``set_defaults``) is given."""

    argv: list[str]
    args: argparse.Namespace
    #: the arguments the parser did not know: serve and lesson pass them to the app, the others refuse them
    rest: list[str]
    #: the whole command line's parser: serve and lesson parse ``rest`` with it, as the app's options
    parser: argparse.ArgumentParser

    def check_first(self, usage: str) -> None:
        """For a command that runs the app (serve, lesson): the app's options follow its name, as
        ``usage`` says; options before it would be lost."""
        if self.argv[:1] != [self.args.command]:
            raise UsageError(f"put {self.args.command} first: {usage}")

    def app_args(self) -> argparse.Namespace:
        """The app's options, for a command that runs the app: the arguments it did not take,
        which name no other command."""
        app_args = self.parser.parse_args(self.rest)
        if app_args.command is not None:
            raise UsageError(f"{self.args.command} runs the app; it cannot run {app_args.command!r}")
        return app_args
