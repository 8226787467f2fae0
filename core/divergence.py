"""The divergence rules: when a state counts as diverged, and what to try instead.

Divergence is a state, not a rollback: the state stays on the timeline to be looked at, training
from it is refused, and undo goes back. A forward pass diverges when its loss is not finite, when
the mean loss per position passes ``SessionConfig.divergence_loss``, or when it has been worse
than guessing for ``WORSE_STEPS`` steps in a row; a non-finite gradient or update diverges too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .results import Divergence

if TYPE_CHECKING:
    from .session import Session

#: Steps in a row above the uniform guess (and the start) that count as diverged.
WORSE_STEPS = 3


def judge_forward(s: Session, total: float, mean: float) -> Divergence | None:
    """The divergence the forward pass just measured (``total``, ``mean``) shows, if any."""
    if not math.isfinite(total):
        return diverge(s, "nonfinite_loss", mean)
    if mean > s.config.divergence_loss:
        return diverge(s, "loss_exploded", mean)
    if worse_than_guessing(s):
        return diverge(s, "worse_than_guessing", mean)
    return None


def worse_than_guessing(s: Session) -> bool:
    """The mean loss has been above both the uniform guess (ln V) and the untrained
    model's for ``WORSE_STEPS`` steps in a row: training is making the model worse."""
    if s.step < WORSE_STEPS:
        return False
    h = s.timeline.cur.history
    # the untrained model (a loaded session has its row; step 0 is never thinned)
    bar = max(s.log_vocab, float(h.cols["mean_loss"][0]))
    if not h.value("mean_loss", s.step) > bar:  # the usual case, decided without looking further back
        return False
    return all(h.value("mean_loss", k) > bar for k in range(s.step - WORSE_STEPS + 1, s.step))


def diverge(s: Session, cause: str, value: float) -> Divergence:
    """Mark this state diverged (it stays on the timeline to be looked at)."""
    # a learning rate to try: a tenth (divergence at any rate is mostly a step too large)
    s.divergence = Divergence(s.step, cause, value, s.lr, s.lr / 10)
    return s.divergence
