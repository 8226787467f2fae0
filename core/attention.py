"""Attention, read out for the screen: one query's row of one head, and each head's habits.

For a position of the forward pass (its row ``i``), a layer and a head: the query's Q row, the K
and V rows of its window, the raw scores q·k, the scaled ones (/ sqrt(hd)), the mask (keys after
the query), the scores the softmax reads (-inf where masked), the weights A (the row sums to 1),
and their weighted sum of V; after ``b`` the row's dA and dS; after an update, A before and after.
What attention adds to the stream at that position: each head's output through its slice of
``attn_wo``, their sum, and the residual (``AttentionOutput``). For the chain rule, the terms
of one weight's gradient through the softmax, key by key (``SoftmaxTerms``).
Per head: the share of weight on the previous token, and the row entropy (averaged over queries).
Only the GPT has attention: every function returns None for a forward pass without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .models import Backward, Forward, GPTForward
from .models.gpt_chain import SoftmaxTerms, softmax_terms

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True)
class AttentionRow:
    """One query's attention in one head; arrays over the keys 0 … n-1 of its window."""

    layer: int
    head: int
    row: int  # the position's row in the forward pass
    query: int  # its place in the window (keys after it are masked)
    tokens: np.ndarray  # (n,) the window's tokens, keys in order
    q: np.ndarray  # (hd,) the query's Q row
    k: np.ndarray  # (n, hd)
    v: np.ndarray  # (n, hd)
    raw: np.ndarray  # (n,) q·k, for every key (masked ones too: what the mask hides)
    scaled: np.ndarray  # (n,) q·k / sqrt(hd)
    mask: np.ndarray  # (n,) True where the key is after the query
    scores: np.ndarray  # (n,) scaled, -inf where masked: what the softmax reads
    shifted: np.ndarray  # (n,) scores - their largest (-inf where masked): the softmax's e^x reads it
    exp: np.ndarray  # (n,) e^shifted: 0 where masked, 1 at the largest score
    exp_sum: float  # Σ exp: A = exp / exp_sum
    att: np.ndarray  # (n,) A: 0 where masked, the row sums to 1
    att_sum: float  # Σ A (1 up to rounding)
    weighted_rows: np.ndarray  # (n, hd) A[t] v[t], key by key (rows of masked keys are 0)
    weighted: np.ndarray  # (hd,) Σ_t A[t] v[t], this head's output
    previous: float  # A on the token before the query (NaN for the first)
    entropy: float  # -Σ A ln A, in nats (0: all on one key; ln(query+1): even)
    dA: np.ndarray | None = None  # (n,) after b: dL/dA
    dS: np.ndarray | None = None  # (n,) after b: dL/dscores = A ⊙ (dA - Σ A ⊙ dA), 0 where masked
    rowdot: float | None = None  # after b: Σ A ⊙ dA, the row's weighted average of dA
    centred: np.ndarray | None = None  # (n,) after b: dA - rowdot (dS = A ⊙ centred)


def _entropy(a: np.ndarray) -> np.ndarray:
    """-Σ A ln A over the last axis (0 ln 0 = 0)."""
    logs = np.log(a, out=np.zeros_like(a), where=a > 0)
    return -(a * logs).sum(axis=-1)


def attention_row(f: Forward, i: int, layer: int, head: int, b: Backward | None = None) -> AttentionRow | None:
    """Row ``i``'s attention in ``head`` of ``layer`` (with dA, dS from ``b``); None without attention."""
    if not isinstance(f, GPTForward):
        return None
    T = f.inputs.shape[1]
    w, t = divmod(int(f.cells[i]), T)
    n = int(f.lengths[w])
    q, k, v = f.q[layer, w, head, t], f.k[layer, w, head, :n], f.v[layer, w, head, :n]
    raw = k @ q  # (n,)
    hd = q.shape[0]
    att = f.att[layer, w, head, t, :n]
    scores = f.scores[layer, w, head, t, :n].copy()
    shifted = scores - scores.max()  # as the model's softmax: the largest score becomes 0
    exp = np.exp(shifted)  # masked keys: e^-inf = exactly 0
    rows = att[:, None] * v
    dA = dS = rowdot = centred = None
    if b is not None and "dS" in b.pieces:
        dA = b.pieces["dA"][layer, w, head, t, :n].copy()
        dS = b.pieces["dS"][layer, w, head, t, :n] + 0.0  # (+ 0.0: a masked cell reads 0, never -0)
        rowdot = float(att @ dA)
        centred = dA - rowdot
    return AttentionRow(
        layer=layer,
        head=head,
        row=i,
        query=t,
        tokens=f.inputs[w, :n].copy(),
        q=q.copy(),
        k=k.copy(),
        v=v.copy(),
        raw=raw,
        scaled=raw / math.sqrt(hd),
        mask=np.arange(n) > t,
        scores=scores,
        shifted=shifted,
        exp=exp,
        exp_sum=float(exp.sum()),
        att=att.copy(),
        att_sum=float(att.sum()),
        weighted_rows=rows + 0.0,  # (+ 0.0: a masked key's row reads 0, never -0)
        weighted=att @ v,
        previous=float(att[t - 1]) if t > 0 else math.nan,
        entropy=float(_entropy(att)),
        dA=dA,
        dS=dS,
        rowdot=rowdot,
        centred=centred,
    )


