"""What just happened, in the lesson's words, with the live numbers.

Pure functions from a session (and the result of the last action) to one or
two sentences; the app shows them in the narration bar.
"""

from __future__ import annotations

import numpy as np

from core import DEFAULT_LR, ActionResult, Divergence, Session
from core.config import FLOAT32_VOCAB, MAX_LR, MIN_LR
from core.readout import branch_summaries, largest_changes, layer_grad_norms, n_positions, position_info
from core.tokens import shown

from .widgets.base import fmt

#: words of the first sentence quoted on the start screen (a long text would fill the narration)
WELCOME_WORDS = 8


def welcome(session: Session) -> str:
    words = session.data.tokens_of(0)[1:]
    # the first tokens written back as text (characters and BPE pieces joined: it reads as words)
    seen = session.data.tokenizer.join(words[:WELCOME_WORDS]).strip() + (" …" if len(words) > WELCOME_WORDS else "")
    n = len(session.data.sentences)
    more = f" (and {n - 1:,} more sentences)" if n > 1 else ""
    if session.start_step > 0:  # a loaded checkpoint: it has seen the text
        return (
            f"A {session.model.size:,}-parameter model trained for {session.start_step:,} steps on '{seen}'{more}, "
            f"its forward pass fresh. Press s to train on, ? for every key."
        )
    return (
        f"A {session.model.size:,}-parameter model that has never seen '{seen}'{more}. "
        f"{_precision(session)}Press f for the forward pass, ? for every key."
    )


def _precision(session: Session) -> str:
    """Why the numbers have fewer digits, when a large vocabulary made them float32 (``--dtype auto``)."""
    v = len(session.vocab)
    if session.model.dtype != np.float32 or v < FLOAT32_VOCAB:
        return ""
    return f"Numbers are float32 for speed ({v:,} words; --dtype float64 for more digits). "


#: the lr_problem codes, as a user reads them
LR_PROBLEMS = {
    "not_a_number": "is not a number",
    "not_finite": "must be finite",
    "not_positive": "must be greater than 0",
    "too_large": f"is absurdly large (the limit is {MAX_LR:g})",
    "too_small": f"is too small to change anything (the limit is {MIN_LR:g})",
}
#: the Divergence causes, as a user reads them
CAUSES = {
    "nonfinite_loss": "the loss is not a finite number",
    "loss_exploded": "the loss exploded to {value:.3g} per position",
    "worse_than_guessing": "the mean loss {value:.3g} stayed above a uniform guess for several steps",
    "nonfinite_grad": "a gradient is not a finite number",
    "nonfinite_update": "the update is not a finite number",
    "nonfinite_params": "a parameter is not a finite number (NaN or infinity)",
}
#: what undo / redo says it took back or did again, by command
COMMANDS = {
    "forward": "the forward pass",
    "backward": "the backward pass",
    "update": "the update",
    "step": "a full step",
    "set_lr": "the learning-rate change",
    "set_optimizer": "the optimizer change",
    "set_clip": "the clipping change",
}


def cause(d: Divergence) -> str:
    return CAUSES.get(d.cause, d.cause).format(value=d.value)


def advice(d: Divergence, headless: bool = False) -> str:
    """What to do about a divergence (``headless``: as command-line options)."""
    if headless:
        if d.suggested_lr is not None:
            return f"the learning rate {d.lr:g} is too large: rerun with a smaller --lr (e.g. {d.suggested_lr:g})"
        return "rerun with a smaller --lr or with --clip"
    if d.back_to is not None and d.back_to < d.step - 1:  # the step before is already worse
        back = f"go back to step {d.back_to}, this branch's lowest loss before it (type {d.back_to}, then G)"
    else:
        back = "press z (again if needed) to go back" + (f" to step {d.step - 1}" if d.step > 0 else "")
    if d.suggested_lr is not None:
        return f"{back}, then lower the learning rate {d.lr:g} with [ (e.g. to {d.suggested_lr:g})"
    return f"{back}, then lower the learning rate with ["


