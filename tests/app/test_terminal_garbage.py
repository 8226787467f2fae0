"""Bytes from the terminal that crashed Textual 8.2.8 (issue 23): the app says it ignored them and
keeps its session; random bytes and escape sequences never raise out of the guarded parser."""

from __future__ import annotations

import string

import pytest
from conftest import narration
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual import events
from textual._xterm_parser import XTermParser

from tui_trainer import termguard
from tui_trainer.app import TrainerApp

termguard.install()

CRASHERS = ["\x1b[999999999999H", "\x1b[1114112u", "\x1b[1114112;5u", "\x1b[1;2:1114112u", "\x1b[9999999999999~"]


def parse(data: str, parser: XTermParser | None = None) -> list:
    parser = parser or XTermParser()
    tokens = list(parser.feed(data))
    return tokens + list(parser.feed(""))  # the end of input flushes a pending escape


@pytest.mark.parametrize("garbage", CRASHERS)
def test_sequences_beyond_unicode_are_ignored_not_typed(garbage):
    tokens = parse(garbage + "f")
    assert any(isinstance(t, termguard.InputGarbled) for t in tokens), tokens
    keys = [t.key for t in tokens if isinstance(t, events.Key)]
    assert keys == ["f"], keys  # nothing of the sequence became a key (not "9", "9", ...)


def test_an_error_inside_the_parser_restarts_it(monkeypatch):
    real, calls = XTermParser._sequence_to_key_events, []

    def broken_once(self, sequence, alt=False):
        calls.append(sequence)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(self, sequence, alt)

    monkeypatch.setattr(XTermParser, "_sequence_to_key_events", broken_once)
    parser = XTermParser()
    tokens = list(parser.feed("a"))
    assert calls and isinstance(tokens[-1], termguard.InputGarbled) and "boom" in tokens[-1].sequence
    assert [t.key for t in parser.feed("b") if isinstance(t, events.Key)] == ["b"]


async def test_the_app_says_it_ignored_garbage_and_keeps_its_session():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        before = (app.session.step, app.session.phase, app.session.model.params.copy())
        for t in parse("".join(CRASHERS)):
            app.post_message(t)
        await pilot.pause()
        assert "Ignored input the terminal sent" in narration(app)
        assert (app.session.step, app.session.phase) == before[:2]
        assert (app.session.model.params == before[2]).all()
        await pilot.press("s")  # still answering keys
        await pilot.pause()
        assert app.session.step == before[0] + 1
    assert app.return_code in (None, 0)


@pytest.mark.parametrize("attempt", range(3))
async def test_page_down_in_the_command_palette_before_it_is_laid_out(attempt):
    # regression: ctrl+p, 5, PgDn back to back: KeyError: 0 in OptionList._move_page
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p", "5", "pagedown", "pageup", "pagedown")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert app.session.step == 1
    assert app.return_code in (None, 0)


def test_a_dying_input_thread_ends_the_app_with_status_1():
    class App:
        exit = None

        def call_later(self, *args):
            self.called = args

    class Driver:
        _app = App()

        def run_input_thread(self):
            raise OverflowError("signed integer is greater than maximum")

    termguard._guard_input_thread(Driver())
    _func, _result, code, message = Driver._app.called
    assert code == 1 and "could not be read (OverflowError" in message


# --- random input ----------------------------------------------------------------------------

_ESCAPES = st.one_of(
    st.builds(
        lambda p, digits, final: f"\x1b{p}{digits}{final}",
        st.sampled_from(["[", "[<", "[?", "O", "]", "P", "[>"]),
        st.lists(st.one_of(st.integers(0, 10**20).map(str), st.just("")), max_size=4).map(";".join),
        st.sampled_from([*"ABCDEFHPQRSmMtuR~$^@", ":", ";5u", "\x07", "\x1b\\"]),
    ),
    st.text(alphabet=string.printable + "\x1b\x00\x7f\u00e9\U0010ffff", max_size=20),
    st.binary(max_size=30).map(lambda b: b.decode("utf-8", "replace")),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ESCAPES, min_size=1, max_size=8))
def test_random_bytes_and_escape_sequences_never_raise(chunks):
    parser = XTermParser()
    for chunk in filter(None, chunks):  # ("" is the end of input)
        list(parser.feed(chunk))
        list(parser.tick())
    list(parser.feed(""))


async def test_an_option_list_not_laid_out_pages_without_a_key_error():
    """What ctrl+p, 5, PgDn met in a real terminal: the palette's list holds options before it has a
    size, and PgDn looked up a line it had not laid out (KeyError: 0)."""
    from textual.app import App
    from textual.widgets import OptionList

    class Tiny(App):
        CSS = "OptionList { height: 0; border: none; padding: 0; }"

        def compose(self):
            yield OptionList()

    app = Tiny()
    async with app.run_test():
        ol = app.query_one(OptionList)
        ol.add_options([str(i) for i in range(20)])
        ol.highlighted = 0
        ol.action_page_down()
        ol.action_page_up()
        assert ol.highlighted == 0
