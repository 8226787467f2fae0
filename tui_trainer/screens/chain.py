"""The chain rule for one weight (x): its gradient as a sum over positions, and a nudge probe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
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
#: what each symbol means, written under the sum (S8 uses them before the learner has met them)
MEANING = {
    "h2": "h2[p,i]: layer2's output i at position p (what the output layer reads)",
    "h1": "h1[p,i]: layer1's output i at position p (what layer2 reads)",
    "x": "x[p,i]: layer1's input i at position p (the context words' embeddings side by side)",
    "dlogits": "(P-y)[p,j]: dLoss/dlogit j at position p, P minus the target's one-hot y",
    "dz_layer2": "dz2[p,j]: dLoss/d(layer2's sum j before tanh) at position p",
    "dz_layer1": "dz1[p,j]: dLoss/d(layer1's sum j before tanh) at position p",
    "dx_where_token": "dx[p,slot,k]: dLoss/d(the embedding in that context slot, entry k) at position p",
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


def same_sum(c: ChainTerms) -> tuple[bool, bool, str]:
    """(the same to 1e-12, the same within the dtype's rounding, the dtype's name): the sum and the
    backward pass add the same products in another order, so float32 differs in its last digits."""
    dtype = np.asarray(c.values).dtype
    exact = abs(c.total - c.backward) <= 1e-12 * max(1.0, abs(c.backward))
    # each of the N products and N-1 additions may round once, by eps relative to the terms' size
    bound = 2 * len(c.terms) * float(np.finfo(dtype).eps) * float(np.abs(c.terms).sum())
    return exact, exact or abs(c.total - c.backward) <= bound, dtype.name


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
    exact, ok, dtype = same_sum(c)
    t.append(f"\nsum = {c.total:+.6e}   the backward pass computed {c.backward:+.6e} ")
    verdict = "✓ the same" if exact else f"✓ the same within {dtype} rounding" if ok else "✗ differs"
    t.append(verdict, style=ink.good if ok else ink.bad)
    for eps, measured, predicted in probe:
        t.append(f"\nnudge w by {eps:+g}: the loss changes {measured:+.4e} measured, {predicted:+.4e} = grad × ε")
    t.append("\n")
    for k, _ in c.factors:  # (the GPT's factors are named by the model's own symbols: no gloss yet)
        if k in MEANING:
            t.append(f"\n{MEANING[k]}", style=ink.muted)
    if c.scale != 1.0:
        n = len(c.terms)
        why = f" = 1/{n}: the loss trained is the mean over the {n} positions" if abs(c.scale * n - 1) < 1e-12 else ""
        t.append(f"\n× {c.scale:g}{why}; deeper layers' dz and dx carry the same factor inside", style=ink.muted)
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
            idx = ",".join(map(str, self._view.terms.index))
            yield Input(placeholder=f"{self._view.terms.tensor}[{idx}]", id="weight")  # the weight shown
            yield Static("", id="error", markup=False)
            yield Static(id="chain")

    def show(self, view: ChainView, error: str = "") -> None:
        """Another weight, or what is wrong with the name typed (state down)."""
        self._view, self._error = view, error
        idx = ",".join(map(str, view.terms.index))
        self.query_one("#weight", Input).placeholder = f"{view.terms.tensor}[{idx}]"
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
