"""``LessonApp``: the debugger in lesson mode, its caption band above the narration.

The band takes every key first (it holds the focus from the start, a key script's keys too)
and leaves the keys it does not need now to the main screen's bindings; the help (?) lists
its own keys first while it is there.
"""

from __future__ import annotations

from typing import Any

from textual.widget import Widget

from core import Session

from ..app import TrainerApp
from .band import LESSON_KEYS, LessonBand
from .lessonfile import Lesson


class LessonApp(TrainerApp):
    """tui-trainer lesson: ``lesson``'s scenes over the live model; Esc leaves for free play."""

    def __init__(self, session: Session | None = None, *, lesson: Lesson, **options: Any) -> None:
        #: the lesson the caption band walks through
        self.lesson = lesson
        super().__init__(session, **options)

    def band(self) -> Widget | None:
        return LessonBand(self.lesson, id="lesson")

    def help_first(self) -> list[tuple[str, str]]:
        return LESSON_KEYS if self.query("#lesson") else []  # (Esc removed the band: free play)

    def keys_start(self) -> None:
        self.screen.set_focus(self.query_one("#lesson"))
