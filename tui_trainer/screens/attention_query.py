"""One query, step by step (a): for the selected position and one head of one layer, the scores
q·k of every key, ÷ √hd, the mask, the softmax, the weighted sum of V, what attn_wo and the
residual make of it; after b the row's dA and dS, after an update A before and after.

Every number comes from ``core.attention``'s readouts; this module only lays them out and
says what each part does."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.widgets import Static

from ..palette import Palette
from .dialog import Dialog

if TYPE_CHECKING:
    from core.attention import AttentionChange, AttentionOutput, AttentionRow
    from core.session import Session

MINUS_INF = "−∞"


@dataclass(frozen=True)
class QueryView:
    """What the view shows: one query's row in one head, read from the session (state down)."""

    row: AttentionRow
    out: AttentionOutput | None  # None when the forward pass is stale (attn_wo changed since)
    change: AttentionChange | None  # A before and after the last update, and ΔA
    keys: list[str]  # the window's tokens as drawn
    target: str  # the token the position predicts
    position: int  # 0-based, among the forward pass's positions
    positions: int
    layers: int
    heads: int
    step: int
    stale: bool


def query_view(s: Session, position: int, layer: int, head: int) -> QueryView | None:
    """The view of ``position`` in ``head`` of ``layer`` (None without a GPT's forward pass)."""
    from core.attention import change, session_output, session_row  # (core loads after the first paint)
    from core.tokens import shown

    with s.lock:
        f = s.forward_result
        row = session_row(s, position, layer, head)
        if f is None or row is None:
            return None
        cfg = s.model.config
        tokens = s.data.vocab.tokens
        return QueryView(
            row=row,
            out=session_output(s, position, layer),
            change=change(s, position, layer, head),
            keys=[shown(tokens[int(t)]) for t in row.tokens],
            target=shown(tokens[int(f.targets[position])]),
            position=position,
            positions=int(f.targets.shape[0]),
            layers=cfg.layers,
            heads=cfg.heads,
            step=s.step,
            stale=s.stale,
        )


def _num(x: float, width: int = 8, digits: int = 4) -> str:
    return f"{x:+.{digits}f}".rjust(width)


def _grad(x: float, width: int = 11) -> str:
    return ("0" if x == 0 else f"{x:+.3e}").rjust(width)  # a masked cell is exactly 0: written so


def _tok(word: str, width: int = 8) -> str:
    """``word`` in ``width`` terminal cells (a CJK character or an emoji takes two), cut with …."""
    if cell_len(word) > width:
        word = set_cell_size(word, width - 1).rstrip() + "…"
    return word + " " * (width - cell_len(word))


def _key_style(masked: bool, k: int, q: int, ink: Palette) -> str:
    """A key's row in every table: dim where masked, marked at the query itself."""
    return ink.muted if masked else ink.mark if k == q else ink.text


def _say(t: Text, words: str, ink: Palette, width: int) -> None:
    """A paragraph of narration, wrapped to the view's width."""
    t.append(textwrap.fill(words, width) + "\n", style=ink.muted)


def _heading(t: Text, title: str, ink: Palette) -> None:
    t.append(f"\n{title}\n", style=ink.strong)


