"""demo.tape is a correct VHS script, and its tour works: VHS cannot run here, so this parses
the tape line by line and replays its keys against the app headless (Pilot).

Each ``Screenshot`` in the tape is an SVG snapshot here (tests/presenters/__snapshots__/test_demo_tape/).
After an intended change to the tour or the screens, look at the new SVGs, then:
    pytest tests/presenters/test_demo_tape.py --snapshot-update
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

from tui_trainer import cli
from tui_trainer.widgets.losscurve import LossPane

TAPE = ROOT / "demo.tape"

# --- a VHS tape parser (the commands of charmbracelet/vhs) -------------------------------------

TIME = r"\d+(?:\.\d+)?(?:ms|s|m)?"
STRING = r"\"[^\"]*\"|'[^']*'|`[^`]*`"
KEY_COMMANDS = {
    "Enter": "enter",
    "Space": "space",
    "Escape": "escape",
    "Tab": "tab",
    "Backspace": "backspace",
    "Delete": "delete",
    "Insert": "insert",
    "Up": "up",
    "Down": "down",
    "Left": "left",
    "Right": "right",
    "PageUp": "pageup",
    "PageDown": "pagedown",
}
SETTINGS = {
    "Shell": STRING,
    "FontFamily": STRING,
    "FontSize": r"\d+",
    "Framerate": r"\d+",
    "PlaybackSpeed": r"\d+(?:\.\d+)?",
    "Height": r"\d+",
    "Width": r"\d+",
    "LetterSpacing": r"-?\d+(?:\.\d+)?",
    "TypingSpeed": TIME,
    "LineHeight": r"\d+(?:\.\d+)?",
    "Padding": r"\d+",
    "Theme": STRING + r"|\{.*\}",
    "LoopOffset": r"\d+(?:\.\d+)?%?",
    "Margin": r"\d+",
    "MarginFill": STRING,
    "WindowBar": STRING + r"|\w+",
    "WindowBarSize": r"\d+",
    "BorderRadius": r"\d+",
    "CursorBlink": r"true|false",
}
PATTERNS = {
    "Output": re.compile(r"Output \S+\.(?:gif|mp4|webm|txt|ascii)|Output \S+/"),
    "Screenshot": re.compile(r"Screenshot \S+\.png"),
    "Type": re.compile(rf"Type(?:@{TIME})? (?:{STRING})"),
    "Sleep": re.compile(rf"Sleep {TIME}"),
    "Set": re.compile("Set (?:" + "|".join(rf"{k} (?:{v})" for k, v in SETTINGS.items()) + ")"),
    "Key": re.compile(rf"(?:{'|'.join(KEY_COMMANDS)})(?:@{TIME})?(?: \d+)?"),
    "Modified": re.compile(rf"(?:Ctrl|Alt|Shift)(?:\+(?:Ctrl|Alt|Shift))*\+\w+(?:@{TIME})?"),
    "Hide": re.compile("Hide"),
    "Show": re.compile("Show"),
    "Require": re.compile(r"Require \S+"),
    "Source": re.compile(r"Source \S+\.tape"),
    "Env": re.compile(rf"Env \w+ (?:{STRING})"),
    "Copy": re.compile(rf"Copy (?:{STRING})"),
    "Paste": re.compile("Paste"),
    "Wait": re.compile(rf"Wait(?:\+Screen|\+Line)?(?:@{TIME})?(?: /.*/)?"),
}


@dataclass
class Command:
    line: int
    kind: str
    text: str

    @property
    def arg(self) -> str:
        """The first argument, unquoted (the text of a Type, the path of a Screenshot)."""
        rest = self.text.split(" ", 1)[1]
        return rest[1:-1] if rest[:1] in "\"'`" else rest

    def keys(self) -> list[str]:
        """The Textual keys this command presses."""
        if self.kind == "Type":
            return ["space" if c == " " else c for c in self.arg]
        if self.kind == "Key":
            m = re.fullmatch(r"(\w+)(?:@\S+)?(?: (\d+))?", self.text)
            return [KEY_COMMANDS[m.group(1)]] * int(m.group(2) or 1)
        if self.kind == "Modified":
            return [self.text.split("@")[0].lower()]
        return []


def seconds(t: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", t)
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]


def parse_tape(text: str) -> list[Command]:
    """Every command of a tape; ``ValueError`` naming the line for anything VHS would reject."""
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for kind, pat in PATTERNS.items():
            if pat.fullmatch(line):
                out.append(Command(n, kind, line))
                break
        else:
            raise ValueError(f"demo.tape line {n}: not a VHS command: {raw!r}")
    return out


def tour() -> tuple[list[str], list[Command]]:
    """The app's command line (from the tape's first ``Type`` + ``Enter``) and the rest of the tape."""
    cmds = [c for c in parse_tape(TAPE.read_text()) if c.kind not in ("Output", "Set", "Require")]
    start, enter = cmds[0], cmds[1]
    assert start.kind == "Type" and enter.text == "Enter", "the tape must start the app with Type + Enter"
    argv = shlex.split(start.arg)
    assert argv[0] == "tui-trainer"
    return argv[1:], cmds[2:]


def settings() -> dict[str, str]:
    return {c.text.split()[1]: c.text.split(maxsplit=2)[2] for c in parse_tape(TAPE.read_text()) if c.kind == "Set"}


def vhs_size() -> tuple[int, int]:
    """The terminal VHS makes of the tape's Width, Height, Padding, FontSize and LineHeight, for a
    monospace cell 0.6 x FontSize wide and LineHeight x FontSize tall (what the tape documents)."""
    s = settings()
    font, padding, line = int(s["FontSize"]), int(s.get("Padding", 60)), float(s.get("LineHeight", 1.0))
    cols = (int(s["Width"]) - 2 * padding) / (0.6 * font)
    rows = (int(s["Height"]) - 2 * padding) / (line * font)
    return int(cols + 1e-9), int(rows + 1e-9)


#: The terminal the replay uses: the tape's own geometry
SIZE = vhs_size()


def screenshots() -> list[str]:
    return [Path(c.arg).stem for c in tour()[1] if c.kind == "Screenshot"]


# --- the tape is well formed ------------------------------------------------------------------


def test_every_line_is_a_known_vhs_command():
    cmds = parse_tape(TAPE.read_text())
    kinds = [c.kind for c in cmds]
    assert kinds[0] == "Output" and kinds.count("Output") == 1
    sets = {c.text.split()[1] for c in cmds if c.kind == "Set"}
    assert {"FontSize", "Width", "Height", "Padding", "LineHeight", "Theme", "TypingSpeed"} <= sets
    assert "Screenshot" in kinds
    assert "Require tui-trainer" in [c.text for c in cmds]
    total = sum(seconds(c.text.split()[1]) for c in cmds if c.kind == "Sleep")
    assert 40 <= total <= 90, f"the tour should last about a minute, not {total:.0f} s"


@pytest.mark.parametrize(
    "bad",
    [
        "Typ 'f'",
        "Type f",
        "Sleep two",
        "Set FontSize big",
        "Set Colour red",
        "Right x",
        "Screenshot shot.svg",
        "Output demo.mov",
        "Ctrl+",
    ],
)
def test_the_parser_rejects_what_vhs_rejects(bad):
    with pytest.raises(ValueError, match="line 1"):
        parse_tape(bad)


def test_every_scene_is_commented_and_has_a_screenshot():
    text = TAPE.read_text()
    scenes = re.findall(r"^# Scene \d+: (.*)$", text, flags=re.M)
    for word in ("start", "forward", "positions 1-4", "backward", "update", "run 200", "trained", "progress table"):
        assert any(word in s for s in scenes), word
    assert len(screenshots()) == len(scenes)


def test_the_geometry_is_documented_and_replayed():
    """The tape says which terminal it is laid out for; its pixel settings give that terminal."""
    m = re.search(r"laid out for a (\d+)x(\d+) terminal", TAPE.read_text())
    assert m and SIZE == (int(m.group(1)), int(m.group(2))) == (120, 36)
    argv, _ = tour()
    assert "--presenter" in argv


def test_runs_get_time_to_finish():
    """In a real recording keys arrive in real time: a run (r) at --speed takes steps / speed
    seconds, and the Sleep after it leaves at least 2 s more to look at the result."""
    argv, cmds = tour()
    speed = float(argv[argv.index("--speed") + 1])
    for c, nxt in itertools.pairwise(cmds):
        if c.kind == "Type" and c.arg.endswith("r"):
            steps = int(c.arg[:-1])
            assert nxt.kind == "Sleep" and seconds(nxt.arg) >= steps / speed + 2, c


# --- replaying the tour -----------------------------------------------------------------------


class _FakeClock:
    """The pacer's clock (--speed): sleeping moves it, so the replay needs no real seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, t: float) -> None:
        self.now += t


