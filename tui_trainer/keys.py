"""Key scripts: ``tui-trainer --keys "f right right b u 200r wait z"``.

A script is tokens separated by spaces. Each token is one *beat* (``--key-delay`` waits before
each key beat, not before each key):

- a key the app binds, written as on the keyboard: ``f b u s r z Z o k w g p v e c C q ?``,
  ``[`` ``]``, ``-`` ``+`` ``=`` (slower, faster), a digit, ``h`` ``l``;
- a key name: ``right``, ``left``, ``escape`` (or ``esc``), ``space``, ``ctrl+s``;
- a count and ``r``: ``200r`` types 2, 0, 0 and presses r (run 200 steps) in one beat;
- ``wait``: wait until the presenter presses space, right, PageDown or Enter (what clickers
  send); that key only releases the script;
- ``pause:SECONDS``: wait that long (0 to 3600 s, e.g. ``pause:2.5``).

Parsing happens before the app starts, so a bad script is one line on stderr
and exit status 2, never a half-played demo. Playing it (``TrainerApp``) waits
for each run to finish before the next beat.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .keymap import CHARACTERS, script_tokens

#: script token -> Textual key name (from the app's one key table), and backspace: lesson mode's
#: "the scene before", bound by the lesson's caption band (tui_trainer/lesson/band.py)
KEYS: dict[str, str] = {**script_tokens(), "backspace": "backspace"}

#: every token, for the error message
VALID_TOKENS = (
    " ".join(t for t in KEYS if len(t) == 1 and not t.isdigit())
    + ", 0-9, "
    + ", ".join(
        "escape (esc)" if t == "escape" else t for t in KEYS if len(t) > 1 and t not in CHARACTERS and t != "esc"
    )
    + ", a count like 200r, wait, pause:SECONDS"
)
#: the keys that end a ``wait``: a clicker's "next" (space, right, PageDown) and Enter
WAIT_KEYS = ("space", "right", "pagedown", "enter")
#: longest count the app accepts before r (the count line holds 7 digits)
MAX_COUNT_DIGITS = 7
MAX_PAUSE = 3600.0
MAX_TOKENS = 10_000

_COUNT_RUN = re.compile(r"(\d+)r")


class KeyScriptError(ValueError):
    """A key script that cannot be played; the message names the bad token."""


@dataclass(frozen=True)
class Wait:
    """Wait for the presenter (one of ``WAIT_KEYS``)."""


@dataclass(frozen=True)
class Pause:
    seconds: float


#: one beat of a script: the keys pressed together (a count and its r), a wait or a pause
Beat = tuple[str, ...] | Wait | Pause


def _pause(tok: str, i: int) -> Pause:
    text = tok.split(":", 1)[1]
    try:
        seconds = float(text)
    except ValueError:
        raise KeyScriptError(f"key script token {i} {tok!r}: pause wants seconds, e.g. pause:2.5") from None
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_PAUSE):
        raise KeyScriptError(f"key script token {i} {tok!r}: a pause lasts 0 to {MAX_PAUSE:g} seconds")
    return Pause(seconds)


def parse_script(script: str) -> list[Beat]:
    """The beats ``script`` plays, in order; ``KeyScriptError`` naming the first bad token."""
    tokens = script.split()
    if not tokens:
        raise KeyScriptError("the key script is empty")
    if len(tokens) > MAX_TOKENS:
        raise KeyScriptError(f"the key script has {len(tokens):,} tokens; the limit is {MAX_TOKENS:,}")
    beats: list[Beat] = []
    for i, tok in enumerate(tokens, 1):
        if tok in KEYS:
            beats.append((KEYS[tok],))
        elif m := _COUNT_RUN.fullmatch(tok):
            digits = m.group(1)
            if len(digits) > MAX_COUNT_DIGITS:
                raise KeyScriptError(
                    f"key script token {i} {tok!r}: count too large (at most {MAX_COUNT_DIGITS} digits, "
                    f"{10**MAX_COUNT_DIGITS - 1:,} steps)"
                )
            beats.append((*digits, "r"))
        elif tok.lower() == "wait":
            beats.append(Wait())
        elif tok.lower().startswith("pause:"):
            beats.append(_pause(tok, i))
        elif tok.lower() in KEYS and len(tok) > 1:
            beats.append((KEYS[tok.lower()],))
        elif tok.isdigit():
            raise KeyScriptError(f"key script token {i} {tok!r}: a count must end in r, e.g. {tok}r")
        else:
            raise KeyScriptError(f"key script token {i} {tok!r} is not a key: use {VALID_TOKENS}")
    return beats


def parse_keys(script: str) -> list[str]:
    """The Textual key names ``script`` presses, in order (waits and pauses left out)."""
    return [key for beat in parse_script(script) if isinstance(beat, tuple) for key in beat]
