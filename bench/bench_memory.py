"""The timeline's time and memory: goto anywhere in a long session, memory per step, long runs.

    python bench/bench_memory.py                 # 100,000-step goto; 20,000 vs 200,000 steps
    python bench/bench_memory.py --quick         # 10,000-step goto; 2,000 vs 20,000 steps
    python bench/bench_memory.py --long          # issue 23's figures: 3. and 4. below (11 minutes)
    python bench/bench_memory.py --long --play-minutes 2   # a shorter Play

1. goto: a lesson (S) session trained 100,000 steps with the app's timeline memory
   (64 MiB of checkpoints), then ``goto`` to 200 random steps; median and 90th
   percentile in ms, and as a ratio to one training step measured in the same run.
   One goto in ten is checked bit for bit against a fresh run to that step.
2. memory: the resident memory a process holds after a headless-style run
   (``undo_memory=0``, as ``tui-trainer train``) of N and 10 N steps, and with the
   app's timeline memory; each in a fresh child process (VmRSS after the run and
   ``malloc_trim``, so the figure is what is held, not a peak or the allocator's
   cache). The difference is the cost of the steps: history columns, command log.
3. peaks (``--long``): ``tui-trainer train --steps 1000000`` and ``train --steps 200000 --export
   h.json`` as whole processes under ``/usr/bin/time -v`` ("Maximum resident set size").
4. Play (``--long``): the app (120x36, headless under Textual's Pilot: the same worker, progress
   messages, frames and panes as on a terminal) plays for ``--play-minutes`` (10); the resident
   memory, the step and the history's rows and stride every minute. ``--play-steps N``: Play's
   code path without the screen at full speed (as many steps as 10 minutes of Play take: 8 million
   at 14k steps/s), the resident memory at every tenth of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def peak(argv: list[str]) -> tuple[float, float]:
    """A whole ``tui-trainer`` process's peak resident memory (MiB) and wall time (s)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r = subprocess.run(
            ["/usr/bin/time", "-v", sys.executable, "-m", "tui_trainer", *argv],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
    kb = next(int(line.split()[-1]) for line in r.stderr.splitlines() if "Maximum resident set size" in line)
    return kb / 1024, wall


def bench_peaks() -> None:
    for argv in (["train", "--steps", "1000000"], ["train", "--steps", "200000", "--export", "h.json"]):
        mib, wall = peak(argv)
        print(f"tui-trainer {' '.join(argv)}: peak {mib:.1f} MiB ({mib * 2**20 / 1e6:.1f} MB), {wall:.0f} s")


def rss_mib() -> float:
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS")) / 1024


async def _play(minutes: float) -> None:
    from tui_trainer.app import TrainerApp

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        print(f"  before Play: {rss_mib():.1f} MiB")
        await pilot.press("space")
        t0 = time.monotonic()
        for m in range(1, int(minutes) + 1):
            await asyncio.sleep(max(0.0, t0 + 60 * m - time.monotonic()))
            s = app.session
            with s.lock:
                step, h = s.step, s.timeline.cur.history
                rows, stride, tl = h.n, h.stride, s.timeline_bytes()
            print(
                f"  minute {m:>2}: {rss_mib():6.1f} MiB, step {step:>10,}, history {rows:,} rows "
                f"(older every {stride}), timeline {tl / 2**20:.1f} MiB",
                flush=True,
            )
        await pilot.press("space")
        await app.workers.wait_for_complete()


def bench_play_steps(steps: int) -> None:
    """Play's code path without the screen, at full speed: the app's session (64 MiB of undo), runs
    of ``PLAY_CHUNK`` steps, the runner's progress check after each step and a frame built every
    ``PROGRESS_INTERVAL`` (what a refresh reads); the resident memory at every tenth of the steps."""
    from core import Session
    from core.frame import build_frame
    from tui_trainer.runner import PLAY_CHUNK, PROGRESS_INTERVAL

    s = Session.create()
    print(f"Play's code path headless for {steps:,} steps (a frame every {PROGRESS_INTERVAL} s):")
    print(f"  before: {rss_mib():.1f} MiB")
    next_frame, next_report, t0 = time.monotonic(), steps // 10, time.perf_counter()

    def on_step(_s: Session) -> None:
        nonlocal next_frame, next_report
        now = time.monotonic()
        if now >= next_frame:
            next_frame = now + PROGRESS_INTERVAL
            build_frame(s, 0)
        if s.step >= next_report:
            next_report += steps // 10
            h = s.timeline.cur.history
            print(
                f"  step {s.step:>10,}: {rss_mib():6.1f} MiB, history {h.n:,} rows (older every {h.stride}), "
                f"timeline {s.timeline_bytes() / 2**20:.1f} MiB, {s.step / (time.perf_counter() - t0):,.0f} steps/s",
                flush=True,
            )

    while s.step < steps:
        s.run(min(PLAY_CHUNK, steps - s.step), on_step=on_step)


def bench_play(minutes: float) -> None:
    print(f"Play in the app (120x36, Pilot), the resident memory every minute for {minutes:g} minutes:")
    asyncio.run(_play(minutes))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a tenth of the steps")
    p.add_argument("--long", action="store_true", help="issue 23's figures: long runs' peaks and a Play")
    p.add_argument("--play-minutes", type=float, default=10, help="how long the Play lasts (--long)")
    p.add_argument("--play-steps", type=int, help="only Play's code path headless, this many steps at full speed")
    args = p.parse_args()
    if args.play_steps:
        bench_play_steps(args.play_steps)
        return
    if args.long:
        bench_peaks()
        bench_play(args.play_minutes)
        return
    bench_goto(10_000 if args.quick else 100_000)
    bench_memory(2_000 if args.quick else 20_000)


if __name__ == "__main__":
    main()
