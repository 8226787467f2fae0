"""The numbers the screen shows, read out of a session's state.

Panes format; they never compute model math. Everything they display that is
not stored on the session directly is derived here, so the headless command
and the tests can see exactly what the screen shows.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .attention import forward_before_update
from .divergence import diverged_in
from .history import HistoryView
from .models import Backward
from .session import Session


def softmax_steps(logits: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """The lesson's three steps for one row of logits: e^logit, their sum, and each
    e^logit / sum. e^logit overflows to inf beyond ~709; the probabilities come
    from the stable form (max subtracted) and are exact regardless."""
    x = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore"):
        exps = np.exp(x)
    shifted = np.exp(x - x.max())
    return exps, float(exps.sum()), shifted / shifted.sum()


def ranked(values: np.ndarray, k: int, must_include: int | None = None) -> tuple[list[int], int]:
    """Indices of the ``k`` largest values, largest first, plus ``must_include``
    (e.g. the target) if it is not among them; and how many were left out."""
    values = np.asarray(values)
    n = values.shape[0]
    if n <= k:
        order = list(np.argsort(-values, kind="stable"))
    else:
        top = np.argpartition(-values, k - 1)[:k]
        order = list(top[np.argsort(-values[top], kind="stable")])
    if must_include is not None and must_include not in order:
        order.append(must_include)
    return [int(i) for i in order], n - len(order)


def top_k_abs(x: np.ndarray, k: int, block: int = 4096) -> list[int]:
    """Indices of the ``k`` largest ``|x|``, largest first, for millions of values
    within a frame: the k largest lie in the k blocks with the largest maxima (or in
    the tail after the last whole block), so only those are ranked."""
    if k <= 0 or x.size <= 4 * block * k:
        return ranked(np.abs(x), k)[0]
    whole = x.size // block * block
    blocks2d = x[:whole].reshape(-1, block)
    # max |x| per block from its max and min: two passes over x, no |x| copy of it all
    maxima = np.maximum(blocks2d.max(axis=1), -blocks2d.min(axis=1))
    blocks = np.asarray(ranked(maxima, k)[0])
    candidates = np.concatenate([(blocks[:, None] * block + np.arange(block)).ravel(), np.arange(whole, x.size)])
    return [int(candidates[i]) for i in ranked(np.abs(x[candidates]), k)[0]]


@dataclass(frozen=True)
class PositionInfo:
    """One prediction position as the context pane shows it."""

    index: int  # index within the current forward pass
    sentence: int
    tokens: list[str]  # the whole sentence as read: <BOS> ... (<EOS>)
    context: list[str]  # tokens before the prediction, in the sentence
    window: list[str]  # the last of them the model reads (its context size K; <BOS> pads the rest)
    target: str
    target_id: int
    top_word: str | None  # the model's most likely next word (None before any forward)
    top_prob: float | None
    target_prob: float | None
    loss: float | None

    def with_tokens(self, f: Callable[[str], str]) -> PositionInfo:
        """The same position with every token it names passed through ``f`` (as drawn, cropped)."""
        return replace(
            self,
            tokens=[f(t) for t in self.tokens],
            context=[f(t) for t in self.context],
            window=[f(t) for t in self.window],
            target=f(self.target),
            top_word=None if self.top_word is None else f(self.top_word),
        )


def position_info(session: Session, i: int) -> PositionInfo:
    """What the model sees and predicts at position ``i`` of the current batch."""
    f = session.forward_result
    idx = session.batch() if f is None or f.positions is None else f.positions
    i = max(0, min(i, len(idx) - 1))
    pos = int(idx[i])
    d = session.data
    tid = int(d.targets[pos])
    top_word = top_prob = tprob = loss = None
    if f is not None:
        row = f.probs[i]
        j = int(row.argmax())
        top_word, top_prob = d.vocab.tokens[j], float(row[j])
        tprob, loss = float(row[tid]), float(f.losses[i])
    return PositionInfo(
        index=i,
        sentence=int(d.sentence_of[pos]),
        tokens=d.tokens_of(int(d.sentence_of[pos])),
        context=(ctx := d.context_words(pos)),
        window=ctx[-d.context_size :],
        target=d.vocab.tokens[tid],
        target_id=tid,
        top_word=top_word,
        top_prob=top_prob,
        target_prob=tprob,
        loss=loss,
    )


@dataclass(frozen=True)
class BeforeAfter:
    """What the last update changed, seen by the forward pass after it (both at the same positions)."""

    step: int  # the step the update made
    probs_before: np.ndarray  # (V,) at the selected position, before the update
    logits_before: np.ndarray  # (V,)
    target_probs_before: np.ndarray  # (N,) P(target) at every position, before
    predicted: float  # first-order change of the objective: gradient . delta
    actual: float  # the objective's real change
    objective: str = "mean"  # which loss that is: "mean" (per position) or "total" (--reduction sum)


def before_after(session: Session, i: int) -> BeforeAfter | None:
    """The change the last update made, when the state is the forward pass right after it
    (same positions as the one its gradient came from); None otherwise."""
    b = forward_before_update(session)
    if b is None:
        return None
    u, f = session.last_update, session.forward_result
    h = session.history
    key = "mean_loss" if session.config.reduction == "mean" else "total_loss"
    now, then = h.at(u.step), h.at(u.step - 1)
    actual = getattr(now, key) - getattr(then, key) if now is not None and then is not None else float("nan")
    i = max(0, min(i, f.targets.shape[0] - 1))
    objective = "mean" if session.config.reduction == "mean" else "total"
    return BeforeAfter(u.step, b.probs[i], b.logits[i], b.target_probs, u.predicted_change, actual, objective)


def n_positions(session: Session) -> int:
    """Positions in the current forward pass (or the next one)."""
    f = session.forward_result
    return int(f.targets.shape[0]) if f is not None else len(session.batch())


def layer_grad_norms(b: Backward) -> list[tuple[str, float]]:
    """||dObjective/d(output of layer)|| for each layer in backward order (loss first).
    Kept with the backward result: the screen asks again on every refresh."""
    if "layer_norms" not in b.memo:
        # the first upstream (the logits') is per position (P - target); the objective weighs it by b.scale
        first = next(iter(b.upstream))
        b.memo["layer_norms"] = [
            (name, float(np.linalg.norm(up)) * (b.scale if name == first else 1.0)) for name, up in b.upstream.items()
        ]
    return b.memo["layer_norms"]


def tensor_grad_norms(session: Session, b: Backward) -> list[tuple[str, float]]:
    """||dLoss/dW|| for every parameter tensor, in backward order (output first)."""
    if "tensor_norms" not in b.memo:
        norms = session.model.tensor_norms(b.grads)
        names = list(session.model.slices)
        b.memo["tensor_norms"] = [(n, float(v)) for n, v in reversed(list(zip(names, norms, strict=True)))]
    return b.memo["tensor_norms"]


@dataclass(frozen=True)
class Change:
    """One parameter's update: old - lr x grad (or the optimizer's step) = new."""

    tensor: str
    index: tuple[int, ...]
    old: float
    grad: float
    new: float


def largest_changes(session: Session, k: int = 5) -> list[Change]:
    """The ``k`` parameters the last update moved most (empty before any update)."""
    u = session.last_update
    if u is None:
        return []
    new = session.model.params
    out = []
    for flat in top_k_abs(u.delta, k):
        name, idx = session.model.tensors.locate(flat)
        n = float(new[flat])
        out.append(Change(name, idx, n - float(u.delta[flat]), float(u.grad[flat]), n))
    return out


@dataclass(frozen=True)
class Internals:
    """The last update of one parameter, through the optimizer's own state (the lesson's S11).

    ``grad`` is the gradient the update used (after clipping); ``step`` what it really moved
    (new - old); ``sgd_step`` what plain SGD would have moved (-lr x grad). Momentum adds
    ``velocity``; Adam adds ``m``, ``v``, ``t``, the bias corrections ``c1`` = 1 - beta1^t and
    ``c2`` = 1 - beta2^t, ``m_hat`` = m / c1 and ``v_hat`` = v / c2."""

    flat: int
    grad: float
    step: float
    sgd_step: float
    optimizer: str
    velocity: float | None = None
    m: float | None = None
    v: float | None = None
    t: int | None = None
    c1: float | None = None
    c2: float | None = None
    m_hat: float | None = None
    v_hat: float | None = None


def optimizer_internals(session: Session, flat: int) -> Internals | None:
    """The optimizer's view of parameter ``flat`` (an index into ``model.params``) in the last
    update, when the optimizer's state is still the one that update left (None otherwise)."""
    u, opt = session.last_update, session.optimizer
    if u is None or opt.name != u.optimizer or opt.t == 0:
        return None
    g, step = float(u.grad[flat]), float(u.delta[flat])
    base = dict(flat=flat, grad=g, step=step, sgd_step=-u.lr * g, optimizer=opt.name)
    if opt.name == "momentum":
        return Internals(**base, velocity=float(opt.velocity[flat]))
    if opt.name == "adam":
        c1, c2 = 1 - opt.beta1**opt.t, 1 - opt.beta2**opt.t
        m, v = float(opt.m[flat]), float(opt.v[flat])
        return Internals(**base, m=m, v=v, t=opt.t, c1=c1, c2=c2, m_hat=m / c1, v_hat=v / c2)
    return Internals(**base)