@dataclass(frozen=True)
class HeadHabits:
    """Each head's habits over the forward pass's real queries, (L, H) each: the mean weight on
    the previous token (queries after the first), and the mean row entropy (nats)."""

    previous: np.ndarray
    entropy: np.ndarray


def head_habits(f: Forward) -> HeadHabits | None:
    """``HeadHabits`` of the forward pass (None without attention)."""
    if not isinstance(f, GPTForward):
        return None
    T = f.inputs.shape[1]
    real = np.arange(T) < f.lengths[:, None]  # (B, T) the real queries
    later = real & (np.arange(T) > 0)  # (B, T) the ones with a previous token
    prev = np.zeros(f.att.shape[:-1], dtype=f.att.dtype)  # (L, B, H, T)
    prev[..., 1:] = np.diagonal(f.att, offset=-1, axis1=-2, axis2=-1)  # A[t, t-1]
    ent = _entropy(f.att)  # (L, B, H, T)
    n_later = max(int(later.sum()), 1)
    return HeadHabits(
        previous=(prev * later[None, :, None]).sum(axis=(1, 3)) / n_later,
        entropy=(ent * real[None, :, None]).sum(axis=(1, 3)) / max(int(real.sum()), 1),
    )


def session_row(s: Session, i: int, layer: int, head: int) -> AttentionRow | None:
    """``attention_row`` of the session's forward pass, with dA and dS when its gradients are fresh."""
    f = s.forward_result
    if f is None:
        return None
    return attention_row(f, i, layer, head, s.backward_result if s.phase == "backward" else None)


def forward_before_update(s: Session) -> Forward | None:
    """The forward pass the last update's gradient came from, when the state is the forward pass
    right after that update on the same positions (what a before/after comparison needs); None
    otherwise. The one rule behind ``core.readout.before_after`` and the attention views'."""
    u, f = s.last_update, s.forward_result
    if u is None or u.before is None or f is None or s.step != u.step or s.phase == "ready":
        return None
    if u.before.positions is None or f.positions is None or not np.array_equal(u.before.positions, f.positions):
        return None
    return u.before


def before_after(s: Session, i: int, layer: int, head: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Row ``i``'s A before the last update and after it, when the state is the forward pass right
    after it on the same positions (as ``core.readout.before_after``); None otherwise."""
    before = forward_before_update(s)
    if before is None:
        return None
    old, new = attention_row(before, i, layer, head), attention_row(s.forward_result, i, layer, head)
    if old is None or new is None:
        return None
    return old.att, new.att


@dataclass(frozen=True)
class AttentionChange:
    """One query's A before the last update, after it, and ΔA = after - before, (n,) each."""

    before: np.ndarray
    after: np.ndarray
    delta: np.ndarray


def change(s: Session, i: int, layer: int, head: int) -> AttentionChange | None:
    """``before_after`` with ΔA (masked keys: 0 before and after, ΔA exactly 0)."""
    ba = before_after(s, i, layer, head)
    if ba is None:
        return None
    old, new = ba
    return AttentionChange(old, new, new - old + 0.0)


@dataclass(frozen=True)
class AttentionOutput:
    """What attention adds to the stream at one position of one layer, (C,) each but ``heads``."""

    layer: int
    row: int
    heads: np.ndarray  # (H, C) head h's output through its columns of attn_wo: y_h @ wo[:, h].T
    total: np.ndarray  # (C,) Σ over heads = the joined heads' output @ attn_wo.T
    residual: np.ndarray  # (C,) x, the stream attention reads (before its rmsnorm) and adds to
    mid: np.ndarray  # (C,) x + attention's output, as the forward pass computed it


def attention_output(f: Forward, wo: np.ndarray, i: int, layer: int) -> AttentionOutput | None:
    """Row ``i``'s ``AttentionOutput`` in ``layer``, through ``wo`` (C, C), the attn_wo the forward
    pass used; None without attention."""
    if not isinstance(f, GPTForward):
        return None
    T = f.inputs.shape[1]
    w, t = divmod(int(f.cells[i]), T)
    H = f.scores.shape[2]
    C = wo.shape[0]
    y = f.heads_out[layer, w, t].reshape(H, 1, C // H)  # (H, 1, hd) each head's weighted sum
    heads = (y @ wo.reshape(C, H, C // H).transpose(1, 2, 0))[:, 0]  # (H, C)
    return AttentionOutput(layer, i, heads, heads.sum(axis=0), f.stream[layer, w, t].copy(), f.mid[layer, w, t].copy())


def session_output(s: Session, i: int, layer: int) -> AttentionOutput | None:
    """``attention_output`` of the session's forward pass; None when there is none or it is stale
    (an update changed attn_wo since: its slices would not add up to what the pass computed)."""
    f = s.forward_result
    if not isinstance(f, GPTForward) or s.stale:
        return None
    return attention_output(f, s.model.p[f"layer{layer}.attn_wo"], i, layer)


def chain_through_softmax(s: Session, tensor: str, index: tuple[int, ...], row: int) -> SoftmaxTerms | None:
    """Row ``row`` of the chain rule for ``tensor[index]`` (``core.readout.chain_terms``) through
    the softmax, cell by cell; None without fresh gradients or for a weight outside attn_wq/wk/wv."""
    f, b = s.forward_result, s.backward_result
    if not isinstance(f, GPTForward) or b is None or s.phase != "backward":
        return None
    return softmax_terms(s.model, f, b, tensor, tuple(index), row)
