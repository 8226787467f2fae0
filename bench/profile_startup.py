"""Where the milliseconds before the first painted screen go, stage by stage, and those after it
until the whole screen is ready.

    python bench/profile_startup.py          # 5 fresh processes; median per stage
    python -X importtime -c "import tui_trainer.cli as c; c.build_app(c.build_parser().parse_args([]))" 2> imports.txt

Each child does what ``tui-trainer`` does, in order: imports Textual's App, ``tui_trainer.cli`` (the
parser and the checks), makes the app (``build_app``: ``tui_trainer.app``, its screen and panes, no
NumPy), and runs it headless until its first frame is composed and rendered (Textual's Ready). The
app then builds its session in a thread (paint first): NumPy, ``core``, the session, the rooms'
modules, timed inside that thread, and last the filled panes painted. A bare Textual app needs only
the Textual import and its own (lighter) compose and render. ``bench_startup.py`` measures the
whole, in a real pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, time
import tui_trainer  # (its __init__ only: the BLAS thread setting the entry point makes before NumPy)
t = {}
t0 = time.perf_counter()
import textual.app
t["textual.app"] = time.perf_counter()
import tui_trainer.cli
t["tui_trainer.cli"] = time.perf_counter()
app = tui_trainer.cli.build_app(tui_trainer.cli.build_parser().parse_args([]))
t["build_app (the app module, screen, panes)"] = time.perf_counter()
factory = app._factory
def timed_factory():
    import numpy
    t["numpy [thread]"] = time.perf_counter()
    import core
    t["core [thread]"] = time.perf_counter()
    s = factory()
    t["the session [thread]"] = time.perf_counter()
    return s
app._factory = timed_factory
def ready(app):
    t["compose+first frame"] = time.perf_counter()
textual.app.App.on_ready = ready
refresh = type(app).refresh_panes
def refresh_panes(self):
    refresh(self)
    if self.session is not None and "filled panes painted" not in t:
        def done():
            t["filled panes painted"] = time.perf_counter()
            self.exit()
        t["rooms' modules [thread], attach, readouts"] = time.perf_counter()
        self.call_after_refresh(done)
type(app).refresh_panes = refresh_panes
app.run(headless=True, size=(120, 40))
order = sorted(t, key=t.get)
print(json.dumps({n: (t[n] - (t[order[i - 1]] if i else t0)) * 1000 for i, n in enumerate(order)}))
"""


def main() -> None:
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", CHILD],
            capture_output=True,
            text=True,
            check=True,
            cwd=tempfile.gettempdir(),
            env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout, not an installed copy
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'stage (in the order they ended)':58} median ms   (runs)")
    total = 0.0
    for name in runs[0]:
        vals = [r.get(name, float("nan")) for r in runs]
        total += statistics.median(vals)
        print(f"  {name:56} {statistics.median(vals):7.1f}   ({', '.join(f'{v:.0f}' for v in vals)})")
        if name == "compose+first frame":
            print(f"  {'= first paint':56} {total:7.1f}")
    print(f"  {'= the whole screen ready':56} {total:7.1f}")


if __name__ == "__main__":
    main()
