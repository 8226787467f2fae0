"""The footer: Textual's, rebuilt only when what it shows changes.

Textual's footer rebuilds every key widget (about thirty here) each time any widget calls
``refresh_bindings``, whether or not a key's label or its enabled state changed. A run's start
and end, a lesson scene's keys and a question's answer all refresh the bindings; most leave the
footer as it was, and the rebuild (mounting and styling thirty widgets) cost more than the step
it followed: in lesson mode two thirds of the app's time. This footer remembers what it built
and skips a rebuild that would build the same again.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter

#: the footer's keys dropped first when they do not all fit (they still work, and the help lists
#: them): the learning-rate pair, the optimizer, the palette's hint, then the run keys, then the
#: lesson's Free play and Back (its band's border names them too); then, only in a terminal too
#: small for the app (where they wait anyway), the step keys u b f; the lesson's Next scene, Help
#: and Quit stay
DROP_ORDER = (
    "right_square_bracket",
    "left_square_bracket",
    "o",
    "ctrl+p",
    "z",
    "space",
    "r",
    "s",
    "escape",
    "backspace",
    "u",
    "b",
    "f",
)


def _shown(screen: Screen) -> tuple:
    """What the footer shows: one key per action (the first key bound to it, as Textual's footer
    builds them), its label and whether it is enabled, and the palette key's state. The actions
    themselves are not shown (a click presses the key): in lesson mode the band's bindings
    replace the app's for the keys a scene takes, with the same labels."""
    active = screen.active_bindings  # (computed anew on each read)
    keys: dict[str, tuple] = {}
    for _node, binding, enabled, tooltip in active.values():
        if binding.show:
            keys.setdefault(
                binding.action, (binding.key, binding.key_display, binding.description, binding.group, enabled, tooltip)
            )
    palette = active.get(screen.app.COMMAND_PALETTE_BINDING)
    return tuple(keys.values()), palette and (palette[1].key, palette[2], palette[3])


def _is_key(widget: Widget) -> bool:
    """A key of the footer (Textual's FooterKey, which ``textual.widgets`` does not export)."""
    return all(hasattr(widget, name) for name in ("key", "key_display", "description"))


class Footer(TextualFooter):
    """Textual's footer that skips rebuilding the same keys."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: what the keys on screen were built from (None before they were)
        self._built: tuple | None = None
        #: the columns the keys may take (None: as many as they need); see ``fit``
        self.budget: int | None = None

    def fit(self, width: int) -> None:
        """Show only the keys that fit in ``width`` columns (rebuilt when that changes the keys)."""
        if width != self.budget:
            self.budget = width
            if self._built is not None:
                self._built = None
                self.refresh(recompose=True)

    def _width(self, key: Widget) -> int:
        """Columns ``key`` takes (Textual's footer CSS: padding around key and description, a
        margin when compact, the palette's border)."""
        extra = 2 if self.compact else 3
        palette = 1 if key.has_class("-command-palette") else 0  # (its border)
        return len(key.key_display) + len(key.description) + extra + palette

    def bindings_changed(self, screen: Screen) -> None:
        if self._built is not None and screen is self.screen and _shown(screen) == self._built:
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        shown = _shown(self.screen)
        built = False
        widgets = list(super().compose())  # (Textual's builds nothing until the bindings are ready)
        keys = [w for w in widgets if _is_key(w)]
        if self.budget is not None and keys:
            need = sum(self._width(k) for k in keys)
            for key in DROP_ORDER:
                # (the palette's hint, docked right, may cover the last key's trailing padding)
                if need <= self.budget + 2:
                    break
                for k in [k for k in keys if k.key == key]:
                    widgets.remove(k)
                    keys.remove(k)
                    need -= self._width(k)
        for widget in widgets:
            built = True
            # A key starts compact and is then bound to the footer's setting: two restyles of
            # the whole key before it is shown, most of a rebuild's time. Give it the footer's
            # setting before it mounts (the binding then changes nothing). The palette key is
            # not bound, so it keeps its own.
            compact = getattr(type(widget), "compact", None)
            if isinstance(compact, Reactive) and not widget.has_class("-command-palette"):
                widget.set_reactive(compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget
        self._built = shown if built else None
