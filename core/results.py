"""What actions return and what the session keeps about them: data, never sentences."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .timeline import Command


@dataclass(frozen=True, eq=False)
class Update:
    """The last update: the gradient it used (after clipping), the change it applied
    (new - old), the learning rate, and the clipping it did (factor 1: none)."""

    grad: np.ndarray
    delta: np.ndarray
    lr: float
    optimizer: str
    step: int  # the step it made (the model after it)
    #: ||delta|| per tensor, in ``slices`` order; the session leaves it None (a run never reads it):
    #: ``core.readout.update_norms`` computes it when the screen shows it
    delta_norms: np.ndarray | None = None
    grad_norm: float = math.nan  # ||gradient|| before clipping
    clip_factor: float = 1.0
    #: the first-order prediction of the objective's change: gradient · (new - old) (-lr|g|² for SGD)
    predicted_change: float = math.nan
    #: the forward pass the gradient came from (for before/after), kept only while it is small
    before: object = None


@dataclass(frozen=True)
class Divergence:
    """Training diverged at ``step`` (the model after that many updates).

    ``cause``: ``nonfinite_loss``, ``loss_exploded`` (``value``: the mean loss per
    position, above ``divergence_loss``), ``worse_than_guessing`` (the mean loss above
    the uniform guess ln V and the start for several steps), ``nonfinite_grad`` or
    ``nonfinite_update``. ``suggested_lr``: a learning rate to try. ``back_to``: the step of this
    branch's lowest mean loss before ``step`` (None at step 0), the state to go back to."""

    step: int
    cause: str
    value: float = math.nan
    lr: float = math.nan
    suggested_lr: float | None = None
    back_to: int | None = None


@dataclass(frozen=True)
class ActionResult:
    """What an action did, as data. ``ran`` lists the phases actually run, in order.

    ``code`` says anything a user did not ask for or could not get:
    ``forward_first`` (the forward pass was missing; ``stale`` says it was out of date),
    ``gradients_first``, ``unchanged`` (the state already had it: nothing recorded),
    ``diverged`` (training refused from a diverged state), ``bad_lr`` (``detail``:
    ``lr_problem``'s code), ``unknown_optimizer``, ``bad_clip``, ``bad_count``,
    ``at_start`` (nothing to undo; ``value``: the step the session began at),
    ``at_end`` (nothing to redo), ``no_such_step``, ``no_such_branch``, ``cancelled``.
    """

    action: str
    ran: tuple[str, ...] = ()
    ok: bool = True
    code: str | None = None
    steps: int = 0  # updates made
    stopped: str | None = None  # "cancelled", "diverged", "breakpoint" (``detail``: the condition) or None
    divergence: Divergence | None = None
    value: float | None = None
    detail: str | None = None
    stale: bool = False
    command: Command | None = None  # for undo / redo: the command taken back or done again
    start_step: int | None = None  # for run: the step it started from
    branch: int | None = None  # the branch the action left the session on, when it started one
    #: a full step whose mean loss rose (an event, not a stop); for run: how many did
    overshoots: int = 0
