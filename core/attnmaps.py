"""Attention as whole matrices, for the Attention pane: every head's A over the selected query's window.

``core.attention`` reads out one query's row; the pane draws every query of the window at once (rows
= queries, columns = keys), so it needs each head's whole matrix: A, and after ``b`` dA and dS, and
after an update (the forward pass right after it, on the same positions) A before it. Masked cells
(a key after its query) are exactly 0 in every matrix: A there is fixed by the mask, so nothing
flows through it (the backward pass's raw dA there is the product dY·V, which reaches no parameter,
and is set to 0 here so a learner never reads a gradient into a weight that cannot move).
Only a model with attention (the GPT) has these: every function returns None for one without.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .attention import forward_before_update
from .models import Backward, Forward, GPTConfig, GPTForward

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True, eq=False)
class AttentionMaps:
    """The selected query's window in every layer and head: arrays (L, H, n, n), rows = queries,
    columns = keys; masked cells (key > query) exactly 0 (``mask``)."""

    query: int  # the selected position's row (its place in the window)
    token_ids: np.ndarray  # (n,) the window's input tokens, keys in order
    att: np.ndarray  # A: softmax of q·k/√hd over the unmasked keys; each row sums to 1
    dA: np.ndarray | None  # after b: dL/dA (0 where masked)
    dS: np.ndarray | None  # after b: dL/dscores (0 where masked)
    before: np.ndarray | None  # right after an update: A before it (same positions)

    @property
    def mask(self) -> np.ndarray:
        """(n, n) True where the key is after the query (the softmax reads -inf there)."""
        n = self.token_ids.shape[0]
        return np.arange(n)[None, :] > np.arange(n)[:, None]

    @property
    def delta(self) -> np.ndarray | None:
        """ΔA = A after the update - A before it (None when there is no before)."""
        return None if self.before is None else self.att - self.before


@dataclass(frozen=True, eq=False)
class AttentionPart:
    """What the screen needs of attention at one position, whether a forward pass ran or not."""

    layers: int
    heads: int
    block: int  # inputs per window: a query sees its window's keys up to itself, no further back
    first_seen: int  # the sentence index of the window's first input (earlier ones are not seen)
    query_index: int  # the sentence index of the query's input token (the last one it sees)
    maps: AttentionMaps | None  # None before a forward pass


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def window_of(f: GPTForward, i: int) -> tuple[int, int, int]:
    """Row ``i`` of the forward pass as (window, query, n): its window in the batch, its place in
    it and the window's real cells."""
    T = f.inputs.shape[1]
    w, t = divmod(int(f.cells[i]), T)
    return w, t, int(f.lengths[w])


def attention_maps(f: Forward, i: int, b: Backward | None = None) -> AttentionMaps | None:
    """Row ``i``'s window in every head of ``f`` (with dA, dS from ``b``); None without attention."""
    if not isinstance(f, GPTForward):
        return None
    w, t, n = window_of(f, i)
    mask = np.arange(n)[None, :] > np.arange(n)[:, None]
    dA = dS = None
    if b is not None and "dS" in b.pieces:
        dA = np.where(mask, 0.0, b.pieces["dA"][:, w, :, :n, :n])
        dS = np.where(mask, 0.0, b.pieces["dS"][:, w, :, :n, :n]) + 0.0  # (+ 0.0: never -0)
    return AttentionMaps(
        query=t,
        token_ids=_frozen(f.inputs[w, :n]),
        att=_frozen(f.att[:, w, :, :n, :n]),
        dA=None if dA is None else _frozen(dA),
        dS=None if dS is None else _frozen(dS),
        before=None,
    )


def _before(s: Session, i: int) -> np.ndarray | None:
    """A before the last update, when the state is the forward pass right after it on the same
    positions (as ``core.readout.before_after``); None otherwise."""
    before = forward_before_update(s)
    if before is None:
        return None
    old = attention_maps(before, i)
    return None if old is None else old.att


def attention_part(s: Session, i: int, sentence_index: int) -> AttentionPart | None:
    """The attention part of the frame at row ``i`` (whose query is input ``sentence_index`` of its
    sentence); None for a model without attention."""
    cfg = getattr(s.model, "config", None)
    if not isinstance(cfg, GPTConfig):
        return None
    f = s.forward_result
    maps = None
    if f is not None:
        maps = attention_maps(f, i, s.backward_result if s.phase == "backward" else None)
        if maps is not None and (old := _before(s, i)) is not None:
            maps = AttentionMaps(maps.query, maps.token_ids, maps.att, maps.dA, maps.dS, _frozen(old))
    return AttentionPart(
        layers=int(cfg.layers),
        heads=int(cfg.heads),
        block=int(cfg.block),
        first_seen=sentence_index // cfg.block * cfg.block,
        query_index=sentence_index,
        maps=maps,
    )
