"""One frozen frame of readouts: what the panes show for one state and one selected position.

State down: the app builds a ``Frame`` once per refresh, with the session's lock held, and hands
it to the panes; they render from it alone (fitting their rows to their own size when they
render), never from the live session, which a training thread may be changing. Numbers and
words only: the panes decide how they look.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields, is_dataclass

import numpy as np

from .attnmaps import AttentionPart, attention_part
from .history import HistoryView
from .modelfork import branch_model
from .readout import (
    BeforeAfter,
    Change,
    Internals,
    PositionInfo,
    baselines,
    before_after,
    largest_changes,
    layer_grad_norms,
    layer_summary,
    n_positions,
    optimizer_internals,
    parameter_summary,
    position_info,
    softmax_steps,
    tensor_grad_norms,
    tracked,
    update_norms,
)
from .session import BACKWARD, FORWARD, Session
from .tokens import shown

#: the largest changes an update view lists (the pane shows as many as fit, up to this)
CHANGES = 3


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Prediction:
    """The forward pass at the selected position."""

    logits: np.ndarray  # (V,)
    exps: np.ndarray  # (V,) e^(logit - max), softmax's first step
    exp_total: float
    probs: np.ndarray  # (V,)
    loss: float
    #: right after an update and its forward pass: the probabilities before it (None otherwise)
    probs_before: np.ndarray | None
    target_prob_before: float | None


@dataclass(frozen=True, eq=False)
class Gradients:
    """The backward pass: norms over every position, dLoss/dlogit at the selected one."""

    layers: list[tuple[str, float]]  # |dObjective/d(layer output)|, loss first
    tensors: list[tuple[str, float]]  # |dObjective/dW| per tensor, output first
    dlogits: np.ndarray  # (V,) P - target at the selected position
    probs: np.ndarray  # (V,)
    positions: int  # positions in the step (the norms are over all of them)


@dataclass(frozen=True, eq=False)
class UpdateView:
    """The last update: what it did to each tensor and to the parameters that moved most."""

    step: int
    optimizer: str
    lr: float
    grad_norm: float
    clip_factor: float
    norms: list[tuple[str, float]]  # |new - old| per tensor, forward order
    changes: list[Change]  # the largest, most first
    internals: Internals | None  # the optimizer's arithmetic for changes[0]
    effect: BeforeAfter | None  # predicted and actual loss change (right after it)
    adam_t: int


@dataclass(frozen=True, eq=False)
class Curve:
    """The loss pane's series: the whole branch (looking back, the steps after the cursor too).
    The arrays are read-only; ``target_probs`` is a view of the history's rows, which a step's
    phases write in place, so two curves compare by ``history`` (its write count) too."""

    what: str  # "total" (every position in each step: the lesson's total) or "mean"
    losses: np.ndarray  # per step of the branch
    val: np.ndarray  # validation loss per step (NaN where not measured; empty: no validation)
    cursor: int | None  # the step viewed, when looking back in time
    branch: int
    others: list[tuple[int, np.ndarray]]  # the newest four other branches' losses
    refs: list[tuple[str, float]]  # baselines to beat, on the same scale
    current: float | None  # the loss of the state's forward pass
    target_probs: np.ndarray  # (steps, tracked) P(target) per tracked position
    tracked_words: list[str]  # their target words
    changes: np.ndarray  # steps where the learning rate or the optimizer changed
    uniform: float  # 1/V
    history: HistoryView  # the rows the state has seen (the progress table)
    #: the model each drawn branch trains, by branch (empty while they all train one: ``core.modelfork``)
    models: dict[int, str] = field(default_factory=dict)
    every: int = 1  # the arrays hold every ``every``-th step (a long run's history is thinned)


def _curve(s: Session) -> Curve:
    h = s.branch_history()
    total = s.full_batch
    key = "total_loss" if total else "mean_loss"
    others = [(b.id, s.branch_history(b.id)) for b in s.branches() if not b.current][-4:]
    every = max([h.stride, *(o.stride for _, o in others)])  # one step axis for every curve
    n = s.data.n_positions if total else 1
    base = baselines(s)
    f = s.forward_result
    lr, opt = h.on_grid("lr", every), h.on_grid("optimizer", every)
    known = np.isfinite(lr[:-1]) & np.isfinite(lr[1:]) & (opt[:-1] >= 0) & (opt[1:] >= 0)
    return Curve(
        what="total" if total else "mean",
        losses=h.on_grid(key, every),
        val=h.on_grid("val_loss", every) if s.val_data is not None else np.zeros(0),
        cursor=s.step if s.can_redo else None,
        branch=s.branch,
        others=[(b, o.on_grid(key, every)) for b, o in others],
        refs=[("uniform guess", base["uniform"] * n), ("unigram", base["unigram"] * n)],
        current=(f.total_loss if total else f.total_loss / f.targets.shape[0]) if f is not None else None,
        target_probs=h.on_grid("target_probs", every),
        tracked_words=[shown(target) for _, _, target in tracked(s)],
        # between the updates of k-1 and k (in steps)
        changes=(np.flatnonzero(known & ((lr[:-1] != lr[1:]) | (opt[:-1] != opt[1:]))) + 1) * every,
        uniform=1.0 / len(s.vocab),
        history=s.history,
        models=_models(s, [s.branch, *(b for b, _ in others)]),
        every=every,
    )


def _models(s: Session, branches: list[int]) -> dict[int, str]:
    """Each branch's model, when they are not all one (the curve then labels each by its model)."""
    kinds = {b: branch_model(s, b) for b in branches}
    return kinds if len(set(kinds.values())) > 1 else {}


