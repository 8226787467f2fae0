"""Paint first: the app's session built after its first paint, in a thread (NumPy and ``core`` load
there, while the screen stays live), and handed to the UI thread by a message (``SessionBuilt``).
``TrainerApp`` starts it when given a ``session_factory`` instead of a session."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump

if TYPE_CHECKING:
    from core import Session

#: The narration while the session is built.
LOADING = "Starting: loading NumPy, reading the text and building the model…"
#: The actions that may run before the session is there: none that would touch it.
BEFORE_SESSION = ("quit", "help")


class SessionBuilt(Message):
    """From the thread that built the session: the session, or the exception that stopped it."""

    def __init__(self, session: Session | None, error: Exception | None = None) -> None:
        super().__init__()
        self.session = session
        self.error = error


def build_in_thread(target: MessagePump, factory: Callable[[], Session]) -> None:
    """Call ``factory`` in a daemon thread (quitting does not wait for it) and post ``SessionBuilt``
    to ``target``; the rooms' modules and the narration are imported there too, off the UI thread."""

    def build() -> None:
        try:
            session = factory()
            from . import chainrule, files, narrate, runcontrol, runner, sampling  # noqa: F401
        except Exception as e:
            target.post_message(SessionBuilt(None, e))
            return
        target.post_message(SessionBuilt(session))

    threading.Thread(target=build, name="session", daemon=True).start()


def lesson_session() -> Session:
    """The lesson's session (an app given neither a session nor a factory shows it)."""
    from core import Session

    return Session.create()