def after(session: Session, result: ActionResult, position: int) -> str:
    """The narration after ``result``; ``position`` is the selected position."""
    if result.stopped == "diverged" and result.divergence is not None:
        d = result.divergence
        ran = (
            f"Ran {result.steps} step{'s' if result.steps != 1 else ''}, then diverged"
            if result.action == "run"
            else "Diverged"
        )
        return f"{ran} at step {d.step}: {cause(d)}. The exploded numbers are on screen; {advice(d)}."
    if not result.ok:
        return refused(session, result)
    if result.action == "forward":
        text = forward(session, position)
        if result.code == "unchanged":
            text = "The forward pass is already fresh: the parameters have not changed. " + text
        return text
    if result.action == "backward":
        text = _backward(session, position)
        if result.code == "unchanged":
            return "Gradients recomputed from scratch: the same values, not doubled. " + text
        if result.code == "forward_first":
            why = "the parameters changed since the last one" if result.stale else "there was none yet"
            return f"Ran the forward pass first: backward needs fresh activations ({why}). {text}"
        return text
    if result.action in ("update", "step"):
        text = _update(session) if result.action == "update" else _step(session, result)
        if result.code == "gradients_first":
            text = f"Ran {' and '.join(result.ran[:-1])} first: an update needs fresh gradients. {text}"
        return text + _branching(session, result)
    if result.action == "run":
        return _run(session, result)
    if result.action in ("undo", "redo"):
        what = COMMANDS.get(result.command.op, result.command.op) if result.command else "the last action"
        verb = "Undid" if result.action == "undo" else "Redid"
        more = " z goes further back, Z (shift+z) redoes." if result.action == "undo" else ""
        where = f"step {session.step}, {_phase(session)}, {session.optimizer.name} lr {session.lr:g}"
        return f"{verb} {what}: now at {where}.{more}"
    return ""


def travel(session: Session, result: ActionResult) -> str:
    """Where a move through time landed (<, >, Home, End, G)."""
    if not result.ok:
        return refused(session, result)
    if session.can_redo:
        return (
            f"Viewing step {session.step} of {session.last_step} on this branch ({_phase(session)}): "
            "every pane shows this moment. "
            "> and End go forward; a training key here starts a new branch (the old one is kept), "
            "unless it repeats what came next: that is a redo."
        )
    return f"At the newest state of this branch: step {session.step}, {_phase(session)}."


def compare_branches(session: Session) -> dict[int, str]:
    """Per branch: its final and best loss, and when the lesson's total first fell below 0.05."""
    from core.modelfork import branch_model

    out = {}
    summaries = branch_summaries(session)
    models = {b.branch: branch_model(session, b.branch) for b in summaries}
    mixed = len(set(models.values())) > 1  # name each branch's model when they differ
    for b in summaries:
        setting = f"{b.optimizer} lr {b.lr:g}: " if b.optimizer else ""
        setting = f"{MODEL_NAMES.get(models[b.branch], models[b.branch])}, {setting}" if mixed else setting
        text = f"{setting}{b.what} loss now {fmt(b.now, 4)}, best {fmt(b.best, 4)}"
        if session.full_batch:
            text += f", total < 0.05 {'never' if b.reached is None else f'at step {b.reached}'}"
        if b.diverged is not None:
            text += f" · DIVERGED at step {b.diverged}"
        out[b.branch] = text
    return out


def forked(session: Session, result: ActionResult) -> str:
    """After F: which branch now trains, from where, with what."""
    if not result.ok and result.code in MODEL_REFUSALS:
        problem = fork_problem(result)
        return f"{problem[0].upper()}{problem[1:]}."
    if not result.ok:
        return refused(session, result)
    b = next(x for x in session.branches() if x.id == result.branch)
    if result.detail:  # the other model, from the start
        return (
            f"Branch {b.id} from step 0 of branch {b.parent}: a fresh {MODEL_NAMES.get(result.detail, result.detail)} "
            f"({session.model.size:,} parameters) on the same text, tokens and seed; {session.optimizer.name} "
            f"lr {session.lr:g}. Train it (s, r); B goes back to the other, and the loss curve draws both by model."
        )
    return (
        f"Branch {b.id} from step {b.fork_step} of branch {b.parent}: {session.optimizer.name} lr {session.lr:g}. "
        "Train it (s, r); B goes back to the other, and the loss curve draws both."
    )


def fork_problem(result: ActionResult) -> str:
    """What is wrong with what the F form holds (``Session.check_fork``'s refusal), as the form says it."""
    if result.code == "unknown_optimizer":
        return f"unknown optimizer {result.detail!r}: sgd, momentum or adam"
    if result.code == "bad_lr":
        return f"the learning rate {result.value:g} {LR_PROBLEMS[result.detail]}"
    if result.code == "unchanged" and result.detail:
        other = " or ".join(f"model {k}" for k in MODEL_NAMES if k != result.detail)
        return (
            f"this branch trains the {MODEL_NAMES.get(result.detail, result.detail)} already: {other} forks the other"
        )
    if result.code == "unchanged":
        return "that is what this branch uses: change the optimizer or the learning rate"
    if result.code == "unknown_model":
        return f"unknown model {result.detail!r}: model gpt or model mlp"
    if result.code == "model_from_checkpoint":
        return (
            f"this session began at step {result.value:g} from a checkpoint: a fresh model has no such step "
            "(start the other with --model instead)"
        )
    if result.code == "heads_split":
        heads = f"its {result.detail} heads (--embed, --heads)"
        return f"the GPT's embedding size {result.value:g} is not divisible by {heads}"
    return f"fork: {result.code}"


