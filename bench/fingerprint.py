"""A hash of everything five scripted sessions compute: run it in two checkouts to check
that a change keeps every number bit for bit.

    OPENBLAS_NUM_THREADS=1 python bench/fingerprint.py                  # this checkout
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=/tmp/prev python bench/fingerprint.py   # another one

The sessions: the lesson with SGD, with Adam, with momentum and clipping; a generated text
of 300 words in 64-position batches, float64 with SGD and float32 with Adam. Each runs 150
steps and a backward pass, then goes to step 37 and undoes twice; every parameter, result,
update and history column is hashed. Compare hashes made with the same number of BLAS
threads (with two threads OpenBLAS's results varied between runs on these machines).

A second line hashes GPT sessions the same way (``--model gpt``: the lesson with SGD, two layers
with Adam and clipping, the generated text in 64-position batches), when the checkout has the GPT;
the first line stays comparable with checkouts from before it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

# appended, not prepended: a checkout named by PYTHONPATH comes first
sys.path.append(str(Path(__file__).resolve().parent.parent))

from core import Session


def text() -> str:
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)]
    return "\n".join(" ".join(rng.choice(words, size=rng.integers(4, 12))) + "." for _ in range(400))


def main() -> None:
    import core
    from core.models import MODELS

    t = text()
    runs = [
        dict(),
        dict(optimizer="adam"),
        dict(optimizer="momentum", clip=0.5),
        dict(text=t, batch_positions=64, dtype="float64"),
        dict(text=t, batch_positions=64, dtype="float32", optimizer="adam"),
    ]
    print(f"{fingerprint(runs)}  ({Path(core.__file__).parent})")
    if "gpt" in MODELS:
        gpt = [
            dict(model="gpt"),
            dict(model="gpt", layers=2, optimizer="adam", clip=0.5),
            dict(model="gpt", text=t, batch_positions=64, context=8, dtype="float64"),
        ]
        print(f"{fingerprint(gpt)}  (gpt)")


def fingerprint(runs: list[dict]) -> str:
    h = hashlib.sha256()

    def add(*arrays) -> None:
        for a in arrays:
            h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())

    for kw in runs:
        s = Session.create(**kw)
        s.run(150)
        s.backward()
        f, b, u = s.forward_result, s.backward_result, s.last_update
        add(s.model.params, f.probs, f.losses, f.logits, b.grads, b.dlogits, u.grad, u.delta)
        add([u.grad_norm, u.clip_factor, u.predicted_change])
        for name in ("total_loss", "mean_loss", "grad_norm", "lr", "clip_factor", "val_loss"):
            add(s.history.column(name))
        add(s.history.column("target_probs"), s.history.column("position_losses"))
        s.goto(37)
        add(s.model.params, s.forward_result.probs)
        s.undo()
        s.undo()
        add(s.model.params)
    return h.hexdigest()


if __name__ == "__main__":
    main()
