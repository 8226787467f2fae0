"""A dataset's positions as a transformer reads them: whole sentences, cut into windows.

A sentence is one sequence ``<BOS> w1 … wn`` (``<EOS>`` after it with ``--eos``); its positions
(one per predicted token, ``core.data.Dataset``) are its inputs ``<BOS> w1 … wn``. A sentence with
more inputs than the block is cut into consecutive windows of at most ``block`` inputs: window ``w``
holds the sentence's inputs ``w*block … (w+1)*block - 1``, read at positions ``0 … block - 1``.
Positions of a sentence are consecutive in the dataset, so a window is a range of positions.

``gather`` builds the (B, T) batch of windows a set of positions needs: each window only up to its
last requested position (attention is causal: nothing later changes it).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Layout:
    """Where every position of one dataset sits: ``window`` (P,) its window's index, ``offset`` (P,)
    its place in the window; ``start`` (W,) each window's first position, ``length`` (W,) its inputs;
    ``tokens`` (P,) the input token at each position."""

    window: np.ndarray
    offset: np.ndarray
    start: np.ndarray
    length: np.ndarray
    tokens: np.ndarray
    #: every window, whole (``gather(layout, None)``), once asked
    every: Batch | None = None


@dataclass(frozen=True)
class Batch:
    """Windows to run: ``tokens`` (B, T) (cells past a window's end are padding, never read by an
    earlier cell), ``lengths`` (B,) the real cells of each, ``cells`` (N,) the flat index ``b*T + t``
    of each requested position, in the order asked (None: every cell, in order)."""

    tokens: np.ndarray
    lengths: np.ndarray
    cells: np.ndarray | None


#: layouts by dataset and block (a dataset never changes: each is found once)
_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def layout(data, block: int) -> Layout:
    """The windows of ``data`` (a ``core.data.Dataset``) at ``block`` inputs each."""
    per_data = _LAYOUTS.setdefault(data, {})
    if block not in per_data:
        per_data[block] = _layout(data.sentence_of, data.index_in_sentence, data.contexts[:, -1], block)
    return per_data[block]


def _layout(sentence_of: np.ndarray, index: np.ndarray, tokens: np.ndarray, block: int) -> Layout:
    P = sentence_of.shape[0]
    n_pos = np.bincount(sentence_of)  # (S,) positions per sentence
    offset = index % block  # (P,)
    first = np.flatnonzero(offset == 0)  # (W,) each window's first position
    window = np.cumsum(offset == 0) - 1  # (P,)
    left = n_pos[sentence_of[first]] - index[first]  # (W,) inputs of the sentence from there on
    length = np.minimum(left, block)
    tokens = np.ascontiguousarray(tokens, dtype=np.intp)
    for a in (window, offset, first, length, tokens):
        a.flags.writeable = False
    assert first.shape[0] == 0 or P == int(length.sum())
    return Layout(window, offset, first, length, tokens)


def gather(lay: Layout, idx: np.ndarray | None) -> Batch:
    """The windows positions ``idx`` sit in (None: every window, whole), in dataset order."""
    if idx is None:  # the same every step of a full batch: made once
        if lay.every is None:
            object.__setattr__(lay, "every", _gather(lay, None))
        return lay.every
    return _gather(lay, idx)


def _gather(lay: Layout, idx: np.ndarray | None) -> Batch:
    if idx is None:
        wins = np.arange(lay.start.shape[0])
        need = lay.length
        cells_w, cells_t = lay.window, lay.offset
    else:
        idx = np.asarray(idx, dtype=np.intp)
        wins, inverse = np.unique(lay.window[idx], return_inverse=True)
        need = np.zeros(wins.shape[0], dtype=np.intp)
        np.maximum.at(need, inverse, lay.offset[idx] + 1)  # each window up to its last asked position
        cells_w, cells_t = inverse, lay.offset[idx]
    T = int(need.max())
    pos = lay.start[wins][:, None] + np.arange(T)  # (B, T) dataset positions of the cells
    real = np.arange(T) < need[:, None]  # (B, T)
    tokens = np.where(real, lay.tokens[np.minimum(pos, lay.tokens.shape[0] - 1)], 0)  # padding: token 0
    if idx is None:
        cells = None if int(need.min()) == T else lay.window * T + lay.offset
    else:
        cells = cells_w * T + cells_t
    return Batch(tokens, need.astype(np.intp), None if cells is None else cells.astype(np.intp))


def sample_windows(lay: Layout, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` positions as whole windows drawn without replacement (the last one drawn cut short
    at its end, so the batch has exactly ``size``; a window's start is what its cells read first),
    sorted."""
    order = rng.permutation(lay.start.shape[0])
    reach = np.cumsum(lay.length[order])
    k = min(int(np.searchsorted(reach, size)) + 1, order.shape[0])  # windows to reach ``size``
    chosen = order[:k]
    take = lay.length[chosen].copy()
    take[-1] -= max(0, int(reach[k - 1]) - size)  # (the last window: only as much as is missing)
    pos = np.concatenate([np.arange(a, a + t) for a, t in zip(lay.start[chosen], take, strict=True)])
    return np.sort(pos)
