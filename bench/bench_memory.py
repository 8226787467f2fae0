"""The timeline's time and memory: goto anywhere in a long session, memory per step.

    python bench/bench_memory.py                 # 100,000-step goto; 20,000 vs 200,000 steps
    python bench/bench_memory.py --quick         # 10,000-step goto; 2,000 vs 20,000 steps

1. goto: a lesson (S) session trained 100,000 steps with the app's timeline memory
   (64 MiB of checkpoints), then ``goto`` to 200 random steps; median and 90th
   percentile in ms, and as a ratio to one training step measured in the same run.
   One goto in ten is checked bit for bit against a fresh run to that step.
2. memory: the resident memory a process holds after a headless-style run
   (``undo_memory=0``, as ``tui-trainer train``) of N and 10 N steps, and with the
   app's timeline memory; each in a fresh child process (VmRSS after the run and
   ``malloc_trim``, so the figure is what is held, not a peak or the allocator's
   cache). The difference is the cost of the steps: history columns, command log.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import Session  # noqa: E402

CHILD = """
import ctypes, gc, json, sys
sys.path.insert(0, {root!r})
from core import Session
s = Session.create(undo_memory={memory})
s.run({steps})
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed memory the allocator still caches is not held
rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS'))
print(json.dumps({{"rss_kb": rss, "timeline_bytes": s.timeline_bytes(), "history_rows": len(s.history)}}))
"""


def held(steps: int, memory: int) -> dict:
    code = CHILD.format(root=str(ROOT), memory=memory, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def bench_goto(steps: int, n: int = 200) -> None:
    s = Session.create()
    t0 = time.perf_counter()
    s.run(steps)
    per_step = (time.perf_counter() - t0) / steps
    rng = np.random.default_rng(0)
    targets = rng.integers(0, steps + 1, size=n)
    times = []
    for i, k in enumerate(targets):
        t0 = time.perf_counter()
        r = s.goto(int(k))
        times.append(time.perf_counter() - t0)
        assert r.ok and s.step == k
        if i % 10 == 0 and k <= 20_000:  # a fresh run to step k is the reference
            ref = Session.create(undo_memory=0)
            ref.run(int(k))
            assert np.array_equal(ref.model.params, s.model.params), k
    med = statistics.median(times)
    p90 = sorted(times)[int(0.9 * n)]
    tl = s.timeline
    print(
        f"goto in a {steps:,}-step session: median {med * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms "
        f"({med / per_step:.0f} / {p90 / per_step:.0f} training steps of {per_step * 1e6:.0f} us); "
        f"{tl.checkpoint_count():,} checkpoints every {tl.stride} commands, "
        f"{tl.bytes / 2**20:.1f} MiB of {s.config.undo_memory / 2**20:.0f} MiB"
    )


def bench_memory(small: int) -> None:
    big = 10 * small
    for memory, label in ((0, "headless (undo_memory=0)"), (64 * 2**20, "app (undo_memory 64 MiB)")):
        a, b = held(small, memory), held(big, memory)
        diff = (b["rss_kb"] - a["rss_kb"]) / 1024
        per = (b["rss_kb"] - a["rss_kb"]) * 1024 / (big - small)
        print(
            f"{label}: {small:,} steps hold {a['rss_kb'] / 1024:.1f} MiB, {big:,} steps {b['rss_kb'] / 1024:.1f} MiB: "
            f"+{diff:.1f} MiB ({per:.0f} bytes a step; timeline {a['timeline_bytes'] / 2**20:.1f} -> "
            f"{b['timeline_bytes'] / 2**20:.1f} MiB)"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the steps")
    args = p.parse_args()
    bench_goto(10_000 if args.quick else 100_000)
    bench_memory(2_000 if args.quick else 20_000)


if __name__ == "__main__":
    main()
