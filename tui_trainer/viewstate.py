"""What the screen shows of one state, apart from the state itself: one value.

The session holds the model's state; the screen adds a few choices of its own: the selected
prediction position, the pane the compact and presenter layouts show, and what the loss pane
draws. A lesson scene records them with its timeline position and restores them as one value
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