@dataclass(frozen=True, eq=False)
class Frame:
    step: int
    phase: str
    stale: bool
    last_step: int  # the newest step of the branch
    viewing: bool  # looking back in time (there is a redo)
    optimizer: str
    lr: float
    clip: float | None
    full_batch: bool  # every position in each step: the lesson's total means something
    total_loss: float | None  # the forward pass's (None before one)
    mean_loss: float | None
    diverged_at: int | None
    vocab: tuple[str, ...]  # as drawn: a space in a token shown as core.tokens.VISIBLE_SPACE
    tokens: str  # what a token is: word, char or bpe:N
    n_positions: int
    many_sentences: bool
    info: PositionInfo
    parameters: list[tuple[str, tuple[int, ...], int]]
    model: str  # the model's kind ("mlp")
    layers: list[tuple[str, list[tuple[int, ...]]]]  # each layer's tensor shapes, forward order
    layer_outputs: dict[str, str]  # each layer's output by its name in the forward pass (dL/d of what)
    prediction: Prediction | None  # None before the first forward pass
    gradients: Gradients | None  # after b (fresh gradients)
    update: UpdateView | None  # the last update, when there are no fresh gradients
    curve: Curve
    #: the model's attention at the selected position (None for a model without attention)
    attention: AttentionPart | None = None

    @property
    def fresh_forward(self) -> bool:
        return self.phase in (FORWARD, BACKWARD)

    def __eq__(self, other: object) -> bool:
        """Frames are equal when they show the same (see ``same``): half the frames the app
        builds repeat the one before (a resize, a count typed, a run that starts), and a pane
        given an equal frame need not paint again."""
        if not isinstance(other, Frame):
            return NotImplemented
        return same(self, other)

    __hash__ = None  # type: ignore[assignment]  # (frames hold arrays)


def same(a: object, b: object) -> bool:
    """Whether two readouts are the same, bit for bit: the same words, numbers equal to the last
    bit (NaN is NaN, -0.0 is not 0.0: both read differently), arrays of one shape, type and
    bytes, history views of one history with no write between (``HistoryView.__eq__``)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.flags.c_contiguous and b.flags.c_contiguous:  # their bytes, without copying them
            return bool(np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)))
        return a.tobytes() == b.tobytes()
    if isinstance(a, float | np.floating):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    equal = a == b
    if not isinstance(equal, bool | np.bool_):  # (a container this function does not know)
        raise TypeError(f"cannot compare {type(a).__name__} readouts")
    return bool(equal)


@functools.lru_cache(maxsize=4)
def _shown_vocab(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The vocabulary as drawn (computed once per vocabulary: a frame is built on every refresh)."""
    return tuple(shown(t) for t in tokens)


def build_frame(session: Session, position: int) -> Frame:
    """The frame of ``session`` at ``position`` (call with the session's lock held)."""
    s = session
    info = position_info(s, position)
    if s.data.tokenizer.kind != "word":
        info = info.with_tokens(shown)  # (a space in a character or BPE token drawn ▁)
    f = s.forward_result
    prediction = None
    if f is not None:
        row = f.logits[info.index]
        exps, total, probs = softmax_steps(row)
        ba = before_after(s, info.index)
        prediction = Prediction(
            logits=_frozen(row),
            exps=_frozen(exps),
            exp_total=float(total),
            probs=_frozen(probs),
            loss=float(f.losses[info.index]),
            probs_before=None if ba is None else _frozen(ba.probs_before),
            target_prob_before=None if ba is None else float(ba.target_probs_before[info.index]),
        )
    gradients = update = None
    b = s.backward_result
    if s.phase == BACKWARD and b is not None:
        gradients = Gradients(
            layers=list(layer_grad_norms(b)),
            tensors=list(tensor_grad_norms(s, b)),
            dlogits=_frozen(b.dlogits[info.index]),
            probs=_frozen(f.probs[info.index]),
            positions=int(b.dlogits.shape[0]),
        )
    elif (u := s.last_update) is not None:
        changes = largest_changes(s, CHANGES)
        internals = None
        if changes:
            c = changes[0]
            internals = optimizer_internals(s, s.model.tensors.flat_index(c.tensor, c.index))
        update = UpdateView(
            step=u.step,
            optimizer=u.optimizer,
            lr=u.lr,
            grad_norm=u.grad_norm,
            clip_factor=u.clip_factor,
            norms=update_norms(s),
            changes=changes,
            internals=internals,
            effect=before_after(s, 0),
            adam_t=int(getattr(s.optimizer, "t", 0)),
        )
    return Frame(
        step=s.step,
        phase=s.phase,
        stale=s.stale,
        last_step=s.last_step,
        viewing=s.can_redo,
        optimizer=s.optimizer.name,
        lr=s.lr,
        clip=s.clip,
        full_batch=s.full_batch,
        total_loss=None if f is None else float(f.total_loss),
        mean_loss=None if f is None else float(f.total_loss) / n_positions(s),
        diverged_at=None if s.divergence is None else s.divergence.step,
        vocab=_shown_vocab(s.vocab.tokens),
        tokens=s.data.tokenizer.spec,
        n_positions=n_positions(s),
        many_sentences=len(s.data.sentences) > 1,
        info=info,
        parameters=parameter_summary(s),
        model=s.model.kind,
        layers=layer_summary(s),
        layer_outputs=s.model.layer_outputs,
        prediction=prediction,
        gradients=gradients,
        update=update,
        curve=_curve(s),
        # (the query is the last input the prediction reads: the context's last token)
        attention=attention_part(s, info.index, len(info.context) - 1),
    )
