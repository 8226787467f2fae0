"""Softmax, log-softmax, cross-entropy and perplexity, numerically stable.

The lesson's three softmax steps are ``exp``, ``sum`` and ``divide``; we
subtract each row's maximum first, which changes nothing mathematically
(it cancels in the division) but keeps ``exp`` from overflowing for large
logits such as 1000.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Probabilities: exp(logit) / sum(exp(logits)) along ``axis``."""
    x = np.asarray(logits)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """log(softmax(logits)) without computing a log of an underflowed 0."""
    x = np.asarray(logits)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (N, V) and per-position losses -log P(target) (N,) in one pass:
    the model's forward pass uses this.

    The same numbers as ``softmax`` and ``cross_entropy`` (the tests check it), fused:
    one new N x V array (the shifted logits become the probabilities in place) and one
    ``exp`` over N x V, where ``log_softmax`` then ``exp`` would take two. That matters
    for large vocabularies, where this exp is most of a step (bench/README.md).
    ``rows`` is ``np.arange(N)`` (the caller keeps one); ``logits`` is not changed.
    """
    shifted = logits - np.maximum.reduce(logits, axis=1, keepdims=True)  # (N, V) each row's max is 0
    target_shifted = shifted[rows, targets]  # (N,) picked before exp overwrites it
    probs = np.exp(shifted, out=shifted)  # (N, V) e^shifted
    s = np.add.reduce(probs, axis=1, keepdims=True)  # (N, 1)
    probs /= s  # (N, V)
    losses = np.log(s[:, 0])  # (N,) -log P(target) = log(sum e^shifted) - shifted[target]
    losses -= target_shifted
    return probs, losses


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-position loss -log P(target), shape (N,), for logits (N, V) and target ids (N,).

    No reduction: the lesson sums these over positions (``total``), perplexity
    uses their mean.
    """
    logp = log_softmax(np.atleast_2d(logits))
    t = np.atleast_1d(np.asarray(targets, dtype=np.intp))
    return -logp[np.arange(t.shape[0]), t]


def perplexity(mean_loss: float) -> float:
    """exp(mean loss per position): the number of words the model is 'choosing between'."""
    return float(np.exp(mean_loss)) if mean_loss < 700 else float("inf")
