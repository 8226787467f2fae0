"""Lesson files: a guided walk over the live model, as a list of scenes (``tui-trainer lesson``).

A lesson is a TOML file. Its ``[lesson]`` table names it and may set up its run (the text, the
model, the tokens, the seed, the sizes: ``RUN_KEYS``; an option given on the command line wins);
each ``[[scene]]`` has a title, a caption with live numbers (``{p_target}``), the keys it plays
on entry, the keys it waits for the learner to press, the panes it talks about, and optionally
a predict-then-reveal ``[scene.question]``. See the README's "Lesson mode".

Everything is parsed and checked here, before the app starts: a bad file is one
``LessonError`` naming the file, the scene and the problem, never a half-played lesson.
This module imports no Textual; the placeholders' numbers are ``placeholders``'s. The bundled
lessons are ``LESSONS``' files, each played by its name (``tui-trainer lesson attention``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core import SessionConfig
from core.files import FileTooLargeError, NotRegularFileError, read_regular
from core.models import MODELS

from ..keys import KEYS, KeyScriptError, parse_script
from ..narrate_errors import say
from .placeholders import (
    MISSING,
    PLACEHOLDERS,
    TOTAL_AT,
    fill_caption,
    filled,
    placeholder_values,
    placeholders_in,
)

__all__ = [
    "BUNDLED",
    "MISSING",
    "PANES",
    "PLACEHOLDERS",
    "RUN_KEYS",
    "TOTAL_AT",
    "Lesson",
    "LessonError",
    "Question",
    "Scene",
    "bundled_lessons",
    "check_placeholders",
    "fill_caption",
    "filled",
    "load_lesson",
    "placeholder_values",
    "placeholders_in",
]

#: The bundled lessons, one file each: ``tui-trainer lesson NAME`` plays ``NAME.toml``.
LESSONS = Path(__file__).parent.parent / "lessons"
#: The bundled lesson ``tui-trainer lesson`` plays without a name or ``--file``.
BUNDLED = LESSONS / "basics.toml"

#: Largest lesson file read (the bundled one is some 20 kB).
MAX_LESSON_BYTES = 1 << 20

#: Panes a scene may highlight. A pane the app does not show (the GPT's attention with an MLP, or
#: in an app without that pane) is simply not highlighted: a lesson names what it talks about.
PANES = ("context", "logits", "softmax", "gradients", "loss", "attention")
#: Keys that steer the lesson itself: a scene may not play or wait for them.
LESSON_KEYS = {"enter", "backspace", "escape"}

#: ``[lesson]`` keys that set up the run: (the app option each stands for, its type)
RUN_KEYS: dict[str, tuple[str, type]] = {
    "model": ("--model", str),
    "tokens": ("--tokens", str),
    "seed": ("--seed", int),
    "context": ("--context", int),
    "embed": ("--embed", int),
    "layers": ("--layers", int),
    "heads": ("--heads", int),
    "hidden": ("--hidden", int),
    "optimizer": ("--optimizer", str),
    "lr": ("--lr", float),
    "eos": ("--eos", bool),
}
#: largest size a lesson may set (the command line checks the model's whole size before it starts)
MAX_SIZE = 4096
_LESSON_FIELDS = {"title", "text", "corpus", *RUN_KEYS}
_SCENE_FIELDS = {"section", "title", "caption", "keys", "wait", "panes", "question"}
_QUESTION_FIELDS = {"ask", "choices", "answer", "why"}


class LessonError(ValueError):
    """A lesson file that cannot be played: which file, which scene (1-based; None: the file
    itself or its header) and what is wrong, as one line."""

    def __init__(self, file: str | Path, problem: str, scene: int | None = None, title: str = "") -> None:
        self.file, self.scene, self.problem = str(file), scene, problem
        where = "" if scene is None else f" scene {scene}" + (f" ({title!r})" if title else "") + ":"
        super().__init__(f"{self.file}:{where} {problem}")


@dataclass(frozen=True)
class Question:
    """Predict, then reveal: asked on entry, answered with one of ``choices`` (key tokens)
    before the scene's waited keys reveal the answer; ``why`` is shown after."""

    ask: str
    choices: tuple[str, ...]
    answer: str
    why: str

    def key_of(self, choice: str) -> str:
        """The Textual key name of a choice token (``+`` -> ``plus``)."""
        return KEYS[choice]


@dataclass(frozen=True)
class Scene:
    title: str
    caption: str
    section: str = ""
    #: key-script tokens played on entry, and the Textual keys they press
    keys: str = ""
    entry_keys: tuple[str, ...] = ()
    #: key-script tokens the learner is asked to press, and their Textual keys in order
    wait: str = ""
    wait_keys: tuple[str, ...] = ()
    panes: tuple[str, ...] = ()
    question: Question | None = None

    @property
    def label(self) -> str:
        return f"{self.section} {self.title}" if self.section else self.title


