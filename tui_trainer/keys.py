"""Key scripts: ``tui-trainer --keys "f right right b u 200r z"``.

A script is tokens separated by spaces. Each token is

- a key the app binds, written as on the keyboard: ``f b u s r z Z o k w g p v e c C q ?``,
  ``[`` ``]``, a digit, ``h`` ``l``;
- a key name: ``right``, ``left``, ``escape`` (or ``esc``), ``space``, ``ctrl+s``;
- a count and ``r``: ``200r`` types 2, 0, 0 and presses r (run 200 steps).

Parsing happens before the app starts, so a bad script is one line on stderr
and exit status 2, never a half-played demo. Playing it (``TrainerApp``) waits
for each run to finish before the next key.
"""

from __future__ import annotations

import re

#: script token -> Textual key name
KEYS: dict[str, str] = {
    **{c: c for c in "fbusrzZhlokwgpveqcC"},
    **{str(d): str(d) for d in range(10)},
    "[": "left_square_bracket",
    "]": "right_square_bracket",
    "?": "question_mark",
    "right": "right",
    "left": "left",
    "escape": "escape",
    "esc": "escape",
    "space": "space",
    "ctrl+s": "ctrl+s",
    # Textual's own names work too
    "left_square_bracket": "left_square_bracket",
    "right_square_bracket": "right_square_bracket",
    "question_mark": "question_mark",
}

_COUNT_RUN = re.compile(r"(\d{1,7})r")
MAX_TOKENS = 10_000


class KeyScriptError(ValueError):
    """A key script that cannot be played; the message names the bad token."""


def parse_keys(script: str) -> list[str]:
    """The Textual key names ``script`` presses, in order; ``KeyScriptError`` if any token is unknown."""
    tokens = script.split()
    if not tokens:
        raise KeyScriptError("the key script is empty")
    if len(tokens) > MAX_TOKENS:
        raise KeyScriptError(f"the key script has {len(tokens):,} tokens; the limit is {MAX_TOKENS:,}")
    keys: list[str] = []
    for i, tok in enumerate(tokens, 1):
        if tok in KEYS:
            keys.append(KEYS[tok])
        elif m := _COUNT_RUN.fullmatch(tok):
            keys.extend([*m.group(1), "r"])
        elif tok.lower() in KEYS and len(tok) > 1:
            keys.append(KEYS[tok.lower()])
        elif tok.isdigit():
            raise KeyScriptError(f"key script token {i} {tok!r}: a count must end in r, e.g. {tok}r")
        else:
            raise KeyScriptError(
                f"key script token {i} {tok!r} is not a key: use f b u s r z Z o k w g p v e c C q ? [ ] 0-9, "
                "right, left, escape, space, ctrl+s or a count like 200r"
            )
    return keys