#: the models by the name F and --model take, as the narration names them
MODEL_NAMES = {"mlp": "MLP", "gpt": "GPT"}
#: the refusals of a model fork (``Session.check_model``)
MODEL_REFUSALS = ("unknown_model", "model_from_checkpoint", "heads_split", "unchanged")


def _phase(session: Session) -> str:
    if session.phase == "backward":
        return "gradients fresh"
    if session.phase == "forward":
        return "forward pass fresh"
    return "forward pass stale" if session.stale else "no forward pass yet"


def refused(session: Session, result: ActionResult) -> str:
    """Why an action could not be done, and what to do instead."""
    code = result.code
    if code == "diverged" and result.divergence is not None:
        d = result.divergence
        return f"Training stopped at step {d.step}: {cause(d)}. Training from here cannot help; {advice(d)}."
    if code == "bad_lr":
        return f"Learning rate not changed: {result.value!r} {LR_PROBLEMS.get(result.detail, result.detail)}."
    if code == "at_start":
        if result.value:
            return f"Nothing more to undo: this session began at step {result.value:g} (from a checkpoint)."
        return "Nothing to undo: this is the untrained model, step 0."
    if code == "at_end":
        return "Nothing to redo: this is the newest state of this branch."
    if code == "unknown_optimizer":
        return f"Unknown optimizer {result.detail!r}."
    if code == "bad_count":
        return f"Cannot run {result.value:g} steps: the count must be 0 or more."
    if code == "no_such_step":
        return f"There is no step {result.value:g} on this branch (the newest is {session.last_step})."
    return f"{result.action}: {code}."


def forward(session: Session, position: int) -> str:
    """What the model predicts at ``position`` and the loss it pays, after a forward pass."""
    f = session.forward_result
    i = position_info(session, position)
    n = n_positions(session)
    unseen = len(i.context) - len(i.window)
    # what the model reads: its last K tokens (a space in a character or BPE token drawn as ▁)
    ctx = ("… " if unseen else "") + " ".join(shown(t) for t in i.window)
    return (
        f"Forward pass: after '{ctx}' the model gives '{shown(i.target)}' {i.target_prob:.1%}. "
        f"Loss = -log({fmt(i.target_prob, 3)}) = {fmt(i.loss, 3)}; "
        + (
            f"total over {n} positions {fmt(f.total_loss, 3)}, mean {fmt(f.total_loss / n, 3)}."
            if session.full_batch
            else f"mean over this step's {n} positions {fmt(f.total_loss / n, 3)}."
        )
    )


def _backward(session: Session, position: int) -> str:
    i = position_info(session, position)
    d = float(session.backward_result.dlogits[i.index, i.target_id])
    norms = layer_grad_norms(session.backward_result)
    # fmt: tiny values late in training read 4.0e-06, not 0.00 (nor -0.000)
    chain = " → ".join(f"{name} {fmt(v, 2)}" for name, v in norms)
    sign = "+" if d >= 0 else ""
    return (
        f"Backward pass: dLoss/dlogit('{shown(i.target)}') = {fmt(i.target_prob, 3)} - 1 = {sign}{fmt(d, 3)}: "
        "raise it. "
        f"|dL/d(layer output)| over all positions: {chain}."
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
        f"Update to step {u.step} ({u.optimizer}, lr {u.lr:g}): {rule} on {session.model.size:,} parameters "
        f"(step {h.step}'s total loss was {fmt(h.total_loss, 4)}).{biggest} "
        "The forward results are stale: press f to see the effect."
    )


def _branching(session: Session, result: ActionResult) -> str:
    """What a training key from the past did to time: a new branch, or (the very action that came
    next on this branch, with the same settings) a redo."""
    if result.branch is not None:
        return f" A new branch {result.branch} starts here; the old future is kept (B lists them)."
    if session.can_redo:
        return (
            " That is exactly what came next on this branch: a redo, no new branch "
            f"(> and End go on to step {session.last_step})."
        )
    return ""


