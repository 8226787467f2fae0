"""The UI keeps up: run-N in the app vs the headless core, and key latency during a run.

    python bench/bench_ui.py              # S and M, 3 rounds each
    python bench/bench_ui.py --sizes S --rounds 5

For each size, in the same process and interleaved round by round:

* headless: ``Session.run(N)`` steps/s (undo on, as in the app);
* app: ``TrainerApp`` (without keys, then with a key every second) under
  ``App.run_test`` (headless driver, 120x40, every pane
  visible), N typed as digits then ``r``; steps/s from the key to the end of the
  run, panes refreshed per second during it;
* key latency: while the run goes on, a ``right`` key event is sent through the
  app's driver, as a terminal's would be, every second, and the
  time until ``app.position`` changes is taken (median and worst); the
  refresh/s column is from the runs with keys.

Figures are the best round (steps/s) and the median/max over all presses
(latency); the machine is shared and noisy, so read the ratio, not the
absolute numbers. Goals (issue 5, item 2): app >= 80% of headless steps/s,
key handled within 100 ms, a bounded refresh rate.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_session
from textual import events

from tui_trainer.app import TrainerApp
from tui_trainer.runcontrol import REFRESH_INTERVAL

#: Steps per run: about six seconds headless on this kind of machine (several key presses a run).
STEPS = {"S": 100_000, "M": 300}
#: Seconds between key presses during a run.
KEY_EVERY = 1.0


def headless_rate(size: str, n: int) -> float:
    s = make_session(size, undo=True)
    s.run(min(n, 50))  # warm up
    t0 = time.perf_counter()
    s.run(n)
    return n / (time.perf_counter() - t0)


async def app_round(size: str, n: int, keys: bool = True) -> tuple[float, float, list[float]]:
    """(steps/s, refreshes/s, key latencies in s) of one run of ``n`` steps in the app."""
    session = make_session(size, undo=True)
    session.run(min(n, 50))  # warm up, as headless
    app = TrainerApp(session=session)
    refreshes = 0
    plain_refresh = app.refresh_panes

    def counted_refresh() -> None:
        nonlocal refreshes
        refreshes += 1
        plain_refresh()

    app.refresh_panes = counted_refresh
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        step0 = session.step
        await pilot.press(*str(n))
        refreshes = 0
        t0 = time.perf_counter()
        await pilot.press("r")
        next_key = t0 + KEY_EVERY
        while app.running:
            now = time.perf_counter()
            if keys and now >= next_key:
                before = app.position
                k0 = time.perf_counter()
                # as a terminal would deliver it (pilot.press also waits for the app to go idle)
                app._driver.send_message(events.Key("right", None))
                while app.position == before and app.running:
                    await asyncio.sleep(0.0005)
                if app.position != before:
                    latencies.append(time.perf_counter() - k0)
                next_key = time.perf_counter() + KEY_EVERY
            await asyncio.sleep(0.02)  # this loop shares the UI thread: poll gently
        dt = time.perf_counter() - t0
        done = session.step - step0
        assert done == n, f"the app ran {done} of {n} steps"
    return n / dt, refreshes / dt, latencies


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"refresh interval during runs: {REFRESH_INTERVAL * 1000:.0f} ms (at most {1 / REFRESH_INTERVAL:.0f}/s)")
    print(
        f"{'size':4} {'steps':>7} {'headless/s':>11} {'app/s':>9} {'ratio':>8} {'app+keys/s':>10} {'ratio':>8} "
        f"{'refresh/s':>10} {'key median':>11} {'key max':>8}"
    )
    for size in args.sizes.split(","):
        n = STEPS[size]
        heads, quiet, apps, rates, lat = [], [], [], [], []
        for _ in range(args.rounds):
            heads.append(headless_rate(size, n))
            quiet.append(asyncio.run(app_round(size, n, keys=False))[0])
            a, r, ls = asyncio.run(app_round(size, n))
            apps.append(a)
            rates.append(r)
            lat += ls
        h, q, a = max(heads), max(quiet), max(apps)
        med = statistics.median(lat) * 1000 if lat else float("nan")
        worst = max(lat) * 1000 if lat else float("nan")
        print(
            f"{size:4} {n:7d} {h:11.0f} {q:9.0f} {q / h:8.0%} {a:10.0f} {a / h:8.0%} "
            f"{statistics.median(rates):10.1f} {med:9.1f}ms {worst:6.1f}ms"
        )
        goal = "met" if a / h >= 0.8 and worst <= 100 else "NOT met"
        print(f"     goal: app (keys pressed) >= 80% of headless, keys <= 100 ms: {goal} ({len(lat)} presses)")


if __name__ == "__main__":
    main()
