"""Train-step throughput of the NumPy core vs PyTorch eager and a scalar autograd.

    python bench/bench_step.py            # S, M, L; 1 thread and default threads
    python bench/bench_step.py --sizes S  # one size

Every figure is a ratio taken in this run (machines are noisy): the best of
several interleaved rounds of each contender. The same model, initial weights
(copied from the core) and data go to every contender; a step is forward,
summed cross-entropy, backward, SGD update. PyTorch is optional (only
``torch==2.13.0``); without it only our figures are printed.

For S, ``train`` is the headless command ``tui-trainer train --steps 2000`` (the
lesson's session, no undo memory, its table printed into a buffer), called in-process:
its steps/s over whole calls, start-up included.

Sizes: S = the lesson's model (V 12, d 8, H 16, 4 positions, float64);
M = V 1,000, d 64, H 128, 16 sequences x 32 positions (float32);
L = V 10,000, d 128, H 256, 32 x 64 positions (float32). Context k = 4.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SIZES, best_rate, blas_info, make_session, step_flops, threads

try:
    import torch
except ImportError:  # the bench runs without it: our figures only
    torch = None

LR = 0.01


def numpy_step(session):
    m, opt = session.model, session.optimizer
    ctx, y = session.data.contexts, session.data.targets

    def step():
        b = m.backward(m.forward(ctx, y))
        opt.step(m.params, b.grads, LR)

    return step


def torch_step(session):
    p = session.model.p
    dt = torch.float64 if session.model.dtype == np.float64 else torch.float32
    V, d = p["embedding"].shape
    H1, H2 = p["layer1.W"].shape[1], p["layer2.W"].shape[1]
    E = torch.nn.Embedding(V, d, dtype=dt)
    l1 = torch.nn.Linear(p["layer1.W"].shape[0], H1, dtype=dt)
    l2 = torch.nn.Linear(H1, H2, dtype=dt)
    lo = torch.nn.Linear(H2, V, dtype=dt)
    with torch.no_grad():
        E.weight.copy_(torch.from_numpy(p["embedding"]))
        for lin, name in ((l1, "layer1"), (l2, "layer2"), (lo, "output")):
            lin.weight.copy_(torch.from_numpy(p[f"{name}.W"].T.copy()))
            lin.bias.copy_(torch.from_numpy(p[f"{name}.b"]))
    params = [*E.parameters(), *l1.parameters(), *l2.parameters(), *lo.parameters()]
    opt = torch.optim.SGD(params, lr=LR)
    ctx = torch.from_numpy(session.data.contexts)
    y = torch.from_numpy(session.data.targets)
    N = y.shape[0]

    def step():
        opt.zero_grad(set_to_none=True)
        h1 = torch.tanh(l1(E(ctx).view(N, -1)))
        h2 = torch.tanh(l2(h1))
        loss = torch.nn.functional.cross_entropy(lo(h2), y, reduction="sum")
        loss.backward()
        opt.step()
        return loss

    return step


#: steps per call of the headless command: its start (parsing, the session) is then under 1%
TRAIN_STEPS = 2000


def train_command(size: str):
    """What ``tui-trainer train --steps N`` does after start-up (S only: the lesson's session),
    its table printed into a buffer; one call is ``TRAIN_STEPS`` steps."""
    from tui_trainer.cli import main as cli_main

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(["train", "--steps", str(TRAIN_STEPS), "--lr", str(LR), "--reduction", "sum"]) == 0

    return run


def matmul_gflops(dtype, seconds: float) -> float:
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(dtype)
    rates: list[float] = []
    for _ in range(3):
        best_rate(lambda: a @ a, seconds, rates)
    return max(rates) * 2 * 1024**3 / 1e9


def check_same_losses(size: str) -> str:
    """One step of each from the same start: the losses agree (a sanity check, not a figure)."""
    if torch is None:
        return ""
    s1, s2 = make_session(size), make_session(size)
    f = s1.model.forward(s1.data.contexts, s1.data.targets)
    t = float(torch_step(s2)().detach())
    return f"start loss numpy {f.total_loss:.6g} torch {t:.6g}"


def bench_size(size: str, nthreads: int | None, seconds: float, rounds: int, micrograd: bool) -> dict:
    out: dict = {}
    with threads(nthreads):
        if torch is not None:
            torch.set_num_threads(nthreads or os.cpu_count() or 1)
        s_np, s_sess = make_session(size), make_session(size, undo=True)
        contenders = {"numpy": numpy_step(s_np), "session": s_sess.train_step}
        if size == "S":
            contenders["train"] = train_command(size)
        if torch is not None:
            contenders["torch"] = torch_step(make_session(size))
        rates: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(rounds):  # interleaved, so a noisy second hits all alike
            for k, fn in contenders.items():
                best_rate(fn, seconds, rates[k])
        out = {k: max(v) for k, v in rates.items()}
        if "train" in out:
            out["train"] *= TRAIN_STEPS
        if micrograd:
            from scalar_autograd import ScalarMLP

            sm = ScalarMLP(make_session(size).model.p)
            ctx, y = s_np.data.contexts, s_np.data.targets
            r: list[float] = []
            best_rate(lambda: sm.step(ctx, y, LR), seconds, r)
            out["scalar"] = r[0]
        if SIZES[size]["dtype"] == "float32":
            out["matmul_gflops"] = matmul_gflops(np.float32, min(seconds, 0.5))
            out["step_gflops"] = out["numpy"] * step_flops(s_np.model, s_np.data.n_positions) / 1e9
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--threads", default="1,default", help="comma list: numbers or 'default'")
    ap.add_argument("--seconds", type=float, default=None, help="per round and contender")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}; {blas_info()}")
    print(
        f"{'size':4} {'threads':7} {'core steps/s':>12} {'session':>9} {'torch':>9} {'core/torch':>10} "
        f"{'session/torch':>13} {'train/torch':>11} {'core/scalar':>11} {'GFLOP/s':>8} {'of 1024mm':>9}"
    )
    for size in args.sizes.split(","):
        print(f"# {size}: {check_same_losses(size)}", flush=True)
        for th in args.threads.split(","):
            n = None if th == "default" else int(th)
            secs = args.seconds or {"S": 0.4, "M": 0.6, "L": 1.5}[size]
            r = bench_size(size, n, secs, args.rounds if size != "L" else 2, micrograd=(size == "S" and n == 1))
            t = r.get("torch")
            cells = [
                f"{size:4}",
                f"{th:7}",
                f"{r['numpy']:12.1f}",
                f"{r['session']:9.1f}",
                f"{t:9.1f}" if t else f"{'-':>9}",
                f"{r['numpy'] / t:9.2f}x" if t else f"{'-':>10}",
                f"{r['session'] / t:12.2f}x" if t else f"{'-':>13}",
                f"{r['train'] / t:10.2f}x" if t and "train" in r else f"{'-':>11}",
                f"{r['numpy'] / r['scalar']:10.0f}x" if "scalar" in r else f"{'-':>11}",
                f"{r['step_gflops']:8.1f}" if "step_gflops" in r else f"{'-':>8}",
                f"{r['step_gflops'] / r['matmul_gflops']:8.0%}" if "step_gflops" in r else f"{'-':>9}",
            ]
            print(" ".join(cells), flush=True)
            if "matmul_gflops" in r:
                print(f"     1024x1024 float32 matmul in this run: {r['matmul_gflops']:.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
