"""Lesson files: a guided walk over the live model, as a list of scenes (``tui-trainer lesson``).

A lesson is a TOML file. Its ``[lesson]`` table names it and may choose the text the model
trains on; each ``[[scene]]`` has a title, a caption with live numbers (``{p_target}``), the
keys it plays on entry, the keys it waits for the learner to press, the panes it talks about,
and optionally a predict-then-reveal ``[scene.question]``. See the README's "Lesson mode".

Everything is parsed and checked here, before the app starts: a bad file is one
``LessonError`` naming the file, the scene and the problem, never a half-played lesson.
This module imports no Textual; the numbers for the placeholders are read out of the session
(``core.readout``) by ``placeholder_values`` and formatted exactly as the panes format them.
"""

from __future__ import annotations

import math
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import Session, perplexity
from core.files import FileTooLargeError, NotRegularFileError, read_regular
from core.readout import baselines, n_positions, parameter_summary, position_info, softmax_steps

from ..keys import KEYS, KeyScriptError, parse_script

#: The bundled lesson (``tui-trainer lesson`` without ``--file``).
BUNDLED = Path(__file__).parent.parent / "lessons" / "lesson.toml"

#: Largest lesson file read (the bundled one is some 20 kB).
MAX_LESSON_BYTES = 1 << 20

#: Every placeholder a caption, question or reason may use, with what it shows (README, errors).
PLACEHOLDERS: dict[str, str] = {
    "step": "the step (updates made so far)",
    "lr": "the learning rate",
    "optimizer": "sgd, momentum or adam",
    "vocab_size": "words in the vocabulary",
    "vocab": "the vocabulary's words, in order",
    "context_size": "words the model reads before each prediction",
    "embed_dim": "numbers in each word's vector (the embedding's width)",
    "n_params": "parameters in the model",
    "shapes": "each layer's weight shape and bias size, as the context pane lists them",
    "n_positions": "prediction positions in a step",
    "position": "the selected position (1 = the first)",
    "context": "the words before the selected position",
    "target": "the word the selected position should predict",
    "top_word": "the model's most likely word there",
    "top_prob": "its probability (as a percentage)",
    "p_target": "P(target) at the selected position",
    "loss": "-log P(target) at the selected position",
    "logit_target": "the target's logit at the selected position",
    "exp_sum": "the sum of e^logit at the selected position (softmax step 2)",
    "total_loss": "the loss summed over the positions (the lesson's total)",
    "mean_loss": "the mean loss per position (the objective)",
    "perplexity": "exp(mean loss)",
    "vs_uniform": "how that perplexity compares with a uniform guess's (V): worse than, better than, as good as",
    "dlogit_target": "dLoss/dlogit of the target at the selected position (P - 1)",
    "uniform": "ln V, the loss of a uniform guess per position",
    "total_start": "the total loss at the first step of the history",
    "p_targets": "P(target) at each tracked position now, as the progress table shows it",
    "learned_order": "the tracked targets in the order their P(target) first reached 0.9, with the step",
}
#: ``{total_at_N}``: the total loss at step N of this branch's history ("-" if there is none).
TOTAL_AT = re.compile(r"total_at_(\d{1,7})")
#: Panes a scene may highlight.
PANES = ("context", "logits", "softmax", "gradients", "loss")
#: Keys that steer the lesson itself: a scene may not play or wait for them.
LESSON_KEYS = {"enter", "backspace", "escape"}
#: Shown for a number that does not exist yet (no forward pass, no gradient).
MISSING = "-"

_LESSON_FIELDS = {"title", "text", "corpus"}
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
    return Lesson(title, path, tuple(_scene(path, i, s) for i, s in enumerate(scenes, 1)), text, corpus)


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


def placeholders_in(template: str) -> list[str]:
    """The placeholder names ``template`` uses; ``ValueError`` for a malformed template."""
    names = []
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conv:
            raise ValueError(f"{{{name}}} takes no format: numbers come formatted as the panes show them")
        names.append(name)
    return names


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


# --- live numbers --------------------------------------------------------------------------------


class Values(dict):
    """Placeholder values; ``total_at_N`` are looked up on demand in the history."""

    def __init__(self, values: Mapping[str, str], totals: np.ndarray) -> None:
        super().__init__(values)
        self._totals = totals

    def __missing__(self, key: str) -> str:
        m = TOTAL_AT.fullmatch(key)
        if m is None:
            raise KeyError(key)
        from ..widgets.base import fmt

        k = int(m.group(1))
        return fmt(float(self._totals[k]), 4) if k < len(self._totals) else MISSING


