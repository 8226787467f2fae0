"""The chain rule for one weight (x): its gradient as a sum over positions, and a nudge probe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from core.readout import ChainTerms

from ..palette import Palette
from .dialog import Dialog

#: how each factor is written: its symbol and the index it takes
FACTOR = {
    "h2": "h2[p,{}]",
    "h1": "h1[p,{}]",
    "x": "x[p,{}]",
    "dlogits": "(P-y)[p,{}]",
    "dz_layer2": "dz2[p,{}]",
    "dz_layer1": "dz1[p,{}]",
    "dx_where_token": "Σ dx[p,slot,k] over slots holding token {}",
}
_NAME = re.compile(r"^\s*([\w.]+)\s*\[\s*(\d+)\s*(?:,\s*(\d+)\s*)?\]\s*$")


def parse_weight(text: str) -> tuple[str, tuple[int, ...]]:
    """'output.W[8,1]' -> ('output.W', (8, 1)); ValueError if it is not written that way."""
    m = _NAME.match(text)
    if not m:
        raise ValueError(f"write a weight like output.W[8,1] or layer1.b[3], not {text!r}")
    name, a, b = m.groups()
    return name, (int(a),) if b is None else (int(a), int(b))


@dataclass(frozen=True)
class ChainView:
    """What the chain-rule view shows: one weight's terms, the words at the positions, the probe."""

    terms: ChainTerms
    words: list[str]
    probe: list[tuple[float, float, float]]  # (epsilon, measured change, grad x epsilon)


def render_chain(view: ChainView, ink: Palette) -> Text:
    """The sum written out, one line a position, the total beside the backward pass's value."""
    c, words, probe = view.terms, view.words, view.probe
    t = Text()
    idx = ",".join(map(str, c.index))
    # a factor another model names (the GPT's h_attn, dS·k, ...) is written by its own name
    formula = " × ".join(FACTOR.get(k, k + "[p,{}]").format(i) for k, i in c.factors)
    scale = f" × {c.scale:g}" if c.scale != 1.0 else ""
    t.append(f"{c.tensor}[{idx}]", style=ink.strong)
    t.append(f": dL/dw = Σ_p {formula}{scale}\n\n")
    for p, (vals, term) in enumerate(zip(c.values, c.terms, strict=True)):
        word = words[p] if p < len(words) else ""
        t.append(f"p{p + 1:<3} {word[:10]:<10} ")
        t.append(" × ".join(f"{v:+.4f}" for v in vals) + scale)
        t.append(f" = {term:+.3e}\n")
    ok = abs(c.total - c.backward) <= 1e-12 * max(1.0, abs(c.backward))
    t.append(f"\nsum = {c.total:+.6e}   the backward pass computed {c.backward:+.6e} ")
    t.append("✓ the same" if ok else "✗ differs", style=ink.good if ok else ink.bad)
    for eps, measured, predicted in probe:
        t.append(f"\nnudge w by {eps:+g}: the loss changes {measured:+.4e} measured, {predicted:+.4e} = grad × ε")
    return t


class ChainRuleScreen(Dialog[None]):
    """The chain rule for one weight; n: the next largest gradient; a name and enter: that weight."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("n", "next_weight", "Next weight")]
    DEFAULT_CSS = """
    ChainRuleScreen > VerticalScroll { width: 90%; max-width: 130; height: 85%; }
    """

    def __init__(self, view: ChainView, next_weight: Callable[[], None], weight: Callable[[str], None]) -> None:
        super().__init__()
        self._view, self._error = view, ""
        #: n and a typed name: what the app does for them (it then calls ``show``)
        self._next_weight, self._weight = next_weight, weight

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as v:
            v.border_title = "The chain rule for one weight (S7-S8)"
            v.border_subtitle = "n next largest gradient · tab, a weight's name, enter · escape closes"
            yield Input(placeholder="output.W[8,1]", id="weight")
            yield Static("", id="error", markup=False)
            yield Static(id="chain")

    def show(self, view: ChainView, error: str = "") -> None:
        """Another weight, or what is wrong with the name typed (state down)."""
        self._view, self._error = view, error
        self.recolour()

    def paint(self, ink: Palette) -> None:
        self.query_one("#chain", Static).update(render_chain(self._view, ink))
        self.query_one("#error", Static).update(Text(self._error, style=ink.bad))

    def on_mount(self) -> None:
        super().on_mount()
        self.set_focus(None)  # n works at once; tab goes to the name field

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._weight(event.value)

    def action_next_weight(self) -> None:
        self._next_weight()
