"""Every piece of text on screen is readable: WCAG contrast >= 4.5:1 against the background it is
drawn on, in the default dark theme, textual-light and solarized-light, presenter mode or not.

The colours are read from the app's own SVG export (``App.export_screenshot``): each glyph's fill
against the background rectangle of its cell, exactly as a screenshot or a recording shows it.
Box-drawing and block glyphs (borders, bars) are graphics, not text, and are left out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest

from core import Session
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.status import StatusBar

THEMES = ("textual-dark", "textual-light", "solarized-light")
MIN_CONTRAST = 4.5
#: rich's SVG export: one cell is this wide and one line this tall
CHAR_WIDTH, LINE_HEIGHT = 12.2, 24.4


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#123456", "#123456") == pytest.approx(1.0)


@dataclass(frozen=True)
class Glyph:
    row: int
    col: int
    char: str
    fg: str
    bg: str

    @property
    def ratio(self) -> float:
        return contrast(self.fg, self.bg)


_RULE = re.compile(r"\.(terminal-[\w-]*r\d+) \{ fill: (#[0-9a-f]{6})")
_RECT = re.compile(r'<rect fill="(#[0-9a-f]{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"')
_TEXT = re.compile(r'<text class="([^"]+)" x="([\d.]+)" y="([\d.]+)" textLength="[\d.]+"[^>]*>([^<]*)</text>')


def glyphs(svg: str) -> list[Glyph]:
    """Every visible text glyph of a rich SVG export with its fill and its cell's background."""
    fills = dict(_RULE.findall(svg))
    backgrounds: dict[tuple[int, int], str] = {}
    for fill, x, y, width in _RECT.findall(svg):
        row, col = round((float(y) - 1.5) / LINE_HEIGHT), round(float(x) / CHAR_WIDTH)
        for c in range(col, col + round(float(width) / CHAR_WIDTH)):
            backgrounds[row, c] = fill
    out = []
    for cls, x, y, text in _TEXT.findall(svg):
        row, col = round((float(y) - 20) / LINE_HEIGHT), round(float(x) / CHAR_WIDTH)
        for i, ch in enumerate(html.unescape(text)):
            if ch.isspace() or 0x2500 <= ord(ch) <= 0x259F or ch == "\u2800":
                continue  # spaces, box drawing and blocks (graphics), the empty braille cell
            out.append(Glyph(row, col + i, ch, fills[cls], backgrounds.get((row, col + i), "#000000")))
    return out


def test_glyphs_reads_a_known_svg():
    svg = (
        ".terminal-1-r1 { fill: #ffffff }\n.terminal-1-r2 { fill: #777777;font-weight: bold }\n"
        '<rect fill="#000000" x="0" y="1.5" width="24.4" height="24.65" shape-rendering="crispEdges"/>'
        '<rect fill="#ffffff" x="0" y="25.9" width="24.4" height="24.65" shape-rendering="crispEdges"/>'
        '<text class="terminal-1-r1" x="0" y="20" textLength="24.4" clip-path="url(#l0)">a&#160;</text>'
        '<text class="terminal-1-r2" x="12.2" y="44.4" textLength="12.2" clip-path="url(#l1)">│b</text>'
    )
    got = [(g.row, g.col, g.char, g.fg, g.bg) for g in glyphs(svg)]
    assert got == [(0, 0, "a", "#ffffff", "#000000"), (1, 2, "b", "#777777", "#000000")]


async def _stale_with_a_count(pilot):
    """Status line with loss, ppl, (stale) and a typed count; panes after f, b, u."""
    await pilot.press("f", "right", "b", "u", "1", "2")


