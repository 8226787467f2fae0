"""The GPT's chain rule for one weight: its gradient as a sum over positions, from the pieces the
backward pass kept (``Backward.pieces``), never a second backward pass.

Rows are the windows' real cells in order (the positions, when every position of every window is
asked, as in the lesson), except ``lm_head``'s: the positions asked. For ``layer{l}.attn_wq[i, j]``
(head ``h = i // hd``, column ``e = i % hd`` of it) the term of query position p goes through the
softmax and the scores: ``h_attn[p, j] x Σ_t dS[h, p, t] k[h, t, e] / sqrt(hd)``, where
``dS = A ⊙ (dA - rowsum(A ⊙ dA))``; ``attn_wk`` sums over the queries that read key p instead, and
``attn_wv`` goes through the weighted sum: ``h_attn[p, j] x Σ_t A[h, t, p] dy[h, t, e]``.
``softmax_terms`` writes one position's Σ_t out, key by key (or query by query), with the
softmax's pieces: ``dA[p, t] = dy[p]·v[t]`` and ``dS[p, t] = A[p, t] (dA[p, t] - Σ_u A[p, u] dA[p, u])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import Backward, Factors

if TYPE_CHECKING:
    from .gpt import GPTForward, GPTLanguageModel


def real_cells(f: GPTForward) -> np.ndarray:
    """Flat indices ``b*T + t`` of the windows' real (not padding) cells, in order."""
    T = f.inputs.shape[1]
    return np.flatnonzero(np.arange(T) < f.lengths[:, None])


def factors(model: GPTLanguageModel, f: GPTForward, b: Backward, tensor: str, index: tuple[int, ...]) -> Factors:
    """``tensor[index]``'s gradient as ``Σ_p prod(values[p]) x scale``."""
    B, T = f.inputs.shape
    C, H = model.config.embed, model.config.heads
    hd = C // H
    i, j = index
    rc = real_cells(f)

    def cells(a: np.ndarray, col: int) -> np.ndarray:  # column ``col`` of a (B, T, X) array, real cells
        return a.reshape(B * T, -1)[rc, col]

    if tensor == "lm_head":  # logits = x @ lm_head.T at the positions asked
        x = f.stream[-1].reshape(B * T, C)[f.cells, j]
        return Factors((("dlogits", i), ("x_final", j)), np.stack([b.dlogits[:, i], x], 1), b.scale)
    demb = b.pieces["demb"]
    if tensor == "wte":  # each cell holding token i adds its dL/d(emb)
        hit = (f.inputs.reshape(-1)[rc] == i).astype(demb.dtype)
        return Factors((("token_is", i), ("demb", j)), np.stack([hit, cells(demb, j)], 1), 1.0)
    if tensor == "wpe":  # each window's cell at position i adds its dL/d(emb)
        hit = (np.tile(np.arange(T), B)[rc] == i).astype(demb.dtype)
        return Factors((("at_position", i), ("demb", j)), np.stack([hit, cells(demb, j)], 1), 1.0)
    layer, name = tensor.split(".")
    l = int(layer.removeprefix("layer"))
    P = b.pieces

    def per_layer(n: str) -> str:
        return f"{layer}.{n}"

    if name == "mlp_fc2":  # stream[l+1] = mid + relu @ fc2.T
        vals = [cells(P["dstream"][l + 1], i), cells(f.relu[l], j)]
        return Factors(((per_layer("dx_out"), i), (per_layer("relu"), j)), np.stack(vals, 1), 1.0)
    if name == "mlp_fc1":
        vals = [cells(P["dz"][l], i), cells(f.h_mlp[l], j)]
        return Factors(((per_layer("dz"), i), (per_layer("h_mlp"), j)), np.stack(vals, 1), 1.0)
    if name == "attn_wo":
        vals = [cells(P["dmid"][l], i), cells(f.heads_out[l], j)]
        return Factors(((per_layer("dmid"), i), (per_layer("heads_out"), j)), np.stack(vals, 1), 1.0)
    h, e = divmod(i, hd)
    inp = cells(f.h_attn[l], j)
    if name == "attn_wq":  # through the scores and the softmax, per query
        through = P["dS"][l, :, h] @ f.k[l, :, h, :, e, None]  # (B, T, 1) Σ_t dS[p, t] k[t, e]
        names = ((per_layer("h_attn"), j), (per_layer("dS·k"), i))
        scale = 1.0 / math.sqrt(hd)
    elif name == "attn_wk":  # through the scores and the softmax, per key
        through = P["dS"][l, :, h].swapaxes(-1, -2) @ f.q[l, :, h, :, e, None]  # (B, T, 1)
        names = ((per_layer("h_attn"), j), (per_layer("dSᵀ·q"), i))
        scale = 1.0 / math.sqrt(hd)
    elif name == "attn_wv":  # through the weighted sum of V, per key
        through = f.att[l, :, h].swapaxes(-1, -2) @ P["dy"][l, :, h, :, e, None]  # (B, T, 1)
        names = ((per_layer("h_attn"), j), (per_layer("Aᵀ·dy"), i))
        scale = 1.0
    else:
        raise KeyError(tensor)
    return Factors(names, np.stack([inp, cells(through, 0)], 1), scale)