@dataclass(frozen=True)
class ChainTerms:
    """One weight's gradient as the sum over positions of the chain rule's products (S7-S8).

    ``factors`` name what each term multiplies, e.g. ``("h2", 8)`` and ``("dlogits", 1)`` for
    output.W[8,1]: term_p = h2[p,8] x dlogits[p,1] x ``scale``. ``values`` (N, len(factors)) are
    their values per position, ``terms`` (N,) the products; ``total`` their sum; ``backward``
    the gradient the backward pass computed (the same number, up to rounding)."""

    tensor: str
    index: tuple[int, ...]
    factors: tuple[tuple[str, int], ...]
    values: np.ndarray
    terms: np.ndarray
    scale: float
    total: float
    backward: float


def chain_terms(session: Session, tensor: str, index: tuple[int, ...]) -> ChainTerms | None:
    """The chain rule for ``tensor[index]`` at the current gradients (None without them)."""
    b, f = session.backward_result, session.forward_result
    if b is None or f is None or session.phase != "backward":
        return None
    # the model writes the sum from the pieces its backward pass kept (no second backward here)
    fac = session.model.chain_factors(f, b, tensor, tuple(index))
    terms = fac.values.prod(axis=1) * fac.scale
    return ChainTerms(
        tensor, tuple(index), fac.names, fac.values, terms, fac.scale, float(terms.sum()), float(b.grad(tensor)[index])
    )


