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
    prev(H)>X  prev(L.H)>X    (the GPT) head H of layer L (default 0): its mean weight on the
                          immediately preceding token, over the tracked positions
    attn_entropy(H)<X  attn_entropy(L.H)<X   (the GPT) head H's mean row entropy (nats) there

Every comparison (<, >, <=, >=) works with every numeric condition. "Over the tracked positions"
means: the forward pass of the session's tracked positions (the first sentence's first 8, as the
history keeps them) at the current parameters, each read in its window as training reads it
(``core.models.windows``: a window holds its positions up to the last one tracked, so its real
queries are exactly the tracked positions). ``prev`` averages A[t, t-1] over those whose window
has a token before them (a window's first position, ``<BOS>`` at a sentence's start, has none; with
no such position the condition does not hold); ``attn_entropy`` averages -Σ A ln A over all of them
(a window's first position attends only to itself: 0). Both are ``core.attention.head_habits`` of
that forward pass. Models without attention refuse them when parsed.

``parse`` raises ``BreakpointError``: a reason code and the part it could not read, with the data
a message needs (``tui_trainer.narrate_breakpoints`` words it); ``Breakpoint.check`` returns the
condition that holds (its text), or None.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy as np

from .attention import head_habits
from .reasons import CodedError

_OPS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}
_NUMERIC = re.compile(r"^(total|loss|val|grad_norm|step)\s*(<=|>=|<|>)\s*(\S+)$")
_PROB = re.compile(r"^p\((.+)\)\s*(<=|>=|<|>)\s*(\S+)$")
_HEAD = re.compile(r"^(prev|attn_entropy)\(\s*(?:(\S+?)\s*\.\s*)?(\S+?)\s*\)\s*(<=|>=|<|>)\s*(\S+)$")
_FLAGS = ("loss_up", "all_correct", "nonfinite")


class BreakpointError(CodedError):
    """An expression that cannot be read: ``code`` (one of ``CODES``), ``part`` (the condition it
    could not read) and that code's data as attributes; data a code does not carry keep the class's
    defaults (a number: NaN, not a made-up value). Data, not a message: str() is technical."""

    #: every reason ``parse`` gives, and the data each one carries: ``part`` first
    CODES = {
        "empty_condition": ("part",),  # part: the whole expression (an empty condition between its commas)
        "unreadable": ("part",),  # no condition has this form
        "not_a_target": ("part", "word", "targets"),  # p(WORD): no tracked position predicts word
        "probability_range": ("part", "value"),  # p(WORD) compared with a number outside [0, 1]
        "no_attention": ("part", "kind"),  # prev or attn_entropy on a model without attention
        "not_whole": ("part", "kind", "layers", "heads"),  # the head or layer is not a whole number
        "no_layer": ("part", "layer", "layers", "heads"),
        "no_head": ("part", "head", "layers", "heads"),
        "previous_range": ("part", "value"),  # prev compared with a number outside [0, 1]
        "entropy_range": ("part", "value"),  # attn_entropy compared with a negative number
        "not_a_number": ("part", "number"),
        "not_finite": ("part", "number"),
    }
    part: str = ""
    kind: str = ""
    word: str = ""
    targets: tuple[str, ...] = ()
    number: str = ""
    value: float = math.nan
    layer: int = 0
    head: int = 0
    layers: int = 0
    heads: int = 0


CODES = BreakpointError.CODES  # (the module's name for them, as before)


@dataclass(frozen=True)
class Condition:
    text: str
    kind: str  # "total", "loss", "val", "grad_norm", "step", "p", "prev", "attn_entropy", or a flag
    op: str = ""
    value: float = math.nan
    word: str = ""
    layer: int = 0  # prev and attn_entropy: which head of which layer
    head: int = 0


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
        habits: list = []  # the tracked positions' head habits, measured once per check when asked
        for c in self.conditions:
            if _holds(c, session, row, h, habits):
                return c.text
        return None


def attention_shape(model) -> tuple[int, int] | None:
    """(layers, heads) of a model with attention (the GPT), None for one without (the MLP)."""
    if getattr(model, "kind", "") != "gpt":
        return None
    return int(model.config.layers), int(model.config.heads)


