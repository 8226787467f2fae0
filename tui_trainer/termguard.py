"""Guards around Textual 8.2.8 for bytes from the terminal it cannot take (issue 23).

Found by feeding the app garbage, each a crash inside Textual:

- ``ESC [ 999999999999 H`` and ``ESC [ 1114112 u``: the parser's ``chr()`` of a number beyond
  Unicode (``OverflowError``, ``ValueError`` in ``_xterm_parser._parse_extended_key``); the
  input thread then died and the app exited with status 0.
- ctrl+p, ``5``, PgDn back to back: ``OptionList._move_page`` looked up a line before the list
  was laid out (``KeyError: 0``).

``install()`` patches those methods in place (once; idempotent): a sequence the parser cannot
read becomes an ignored key and an ``InputGarbled`` message for the app to say; anything else
the parser raises restarts it and drops the bytes; a page move before layout does nothing. If the
input thread still dies, the app ends with status 1 and a message, the terminal restored.
"""

from __future__ import annotations

import functools
from typing import Any

from textual.message import Message

_installed = False


class InputGarbled(Message):
    """The terminal sent a sequence Textual could not read; it was dropped."""

    def __init__(self, sequence: str) -> None:
        super().__init__()
        self.sequence = sequence

    @property
    def text(self) -> str:
        """The narration: what was dropped, and that nothing else changed."""
        shown = repr(self.sequence[:24]) + ("…" if len(self.sequence) > 24 else "")
        return f"Ignored input the terminal sent that could not be read ({shown}). The session is unchanged."


def install() -> None:
    """Patch Textual's parser, option list and input thread (see the module's docstring)."""
    global _installed
    if _installed:
        return
    from textual._xterm_parser import XTermParser
    from textual.widgets import OptionList

    XTermParser._parse_extended_key = _guard_extended_key(XTermParser._parse_extended_key)
    XTermParser.feed = _guard_stream(XTermParser.feed)
    XTermParser.tick = _guard_stream(XTermParser.tick)
    OptionList._move_page = _guard_move_page(OptionList._move_page)
    try:
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # (not on Windows)
        pass
    else:
        LinuxDriver._run_input_thread = _guard_input_thread
    _installed = True


def _guard_extended_key(parse):
    @functools.wraps(parse)
    def parse_extended_key(self, sequence: str):
        try:
            return parse(self, sequence)
        except (ValueError, OverflowError):  # chr() of a number beyond Unicode
            from textual import events
            from textual.keys import Keys

            # an ignored key ends the sequence (None would read on and type its digits as keys)
            self._tokens.append(InputGarbled(sequence))
            return [events.Key(Keys.Ignore, sequence)]

    return parse_extended_key


def _guard_stream(method):
    """``feed`` / ``tick``: the tokens parsed, or after an error inside the parser, the tokens
    parsed before it and a fresh parser (the bytes of the sequence it was reading are dropped)."""

    @functools.wraps(method)
    def guarded(self, *args: Any) -> list:
        from textual._parser import ParseError

        try:
            return list(method(self, *args))
        except (ParseError, EOFError):  # the end of input: the driver's own business
            raise
        except Exception as e:
            tokens = list(self._tokens)
            _restart(self)
            return [*tokens, InputGarbled(f"{type(e).__name__}: {e}")]

    return guarded


def _restart(parser) -> None:
    parser._tokens.clear()
    parser._gen = parser.parse(parser._tokens.append)
    parser._awaiting = next(parser._gen)
    parser._timeout_time = None


def _guard_move_page(move_page):
    @functools.wraps(move_page)
    def guarded(self, direction) -> None:
        if not self._lines or (self.highlighted or 0) not in self._index_to_line:
            return  # not laid out yet: nothing to page through
        move_page(self, direction)

    return guarded


def _guard_input_thread(self) -> None:
    """LinuxDriver's input thread: if it dies, the app ends with status 1 and says why (Textual
    panicked with status 0), the terminal restored as on any exit."""
    try:
        self.run_input_thread()
    except BaseException as e:
        message = f"tui-trainer: the terminal's input could not be read ({type(e).__name__}: {e})"
        self._app.call_later(self._app.exit, None, 1, message)