def nudge_probe(session: Session, flat: int, eps: float) -> tuple[float, float] | None:
    """Move parameter ``flat`` by ``eps``, measure the objective's change on this step's
    positions, and put it back exactly: (measured change, first-order prediction gradient x eps).
    The session's state is unchanged (None without fresh gradients)."""
    b, f = session.backward_result, session.forward_result
    if b is None or f is None or session.phase != "backward":
        return None
    with session.lock:
        params = session.model.params
        old = params[flat]
        scale = b.scale
        before = float(f.losses.sum()) * scale
        params[flat] = old + eps
        try:
            after = float(session.compute_forward().losses.sum()) * scale
        finally:
            params[flat] = old  # the very same bits back
    return after - before, float(b.grads[flat]) * eps


#: the total loss the lesson trains toward: the step it is first below is a branch's "reached"
GOAL_TOTAL = 0.05


def reached_goal(total: np.ndarray, full_batch: bool, steps: np.ndarray | None = None) -> int | None:
    """The first step whose total loss is below ``GOAL_TOTAL`` (None: never); ``steps``: the
    rows' steps (default: one row a step). Only for a full batch: a sampled batch's total is
    over other positions each step."""
    below = np.flatnonzero(total < GOAL_TOTAL) if full_batch else np.zeros(0, dtype=int)
    if not below.size:
        return None
    return int(below[0] if steps is None else steps[below[0]])


@dataclass(frozen=True)
class BranchSummary:
    """A branch's record for comparison: the loss the curve draws (the total for a full batch,
    else the mean) now and at its best, when the total first fell below 0.05 (full batch only;
    None: never), and the settings of its last update."""

    branch: int
    what: str  # "total" or "mean"
    now: float
    best: float
    reached: int | None
    optimizer: str
    lr: float
    #: the first step the divergence rules flag in this branch's losses (None: it did not diverge)
    diverged: int | None = None


def branch_summaries(session: Session) -> list[BranchSummary]:
    out = []
    what = "total_loss" if session.full_batch else "mean_loss"
    limit = session.config.divergence_loss
    for b in session.branches():
        h = session.branch_history(b.id)
        loss = h.column(what)
        if not loss.size:
            continue
        fin = loss[np.isfinite(loss)]
        lrs = h.column("lr")
        known = np.flatnonzero(np.isfinite(lrs))  # the rows record the update that left each step
        out.append(
            BranchSummary(
                b.id,
                what.split("_")[0],
                float(loss[-1]),
                float(fin.min()) if fin.size else float("nan"),
                reached_goal(loss, session.full_batch, h.column("step")),
                h[int(known[-1])].optimizer if known.size else "",
                float(lrs[known[-1]]) if known.size else float("nan"),
                diverged_in(h.column("mean_loss"), h.column("total_loss"), session.log_vocab, limit, h.column("step")),
            )
        )
    return out


