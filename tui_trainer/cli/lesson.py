"""``tui-trainer lesson [--file LESSON.toml] [app options]``: the app in lesson mode.

The lesson file is read and checked before the app starts: a bad one is one line on stderr
naming the file, the scene and the problem, and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .app import build_app
from .command import PROG, CommandLine, UsageError

if TYPE_CHECKING:
    from ..app import TrainerApp

USAGE = f"{PROG} lesson [--file LESSON.toml] [app options]"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lesson",
        help="a guided walk through the lesson on the live model (--file F)",
        description="A guided walk through the lesson over the live model: a caption per scene, "
        "Enter for the next scene, Backspace back (the state restored exactly), Esc for free play. "
        "Every other option goes to the app, e.g. --presenter or --keys 'enter enter f'.",
    )
    p.add_argument("--file", metavar="LESSON.toml", default=None, help="a lesson file (default: the bundled lesson)")
    # every other argument is the app's
    p.set_defaults(func=run, passes_on=True)


def run(line: CommandLine) -> TrainerApp:
    """The app in lesson mode (``main`` runs it)."""
    from ..lesson import BUNDLED, LessonError, load_lesson  # (it loads NumPy: only for this command)

    line.check_first(USAGE)
    try:
        lesson = load_lesson(BUNDLED if line.args.file is None else line.args.file)
        app_args = line.app_args()
        # the lesson's own text, unless the command line chose one
        if app_args.text is None and app_args.corpus is None:
            app_args.text = lesson.text
            app_args.corpus = None if lesson.corpus is None else str(lesson.corpus)
        from ..lesson.app import LessonApp  # Textual loads only when the app starts

        app = build_app(app_args, LessonApp, lesson=lesson)
    except LessonError as e:
        raise UsageError(str(e)) from None
    # the lesson's scenes read the session from the start: it is built before the app starts
    if not app.load_session():
        raise app.startup_error
    return app
