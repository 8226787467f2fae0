"""x: the chain rule for one weight, its gradient term by term beside a nudge probe (after b);
n in that view: the next largest gradient; a weight's name typed there: that weight."""

from __future__ import annotations

from textual.app import App

from core import BACKWARD
from core.attention import chain_through_softmax
from core.readout import chain_terms, nudge_probe, top_k_abs
from core.tokens import shown

from .screens.chain import ChainRuleScreen, ChainView, parse_weight

#: The view cycles through this many of the largest gradients; the probe's nudge.
CHAIN_TOP, NUDGE = 8, 1e-4


class ChainRule:
    """Which of the largest gradients the view shows, and its text."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._rank = 0
        self._view: ChainView | None = None

    def open(self) -> None:
        """x: the weight with the largest gradient (b first, if needed)."""
        if self.app.session.phase != BACKWARD:
            self.app.say("The chain rule needs fresh gradients: press b first, then x.")
            return
        self._rank = 0
        self._show(*self._weight(0))

    def next(self) -> None:
        self._rank = (self._rank + 1) % CHAIN_TOP
        self._show(*self._weight(self._rank))

    def show_for(self, text: str) -> None:
        """A weight typed in the chain-rule view, e.g. output.W[8,1]."""
        shapes = self.app.session.model.tensors.shapes
        try:
            name, index = parse_weight(text)
            shape = shapes.get(name)
            if shape is None:
                raise ValueError(f"no tensor {name!r}: {', '.join(shapes)}")
            if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape, strict=True)):
                raise ValueError(f"{name} has shape {'×'.join(map(str, shape))}: {text!r} is outside it")
        except ValueError as e:
            if isinstance(self.app.screen, ChainRuleScreen):
                self.app.screen.show(self._view, str(e))
            return
        self._show(name, index)

    def _weight(self, rank: int) -> tuple[str, tuple[int, ...]]:
        """The weight with the ``rank``-th largest |gradient|."""
        s = self.app.session
        return s.model.tensors.locate(top_k_abs(s.backward_result.grads, rank + 1)[rank])

    def _show(self, name: str, index: tuple[int, ...]) -> None:
        s = self.app.session
        with s.lock:
            c = chain_terms(s, name, index)
            flat = s.model.tensors.flat_index(name, index)
            probe = [(eps, *nudge_probe(s, flat, eps)) for eps in (NUDGE, -NUDGE)]
            f = s.forward_result
            words = [shown(s.data.target_word(int(p))) for p in f.positions]  # (a space token drawn ▁)
            # an attention weight: its largest term through the softmax, cell by cell
            row = int(abs(c.terms).argmax()) if len(c.terms) else -1
            through = chain_through_softmax(s, name, index, row) if row >= 0 else None
            keys = [] if through is None else [shown(s.data.vocab.tokens[int(t)]) for t in through.tokens]
        self._view = ChainView(c, words, probe, through, row, keys)
        if isinstance(self.app.screen, ChainRuleScreen):
            self.app.screen.show(self._view)
        else:
            self.app.push_screen(ChainRuleScreen(self._view, self.next, self.show_for))