def best_branch(session: Session, branches: Sequence[int]) -> int | None:
    """Of ``branches``, the one whose loss is lowest at its end, among those that did not diverge
    (None: every one did): where a sweep leaves the session."""
    live = [b for b in branch_summaries(session) if b.branch in branches and b.diverged is None and np.isfinite(b.now)]
    return min(live, key=lambda b: b.now).branch if live else None


def update_norms(session: Session) -> list[tuple[str, float]]:
    """||new - old|| per tensor for the last update, in forward order."""
    u = session.last_update
    if u is None:
        return []
    norms = u.delta_norms
    if norms is None:  # computed here, once per update (the session leaves them to the screen)
        cached = _UPDATE_NORMS.get(u)
        if cached is None:
            cached = _UPDATE_NORMS[u] = session.model.tensor_norms(u.delta)
        norms = cached
    return [(n, float(v)) for n, v in zip(session.model.slices, norms, strict=True)]


#: the per-tensor norms of updates shown, by update (weakly: they go with their update)
_UPDATE_NORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def progress_rows(session: Session, max_rows: int = 8) -> list[tuple[int, list[float], float]]:
    """The lesson's training-progress table: (step, P(target) per position, total loss)
    at up to ``max_rows`` steps spread over the history (first and latest always)."""
    return progress_rows_of(session.history, max_rows)


def progress_rows_of(
    h: HistoryView, max_rows: int = 8, keep: Sequence[int] = (), loss: str = "total_loss"
) -> list[tuple[int, list[float], float]]:
    """``progress_rows`` of the rows ``h`` holds, with its ``loss`` column (``total_loss`` or
    ``mean_loss``: the one the curve draws). The first, second (the first update: often the
    largest change) and latest rows come first, then the rows of the steps in ``keep`` (where the
    learning rate or the optimizer changed) as room allows, then rows spread on a log scale of
    their steps."""
    n = len(h)
    if not n:
        return []
    if n <= max_rows:
        picks = list(range(n))
    else:
        rows = (h.index(int(k)) for k in keep)
        must = [0, n - 1, 1, *(i for i in rows if i is not None and 0 < i < n)]
        chosen = list(dict.fromkeys(must))[: max(max_rows, 2)]
        # then greedily the row farthest (in log(step + 1)) from those chosen: spread like geomspace
        where = np.log1p(h.column("step").astype(np.float64))
        gap = np.min(np.abs(where[:, None] - where[chosen][None, :]), axis=1)
        while len(chosen) < max_rows:
            k = int(np.argmax(gap))
            chosen.append(k)
            gap = np.minimum(gap, np.abs(where - where[k]))
        picks = sorted(chosen)
    return [(h[i].step, [float(p) for p in h[i].target_probs], float(getattr(h[i], loss))) for i in picks]


def tracked(session: Session) -> list[tuple[int, list[str], str]]:
    """The positions every history row keeps values for (the first sentence's, at most 8):
    (dataset position, the context the model reads, the target word), in order."""
    d = session.data
    return [(int(p), d.context_words(int(p))[-d.context_size :], d.target_word(int(p))) for p in session.tracked]


def baselines(session: Session) -> dict[str, float]:
    """Mean losses to beat: ``uniform`` (a guess among every word, ln V) and ``unigram``
    (the entropy of the training targets: a model that ignores the context)."""
    d = session.data
    counts = np.bincount(d.targets, minlength=len(d.vocab)).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return {"uniform": float(np.log(len(d.vocab))), "unigram": float(-(p * np.log(p)).sum())}


def parameter_summary(session: Session) -> list[tuple[str, tuple[int, ...], int]]:
    """(name, shape, count) for every tensor: the lesson's 'model parameters'."""
    return [(n, sh, int(np.prod(sh))) for n, (_, sh) in session.model.slices.items()]


def layer_summary(session: Session) -> list[tuple[str, list[tuple[int, ...]]]]:
    """The model's layers in forward order, each with its tensors' shapes (weights first)."""
    shapes = session.model.tensors.shapes
    return [(layer, [shapes[n] for n in names]) for layer, names in session.model.groups()]
