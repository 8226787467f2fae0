"""The samples view (w): text the model writes now, beside what it wrote at earlier steps (S14)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.generate import Word
from core.tokens import shown

from ..palette import Palette
from .dialog import Dialog

#: Temperatures t cycles through.
TEMPERATURES = (1.0, 0.5, 2.0)


@dataclass(frozen=True)
class Sample:
    """One sample: the step it was written at, the temperature, and its words."""

    step: int
    temperature: float
    words: tuple[Word, ...]


def render_samples(samples: list[Sample], temperature: float, ink: Palette, note: str = "") -> Text:
    """The samples, newest first: each word with its probability at T (and at T = 1 when T differs);
    ``note``: where a sample stops and what its P is (under the explanation)."""
    t = Text()
    t.append(f"Temperature T = {temperature:g}", style=ink.strong)
    t.append(
        "  reshapes the softmax: P_T(word) ∝ exp(logit / T). T < 1 sharpens it (T → 0: always the likeliest "
        "word), T > 1 flattens it. Each word shows P at T, and at T = 1 in brackets when T ≠ 1.\n",
        style=ink.muted,
    )
    if note:
        t.append(note + "\n", style=ink.muted)
    t.append("\n")
    if not samples:
        t.append("No samples yet: press w.", style=ink.muted)
    for s in reversed(samples):
        t.append(f"step {s.step:>6}  T {s.temperature:<4g} ", style=ink.accent)
        for w in s.words:
            t.append(f" {shown(w.word)}", style=ink.strong)  # (a space token drawn ▁, as elsewhere)
            extra = f" [{w.p_at_1:.2f}]" if s.temperature != 1.0 else ""
            t.append(f" {w.p:.2f}{extra}", style=ink.muted)
        t.append("\n")
    return t


class SamplesScreen(Dialog[None]):
    """Samples of the model's text; w writes another, t changes the temperature, escape closes."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("w", "another", "Another sample"),
        Binding("t", "temperature", "Temperature"),
    ]

    DEFAULT_CSS = """
    SamplesScreen > VerticalScroll { width: 90%; max-width: 120; height: 80%; }
    """

    def __init__(
        self,
        samples: list[Sample],
        temperature: float,
        another: Callable[[], None],
        hotter: Callable[[], None],
        note: str = "",
    ) -> None:
        super().__init__()
        self._samples, self._temperature, self._note = samples, temperature, note
        #: w and t: what the app does for them (it then calls ``show``)
        self._another, self._hotter = another, hotter

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # w here is the app's w (a sample needs the panes on screen): the app's rules say
        return self.app.check_action("sample", parameters) if action == "another" else True

    def action_another(self) -> None:
        self._another()

    def action_temperature(self) -> None:
        self._hotter()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as v:
            v.border_title = "What the model writes"
            v.border_subtitle = "w another · t temperature · escape closes"
            yield Static(id="samples")

    def show(self, samples: list[Sample], temperature: float, note: str = "") -> None:
        """New samples from the app (state down)."""
        self._samples, self._temperature, self._note = samples, temperature, note
        self.recolour()

    def paint(self, ink: Palette) -> None:
        self.query_one("#samples", Static).update(render_samples(self._samples, self._temperature, ink, self._note))
