"""The headless command against a PyTorch eager script doing the same, as whole processes.

    python bench/bench_train.py                 # --steps 20000, 3 interleaved rounds
    python bench/bench_train.py --steps 5000 --rounds 5
    python bench/bench_train.py --against /tmp/prev   # also the command of another checkout

``tui-trainer train --steps N --lr 0.01 --reduction sum`` (the lesson's sentence and
model) and ``python bench/bench_train.py --torch-child N`` (the same model, initial
weights and data, summed cross-entropy, SGD at 0.01, a line printed every N/10
steps) each run as a process from start to exit, one after the other, ``--rounds``
times, with one BLAS / PyTorch thread. The figure is the ratio of the median wall
times (PyTorch's import, about a second, is part of its command as ``tui-trainer``'s
start is of ours), and the same for the loops alone (each process reports it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LR = 0.01


def torch_child(steps: int) -> None:
    """The PyTorch side: prints the loop's seconds last."""
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    import torch
    from _common import make_session
    from bench_step import torch_step

    torch.set_num_threads(1)
    step = torch_step(make_session("S"))
    every = max(1, steps // 10)
    t0 = time.perf_counter()
    for k in range(steps):
        loss = step()
        if k % every == 0:
            print(f"{k:>6}  {float(loss.detach()):.4f}")
    print(f"loop {time.perf_counter() - t0:.6f}")


def run(cmd: list[str], pythonpath: Path | None = None) -> tuple[float, float | None]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if pythonpath is not None:  # (ahead of the installed checkout on sys.path)
        env["PYTHONPATH"] = str(pythonpath)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    wall = time.perf_counter() - t0
    last = out.strip().splitlines()[-1]
    return wall, float(last.split()[1]) if last.startswith("loop ") else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against", type=Path, default=None, help="a checkout of another commit: its command too")
    ap.add_argument("--torch-child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.torch_child is not None:
        torch_child(args.torch_child)
        return 0
    ours_cmd = [sys.executable, "-m", "tui_trainer", "train", "--steps", str(args.steps), "--lr", str(LR)]
    ours_cmd += ["--reduction", "sum"]
    # the loop alone: the same command in-process, timed around Session.run (see run_loop below)
    loop_cmd = [sys.executable, str(Path(__file__).resolve()), "--ours-loop", str(args.steps)]
    torch_cmd = [sys.executable, str(Path(__file__).resolve()), "--torch-child", str(args.steps)]
    ours, theirs, ours_loop, theirs_loop, other = [], [], [], [], []
    for _ in range(args.rounds):  # interleaved: a noisy second hits both alike
        ours.append(run(ours_cmd)[0])
        if args.against is not None:
            other.append(run(ours_cmd, args.against.resolve())[0])
        w, loop = run(torch_cmd)
        theirs.append(w)
        theirs_loop.append(loop)
        ours_loop.append(run(loop_cmd)[1])
    med = statistics.median
    print(f"{args.steps:,} steps of the lesson's model, 1 thread, {args.rounds} interleaved rounds (median):")
    print(f"  tui-trainer train  {med(ours):6.2f} s   (rounds {', '.join(f'{x:.2f}' for x in ours)})")
    print(f"  PyTorch eager      {med(theirs):6.2f} s   (rounds {', '.join(f'{x:.2f}' for x in theirs)})")
    print(f"  whole command: tui-trainer {med(theirs) / med(ours):.2f}x faster")
    if other:
        print(
            f"  {args.against!s:18} {med(other):6.2f} s   (rounds {', '.join(f'{x:.2f}' for x in other)}): "
            f"{med(theirs) / med(other):.2f}x faster than PyTorch; this checkout {med(other) / med(ours):.2f}x faster"
        )
    print(
        f"  loops alone: ours {args.steps / med(ours_loop):,.0f} steps/s, PyTorch {args.steps / med(theirs_loop):,.0f}"
        f" steps/s: {med(theirs_loop) / med(ours_loop):.2f}x"
    )
    return 0


def ours_loop(steps: int) -> None:
    """``tui-trainer train``'s loop alone: ``cli.main`` with ``Session.run`` timed."""
    sys.path.insert(0, str(HERE.parent))
    import io
    from contextlib import redirect_stdout

    from core import Session
    from tui_trainer.cli import main as cli_main

    spent = [0.0]
    real_run = Session.run

    def timed(self, *a, **kw):
        t0 = time.perf_counter()
        try:
            return real_run(self, *a, **kw)
        finally:
            spent[0] += time.perf_counter() - t0

    Session.run = timed
    with redirect_stdout(io.StringIO()):
        assert cli_main(["train", "--steps", str(steps), "--lr", str(LR), "--reduction", "sum"]) == 0
    print(f"loop {spent[0]:.6f}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--ours-loop":
        ours_loop(int(sys.argv[2]))
        raise SystemExit(0)
    raise SystemExit(main())
