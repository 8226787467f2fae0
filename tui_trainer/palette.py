"""Text colours from the active theme, made readable on the background they are drawn on.

Panes used to hard-code terminal colours ("yellow", "dim"), which fade to 1.3-2.6:1 contrast on a
light theme or a coloured bar. Here every role (muted text, the target word, good and bad values,
...) starts from one of the theme's colours and, where that colour is too faint on the widget's
real background, is moved towards black or white until it reaches WCAG's 4.5:1 for text (3:1 for
bars, which are graphics). ``tests/panes/test_contrast.py`` checks the result on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.color import BLACK, WHITE, Color, ColorParseError

#: WCAG 2 AA: normal text, and graphics such as bars
TEXT_CONTRAST, GRAPHIC_CONTRAST = 4.5, 3.0
#: aim a little above the bar, so that rounding to 8-bit colour never lands below it
_MARGIN = 0.1


def luminance(c: Color) -> float:
    """WCAG 2 relative luminance (alpha ignored)."""

    def lin(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two opaque colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable(colour: Color, background: Color, minimum: float = TEXT_CONTRAST) -> Color:
    """``colour`` (composited on ``background``), moved the least towards black or white
    (whichever stands out more on ``background``) that reaches ``minimum`` contrast."""
    colour = background + colour  # alpha, e.g. $text's 87%, is drawn over the background
    if contrast(colour, background) >= minimum + _MARGIN:
        return colour
    extreme = WHITE if contrast(WHITE, background) >= contrast(BLACK, background) else BLACK
    for step in range(1, 41):
        c = colour.blend(extreme, step / 40)
        if contrast(c, background) >= minimum + _MARGIN:
            return c
    return extreme


@dataclass(frozen=True)
class Palette:
    """Rich styles by role for text drawn on one background."""

    text: Style
    strong: Style
    muted: Style
    #: the word a position should predict
    target: Style
    #: the selected position in the sentence, as a highlighted block
    mark: Style
    #: context words
    context: Style
    good: Style
    bad: Style
    #: stale results, warnings
    warn: Style
    #: the loss curve, typed counts
    accent: Style
    bar_positive: Style
    bar_negative: Style
    bar: Style


def _variable(variables: dict[str, str], name: str, fallback: Color) -> Color:
    try:
        return Color.parse(variables[name])
    except (KeyError, ColorParseError):
        return fallback


def _palette(v: dict[str, str], background: Color, foreground: Color) -> Palette:
    fg = readable(foreground, background)

    def ink(name: str, minimum: float = TEXT_CONTRAST, bold: bool = False) -> Style:
        return Style(color=readable(_variable(v, name, fg), background, minimum).rich_color, bold=bold)

    warning = _variable(v, "warning", fg)
    mark_bg = background + warning
    muted = readable(foreground.blend(background, 0.4), background)
    return Palette(
        text=Style(color=fg.rich_color),
        strong=Style(color=fg.rich_color, bold=True),
        muted=Style(color=muted.rich_color),
        target=ink("warning", bold=True),
        mark=Style(color=readable(background, mark_bg).rich_color, bgcolor=mark_bg.rich_color, bold=True),
        context=ink("primary", bold=True),
        good=ink("success", bold=True),
        bad=ink("error", bold=True),
        warn=ink("warning"),
        accent=ink("accent", bold=True),
        bar_positive=ink("success", GRAPHIC_CONTRAST),
        bar_negative=ink("error", GRAPHIC_CONTRAST),
        bar=ink("secondary", GRAPHIC_CONTRAST),
    )


_CACHE: dict[tuple[str, Color, Color], Palette] = {}


def palette(widget) -> Palette:
    """The palette for text drawn on ``widget``'s own background, from the app's active theme."""
    _, _, background, foreground = widget.colors
    key = (widget.app.theme, background.with_alpha(1.0), foreground)
    if key not in _CACHE:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = _palette(widget.app.get_css_variables(), *key[1:])
    return _CACHE[key]


def readable_text(widget) -> Palette:
    """Give ``widget`` the palette's text colour (the theme's, made 4.5:1 on the widget's
    background) and return the palette. The theme's own colour is picked from each time, not the
    last pick, so this is right again after the theme changes."""
    widget.styles.clear_rule("color")
    ink = palette(widget)
    if ink.text.color is not None:
        widget.styles.color = Color.from_rich_color(ink.text.color)
    return ink
