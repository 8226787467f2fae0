"""Lesson mode (``tui-trainer lesson``): lesson files, the lesson app and its caption band.

- ``lessonfile``: parsing and checking a lesson file, the bundled lessons (no Textual);
- ``placeholders``: the numbers its captions show, the lesson's own from ``core.readout``,
  attention's from ``attnvalues``, the tokenizers' and the MLP-vs-GPT race's from ``compare``;
- ``band``: the caption band that walks the learner through the scenes;
- ``app``: ``LessonApp``, the debugger with the band.

The lesson code imports the app, never the reverse. Importing this package loads neither the
app nor the band (only ``lessonfile``): the command line reads and checks a lesson file before
the app starts.
"""

from .lessonfile import (
    BUNDLED,
    PANES,
    PLACEHOLDERS,
    RUN_KEYS,
    TOTAL_AT,
    Lesson,
    LessonError,
    Question,
    Scene,
    bundled_lessons,
    check_placeholders,
    fill_caption,
    load_lesson,
    placeholder_values,
    placeholders_in,
)

__all__ = [
    "BUNDLED",
    "PANES",
    "PLACEHOLDERS",
    "RUN_KEYS",
    "TOTAL_AT",
    "Lesson",
    "LessonError",
    "Question",
    "Scene",
    "bundled_lessons",
    "check_placeholders",
    "fill_caption",
    "load_lesson",
    "placeholder_values",
    "placeholders_in",
]
