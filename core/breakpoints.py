"""Breakpoints on learning conditions: run until "p(learning)>0.9", "loss_up", "nonfinite".

An expression is conditions separated by commas (comma = or). Each condition is
checked on the state after a step (its history row and forward pass):

    total<X  total>X      the total loss over the step's positions
    loss<X   loss>X       the objective (the mean loss per position, or the total with sum)
    val<X    val>X        the validation loss, at the steps where it is measured
    p(WORD)>X  p(WORD)<X  P(target) at every tracked position whose target is WORD
    grad_norm>X  grad_norm<X   the gradient norm of the update that made this step
    step>=N               the step count
    loss_up               the mean loss rose from the previous step (an overshoot)
    all_correct           the most likely word is the target at every tracked position
    nonfinite             the loss or gradient stopped being a finite number

``parse`` raises ``BreakpointError`` naming the part it could not read; ``Breakpoint.check``
returns the condition that holds (its text), or None.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy as np

_OPS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
_NUMERIC = re.compile(r"^(total|loss|val|grad_norm|step)\s*(<=|>=|<|>)\s*(\S+)$")
_PROB = re.compile(r"^p\((.+)\)\s*(<=|>=|<|>)\s*(\S+)$")
_FLAGS = ("loss_up", "all_correct", "nonfinite")


class BreakpointError(ValueError):
    """An expression that cannot be read; the message names the part."""


@dataclass(frozen=True)
class Condition:
    text: str
    kind: str  # "total", "loss", "val", "grad_norm", "step", "p", or a flag
    op: str = ""
    value: float = math.nan
    word: str = ""


@dataclass(frozen=True)
class Breakpoint:
    """Conditions, any of which stops a run."""

    conditions: tuple[Condition, ...]

    @property
    def text(self) -> str:
        return ",".join(c.text for c in self.conditions)

    def check(self, session) -> str | None:
        """The text of the first condition that holds at ``session``'s state, or None."""
        h = session.history
        if h.last_step != session.step:  # no forward pass at this step yet
            return None
        row = h[-1]
        for c in self.conditions:
            if _holds(c, session, row, h):
                return c.text
        return None


def parse(expr: str, targets: list[str]) -> Breakpoint:
    """A breakpoint from ``expr``; ``targets`` are the tracked positions' target words (for p(WORD))."""
    parts = [p.strip() for p in expr.split(",")]
    if not expr.strip() or any(not p for p in parts):
        raise BreakpointError(f"empty condition in {expr!r}: write conditions separated by commas")
    out = []
    for p in parts:
        low = p.lower()
        if low in _FLAGS:
            out.append(Condition(low, low))
            continue
        m = _NUMERIC.match(low)
        if m:
            kind, op, num = m.groups()
            out.append(Condition(f"{kind}{op}{num}", kind, op, _number(num, p)))
            continue
        m = _PROB.match(p)
        if m:
            word, op, num = m.groups()
            word = word.strip().lower()
            if word not in targets:
                shown = ", ".join(dict.fromkeys(targets))
                raise BreakpointError(
                    f"{p!r}: {word!r} is not a target of the tracked positions (they predict: {shown})"
                )
            value = _number(num, p)
            if not 0 <= value <= 1:
                raise BreakpointError(f"{p!r}: a probability is between 0 and 1")
            out.append(Condition(f"p({word}){op}{num}", "p", op, value, word))
            continue
        raise BreakpointError(
            f"cannot read {p!r}: use total<X, loss<X, val<X, p(WORD)>X, grad_norm>X, step>=N, "
            "loss_up, all_correct or nonfinite (comma = or)"
        )
    return Breakpoint(tuple(out))


def _number(text: str, part: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise BreakpointError(f"{part!r}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise BreakpointError(f"{part!r}: the number must be finite")
    return v


def _holds(c: Condition, session, row, h) -> bool:
    kind = c.kind
    if kind == "nonfinite":
        d = session.divergence
        return d is not None and d.cause.startswith("nonfinite")
    if kind == "loss_up":
        before = h.at(row.step - 1)  # (None: thinned away)
        return before is not None and row.mean_loss > before.mean_loss
    if kind == "all_correct":
        d, t = session.data, session.tracked
        probs = session.model.forward_at(d, t).probs
        return bool((probs.argmax(axis=1) == d.targets[t]).all())
    if kind == "p":
        words = [session.data.target_word(int(p)) for p in session.tracked]
        sel = np.array([w == c.word for w in words])
        return bool(_OPS[c.op](row.target_probs[sel], c.value).all())
    if kind == "grad_norm":
        before = h.at(row.step - 1)
        if before is None:
            return False
        x = before.grad_norm  # the gradient of the update that made this step
    elif kind == "total":
        x = row.total_loss
    elif kind == "loss":
        x = row.mean_loss if session.config.reduction == "mean" else row.total_loss
    elif kind == "val":
        x = row.val_loss
    else:  # step
        x = float(row.step)
    return math.isfinite(x) and _OPS[c.op](x, c.value)
