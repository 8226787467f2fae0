"""The dialogs' common ground: one bordered box, its text readable in every theme."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

from ..palette import Palette, readable_text

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """A modal dialog in one bordered box (its container, id "dialog"). The theme's own colours are
    not always 4.5:1 on the box's background (the border's title in $primary, placeholders,
    green and cyan text on light themes), so its text colours come from the palette, made
    readable there, and are picked again when the theme changes while the dialog is open."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > #dialog { border: thick $primary; background: $surface; padding: 0 1; }
    Dialog Input { color: $text; }
    Dialog Input > .input--placeholder { color: $text 70%; }
    Dialog OptionList > .option-list--option-highlighted,
    Dialog OptionList:focus > .option-list--option-highlighted { color: $text; background: $primary 35%; }
    """

    def on_mount(self) -> None:
        self.recolour()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.recolour())

    def on_unmount(self) -> None:
        # (the callback holds the screen: Textual drops it only at the next theme change)
        self.app.theme_changed_signal.unsubscribe(self)

    def recolour(self) -> None:
        """The box's text, title and subtitle in the palette's text colour; then ``paint``."""
        boxes = self.query("#dialog")
        if not boxes:  # closed again before it was shown (a key script's "? escape")
            return
        box = boxes.first()
        ink = readable_text(box)
        box.styles.border_title_color = box.styles.border_subtitle_color = box.styles.color
        self.paint(ink)

    def paint(self, ink: Palette) -> None:
        """Draw the text that uses the palette's roles (good, muted, ...); by default none."""