def render_query(v: QueryView, ink: Palette, width: int = 72) -> Text:
    """The view's text: the four passes, the weighted sum, attn_wo and the residual, dA dS, ΔA."""
    r = v.row
    n, hd, q = len(r.att), len(r.q), r.query
    t = Text()
    t.append(f"layer {r.layer} of {v.layers} · head {r.head} of {v.heads} (from 0)", style=ink.strong)
    t.append(f" · position {v.position + 1} of {v.positions} · step {v.step}\n", style=ink.text)
    t.append("query ", style=ink.text)
    t.append(f"{v.keys[q]!r}", style=ink.mark)
    t.append(f" (cell {q} of its window), predicting {v.target!r}\n", style=ink.text)
    if v.stale:
        t.append("These are the forward pass before the last update: press f for the new weights.\n", style=ink.warn)

    _heading(t, f"1. Scores: q·k for every key, ÷ √hd = √{hd}, the mask, the softmax", ink)
    t.append(f"{'key':<3} {'token':<8} {'q·k':>8} {'÷√hd':>8} {'mask':>4} {'score':>8} {'e^(s−m)':>8} {'P':>7}\n")
    for k in range(n):
        masked = bool(r.mask[k])
        style = _key_style(masked, k, q, ink)
        t.append(f"{k:<3} {_tok(v.keys[k])} {_num(r.raw[k])} {_num(r.scaled[k])} ", style=style)
        t.append(f"{MINUS_INF if masked else '+0':>4} ", style=ink.bad if masked else style)
        t.append(f"{MINUS_INF if masked else _num(r.scores[k]).strip():>8} ", style=ink.bad if masked else style)
        t.append(f"{'0' if masked else f'{r.exp[k]:.3f}':>8} ", style=style)
        t.append(f"{'0' if masked else f'{r.att[k]:.4f}':>7}\n", style=style)
    t.append(
        f"{'Σ':<3} {'':<8} {'':>8} {'':>8} {'':>4} {'':>8} {r.exp_sum:>8.3f} {r.att_sum:>7.2f}\n", style=ink.strong
    )
    later = n - 1 - q
    _say(
        t,
        f"Each score is the query's q (what it looks for) dotted with a key's k (what that token offers), "
        f"divided by √{hd} so the scores do not grow with the head's size. The mask adds 0 to the keys "
        f"at or before the query (it sees itself) and "
        + (f"−∞ to the {later} later one{'s' if later != 1 else ''}: e^−∞ = 0, so the " if later else "")
        + (
            "query cannot read the future"
            if later
            else "has no later key to hide here (the query is the window's last)"
        )
        + ". m is the largest score: e^(s−m) gives the same P and never "
        "overflows; P = e^(s−m) / Σ, and the row sums to 1.",
        ink,
        width,
    )

    _heading(t, f"2. The weighted sum of V: y = Σ A[t]·v[t] ({hd} numbers, head {r.head}'s output)", ink)
    show_v = width >= 8 * 2 * hd + 22
    head = f"{'key':<3} {'token':<8} {'A[t]':>7} "
    if show_v:
        head += " ".join(f"{'v' + str(e):>7}" for e in range(hd)) + " │ "
    t.append(head + " ".join(f"{'A·v' + str(e):>7}" for e in range(hd)) + "\n")
    for k in range(n):
        masked = bool(r.mask[k])
        style = _key_style(masked, k, q, ink)
        line = f"{k:<3} {_tok(v.keys[k])} {'0' if masked else f'{r.att[k]:.4f}':>7} "
        if show_v:
            line += " ".join(_num(x, 7, 3) for x in r.v[k]) + " │ "
        rows = ("0".rjust(7) for _ in range(hd)) if masked else (_num(x, 7, 3) for x in r.weighted_rows[k])
        t.append(line + " ".join(rows) + "\n", style=style)
    pad = 3 + 1 + 8 + 1 + 7 + 1 + (8 * hd + 2 if show_v else 0)
    t.append(f"{'y =':<{pad}}" + " ".join(_num(x, 7, 3) for x in r.weighted) + "\n", style=ink.strong)
    _say(
        t,
        "Each key's value v[t] (what it passes on) is scaled by its weight A[t]; the head's output y is "
        "their sum, so a masked key adds exactly nothing.",
        ink,
        width,
    )

    _heading(t, "3. attn_wo and the residual: what the stream gets at this position", ink)
    if v.out is None:
        _say(t, "(attn_wo changed since this forward pass: press f to see it again)", ink, width)
    else:
        o = v.out
        t.append(f"{'c':<3} " + " ".join(f"{'head ' + str(h):>8}" for h in range(v.heads)))
        t.append(f" {'Σ heads':>8} {'x':>8} {'x + attn':>9}\n")
        for c in range(len(o.total)):
            t.append(f"{c:<3} ")
            for h in range(v.heads):
                t.append(_num(o.heads[h, c]) + " ", style=ink.mark if h == r.head else ink.text)
            t.append(f"{_num(o.total[c])} {_num(o.residual[c])} {_num(o.mid[c], 9)}\n")
        _say(
            t,
            f"Each head's y goes through its own {hd} columns of attn_wo (one column per head above); "
            "the heads' parts add up to attention's output, which is added to the stream x it read "
            "(the residual): x + attn is what the MLP of this layer reads next.",
            ink,
            width,
        )

    _heading(t, "4. After b: the row's dA and dS (backward through the softmax)", ink)
    if r.dA is None or r.dS is None or r.centred is None:
        _say(t, "Press b: the gradient of the loss for each weight A[t] (dA) and each score (dS).", ink, width)
    else:
        t.append(f"{'key':<3} {'token':<8} {'A[t]':>7} {'dA[t]':>11} {'dA − Σ':>11} {'dS[t]':>11}\n")
        for k in range(n):
            masked = bool(r.mask[k])
            style = _key_style(masked, k, q, ink)
            t.append(f"{k:<3} {_tok(v.keys[k])} {r.att[k]:>7.4f} {_grad(r.dA[k])} ", style=style)
            t.append(f"{'':>11} " if masked else f"{_grad(r.centred[k])} ", style=style)
            t.append(f"{_grad(r.dS[k])}\n", style=style)
        t.append(f"Σ = Σ_t A[t]·dA[t] = {r.rowdot:+.3e}\n", style=ink.strong)
        _say(
            t,
            "dA[t] = dy·v[t]: how the loss moves with the weight on key t. The softmax ties a row's weights "
            "together (they sum to 1), so dS[t] = A[t]·(dA[t] − Σ): a key gains only if its dA beats the "
            "row's weighted average. Masked keys have A = 0, so their dS is exactly 0: no gradient reaches "
            "the future.",
            ink,
            width,
        )

    _heading(t, "5. After an update: A before and after", ink)
    if v.change is None:
        _say(t, "Press u, then f: this row's weights before the update and after it.", ink, width)
    else:
        old, new, delta = v.change.before, v.change.after, v.change.delta
        t.append(f"{'key':<3} {'token':<8} {'before':>8} {'after':>8} {'ΔA':>11}\n")
        for k in range(n):
            style = _key_style(bool(r.mask[k]), k, q, ink)
            if r.mask[k]:  # masked before and after: exactly 0
                t.append(f"{k:<3} {_tok(v.keys[k])} {'0':>8} {'0':>8} {'0':>11}\n", style=style)
            else:
                t.append(f"{k:<3} {_tok(v.keys[k])} {old[k]:>8.4f} {new[k]:>8.4f} {_grad(delta[k])}\n", style=style)
        _say(t, "Both rows sum to 1, so the ΔA of a row sum to 0: weight moves from some keys to others.", ink, width)
    return t


