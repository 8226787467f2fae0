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
