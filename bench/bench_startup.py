"""Start-up: process start to the first painted screen, the app vs a bare Textual app.

    python bench/bench_startup.py            # 7 rounds, interleaved
    python bench/bench_startup.py --rounds 11

Each contender is a fresh ``python`` process in a 120x40 pseudo-terminal (the
real terminal driver, not the headless one): ``app`` is the ``tui-trainer``
entry point (``tui_trainer.cli.main([])``, the lesson's session); ``bare`` is a
plain Textual app with the same widget tree (containers, five bordered Static
panes, status, narration, footer). Time runs from just before the process is
spawned to Textual's Ready event (sent after the first frame is painted), where
``bench/_startup_child.py`` notes the time; for the app also to the whole screen
ready (its session built after the first paint and the filled panes painted; for
the bare app the first frame is the whole screen). Rounds alternate the two; the
figures are the median of each and the median of the per-round ratios.
Goal (issue 5, item 3; issue 22, item 8): first paint app <= 1.3x bare.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def start_once(mode: str) -> tuple[float, float, int]:
    """Seconds from spawn to first paint and to the whole screen ready, and the widgets in the DOM."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        mark = os.path.join(tmp, "mark")
        env = {**os.environ, "STARTUP_MARK": mark, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
        t0 = time.time()
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "_startup_child.py"), mode],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=tmp,
            close_fds=True,
        )
        os.close(slave)

        def drain() -> None:  # the child writes its screen here; keep the pipe flowing
            try:
                while os.read(master, 65536):
                    pass
            except OSError:
                pass

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(timeout=1)
        os.close(master)
        try:
            painted, full, widgets = open(mark).read().split()
        except FileNotFoundError:
            raise SystemExit(f"{mode}: the child never painted (exit status {proc.returncode})") from None
        return float(painted) - t0, float(full) - t0, int(widgets)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    start_once("app")  # warm the file cache for both
    start_once("bare")
    apps, fulls, bares, ratios, full_ratios = [], [], [], [], []
    widgets = {}
    for _ in range(args.rounds):
        a, f, widgets["app"] = start_once("app")
        b, _, widgets["bare"] = start_once("bare")
        apps.append(a)
        fulls.append(f)
        bares.append(b)
        ratios.append(a / b)
        full_ratios.append(f / b)
    a, f, b = statistics.median(apps), statistics.median(fulls), statistics.median(bares)
    r, fr = statistics.median(ratios), statistics.median(full_ratios)
    print(f"widgets in the DOM: app {widgets['app']}, bare {widgets['bare']}")
    print(f"process start -> first paint, median of {args.rounds} interleaved rounds:")
    print(f"  app  {a * 1000:7.0f} ms   (min {min(apps) * 1000:.0f})")
    print(f"  bare {b * 1000:7.0f} ms   (min {min(bares) * 1000:.0f})")
    print(f"  app / bare {r:.2f}x (median of per-round ratios)   goal <= 1.30x: {'met' if r <= 1.3 else 'NOT met'}")
    print("process start -> the whole screen ready (the app: session built, panes filled and painted):")
    print(f"  app  {f * 1000:7.0f} ms   (min {min(fulls) * 1000:.0f}), {fr:.2f}x the bare app's first paint")


if __name__ == "__main__":
    main()
