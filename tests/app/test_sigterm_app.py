"""SIGTERM to the app in a real terminal (a pty): it quits as q does, the terminal restored
(alternate screen and mouse tracking off), status 143 (issue 23)."""

from __future__ import annotations

import os
import select
import signal
import sys
import time

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="a pty")]


def _drain(fd: int, seconds: float, until: bytes | None = None) -> bytes:
    end, out = time.monotonic() + seconds, b""
    while time.monotonic() < end and (until is None or until not in out):
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def test_sigterm_restores_the_terminal_and_exits_143():
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the app, in the child
        os.environ.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
        os.execv(sys.executable, [sys.executable, "-m", "tui_trainer"])
    status = None
    try:
        assert b"\x1b[?1049h" in _drain(fd, 30, until=b"Forward")  # the app is up
        os.write(fd, b" ")  # a run, so that the signal finds it training
        _drain(fd, 1)
        os.kill(pid, signal.SIGTERM)
        out = _drain(fd, 15, until=b"\x1b[?1049l")
        _, status = os.waitpid(pid, 0)
    finally:
        if status is None:  # (still ours: not reaped yet)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 143
    assert b"\x1b[?1049l" in out and b"\x1b[?1000l" in out  # alternate screen off, mouse tracking off
