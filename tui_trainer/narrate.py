"""What just happened, in the lesson's words, with the live numbers.

Pure functions from a session (and the result of the last action) to one or
two sentences; the app shows them in the narration bar.
"""

from __future__ import annotations

from core import ActionResult, Session
from core.readout import largest_changes, layer_grad_norms, n_positions, position_info

from .widgets.base import fmt

#: words of the first sentence quoted on the start screen (a long text would fill the narration)
WELCOME_WORDS = 8


def welcome(session: Session) -> str:
    words = session.data.tokens_of(0)[1:]
    seen = " ".join(words[:WELCOME_WORDS]) + (" …" if len(words) > WELCOME_WORDS else "")
    n = len(session.data.sentences)
    more = f" (and {n - 1:,} more sentences)" if n > 1 else ""
    return (
        f"A {session.model.size:,}-parameter model that has never seen '{seen}'{more}. "
        "Press f for the forward pass, ? for every key."
    )


def after(session: Session, result: ActionResult, position: int) -> str:
    """The narration after ``result``; ``position`` is the selected position."""
    if result.stopped == "diverged" and result.divergence is not None:
        d = result.divergence
        return f"Diverged at step {d.step}: {d.cause}. Back at the last good step {session.step}; {d.advice}."
    if not result.ok:
        return result.note
    if result.action == "forward":
        text = forward(session, position)
    elif result.action == "backward":
        text = _backward(session, position)
    elif result.action in ("update", "step"):
        text = _update(session)
    elif result.action == "run":
        text = _run(session, result)
    elif result.action == "undo":
        text = f"Undone: {result.note}."
    else:
        text = result.note
    return f"{result.note} {text}".strip() if result.note and result.action not in ("undo", "run") else text


def forward(session: Session, position: int) -> str:
    """What the model predicts at ``position`` and the loss it pays, after a forward pass."""
    f = session.forward_result
    i = position_info(session, position)
    n = n_positions(session)
    ctx = " ".join(i.context)
    return (
        f"Forward pass: after '{ctx}' the model gives '{i.target}' {i.target_prob:.1%}. "
        f"Loss = -log({i.target_prob:.3f}) = {i.loss:.3f}; total over {n} positions {f.total_loss:.3f}."
    )


def _backward(session: Session, position: int) -> str:
    i = position_info(session, position)
    d = float(session.backward_result.dlogits[i.index, i.target_id])
    norms = layer_grad_norms(session.backward_result)
    # fmt: tiny values late in training read 4.0e-06, not 0.00 (nor -0.000)
    chain = " → ".join(f"{name} {fmt(v, 2)}" for name, v in norms)
    sign = "+" if d >= 0 else ""
    return (
        f"Backward pass: dLoss/dlogit('{i.target}') = {i.target_prob:.3f} - 1 = {sign}{fmt(d, 3)}: raise it. "
        f"Gradient norms {chain}."
    )


def _update(session: Session) -> str:
    u = session.last_update
    ch = largest_changes(session, 1)
    biggest = ""
    if ch:
        c = ch[0]
        idx = ",".join(map(str, c.index))
        biggest = f" Largest change {c.tensor}[{idx}]: {c.old:.4f} → {c.new:.4f}."
    rule = "new = old - lr × grad" if u.optimizer == "sgd" else f"the {u.optimizer} rule"
    h = session.history[-1]
    return (
        f"Update {u.step} ({u.optimizer}, lr {u.lr:g}): {rule} on {session.model.size:,} parameters "
        f"(loss was {h.loss:.4f}).{biggest} The forward results are stale: press f to see the effect."
    )


def _run(session: Session, result: ActionResult) -> str:
    h = session.history
    if not h:
        return "No steps were run."
    first = h[max(0, len(h) - result.steps)] if result.steps else h[-1]
    stopped = " (stopped)" if result.stopped == "cancelled" else ""
    return (
        f"Ran {result.steps} step{'s' if result.steps != 1 else ''}{stopped}: total loss "
        f"{fmt(first.loss, 4)} → {fmt(h[-1].loss, 4)}, perplexity {h[-1].perplexity:.3f}. Now at step {session.step}."
    )