async def _trained(pilot):
    """The loss curve drawn, the status line as during a run."""
    await pilot.press("3", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("f", "right")
    _as_if_running(pilot.app)


def _as_if_running(app) -> None:
    """The status line as during a run (drawn again after each theme change)."""
    app.query_one(StatusBar).show(app.frame, True, "")


async def _table(pilot):
    await pilot.press("3", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("p")


async def _diverged(pilot):
    await pilot.press("r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("b")


async def _help(pilot):
    await pilot.press("question_mark")


async def _samples(pilot):
    await pilot.press("3", "0", "r")
    await pilot.app.workers.wait_for_complete()
    await pilot.press("w", "t", "w")  # two samples, the second at T = 0.5 (P at T = 1 in brackets)


async def _chain(pilot):
    await pilot.press("f", "b", "x")


async def _branches(pilot):
    await pilot.press("s", "s", "z", "s", "B")  # two branches


async def _fork_form(pilot):
    await pilot.press("F", "x", "y", "z", "enter")  # a bad line: the form says why, and stays open


#: the dialogs: only the dialog box counts (the screen behind it is faded on purpose)
DIALOGS = ("help", "samples", "chain", "branches", "fork_form")

SCENES = {
    "start": None,
    "help": _help,
    "samples": _samples,
    "chain": _chain,
    "branches": _branches,
    "fork_form": _fork_form,
    "stale": _stale_with_a_count,
    "trained": _trained,
    "table": _table,
    "diverged": _diverged,
}


def _scene_app(scene: str, theme: str, presenter: bool) -> TrainerApp:
    """The app for a scene (the diverged one starts at lr 100)."""
    session = Session.create(lr=100.0) if scene == "diverged" else Session.create()
    return TrainerApp(session, theme=theme, presenter=presenter)


async def _play(app, pilot, scene: str) -> None:
    if SCENES[scene] is not None:
        await SCENES[scene](pilot)
    await app.workers.wait_for_complete()
    # a dialog composes, takes its colours from the theme, then paints: under load one turn of
    # the loop was seen to leave the help dialog's keys in the colours they start with
    await pilot.wait_for_scheduled_animations()
    for _ in range(3):
        await pilot.pause()


async def _in_theme(app, pilot, scene: str, theme: str) -> tuple[str, object]:
    """The screen in ``theme`` (the palette's "Change theme"), as an SVG, and the region to check:
    a dialog fades the screen behind it on purpose, so only the dialog counts."""
    if app.theme != theme:
        app.theme = theme
        # the panes and dialogs recolour on the theme's signal, then paint: two turns of the loop
        # are not always enough on a loaded machine (the help dialog's keys were seen half done)
        for _ in range(3):
            await pilot.pause()
        if scene == "trained":
            _as_if_running(app)
            await pilot.pause()
    region = app.screen.query_one("#dialog").region if scene in DIALOGS else app.screen.region
    return app.export_screenshot(), region


def _unreadable(svg: str, region) -> list[str]:
    lines = {}
    for g in glyphs(svg):
        if region.contains(g.col, g.row) and g.ratio < MIN_CONTRAST:
            lines.setdefault((g.row, g.fg, g.bg), []).append(g.char)
    return [
        f"row {row}: {''.join(chars)!r} {fg} on {bg} = {contrast(fg, bg):.2f}:1"
        for (row, fg, bg), chars in lines.items()
    ]


#: scenes whose switched themes are also compared with an app started in each theme: the palette's
#: "Change theme" once left text in the old theme's colours (the narration, the status line and the
#: help's keys: dark text on the dark theme's background, or light on light)
SWITCH_CHECKED = {("stale", True), ("help", False)}


def _cells(svg: str) -> list[tuple]:
    return sorted((g.row, g.col, g.char, g.fg, g.bg) for g in glyphs(svg))


async def _started_in(scene: str, theme: str, presenter: bool) -> list[tuple]:
    """The scene's glyphs in an app that started in ``theme``."""
    app = _scene_app(scene, theme, presenter)
    async with app.run_test(size=(120, 36)) as pilot:
        await _play(app, pilot, scene)
        svg, _region = await _in_theme(app, pilot, scene, theme)
    return _cells(svg)


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("scene", list(SCENES))
async def test_every_glyph_reaches_4_5_to_1(presenter, scene):
    """Each scene is played once and looked at in every theme (switched as the palette does). For
    the scenes of SWITCH_CHECKED each switch goes from the starting theme, and the screen must be
    exactly what an app started in that theme shows (one app fewer per theme than a test of its own)."""
    app = _scene_app(scene, THEMES[0], presenter)
    report = []
    switched = {}
    async with app.run_test(size=(120, 36)) as pilot:
        await _play(app, pilot, scene)
        if scene == "diverged":
            assert app.session.divergence is not None
        for theme in THEMES:
            if (scene, presenter) in SWITCH_CHECKED and app.theme != THEMES[0]:
                await _in_theme(app, pilot, scene, THEMES[0])  # (each switch from the starting theme)
            svg, region = await _in_theme(app, pilot, scene, theme)
            report += [f"{theme}: {line}" for line in _unreadable(svg, region)]
            if (scene, presenter) in SWITCH_CHECKED and theme != THEMES[0]:
                switched[theme] = _cells(svg)
    assert not report, "\n".join(report)
    for theme, cells in switched.items():
        fresh = await _started_in(scene, theme, presenter)
        assert len(fresh) > 500
        assert cells == fresh, (theme, sorted(set(cells) - set(fresh))[:5])
    assert len(switched) == (2 if (scene, presenter) in SWITCH_CHECKED else 0)
