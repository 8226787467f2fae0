"""The chain rule for one weight (x): its gradient as a sum over positions, and a nudge probe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from core.readout import ChainTerms

from ..palette import Palette
from .dialog import Dialog

if TYPE_CHECKING:
    from core.models.gpt_chain import SoftmaxTerms

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
#: the GPT's factors (``core.models.gpt_chain``), by their name after ``layer{l}.``; {L} is the layer
GPT_MEANING = {
    "x_final": "x_final[p,j]: the stream after the last layer, entry j at cell p (what lm_head reads)",
    "token_is": "token_is[p,i]: 1 where cell p holds token i, else 0 (wte's row i is read only there)",
    "at_position": "at_position[p,i]: 1 where cell p is at place i of its window, else 0 (wpe's row i)",
    "demb": "demb[p,j]: dLoss/d(wte[token] + wpe[place]) entry j at cell p, back through the first rmsnorm",
    "dx_out": "{L}.dx_out[p,i]: dLoss/d(the stream after {L}) entry i at cell p (mlp_fc2's output adds to it)",
    "relu": "{L}.relu[p,j]: the MLP's hidden unit j after relu at cell p (what mlp_fc2 reads)",
    "dz": "{L}.dz[p,i]: dLoss/d(hidden unit i before relu) at cell p; 0 where the unit was off",
    "h_mlp": "{L}.h_mlp[p,j]: rmsnorm of the stream after attention, entry j at cell p (what mlp_fc1 reads)",
    "dmid": "{L}.dmid[p,i]: dLoss/d(the stream after attention) entry i at cell p (attn_wo's output adds to it)",
    "heads_out": "{L}.heads_out[p,j]: the heads' outputs y joined, entry j at cell p (what attn_wo reads)",
    "h_attn": "{L}.h_attn[p,j]: rmsnorm of the stream, entry j at cell p (what attn_wq, attn_wk, attn_wv read)",
    "dS·k": "{L}.dS·k[p,i]: Σ_t dS[p,t] k[t,e] over the keys t that query p reads (head i // hd, e = i mod hd)",
    "dSᵀ·q": "{L}.dSᵀ·q[p,i]: Σ_t dS[t,p] q[t,e] over the queries t that read key p (head i // hd, e = i mod hd)",
    "Aᵀ·dy": "{L}.Aᵀ·dy[p,i]: Σ_t A[t,p] dy[t,e] over the queries t that read p's value (head i // hd, e = i mod hd)",
}
#: the softmax's pieces, named under a sum that goes through attention's scores
THROUGH_SOFTMAX = (
    "dy[t,e]: dLoss/d(the head's output y) at cell t, attn_wo's columns of the head applied to dmid",
    "dA[i,j] = dy[i]·v[j]: dLoss/d(the weight A[i,j] query i puts on key j)",
    "dS[i,j] = A[i,j] × (dA[i,j] − Σ_u A[i,u] dA[i,u]): dLoss/d(the score q·k/√hd), back through the softmax; "
    "its rows sum to 0 (A's sum to 1), so a key gains only where its dA beats the row's average Σ A·dA",
)
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
    #: an attention weight's largest term through the softmax, cell by cell (its row, its window's tokens)
    through: SoftmaxTerms | None = None
    through_row: int = -1
    keys: list[str] = field(default_factory=list)


def gloss(factor: str) -> str:
    """What a factor's symbol means ("" for none): the MLP's by name, the GPT's by name after its layer."""
    if factor in MEANING:
        return MEANING[factor]
    layer, _, name = factor.rpartition(".")
    return GPT_MEANING.get(name, "").format(L=layer)


def factor_text(x: float) -> str:
    """A factor of a term: four decimals, or four significant digits below 0.01 (a GPT's dS·k is
    often 1e-6: '+0.0000' or '+0.0004' would not multiply to the term written after it)."""
    return f"{x:+.4f}" if x == 0 or abs(x) >= 0.01 else f"{x:+.3e}"


def _cell(x: float) -> str:
    return ("0" if x == 0 else f"{x:+.2e}").rjust(9)  # a masked pair's exact 0 is written so


