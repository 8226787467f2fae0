"""SIGTERM ends the program as cleanly as ctrl+c or q would (issue 23).

Python's default for SIGTERM ends the process on the spot: a file being written stayed behind as
its ``.tmp``, and the app left the terminal in the alternate screen with mouse tracking on. Here,
headless, SIGTERM raises ``SystemExit(143)`` where the program is (``core.files.write_atomic``
removes its temporary file on the way out); in the app it quits as q does (files being written
finish, then Textual restores the terminal), and the exit status is 143.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class Termination:
    """A context in which SIGTERM is handled as above; ``received`` says whether it came.
    Set ``app`` once an app runs. The previous handler is restored on the way out."""

    def __init__(self) -> None:
        self.received = False
        self.app: Any = None
        self._old: Any = None

    def __enter__(self) -> Termination:
        if threading.current_thread() is threading.main_thread():  # (only there can a handler be set)
            self._old = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)

    @property
    def status(self) -> int:
        return 128 + signal.SIGTERM

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        quit_app = getattr(self.app, "action_quit", None)
        if quit_app is not None:
            try:
                loop = asyncio.get_running_loop()  # (the handler runs in the main thread, in the app's loop)
            except RuntimeError:
                pass
            else:
                loop.call_soon_threadsafe(self.app.call_next, quit_app)
                return
        raise SystemExit(self.status)