@dataclass(frozen=True)
class SoftmaxTerms:
    """One row of an attention weight's chain rule, its Σ_t written out over the window's cells t:
    ``parts[t] = (dS or A)[t] x other[t]``, summing to the row's second factor (dS·k, dSᵀ·q, Aᵀ·dy)."""

    kind: str  # "query" (attn_wq: the keys p read), "key" (attn_wk: the queries that read p), "value" (attn_wv)
    layer: int
    head: int
    column: int  # e: the column of the head's q, k or v the weight feeds
    position: int  # p's place in its window
    tokens: np.ndarray  # (n,) the window's tokens
    masked: np.ndarray  # (n,) True where the pair (query, key) is masked: A, dA's use, dS are 0 there
    att: np.ndarray  # (n,) A[p, t] for a query, A[t, p] for a key or value
    dA: np.ndarray | None  # (n,) dL/dA of the same cells (None for attn_wv: it does not go through)
    rowdot: np.ndarray | None  # (n,) Σ_u A[r, u] dA[r, u] of each cell's query row r
    dS: np.ndarray | None  # (n,) A ⊙ (dA - rowdot): dL/d(score); exactly 0 where masked
    other: np.ndarray  # (n,) k[t, e] (query), q[t, e] (key) or dy[t, e] (value)
    parts: np.ndarray  # (n,) dS x other (A x other for a value)
    total: float  # Σ parts: the row's factor


def softmax_terms(
    model: GPTLanguageModel, f: GPTForward, b: Backward, tensor: str, index: tuple[int, ...], row: int
) -> SoftmaxTerms | None:
    """Row ``row`` of ``factors(..., tensor, index)`` written out per cell of its window; None for a
    tensor that does not go through attention's softmax or weighted sum."""
    layer, _, name = tensor.partition(".")
    if name not in ("attn_wq", "attn_wk", "attn_wv"):
        return None
    l = int(layer.removeprefix("layer"))
    T, hd = f.inputs.shape[1], model.config.embed // model.config.heads
    h, e = divmod(index[0], hd)
    w, t = divmod(int(real_cells(f)[row]), T)
    n = int(f.lengths[w])
    cols = np.arange(n)
    P = b.pieces
    A, dA, dS = f.att[l, w, h, :n, :n], P["dA"][l, w, h, :n, :n], P["dS"][l, w, h, :n, :n]
    rowdot_all = (A * dA).sum(axis=1)  # (n,) per query row
    if name == "attn_wq":  # row t of the scores: every key u
        masked, att, da, ds, rowdot = cols > t, A[t], dA[t], dS[t], np.full(n, rowdot_all[t])
        other, kind = f.k[l, w, h, :n, e], "query"
    else:  # column t: every query u that reads key t
        masked, att, da, ds, rowdot = cols < t, A[:, t], dA[:, t], dS[:, t], rowdot_all
        other, kind = (f.q[l, w, h, :n, e], "key") if name == "attn_wk" else (P["dy"][l, w, h, :n, e], "value")
    if kind == "value":
        parts = att * other + 0.0
        return SoftmaxTerms(kind, l, h, e, t, f.inputs[w, :n].copy(), masked, att.copy(), None, None, None,
                            other.copy(), parts, float(parts.sum()))  # fmt: skip
    parts = ds * other + 0.0
    return SoftmaxTerms(kind, l, h, e, t, f.inputs[w, :n].copy(), masked, att.copy(), da.copy(), rowdot,
                        ds + 0.0, other.copy(), parts, float(parts.sum()))  # fmt: skip