def render_through(t: Text, view: ChainView, ink: Palette) -> None:
    """The largest term of an attn_wq / wk / wv sum, its Σ_t written out cell by cell."""
    st, c, p = view.through, view.terms, view.through_row
    if st is None:
        return
    factor = c.factors[1][0]
    word = view.words[p] if p < len(view.words) else ""
    other = {"query": "k[t,e]", "key": "q[t,e]", "value": "dy[t,e]"}[st.kind]
    who = {"query": "the keys t it reads", "key": "the queries t that read it", "value": "the queries t that read it"}
    t.append(
        f"\n\nThe largest term, p{p + 1} {word!r}: {factor}[p,{c.factors[1][1]}] over {who[st.kind]}", style=ink.strong
    )
    # p is named by the token it predicts; its row below by the token it reads (the key, or query)
    reads = view.keys[st.position] if st.position < len(view.keys) else ""
    t.append(f" (head {st.head}, e = {st.column}); p{p + 1} reads {reads!r}, row {st.position} below\n")
    if st.kind == "value":
        t.append(f"{'t':<2} {'token':<7} {'A':>9} {other:>9} {'A × ' + other[:2]:>9}\n")
        for u in range(len(st.att)):
            style = ink.muted if st.masked[u] else ink.text
            t.append(
                f"{u:<2} {view.keys[u][:7]:<7} {_cell(st.att[u])} {_cell(st.other[u])} {_cell(st.parts[u])}\n",
                style=style,
            )
    else:
        t.append(
            f"{'t':<2} {'token':<7} {'A':>9} {'dA':>9} {'Σ A·dA':>9} {'dS':>9} {other:>9} {'dS × ' + other[0]:>9}\n"
        )
        for u in range(len(st.att)):
            style = ink.muted if st.masked[u] else ink.text
            cells = (st.att[u], st.dA[u], st.rowdot[u], st.dS[u], st.other[u], st.parts[u])
            t.append(f"{u:<2} {view.keys[u][:7]:<7} " + " ".join(map(_cell, cells)) + "\n", style=style)
    t.append(f"Σ = {st.total:+.6e}, the factor {factor}[p,{c.factors[1][1]}] above\n", style=ink.strong)
    lines = THROUGH_SOFTMAX[:1] if st.kind == "value" else THROUGH_SOFTMAX
    for line in lines:
        t.append(f"{line}\n", style=ink.muted)
    if st.kind != "value":
        t.append(
            "A key after its query is masked: A = 0 there, so its dS is exactly 0 and no gradient flows",
            style=ink.muted,
        )
        t.append(" through that pair.\n", style=ink.muted)


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
        t.append(" × ".join(map(factor_text, vals)) + scale)
        t.append(f" = {term:+.3e}\n")
    exact, ok, dtype = same_sum(c)
    t.append(f"\nsum = {c.total:+.6e}   the backward pass computed {c.backward:+.6e} ")
    verdict = "✓ the same" if exact else f"✓ the same within {dtype} rounding" if ok else "✗ differs"
    t.append(verdict, style=ink.good if ok else ink.bad)
    for eps, measured, predicted in probe:
        t.append(f"\nnudge w by {eps:+g}: the loss changes {measured:+.4e} measured, {predicted:+.4e} = grad × ε")
    t.append("\n")
    for k, _ in c.factors:
        if words := gloss(k):
            t.append(f"\n{words}", style=ink.muted)
    gpt = any(gloss(k) and k not in MEANING for k, _ in c.factors)
    if c.tensor.endswith(("attn_wq", "attn_wk")):
        t.append(f"\n× {c.scale:g} = 1/√hd: the scores are q·k / √hd", style=ink.muted)
    elif gpt and c.scale == 1.0:
        t.append("\nthe d… factors are of the mean loss: its 1/N is inside them", style=ink.muted)
    elif c.scale != 1.0:
        n = len(c.terms)
        why = f" = 1/{n}: the loss trained is the mean over the {n} positions" if abs(c.scale * n - 1) < 1e-12 else ""
        inside = "the other tensors' d… factors" if gpt else "deeper layers' dz and dx"
        t.append(f"\n× {c.scale:g}{why}; {inside} carry the same factor inside", style=ink.muted)
    render_through(t, view, ink)
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
