"""The app in rooms (issue 22, item 3): imports run one way, the lesson band hears of new frames by
message, a scene's view is one ViewState, and the F form asks the session's own fork rules."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import pytest
from conftest import ROOT, settle

from core import Session
from tui_trainer import narrate
from tui_trainer.app import TrainerApp
from tui_trainer.lesson import BUNDLED, load_lesson
from tui_trainer.lesson.app import LessonApp
from tui_trainer.lesson.band import LessonBand
from tui_trainer.viewstate import ViewState
from tui_trainer.widgets.losscurve import LossPane

PACKAGES = ("core", "tui_trainer")


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package) for every module of core and tui_trainer."""
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the modules it imports, anywhere in it (inside functions too: a lazy import is an
    import; not under ``if TYPE_CHECKING:``, which never runs), with the packages whose
    ``__init__`` an import runs first."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, (path, is_package) in modules.items():
        here = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # imports under `if TYPE_CHECKING:` name a type for the reader and never run
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
            for stmt in block.body
            for n in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here.split(".")[: len(here.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [module] + [f"{module}.{a.name}" for a in node.names]
            else:
                continue
            for target in filter(None, map(known, targets)):
                parent = target
                while parent:  # the module, and the packages above it (their __init__ runs first)
                    if parent in modules and parent != name and not name.startswith(parent + "."):
                        graph[name].add(parent)
                    parent = parent.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan's)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_app_and_the_lesson_import_one_way():
    graph = import_graph()
    app_side = {m for m in graph if m.startswith("tui_trainer.") and not m.startswith("tui_trainer.lesson")}
    app_side = {m for m in app_side if not m.startswith("tui_trainer.cli")}  # (the command line starts either app)
    lesson_side = {m for m in graph if m.startswith("tui_trainer.lesson.")}
    assert "tui_trainer.app" in graph["tui_trainer.lesson.band"]  # the lesson imports the app...
    for m in app_side:  # ...and nothing on the app's side imports the lesson's Textual code
        assert not graph[m] & lesson_side, (m, graph[m] & lesson_side)
    # the package itself loads only the lesson files' module (the command line checks a file before
    # the app starts)
    assert graph["tui_trainer.lesson"] == {"tui_trainer.lesson.lessonfile"}


def test_no_import_cycle_in_the_app_the_lesson_or_the_command_line():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_the_app_keeps_no_key_actions_of_the_rooms():
    # the main screen holds the keys' actions; the app only help and quit (its wiring)
    actions = {name for name in vars(TrainerApp) if name.startswith("action_")}
    assert actions == {"action_help", "action_quit"}


async def test_a_view_state_is_recorded_and_restored_as_one_value():
    app = TrainerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        start = app.view_state()
        assert start == ViewState(0, "softmax", False, False, False)
        await pilot.press("f", "right", "right", "g", "t", "3")
        await settle(app, pilot)
        changed = app.view_state()
        assert changed == ViewState(2, "loss", True, True, False) and app.count == "3"
        app.show_view(start)
        await settle(app, pilot)
        pane = app.query_one(LossPane)
        assert app.view_state() == start and app.count == ""
        assert (pane.log_scale, pane.show_positions, pane.show_table) == (False, False, False)
        assert app.query_one("#root").has_class("view-softmax")  # the compact layout shows it again
        app.show_view(changed)
        await settle(app, pilot)
        assert app.view_state() == changed


async def test_the_band_hears_of_a_new_frame_without_a_timer():
    app = LessonApp(lesson=load_lesson(BUNDLED))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        band = app.query_one(LessonBand)
        assert not band._timers  # no polling
        for _ in range(2):  # to S3 (logits): its caption shows the target's logit after f
            await pilot.press("enter")
            await settle(app, pilot)
        assert "gets the logit" not in band.caption_text  # no forward pass yet: that sentence waits for it
        await pilot.press("f")
        await settle(app, pilot)
        assert re.search(r"At position 1 the target .* gets the logit -?\d+\.\d\d;", band.caption_text)
        # a frame the band is not told of changes nothing it shows; the next one it is told of does
        app.watch_frames(band, False)
        await pilot.press("l")  # (→ would mean "next scene" here)
        await settle(app, pilot)
        assert app.position == 1 and "At position 1 " in band.caption_text
        app.watch_frames(band)
        await pilot.press("l")
        await settle(app, pilot)
        assert app.position == 2 and "At position 3 " in band.caption_text


@pytest.mark.parametrize(
    ("optimizer", "lr", "words"),
    [
        ("rmsprop", None, "unknown optimizer 'rmsprop': sgd, momentum or adam"),
        (None, -3.0, "the learning rate -3 must be greater than 0"),
        (None, math.inf, "the learning rate inf must be finite"),
        (None, 1e9, "the learning rate 1e+09 is absurdly large"),
        ("sgd", None, "that is what this branch uses: change the optimizer or the learning rate"),
        ("sgd", 1.0, "that is what this branch uses: change the optimizer or the learning rate"),
    ],
)
def test_the_fork_forms_words_come_from_the_sessions_refusal(optimizer, lr, words):
    s = Session.create()
    refusal = s.check_fork(optimizer, lr)
    assert refusal is not None and not refusal.ok
    assert narrate.fork_problem(refusal).startswith(words)
    assert s.check_fork("adam", 0.01) is None