@dataclass(frozen=True)
class Lesson:
    title: str
    path: Path
    scenes: tuple[Scene, ...]
    #: the text the model trains on (None: the app's own default, or --text/--corpus)
    text: str | None = None
    #: a corpus file, resolved against the lesson file's folder
    corpus: Path | None = None
    #: the run it sets up: ``RUN_KEYS`` given in ``[lesson]``, checked (e.g. {"model": "gpt"})
    run: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        """What ``tui-trainer lesson NAME`` calls it: the file's name without .toml."""
        return self.path.stem

    @property
    def model(self) -> str:
        return str(self.run.get("model", "mlp"))


# --- loading ---------------------------------------------------------------------------------


def load_lesson(path: str | Path) -> Lesson:
    """Read and check a lesson file; ``LessonError`` (one line) for anything wrong with it."""
    if not str(path):  # (Path("") would be the current directory)
        raise LessonError("--file", "the lesson file name is empty")
    path = Path(path)
    try:
        raw = read_regular(path, MAX_LESSON_BYTES)
    except NotRegularFileError as e:
        raise LessonError(path, f"cannot read it: it is not a regular file ({e.kind.replace('_', ' ')})") from None
    except FileTooLargeError:
        raise LessonError(path, f"larger than {MAX_LESSON_BYTES >> 20} MB: not a lesson file") from None
    except OSError as e:
        raise LessonError(path, f"cannot read it: {e.strerror or e}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise LessonError(path, "not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as e:
        raise LessonError(path, f"not valid TOML: {e}") from None
    except RecursionError:  # (tomllib parses nested arrays and tables recursively)
        raise LessonError(path, "nested too deeply to be a lesson file") from None
    unknown = set(doc) - {"lesson", "scene"}
    if unknown:
        raise LessonError(path, f"unknown table or key {sorted(unknown)[0]!r} (a lesson has [lesson] and [[scene]])")
    head = doc.get("lesson", {})
    if not isinstance(head, dict):
        raise LessonError(path, "[lesson] must be a table")
    _no_unknown(path, head, _LESSON_FIELDS, "[lesson]")
    title = _text(path, head, "title", "[lesson]", required=False) or path.stem
    text = _text(path, head, "text", "[lesson]", required=False)
    corpus_name = _text(path, head, "corpus", "[lesson]", required=False)
    if text is not None and corpus_name is not None:
        raise LessonError(path, "[lesson] gives text and corpus: choose one")
    if text is not None and not text.strip():
        raise LessonError(path, "[lesson] text is empty")
    corpus = None
    if corpus_name is not None:
        corpus = (path.parent / corpus_name).resolve()
        if not corpus.is_file():
            raise LessonError(path, f"[lesson] corpus {corpus_name!r} is not a file (paths are relative to the lesson)")
    scenes = doc.get("scene")
    if scenes is None or scenes == []:
        raise LessonError(path, "no scenes: add [[scene]] tables")
    if not isinstance(scenes, list) or not all(isinstance(s, dict) for s in scenes):
        raise LessonError(path, "scene must be an array of tables: [[scene]]")
    run = _run(path, head)
    return Lesson(title, path, tuple(_scene(path, i, s) for i, s in enumerate(scenes, 1)), text, corpus, run)


def _run(path: Path, head: dict) -> dict[str, object]:
    """The ``[lesson]`` keys that set up the run, each checked as its option would be."""
    run: dict[str, object] = {}
    for key, (option, kind) in RUN_KEYS.items():
        if key not in head:
            continue
        value = head[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # (lr = 1 is a number too)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}[kind]
            raise LessonError(path, f"[lesson] {key} must be {name} (as {option} takes)")
        if kind is int and not (0 if key == "seed" else 1) <= value <= (2**32 - 1 if key == "seed" else MAX_SIZE):
            low = "0 or more" if key == "seed" else f"1 to {MAX_SIZE}"
            raise LessonError(path, f"[lesson] {key} = {value}: it must be {low}")
        run[key] = value
    problem = _run_problem(run)
    if problem:
        raise LessonError(path, f"[lesson] {problem}")
    return run


def _run_problem(run: dict[str, object]) -> str | None:
    """What is wrong with the run's settings together, in words (None: nothing); core's own checks
    (``SessionConfig.validate``: tokens, optimizer, lr, the GPT's embedding over its heads)."""
    model = run.get("model", "mlp")
    if model not in MODELS:
        return f"model {model!r} is not a model (choose from {', '.join(MODELS)})"
    for other, keys in {"mlp": ("hidden",), "gpt": ("layers", "heads")}.items():
        for key in keys:
            if key in run and model != other:
                return f"{key} sets the {other.upper()}'s size, and this lesson's model is {model}"
    fields = {"context": "context", "embed": "embed_dim", "layers": "layers", "heads": "heads"}
    fields |= {"tokens": "tokens", "optimizer": "optimizer", "lr": "lr"}
    try:
        SessionConfig(model=str(model), **{f: run[k] for k, f in fields.items() if k in run}).validate()  # type: ignore[arg-type]
    except ValueError as e:
        return say(e)
    return None


def bundled_lessons() -> list[Path]:
    """The bundled lessons' files: the default one first, then by name."""
    return sorted(LESSONS.glob("*.toml"), key=lambda p: (p != BUNDLED, p.stem))


def _no_unknown(path: Path, table: dict, allowed: set[str], where: str, n: int | None = None, title: str = "") -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        known = ", ".join(sorted(allowed))
        raise LessonError(path, f"unknown key {extra[0]!r} in {where} (allowed: {known})", n, title)


def _text(path: Path, table: dict, key: str, where: str, n: int | None = None, required: bool = True, title: str = ""):
    value = table.get(key)
    if value is None:
        if required:
            raise LessonError(path, f"missing {key!r} in {where}", n, title)
        return None
    if not isinstance(value, str):
        raise LessonError(path, f"{key!r} in {where} must be a string", n, title)
    return value


def _scene(path: Path, n: int, raw: dict) -> Scene:
    title = raw.get("title") if isinstance(raw.get("title"), str) else ""
    _no_unknown(path, raw, _SCENE_FIELDS, "[[scene]]", n, title)
    title = _text(path, raw, "title", "[[scene]]", n)
    if not title.strip():
        raise LessonError(path, "the title is empty", n)
    caption = _text(path, raw, "caption", "[[scene]]", n, title=title)
    section = _text(path, raw, "section", "[[scene]]", n, required=False, title=title) or ""
    check_placeholders(path, n, title, "caption", caption)
    keys = _text(path, raw, "keys", "[[scene]]", n, required=False, title=title) or ""
    wait = _text(path, raw, "wait", "[[scene]]", n, required=False, title=title) or ""
    entry_keys = _keys(path, n, title, "keys", keys)
    wait_keys = _keys(path, n, title, "wait", wait)
    panes = raw.get("panes", [])
    if not isinstance(panes, list) or not all(isinstance(p, str) for p in panes):
        raise LessonError(path, "panes must be a list of pane names", n, title)
    for p in panes:
        if p not in PANES:
            raise LessonError(path, f"unknown pane {p!r} (panes: {', '.join(PANES)})", n, title)
    question = None
    if "question" in raw:
        question = _question(path, n, title, raw["question"], wait_keys)
    return Scene(title, caption, section, keys, entry_keys, wait, wait_keys, tuple(panes), question)


def _keys(path: Path, n: int, title: str, field: str, script: str) -> tuple[str, ...]:
    """The Textual keys a scene's ``keys`` or ``wait`` presses (key-script tokens; no wait or
    pause: the lesson sets the pace, and no key that steers the lesson itself)."""
    if not script.strip():
        return ()
    try:
        beats = parse_script(script)
    except KeyScriptError as e:
        raise LessonError(path, f"{field}: {e}", n, title) from None
    out: list[str] = []
    for beat in beats:
        if not isinstance(beat, tuple):
            raise LessonError(path, f"{field}: wait and pause belong in --keys, not in a lesson", n, title)
        for key in beat:
            if key in LESSON_KEYS:
                raise LessonError(path, f"{field}: {key!r} steers the lesson itself; a scene cannot press it", n, title)
        out += beat
    return tuple(out)


def _question(path: Path, n: int, title: str, raw, wait_keys: tuple[str, ...]) -> Question:
    if not isinstance(raw, dict):
        raise LessonError(path, "question must be a table: [scene.question]", n, title)
    _no_unknown(path, raw, _QUESTION_FIELDS, "[scene.question]", n, title)
    ask = _text(path, raw, "ask", "[scene.question]", n, title=title)
    why = _text(path, raw, "why", "[scene.question]", n, title=title)
    answer = _text(path, raw, "answer", "[scene.question]", n, title=title)
    choices = raw.get("choices", ["+", "-"])
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        raise LessonError(path, "question choices must be a list of at least two key tokens", n, title)
    for c in choices:
        if c not in KEYS or KEYS[c] in LESSON_KEYS:
            raise LessonError(path, f"question choice {c!r} is not a key token (e.g. + - [ ] or a letter)", n, title)
        if KEYS[c] in wait_keys:
            raise LessonError(path, f"question choice {c!r} is also a key the scene waits for", n, title)
    if len({KEYS[c] for c in choices}) != len(choices):
        raise LessonError(path, "question choices repeat a key", n, title)
    if answer not in choices:
        raise LessonError(path, f"question answer {answer!r} is not one of its choices {choices}", n, title)
    if not wait_keys:
        raise LessonError(path, "a question needs keys to wait for: the keys that reveal its answer", n, title)
    check_placeholders(path, n, title, "question ask", ask)
    check_placeholders(path, n, title, "question why", why)
    return Question(ask, tuple(choices), answer, why)


def check_placeholders(path: Path, n: int, title: str, field: str, template: str) -> None:
    try:
        names = placeholders_in(template)
    except ValueError as e:
        raise LessonError(path, f"{field}: {e} (write {{{{ and }}}} for literal braces)", n, title) from None
    for name in names:
        if name not in PLACEHOLDERS and not TOTAL_AT.fullmatch(name):
            raise LessonError(
                path,
                f"{field}: unknown placeholder {{{name}}} (known: {', '.join(PLACEHOLDERS)}, total_at_N)",
                n,
                title,
            )
