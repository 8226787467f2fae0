"""``tui-trainer lesson [--file LESSON.toml] [app options]``: the app in lesson mode.

The lesson file is read and checked before the app starts: a bad one is one line on stderr
naming the file, the scene and the problem, and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .cli import PROG, UsageError, _Parser, build_app, build_parser
from .lesson import BUNDLED, LessonError, load_lesson


def build_lesson_parser() -> _Parser:
    p = _Parser(
        prog=f"{PROG} lesson",
        description="A guided walk through the lesson over the live model: a caption per scene, "
        "Enter for the next scene, Backspace back (the state restored exactly), Esc for free play. "
        "Every other option goes to the app, e.g. --presenter or --keys 'enter enter f'.",
    )
    p.add_argument("--file", metavar="LESSON.toml", default=None, help="a lesson file (default: the bundled lesson)")
    return p


def lesson_main(argv: Sequence[str]) -> int:
    try:
        args, rest = build_lesson_parser().parse_known_args(list(argv))
        lesson = load_lesson(args.file or BUNDLED)
        app_args = build_parser().parse_args(rest)
        if app_args.command is not None:
            raise UsageError(f"lesson runs the app; it cannot run {app_args.command!r}")
        # the lesson's own text, unless the command line chose one
        if app_args.text is None and app_args.corpus is None:
            app_args.text = lesson.text
            app_args.corpus = None if lesson.corpus is None else str(lesson.corpus)
        from .lesson.app import LessonApp  # Textual loads only when the app starts

        app = build_app(app_args, LessonApp, lesson=lesson)
    except (UsageError, LessonError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    app.run()
    return app.return_code or 0
