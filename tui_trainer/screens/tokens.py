"""The tokens view (T): the training text's first lines as tokens with their ids, and for BPE the
merges one at a time (← →, Home, End): the pair merged, how often it occurred, and how the lines
cut again at that merge."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.tokens import shown
from core.tokenview import TokenView

from ..palette import Palette
from .dialog import Dialog

#: ids are written small, after their token (a token can be a digit itself)
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

KIND = {
    "word": "one token per word (the lesson's)",
    "char": "one token per character, the spaces between words too (▁)",
    "bpe": "byte-pair encoding: pieces of words, ▁ marking where a word starts",
}


def render_tokens(v: TokenView, ink: Palette) -> Text:
    """The view's words: what a token is, the merge (for BPE), the lines as tokens with ids."""
    t = Text()
    t.append(f"tokens {v.spec}", style=ink.strong)
    t.append(f"  {KIND[v.kind]}\n", style=ink.muted)
    if v.kind == "bpe":
        t.append(f"merge {v.merge} of {v.merges}", style=ink.accent)
        if v.last is None:
            t.append("  no merge yet: every word is ▁ and its characters", style=ink.muted)
        else:
            pair = f"{shown(v.last.left)!r} + {shown(v.last.right)!r} → {shown(v.last.token)!r}"
            t.append(f"  {pair}, the most frequent pair then ({v.last.count:,} times)", style=ink.text)
        t.append("\n")
    t.append(f"vocabulary {v.vocab_size:,} tokens · {v.tokens_per_word:.2f} tokens per word", style=ink.text)
    t.append(" (over the whole training text)\n\n", style=ink.muted)
    for line in v.lines:
        for i, (token, tid) in enumerate(line):
            # neighbouring tokens alternate in colour, so where one ends and the next begins shows
            t.append(shown(token), style=ink.strong if i % 2 == 0 else ink.accent)
            t.append("₋" if tid is None else str(tid).translate(SUBSCRIPT), style=ink.muted)
            t.append(" ")
        t.append("\n")
    if any(tid is None for line in v.lines for _, tid in line):
        t.append("\n₋ : a piece of an earlier merge that the finished tokenizer does not make (no id)", style=ink.muted)
    return t


class TokensScreen(Dialog[None]):
    """The tokens view; for BPE ← → step through the merges, Home / End to the first / last."""

    BINDINGS = [
        Binding("escape,q,T", "dismiss", "Close"),
        Binding("left", "step(-1)", "Earlier merge"),
        Binding("right", "step(1)", "Next merge"),
        Binding("home", "step(-1_000_000)", "No merges"),
        Binding("end", "step(1_000_000)", "Every merge"),
    ]

    DEFAULT_CSS = """
    TokensScreen > VerticalScroll { width: 90%; max-width: 120; height: 80%; }
    """

    def __init__(self, view_at: Callable[[int | None], TokenView]) -> None:
        super().__init__()
        #: the view after k merges (the app reads it from the session: state down)
        self._view_at = view_at
        self.view = view_at(None)

    def action_step(self, delta: int) -> None:
        """Move ``delta`` merges (clamped to 0..all)."""
        self.view = self._view_at(max(0, min(self.view.merge + delta, self.view.merges)))
        self.recolour()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as v:
            v.border_title = "Tokens: what the model reads"
            # (words and characters have no merges: ← → Home End do nothing there)
            merges = "← → merges · Home End · " if self.view.kind == "bpe" else ""
            v.border_subtitle = f"{merges}escape closes"
            yield Static(id="tokens")

    def paint(self, ink: Palette) -> None:
        self.query_one("#tokens", Static).update(render_tokens(self.view, ink))
