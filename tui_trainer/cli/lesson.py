"""``tui-trainer lesson [NAME | --file LESSON.toml | --list] [app options]``: the app in lesson mode.

The lesson file is read and checked before the app starts: a bad one is one line on stderr
naming the file, the scene and the problem, and exit status 2. A lesson may set up its run
(``[lesson]`` model, tokens, seed, sizes...): an option given on the command line wins, except
a model other than the lesson's, which is refused (its scenes talk about that model).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .app import build_app
from .command import PROG, CommandLine, UsageError

if TYPE_CHECKING:
    from ..app import TrainerApp
    from ..lesson import Lesson

USAGE = f"{PROG} lesson [NAME | --file LESSON.toml | --list] [app options]"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lesson",
        usage=USAGE,
        help="a guided walk through a lesson on the live model (NAME, --file F, --list)",
        description="A guided walk through a lesson over the live model: a caption per scene, "
        "Enter for the next scene, Backspace back (the state restored exactly), Esc for free play. "
        "NAME plays a bundled lesson (--list names them; default: the basics). "
        "Every other option goes to the app, e.g. --presenter or --keys 'enter enter f'.",
    )
    p.add_argument("--file", metavar="LESSON.toml", default=None, help="a lesson file of your own")
    p.add_argument("--list", action="store_true", help="name the bundled lessons and quit")
    # every other argument is the app's (NAME, the first one after lesson, is taken out in run)
    p.set_defaults(func=run, passes_on=True)


def run(line: CommandLine) -> TrainerApp | int:
    """The app in lesson mode (``main`` runs it), or 0 after --list."""
    from ..lesson import BUNDLED, LessonError, bundled_lessons, load_lesson  # (NumPy: only for this command)

    line.check_first(USAGE)
    name = line.argv[1] if len(line.argv) > 1 and not line.argv[1].startswith("-") else None
    rest = list(line.rest)
    if name is not None and rest[:1] == [name]:
        rest = rest[1:]
    try:
        if line.args.list:
            if name is not None or line.args.file is not None or rest:
                raise UsageError("--list takes nothing else: " + USAGE)
            for path in bundled_lessons():
                lesson = load_lesson(path)
                n = len(lesson.scenes)
                print(f"{lesson.name:<12} {lesson.title} ({n} scenes, --model {lesson.model})")
            return 0
        if name is not None and line.args.file is not None:
            raise UsageError(f"give a lesson's NAME or --file, not both: {USAGE}")
        path = BUNDLED if line.args.file is None else line.args.file
        if name is not None:
            names = {p.stem: p for p in bundled_lessons()}
            if name not in names:
                raise UsageError(
                    f"no bundled lesson {name!r} (bundled: {', '.join(names)}; --file plays a lesson file of your own)"
                )
            path = names[name]
        lesson = load_lesson(path)
        app_args = _app_args(line, rest, lesson)
        from ..lesson.app import LessonApp  # Textual loads only when the app starts

        app = build_app(app_args, LessonApp, lesson=lesson)
    except LessonError as e:
        raise UsageError(str(e)) from None
    # the lesson's scenes read the session from the start: it is built before the app starts
    if not app.load_session():
        raise app.startup_error
    return app


class _Unset:
    """Stands for an option the command line did not give (argparse leaves a set attribute alone)."""

    def __repr__(self) -> str:
        return "unset"


def _app_args(line: CommandLine, rest: list[str], lesson: Lesson) -> argparse.Namespace:
    """The app's options: the command line's, then the lesson's run where the command line gave none."""
    from ..lesson import RUN_KEYS

    app_args = CommandLine(line.argv, line.args, rest, line.parser).app_args()
    dests = ["text", "corpus", *RUN_KEYS]  # (each run key is its option's dest)
    unset = _Unset()
    given = line.parser.parse_args(rest, argparse.Namespace(**dict.fromkeys(dests, unset)))
    # the lesson's own text, unless the command line chose one
    if given.text is unset and given.corpus is unset:
        app_args.text = lesson.text
        app_args.corpus = None if lesson.corpus is None else str(lesson.corpus)
    model = lesson.run.get("model")
    if model is not None and given.model is not unset and given.model != model:
        raise UsageError(f"{lesson.path.name} is a lesson about the {str(model).upper()}: run it without --model")
    for key, value in lesson.run.items():
        if getattr(given, key) is unset:
            setattr(app_args, key, value)
    return app_args