class AttentionQueryScreen(Dialog[None]):
    """One query step by step; ← → position, ↑ ↓ head, [ ] layer."""

    BINDINGS = [
        Binding("escape,q,a", "dismiss", "Close"),
        # (priority: the scrolling box, focused, would take the arrows for itself)
        Binding("left", "move(-1)", "Earlier position", priority=True),
        Binding("right", "move(1)", "Later position", priority=True),
        Binding("up", "head(-1)", "Head before", priority=True),
        Binding("down", "head(1)", "Next head", priority=True),
        Binding("left_square_bracket", "layer(-1)", "Layer before"),
        Binding("right_square_bracket", "layer(1)", "Next layer"),
    ]
    DEFAULT_CSS = """
    AttentionQueryScreen > ScrollableContainer { width: 95%; max-width: 110; height: 90%; }
    AttentionQueryScreen #query { width: auto; }
    """

    def __init__(self, view: QueryView, view_at: QueryViewAt) -> None:
        super().__init__()
        self.view = view
        #: the view of (position, layer, head) (the app reads it from the session: state down)
        self._view_at = view_at

    def compose(self) -> ComposeResult:
        with ScrollableContainer(id="dialog") as box:
            box.border_title = "One query, step by step"
            box.border_subtitle = "← → position · ↑ ↓ head · [ ] layer · PgUp PgDn · escape closes"
            yield Static(id="query")

    def _go(self, position: int, layer: int, head: int) -> None:
        view = self._view_at(position, layer, head)
        if view is not None:
            self.view = view
            self.recolour()

    def action_move(self, delta: int) -> None:
        v = self.view
        self._go((v.position + delta) % v.positions, v.row.layer, v.row.head)

    def action_head(self, delta: int) -> None:
        v = self.view
        self._go(v.position, v.row.layer, (v.row.head + delta) % v.heads)

    def action_layer(self, delta: int) -> None:
        v = self.view
        self._go(v.position, (v.row.layer + delta) % v.layers, v.row.head)

    def paint(self, ink: Palette) -> None:
        # the box's inner width (95%, at most 110, less border, padding and the vertical scroll
        # bar): the paragraphs wrap to it; a table wider than it (a large head) scrolls sideways
        width = max(40, min(self.app.size.width * 95 // 100, 110) - 6)
        self.query_one("#query", Static).update(render_query(self.view, ink, width))


class QueryViewAt:
    """(position, layer, head) -> the view, read from the app's session; moving the position also
    moves the main screen's selection, so closing the view leaves it on the query looked at."""

    def __init__(self, app: App) -> None:
        self.app = app

    def __call__(self, position: int, layer: int, head: int) -> QueryView | None:
        view = query_view(self.app.session, position, layer, head)
        if view is not None and self.app.position != position:
            self.app.position = position
            self.app.refresh_panes()
        return view


def open_query(app: App, layer: int = 0, head: int = 0) -> None:
    """a: the view for the selected position, or why it cannot open (status line)."""
    s = app.session
    if s.model.kind != "gpt":
        app.say("One query, step by step (a) is attention's: this model has none. Start with --model gpt.")
        return
    if s.forward_result is None:
        app.say("One query's attention needs a forward pass: press f first, then a.")
        return
    at = QueryViewAt(app)
    view = at(app.position, layer, head)
    if view is not None:
        app.push_screen(AttentionQueryScreen(view, at))
