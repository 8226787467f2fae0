"""The validation loss: the mean loss on held-out sentences, measured quickly.

Texts larger than one batch hold a share of their sentences out (``SessionConfig.val_fraction``);
the session measures them every ``val_every`` steps. At most ``positions()`` of them are measured,
spread evenly, so a large text or vocabulary does not stall training.
"""

from __future__ import annotations

import math

import numpy as np

from .data import Dataset
from .models import LanguageModel

#: Validation positions measured at most (evenly spread over the held-out sentences).
MAX_VAL_POSITIONS = 2048
#: ... and logits (positions x vocabulary): 2,048 positions of a 4,096-word vocabulary. A larger
#: vocabulary measures fewer positions, but not fewer than a training batch (up to the 2,048): at
#: 50,000 words the 2,048 took 3 s on one core, six training steps' worth, each time.
MAX_VAL_LOGITS = 2048 * 4096


def positions(vocab_size: int, batch_positions: int) -> int:
    """The most held-out positions one validation loss measures."""
    by_cost = MAX_VAL_LOGITS // vocab_size
    return min(MAX_VAL_POSITIONS, max(batch_positions, by_cost))


def loss(model: LanguageModel, val: Dataset | None, cap: int) -> float:
    """The mean loss of ``model`` on at most ``cap`` of ``val``'s positions (NaN without them)."""
    if val is None:
        return math.nan
    idx = np.arange(val.n_positions)
    if idx.size > cap:
        idx = np.linspace(0, val.n_positions - 1, cap).astype(np.intp)
    f = model.forward_at(val, idx)
    return float(f.losses.mean())