def make_app(argv: list[str]):
    app = cli.build_app(cli.build_parser().parse_args(argv))
    assert app.load_session()  # (the app would build it after its first paint: here, before the keys)
    clock = _FakeClock()
    app.pacer.clock, app.pacer.sleep = clock, clock.sleep
    return app


async def replay(pilot, cmds: list[Command], until: str | None = None, check=None) -> None:
    """Press the keys of ``cmds``; a ``Sleep`` waits for runs to finish (the tape sleeps long
    enough in real time); stop at the ``Screenshot`` named ``until``."""
    app = pilot.app
    for c in cmds:
        if c.kind == "Screenshot" and Path(c.arg).stem == until:
            await app.workers.wait_for_complete()
            await pilot.pause()
            return
        if c.kind == "Sleep":
            await app.workers.wait_for_complete()
            continue
        for key in c.keys():
            if check:
                check("before", key, app)
            if key == "q":
                await pilot.press(key)
                return
            await pilot.press(key)
            if check:
                await app.workers.wait_for_complete()
                check("after", key, app)
    assert until is None, f"no Screenshot {until} in the tape"


async def test_the_tour_ends_where_it_should():
    argv, cmds = tour()
    app = make_app(argv)
    seen: dict[str, float] = {}

    def check(when, key, app):
        s = app.session
        if when == "after" and key == "f" and "start_loss" not in seen:
            seen["start_loss"] = s.forward_result.total_loss
        if key == "r":
            if when == "before":
                seen["before_run"] = s.step
            else:
                seen["ran"] = s.step - seen["before_run"]
                seen["run_loss"] = s.history[-1].total_loss
        if key == "f" and when == "after" and "ran" in seen:
            seen["forward_after_run"] = (s.stale, s.forward_result.total_loss)
        if key == "p" and when == "after":
            seen["table"] = app.query_one(LossPane).show_table

    async with app.run_test(size=SIZE) as pilot:
        await replay(pilot, cmds, check=check)
    assert app.return_code == 0  # the tape's (hidden) q quit the app
    assert app.pacer.clock.now >= 200 / 40  # the run was paced at --speed 40
    assert seen["ran"] == 200
    assert seen["run_loss"] < seen["start_loss"] / 10
    stale, loss = seen["forward_after_run"]
    assert not stale and loss < seen["start_loss"] / 10  # f after the run: fresh, trained numbers
    assert seen["table"]  # it ends on the progress table


@pytest.mark.parametrize("shot", screenshots())
def test_screenshot(snap_compare, shot):
    argv, cmds = tour()

    async def run_before(pilot):
        await replay(pilot, cmds, until=shot)

    assert snap_compare(make_app(argv), terminal_size=SIZE, run_before=run_before)
