"""The divergence rules: when a state counts as diverged, and what to try instead.

Divergence is a state, not a rollback: the state stays on the timeline to be looked at, training
from it is refused, and undo goes back. A forward pass diverges when its loss is not finite, when
the mean loss per position passes ``SessionConfig.divergence_loss``, or when it has been worse
than guessing (by ``WORSE_MARGIN``) for ``WORSE_STEPS`` steps in a row; a non-finite gradient or update diverges too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .results import Divergence

if TYPE_CHECKING:
    from .session import Session

#: Steps in a row above the uniform guess (and the start) that count as diverged.
WORSE_STEPS = 3
#: How far above that bar a loss must be to count (a share of the bar): a sampled batch's loss
#: wanders around a plateau, and on a text with nothing to learn (3,000 words each seen once) a
#: healthy model's batches sat 0.3% above its start three steps in a row. Training that makes the
#: model worse climbs faster: the lesson at lr 10 is 11% above at step 1 (diverged at step 3, as
#: without the margin); a Markov text at lr 30 is 1%, 7% and 36% above at steps 1-3 (step 4, not 3).
WORSE_MARGIN = 0.01


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
    bar = max(s.log_vocab, float(h.cols["mean_loss"][0])) * (1 + WORSE_MARGIN)
    if not h.value("mean_loss", s.step) > bar:  # the usual case, decided without looking further back
        return False
    return all(h.value("mean_loss", k) > bar for k in range(s.step - WORSE_STEPS + 1, s.step))


def diverge(s: Session, cause: str, value: float) -> Divergence:
    """Mark this state diverged (it stays on the timeline to be looked at)."""
    # a learning rate to try: a tenth (divergence at any rate is mostly a step too large)
    s.divergence = Divergence(
        s.step, cause, value, s.lr, s.lr / 10, back_to(_rows(s, "mean_loss"), _rows(s, "steps"), s.step)
    )
    return s.divergence


def back_to(mean: np.ndarray, steps: np.ndarray, step: int) -> int | None:
    """The step before ``step`` with the lowest finite mean loss (the one before an explosion
    can already be far worse than the start: lr 10 on the lesson reads 71.9 there); ``mean`` and
    ``steps`` are a branch's rows (one a step unless a long run's history was thinned)."""
    before = np.flatnonzero((steps < step) & np.isfinite(mean))
    return int(steps[before[np.argmin(mean[before])]]) if before.size else None


def diverged_in(
    mean: np.ndarray, total: np.ndarray, log_vocab: float, limit: float, steps: np.ndarray | None = None
) -> int | None:
    """The first step of a branch's history (its mean and total loss columns, and the rows'
    ``steps``: default one row a step) that the rules above call diverged, from the losses alone
    (None: none). A branch's end state may be far from the step that diverged, so the branch
    picker asks its history. Where a long history was thinned, WORSE_STEPS rows in a row count
    only if they are WORSE_STEPS steps in a row."""
    n = min(mean.size, total.size)
    if n == 0:
        return None
    mean, total = mean[:n], total[:n]
    steps = np.arange(n) if steps is None else np.asarray(steps[:n])
    bad = ~np.isfinite(total) | (mean > limit)
    worse = mean > max(log_vocab, float(mean[0])) * (1 + WORSE_MARGIN)
    if n > WORSE_STEPS:  # WORSE_STEPS in a row above the bar, ending at a step >= WORSE_STEPS
        runs = np.convolve(worse.astype(np.int64), np.ones(WORSE_STEPS, dtype=np.int64), mode="valid")
        consecutive = steps[WORSE_STEPS - 1 :] - steps[: n - WORSE_STEPS + 1] == WORSE_STEPS - 1
        hit = (runs == WORSE_STEPS) & consecutive & (steps[WORSE_STEPS - 1 :] >= WORSE_STEPS)
        bad[WORSE_STEPS - 1 :] |= hit
    hits = np.flatnonzero(bad)
    return int(steps[hits[0]]) if hits.size else None


def _rows(s: Session, name: str) -> np.ndarray:
    """The current branch's rows of ``name`` (a loss column, or ``steps``)."""
    h = s.timeline.cur.history
    return (h.steps if name == "steps" else h.cols[name])[: h.n]