def parse(expr: str, targets: list[str], attention: tuple[int, int] | None = None) -> Breakpoint:
    """A breakpoint from ``expr``; ``targets`` are the tracked positions' target words (for p(WORD)),
    ``attention`` the model's (layers, heads) (``attention_shape``; None: no attention conditions)."""
    parts = [p.strip() for p in expr.split(",")]
    if not expr.strip() or any(not p for p in parts):
        raise BreakpointError("empty_condition", part=expr)
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
        m = _HEAD.match(low)
        if m:
            out.append(_head_condition(p, m.groups(), attention))
            continue
        m = _PROB.match(p)
        if m:
            word, op, num = m.groups()
            word = word.strip().lower()
            if word not in targets:
                raise BreakpointError("not_a_target", part=p, word=word, targets=tuple(dict.fromkeys(targets)))
            value = _number(num, p)
            if not 0 <= value <= 1:
                raise BreakpointError("probability_range", part=p, value=value)
            out.append(Condition(f"p({word}){op}{num}", "p", op, value, word))
            continue
        raise BreakpointError("unreadable", part=p)
    return Breakpoint(tuple(out))


def _head_condition(part: str, groups: tuple, attention: tuple[int, int] | None) -> Condition:
    """prev(L.H) or attn_entropy(L.H) with its comparison, checked against the model's heads."""
    kind, layer_text, head_text, op, num = groups
    if attention is None:
        raise BreakpointError("no_attention", part=part, kind=kind)
    layers, heads = attention
    try:
        layer = int(layer_text) if layer_text is not None else 0
        head = int(head_text)
    except ValueError:
        raise BreakpointError("not_whole", part=part, kind=kind, layers=layers, heads=heads) from None
    if not 0 <= layer < layers:
        raise BreakpointError("no_layer", part=part, layer=layer, layers=layers, heads=heads)
    if not 0 <= head < heads:
        raise BreakpointError("no_head", part=part, head=head, layers=layers, heads=heads)
    value = _number(num, part)
    if kind == "prev" and not 0 <= value <= 1:
        raise BreakpointError("previous_range", part=part, value=value)
    if kind == "attn_entropy" and value < 0:
        raise BreakpointError("entropy_range", part=part, value=value)
    where = f"{head}" if layer_text is None else f"{layer}.{head}"
    return Condition(f"{kind}({where}){op}{num}", kind, op, value, layer=layer, head=head)


def _number(text: str, part: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise BreakpointError("not_a_number", part=part, number=text) from None
    if not math.isfinite(v):
        raise BreakpointError("not_finite", part=part, number=text)
    return v


def attention_value(session, text: str) -> tuple[Condition, float] | None:
    """An attention condition as ``check`` returns it (``prev(1)>0.5``) and the value it compares at
    ``session``'s state (NaN: none to measure); None for any other condition."""
    try:
        c = parse(text, [], attention_shape(session.model)).conditions[0]
    except BreakpointError:
        return None
    if c.kind not in ("prev", "attn_entropy"):
        return None
    got = _tracked_habits(session)
    if got is None:
        return None
    return c, float((got[0] if c.kind == "prev" else got[1])[c.layer, c.head])


def _tracked_habits(session) -> tuple | None:
    """(previous, entropy), each (L, H), over the tracked positions (see the module's docstring);
    ``previous`` is NaN where no tracked position has a token before it in its window. None
    without attention."""
    f = session.model.forward_at(session.data, session.tracked)
    habits = head_habits(f)
    if habits is None:
        return None
    later = int(np.maximum(f.lengths - 1, 0).sum())  # real queries with a previous token
    previous = habits.previous if later else np.full_like(habits.previous, np.nan)
    return previous, habits.entropy


def _holds(c: Condition, session, row, h, habits: list) -> bool:
    kind = c.kind
    if kind in ("prev", "attn_entropy"):
        if not habits:
            habits.append(_tracked_habits(session))
        got = habits[0]
        if got is None or c.layer >= got[0].shape[0] or c.head >= got[0].shape[1]:
            return False  # (a model without attention, or another GPT, since it was parsed)
        x = float((got[0] if kind == "prev" else got[1])[c.layer, c.head])
        return math.isfinite(x) and _OPS[c.op](x, c.value)
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
