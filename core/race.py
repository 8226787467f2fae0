"""The MLP and the GPT on the same text, measured: each model trained from the same settings and seed
for the same number of steps, and their losses at the end (the attention lesson's race).

Each model takes its own default sizes (the MLP reads a window of 4 tokens, the GPT a block of
16), so the race compares what each model can see, not a size chosen for one of them. Nothing is
shared with the session the settings come from: both runs are fresh sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .config import SessionConfig
from .session import Session

#: the race's two models, in the order it reports them
RACERS = ("mlp", "gpt")
#: the longest race run (each step of each model is a full step)
MAX_RACE_STEPS = 1_000


@dataclass(frozen=True)
class Racer:
    """One model after the race: its window (tokens of context), its mean loss per position and
    its loss at each position of the last forward pass (reading order when the batch is the whole text)."""

    model: str
    context: int
    mean_loss: float
    losses: np.ndarray
    diverged: bool


@dataclass(frozen=True)
class Race:
    steps: int
    racers: tuple[Racer, ...]

    def of(self, model: str) -> Racer:
        return next(r for r in self.racers if r.model == model)


def race(config: SessionConfig, steps: int) -> Race:
    """Both models trained ``steps`` full steps (capped at ``MAX_RACE_STEPS``) from ``config``:
    its text, tokens, optimizer, learning rate and seed, each model at its own default sizes."""
    steps = max(0, min(int(steps), MAX_RACE_STEPS))
    out = []
    for model in RACERS:
        c = replace(config, model=model, context=None, embed_dim=None, undo_memory=0)
        s = Session.create(c)
        for _ in range(steps):
            if not s.train_step().ok:  # diverged: its last measured state stands
                break
        f = s.forward_result if s.forward_result is not None else s.compute_forward()
        mean = float(f.total_loss) / max(len(f.targets), 1)
        out.append(Racer(model, s.data.context_size, mean, f.losses.copy(), s.divergence is not None))
    return Race(steps, tuple(out))