def placeholder_values(session: Session, position: int) -> Values:
    """Every placeholder's text for the session's current state at the selected ``position``,
    formatted as the pane that shows the number formats it (call with the session's lock held)."""
    from ..widgets.base import fmt, fmt_big  # the panes' own formats (Textual loads only here)

    s = session
    v: dict[str, str] = {
        "step": str(s.step),
        "lr": f"{s.lr:g}",
        "optimizer": s.optimizer.name,
        "vocab_size": str(len(s.vocab)),
        "vocab": ", ".join(s.vocab.tokens[:30]) + (f" … {len(s.vocab) - 30:,} more" if len(s.vocab) > 30 else ""),
        "context_size": str(s.data.context_size),
        "n_positions": str(n_positions(s)),
        "uniform": fmt(baselines(s)["uniform"], 4),
    }
    params = parameter_summary(s)
    v["n_params"] = f"{sum(c for *_, c in params):,}"
    counts = {name: count for name, _, count in params}
    shapes = []
    for name, sh, _ in params:  # as the context pane lists them: a layer's weights + its bias
        if len(sh) == 2:
            layer = name.split(".")[0]
            bias = counts.get(f"{layer}.b")
            shapes.append(f"{layer} {'×'.join(map(str, sh))}" + (f" + {bias}" if bias else ""))
    v["shapes"] = ", ".join(shapes)
    v["embed_dim"] = str(next((sh[-1] for name, sh, _ in params if name == "embedding"), MISSING))
    info = position_info(s, position)
    v["position"] = str(info.index + 1)
    v["context"] = " ".join(info.context)
    v["target"] = info.target
    f = s.forward_result
    for k in ("top_word", "top_prob", "p_target", "loss", "logit_target", "exp_sum", "total_loss", "mean_loss"):
        v[k] = MISSING
    v["perplexity"] = v["dlogit_target"] = v["vs_uniform"] = MISSING
    if f is not None:
        v["top_word"], v["top_prob"] = str(info.top_word), f"{info.top_prob:.1%}"
        v["p_target"], v["loss"] = f"{info.target_prob:.4f}", fmt(info.loss, 4)
        row = f.logits[info.index]
        v["logit_target"] = f"{float(row[info.target_id]):.2f}"
        v["exp_sum"] = fmt_big(softmax_steps(row)[1])
        mean = f.total_loss / n_positions(s)
        v["total_loss"], v["mean_loss"], v["perplexity"] = fmt(f.total_loss, 4), fmt(mean, 4), fmt(perplexity(mean), 3)
        ratio = round(perplexity(mean), 3) / len(s.vocab)  # compared as the status line shows it
        v["vs_uniform"] = "worse than" if ratio > 1.0005 else "better than" if ratio < 0.9995 else "as good as"
    b = s.backward_result
    if b is not None and s.phase == "backward":
        v["dlogit_target"] = f"{float(b.dlogits[info.index, info.target_id]):+.3f}"
    h = s.history
    totals = h.column("total_loss") if h else np.zeros(0)
    v["total_start"] = fmt(float(totals[0]), 4) if len(totals) else MISSING
    v["learned_order"] = _learned_order(s)
    words = [s.data.target_word(int(p)) for p in s.tracked]
    v["p_targets"] = ", ".join(f"{w} {p:.3f}" for w, p in zip(words, h[-1].target_probs, strict=True)) if h else MISSING
    return Values(v, totals)


def _learned_order(session: Session, level: float = 0.9) -> str:
    """The tracked targets ordered by the first step their P(target) reached ``level``
    (the lesson's "later words learn faster", as this run shows it)."""
    h = session.history
    if not h:
        return MISSING
    probs, steps = h.column("target_probs"), h.column("step")  # (rows, T): one a step unless thinned
    d = session.data
    words = [d.target_word(int(p)) for p in session.tracked]
    firsts = []
    for j, w in enumerate(words):
        hit = np.flatnonzero(probs[:, j] >= level)
        firsts.append((int(steps[hit[0]]) if hit.size else math.inf, j, w))
    firsts.sort()
    return ", ".join(f"{w} (step {k})" if k != math.inf else f"{w} (not yet)" for k, _, w in firsts)


def fill_caption(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled (checked at load time, so none is unknown)."""
    return string.Formatter().vformat(template, (), values)


#: where a caption's sentences end (a full stop, ? or !, then a space and the next sentence)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"(])")


def filled(template: str, values: Mapping[str, str]) -> str:
    """``template`` filled, leaving out each sentence with a number that does not exist yet (before
    the forward pass there is no logit: the sentence waits for it, it never reads "-")."""
    kept = []
    for sentence in _SENTENCE_END.split(template.strip()):
        if all(values[name] != MISSING for name in placeholders_in(sentence)):
            kept.append(fill_caption(sentence, values))
    return " ".join(kept)
