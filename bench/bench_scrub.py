"""Scrubbing through time in the app: a key press that moves the cursor, repainted.

    python bench/bench_scrub.py             # a 100,000-step lesson session
    python bench/bench_scrub.py --steps 10000

The session is trained headless first (the app's timeline memory, 64 MiB), then the app
(120x36, headless Pilot) takes 40 presses each of:

- ``<`` / ``>``: one step back / forward (goto, then every pane repaints);
- a count then ``G``: a jump to a random step;
- ``right``: select the next position (every pane repaints, no time travel): the reference.

Each press is timed from the key to the end of the repaint (``pilot.pause()``, which includes
Pilot's own waiting), and the ``<`` action alone (goto and every pane's content, called
directly on the UI thread); the script prints medians and 90th percentiles in ms and the ratio
of each to the reference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import Session
from tui_trainer.app import TrainerApp


async def measure(steps: int, presses: int = 40) -> dict[str, list[float]]:
    s = Session.create()
    s.run(steps)
    app = TrainerApp(s)
    times: dict[str, list[float]] = {
        "right (reference)": [],
        "< and >": [],
        "nG (a jump)": [],
        "the < action alone": [],
    }
    rng = np.random.default_rng(0)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        s.goto(steps // 2)
        for i in range(presses):
            for name, keys in (
                ("right (reference)", ["right"]),
                ("< and >", ["less_than_sign" if i % 2 else "greater_than_sign"]),
                ("nG (a jump)", [*str(int(rng.integers(0, steps))), "G"]),
            ):
                if name == "nG (a jump)":
                    await pilot.press(*keys[:-1])  # the digits only type a count
                    keys = keys[-1:]
                t0 = time.perf_counter()
                await pilot.press(*keys)
                await pilot.pause()
                times[name].append(time.perf_counter() - t0)
            # the work itself, on the UI thread: goto, then every pane's content (no Pilot in between)
            t0 = time.perf_counter()
            app.main_screen.action_scrub_step(-1 if i % 2 else 1)
            times["the < action alone"].append(time.perf_counter() - t0)
            await pilot.pause()
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100_000)
    args = p.parse_args()
    times = asyncio.run(measure(args.steps))
    ref = statistics.median(times["right (reference)"])
    print(f"{args.steps:,}-step session, 120x36, per key press to the end of its repaint:")
    for name, ts in times.items():
        med, p90 = statistics.median(ts), sorted(ts)[int(0.9 * len(ts))]
        print(f"  {name:<18} median {med * 1e3:6.1f} ms  p90 {p90 * 1e3:6.1f} ms  ({med / ref:.2f}x the reference)")


if __name__ == "__main__":
    main()
