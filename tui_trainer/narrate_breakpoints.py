"""The sentence for a condition that cannot be read (``core.breakpoints.BreakpointError``: a reason
code and its data), as train --until and the / form show it."""

from __future__ import annotations

from collections.abc import Callable

from core.breakpoints import BreakpointError

_CONDITIONS = (
    "total<X, loss<X, val<X, p(WORD)>X, grad_norm>X, step>=N, prev(H)>X, attn_entropy(H)<X, "
    "loss_up, all_correct or nonfinite (comma = or)"
)


def _shape(e: BreakpointError) -> str:
    """'this GPT has 4 heads (0-3) in 1 layer (0)'."""
    heads, layers = e.heads, e.layers
    shape = f"this GPT has {heads} head{'s' if heads != 1 else ''} (0-{heads - 1}) in {layers} layer"
    return shape + (f"s (0-{layers - 1})" if layers != 1 else " (0)")


#: each reason code's sentence after the part it names ("'p(we)>2': ...")
_SAYS: dict[str, Callable[[BreakpointError], str]] = {
    "not_a_target": lambda e: (
        f"{e.word!r} is not a target of the tracked positions (they predict: {', '.join(e.targets)})"
    ),
    "probability_range": lambda e: "a probability is between 0 and 1",
    "no_attention": lambda e: f"this model has no attention (the MLP); {e.kind}(H) needs --model gpt",
    "not_whole": lambda e: f"write {e.kind}(H) or {e.kind}(L.H) with whole numbers; {_shape(e)}",
    "no_layer": lambda e: f"there is no layer {e.layer}: {_shape(e)}",
    "no_head": lambda e: f"there is no head {e.head}: {_shape(e)}",
    "previous_range": lambda e: "a weight on the previous token is between 0 and 1",
    "entropy_range": lambda e: "an entropy is 0 or more (nats)",
    "not_a_number": lambda e: f"{e.number!r} is not a number",
    "not_finite": lambda e: "the number must be finite",
}

#: the codes worded as a whole sentence around the part
NARRATED = frozenset(_SAYS) | {"empty_condition", "unreadable"}


def breakpoint_error(e: BreakpointError) -> str:
    """One line naming the part of the expression and what is wrong with it."""
    if e.code == "empty_condition":
        return f"empty condition in {e.part!r}: write conditions separated by commas"
    if e.code == "unreadable":
        return f"cannot read {e.part!r}: use {_CONDITIONS}"
    says = _SAYS.get(e.code)
    return f"{e.part!r}: {says(e)}" if says else f"cannot read {e.part!r} ({e})"  # (a code not worded yet)
