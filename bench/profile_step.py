"""Where the microseconds of one S (lesson) training step go, line by line.

    python bench/profile_step.py            # 1 BLAS thread, best of 5 x 20,000 calls each

Each row is one piece of a ``Session.train_step`` at steady state (the phase is
``forward``: the step is backward, update, forward), timed on its own with
``timeit`` on the session's own arrays, best of several repeats. The pieces add
up to about the measured step (the last rows compare). Not a test: numbers vary
with the machine; read them as shares.
"""

from __future__ import annotations

import os
import sys
import timeit
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_session

from core.losses import softmax_cross_entropy  # noqa: F401 (timed by name)


def us(stmt: str, ns: dict, number: int = 20_000) -> float:
    return min(timeit.repeat(stmt, globals=ns, number=number, repeat=5)) / number * 1e6


def main() -> None:
    s = make_session("S", undo=True)
    s.run(200)
    m, d = s.model, s.data
    p, g = m.p, m.g
    f = s.forward_result
    N, rows = f.targets.shape[0], m.rows(f.targets.shape[0])
    dl = f.probs.copy()
    dx = np.ones_like(f.x)
    z1 = f.x @ p["layer1.W"]
    gE = g["embedding"]
    ns = dict(globals(), **locals())
    forward = {
        "embeddings: E.take(ctx) (N, k*d)": 'p["embedding"].take(f.ctx, axis=0).reshape(N, -1)',
        "layer1: x @ W1": 'f.x @ p["layer1.W"]',
        "layer1: + b1 (broadcast)": 'z1 + p["layer1.b"]',
        "layer1: tanh": "np.tanh(z1)",
        "layer2: h1 @ W2 + b2, tanh": 'np.tanh(f.h1 @ p["layer2.W"] + p["layer2.b"])',
        "output: h2 @ Wo + bo": 'f.h2 @ p["output.W"] + p["output.b"]',
        "softmax + losses (fused, 8 NumPy calls)": "softmax_cross_entropy(f.logits, f.targets, rows)",
        "Forward(...) record": "type(f)(f.ctx, f.targets, f.logits, f.probs, f.losses, f.x, f.h1, f.h2)",
    }
    backward = {
        "dlogits = P.copy(); [rows, targets] -= 1": "d = f.probs.copy(); d[rows, f.targets] -= 1.0",
        "output: np.dot(h2.T, dlogits, out=) ": 'np.dot(f.h2.T, dl, out=g["output.W"])',
        "output: bias sum (np.add.reduce)": 'np.add.reduce(dl, axis=0, out=g["output.b"])',
        "output: dh2 = dlogits @ Wo.T": 'dl @ p["output.W"].T',
        "scale (mean): 3 multiplies": 'g["output.W"] *= 1.0; g["output.b"] *= 1.0; np.multiply(dx, 1.0, out=dx)',
        "tanh': dh * (1 - h*h) (one layer)": "dx * (1.0 - f.x * f.x)",
        "embedding: zero + np.add.at": "gE[...] = 0.0; np.add.at(gE, f.ctx.ravel(), dx.reshape(-1, 8))",
        "Backward(grads.copy(), ...) record": "type(s.backward_result)(m.grads.copy(), {}, m.slices, 0.25)"
        if s.backward_result is not None
        else "m.grads.copy()",
    }
    print(f"S step pieces, microseconds (load: {os.getloadavg()[0]:.2f})")
    for title, rows_ in (("forward", forward), ("backward (selected lines)", backward)):
        print(f"  {title}")
        for label, stmt in rows_.items():
            print(f"    {label:44} {us(stmt, ns):6.2f}")
    totals = {
        "model.forward": "m.forward(d.contexts, d.targets)",
        "model.backward (scale 1/N)": "m.backward(f, 0.25)",
        "optimizer.step (SGD)": "opt.step(m.params, m.grads, 0.0)",
    }
    ns["opt"] = s.optimizer
    print("  totals")
    core = 0.0
    for label, stmt in totals.items():
        t = us(stmt, ns)
        core += t
        print(f"    {label:44} {t:6.2f}")
    print(f"    {'core step (sum of the three)':44} {core:6.2f}")
    sess = make_session("S", undo=True)
    sess.run(200)
    bare = make_session("S")
    bare.run(200)
    t_undo = us("sess.train_step()", dict(ns, sess=sess), 5000)
    t_bare = us("bare.train_step()", dict(ns, bare=bare), 5000)
    print(f"    {'Session.train_step, no undo memory':44} {t_bare:6.2f}  bookkeeping {t_bare - core:5.1f}")
    print(f"    {'Session.train_step, 64 MiB undo memory':44} {t_undo:6.2f}  bookkeeping {t_undo - core:5.1f}")
    print(f"  bookkeeping share of a Session step (undo): {(t_undo - core) / t_undo:.0%}")


if __name__ == "__main__":
    main()
