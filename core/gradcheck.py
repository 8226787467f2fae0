"""Finite-difference check of the analytic gradients.

For each parameter x_i: (L(x_i + eps) - L(x_i - eps)) / (2 eps). Each tensor's
analytic gradient a is compared with the numeric one n by the relative error
||a - n|| / (||a|| + ||n||): per tensor rather than per entry, because an entry
whose gradient is ~1e-9 has a numeric estimate dominated by rounding.
Run it in float64: in float32 the rounding of L swamps the difference.
"""

from __future__ import annotations

import numpy as np

from .models import LanguageModel


def gradcheck(
    model: LanguageModel,
    ctx: np.ndarray,
    targets: np.ndarray,
    eps: float = 1e-5,
    max_per_tensor: int | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> dict[str, float]:
    """Relative error per tensor between analytic and numeric gradients.

    ``max_per_tensor`` checks a random sample of entries of large tensors; ``scale``
    checks the gradient of ``scale`` x the summed loss (1/N: the mean).
    The parameters are left exactly as they were.
    """
    analytic = model.backward(model.forward(ctx, targets), scale).grads
    rng = np.random.default_rng(seed)
    out = {}
    for name, (sl, _) in model.slices.items():
        idx = np.arange(sl.start, sl.stop)
        if max_per_tensor is not None and idx.size > max_per_tensor:
            idx = rng.choice(idx, size=max_per_tensor, replace=False)
        num = np.empty(idx.size)
        for j, i in enumerate(idx):
            old = model.params[i]
            model.params[i] = old + eps
            up = scale * model.forward(ctx, targets).losses.sum()
            model.params[i] = old - eps
            down = scale * model.forward(ctx, targets).losses.sum()
            model.params[i] = old
            num[j] = (up - down) / (2 * eps)
        a = analytic[idx]
        out[name] = float(np.linalg.norm(a - num) / max(np.linalg.norm(a) + np.linalg.norm(num), 1e-300))
    return out