def _step(session: Session, result: ActionResult) -> str:
    h = session.history
    now = h[-1]
    before = h.at(now.step - 1) or h[-2]  # (the step before, even in the thinned past)
    if result.overshoots:  # the loss rose: the step went past the minimum along the gradient
        return (
            f"Step {now.step}: overshoot! The mean loss rose {fmt(before.mean_loss, 4)} → {fmt(now.mean_loss, 4)}: "
            f"the step of lr {session.lr:g} × gradient went too far. [ lowers the learning rate."
        )
    what, a, b = (
        ("Total", before.total_loss, now.total_loss)
        if session.full_batch
        else ("Mean", before.mean_loss, now.mean_loss)
    )
    return (
        f"Step {now.step}: forward, backward, update, then the forward pass of the new parameters. "
        f"{what} loss {fmt(a, 4)} → {fmt(b, 4)}."
    )


def _measured(session: Session, condition: str) -> str:
    """What an attention condition measured, e.g. ' (head 1 of layer 0: 0.532 on the previous
    token)'; '' for the other conditions (their numbers are on the status line)."""
    from core.breakpoints import attention_value

    got = attention_value(session, condition)
    if got is None:
        return ""
    c, x = got
    head = f"head {c.head} of layer {c.layer}"
    if c.kind == "prev":
        return f" ({head}: {fmt(x, 3)} on the previous token, over the tracked positions)"
    return f" ({head}: mean row entropy {fmt(x, 3)} nats over the tracked positions)"


def _run(session: Session, result: ActionResult) -> str:
    h = session.history
    if not result.steps or not h:
        if result.stopped == "breakpoint":
            held = f"{result.detail} already holds at step {session.step}"
            return f"{held}{_measured(session, result.detail)}: no step taken."
        stopped = " (stopped before the first)" if result.stopped == "cancelled" else ""
        return f"Ran 0 steps{stopped}."
    first = (h.at(result.start_step) if result.start_step is not None else None) or h[0]
    stopped = " (stopped)" if result.stopped == "cancelled" else ""
    if result.stopped == "breakpoint":
        stopped = f", then stopped: {result.detail} holds at step {session.step}{_measured(session, result.detail)}"
    rose = ""
    if result.overshoots and session.full_batch:  # (with sampled batches the loss wobbles anyway)
        rose = f" The loss rose at {result.overshoots} of them (overshoot): a smaller lr would be smoother."
    # the loss the status line and the curve show: the lesson's total for a full batch, else the
    # mean per position (a sampled batch's total grows with the batch, not with learning)
    what, a, b = (
        ("total", first.total_loss, h[-1].total_loss)
        if session.full_batch
        else ("mean", first.mean_loss, h[-1].mean_loss)
    )
    return (
        f"Ran {result.steps} step{'s' if result.steps != 1 else ''}{stopped}: {what} loss "
        f"{fmt(a, 4)} at step {first.step} → {fmt(b, 4)} at step {session.step}, "
        f"perplexity {fmt(h[-1].perplexity, 3)}.{rose}"
    )


#: what one update does with the learning rate, per optimizer
_LR_MEANS = {
    "sgd": "each parameter moves by lr × grad",
    "momentum": "each parameter moves by lr × velocity (the gradients' running sum)",
    "adam": "each parameter moves by at most about lr, whatever its gradient's size (Adam divides by √v)",
}


def lr_changed(optimizer: str, old: float, new: float) -> str:
    """The narration of ``[`` / ``]``: what the rate means under this optimizer, against its usual one."""
    usual = DEFAULT_LR[optimizer]
    if new > usual * 1.0001:
        hint = f" Above {optimizer}'s usual {usual:g}: watch the loss for divergence."
    elif new < usual / 1.0001:
        hint = f" Below {optimizer}'s usual {usual:g}: smaller, safer steps, slower learning."
    else:
        hint = f" {optimizer}'s usual rate."
    means = _LR_MEANS.get(optimizer, "each parameter moves by lr times the optimizer's step")
    return f"Learning rate {old:g} → {new:g}: in the next update {means}.{hint}"


#: what n did, by which maps had room for their numbers (AttentionPane.numbers_room; None: no maps yet)
NUMBERS_SAID = {
    None: "each weight will be written in its cell where the maps have room",
    "all": "each weight written in its cell",
    "some": "each weight written in its cell where the map has room; the others say 'no room for n'",
    "none": "no room for the numbers at this size: the maps stay in shades and say 'no room for n'",
}


def attention_numbers(numbers: bool, room: str | None) -> str:
    """The narration of n: what the Attention pane draws now (not only what n asked for)."""
    return f"Attention pane: {NUMBERS_SAID[room] if numbers else 'shades only'} (n)."
