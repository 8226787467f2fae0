"""What the screen shows of one state, apart from the state itself: one value.

The session holds the model's state; the screen adds a few choices of its own: the selected
prediction position, the pane the compact and presenter layouts show, what the loss pane
draws, and (for a model with attention) the layer and head the Attention pane shows, with or
without numbers. A lesson scene records them with its timeline position and restores them as one value
(``TrainerApp.view_state`` and ``TrainerApp.show_view``), instead of setting each one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ViewState:
    """The screen's own choices around a state (everything but the session)."""

    #: the selected prediction position (0-based, within the forward pass)
    position: int = 0
    #: the pane the compact and presenter layouts show (logits, softmax, gradients, loss)
    view: str = "softmax"
    #: the loss pane: a log scale, P(target) per position instead of the loss, the progress table
    log_scale: bool = False
    show_positions: bool = False
    show_table: bool = False
    #: the Attention pane (a GPT's): the layer and head selected (tab), numbers in the cells (n)
    layer: int = 0
    head: int = 0
    numbers: bool = False


def cycle_head(layer: int, head: int, layers: int, heads: int, delta: int) -> tuple[int, int]:
    """The (layer, head) ``delta`` heads on (tab: +1, shift+tab: -1): the heads of a layer in
    order, then the next layer's, wrapping round after the last layer's last head."""
    total = layers * heads
    flat = (min(layer, layers - 1) * heads + min(head, heads - 1) + delta) % total
    return divmod(flat, heads)
