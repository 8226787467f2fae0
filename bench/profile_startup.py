"""Where the milliseconds before the first painted screen go, stage by stage.

    python bench/profile_startup.py          # 5 fresh processes; median per stage
    python -X importtime -c "import tui_trainer.app" 2> imports.txt   # module by module

Each child imports, in order, NumPy, Textual's App, ``core``, ``tui_trainer.cli``
(the rest of what the command line needs), ``tui_trainer.app`` (panes, screens,
narration), builds the lesson's session and runs the app headless until it is ready
(its first frame composed and rendered). The stages are what ``tui-trainer`` does
before its first paint; a bare Textual app needs only the Textual import and its own
(lighter) compose and render. ``bench_startup.py`` measures the whole, in a real
pseudo-terminal.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, time
import tui_trainer  # (its __init__ only: the BLAS thread setting the entry point makes before NumPy)
t = [time.perf_counter()]
import numpy
t.append(time.perf_counter())
import textual.app
t.append(time.perf_counter())
import core
t.append(time.perf_counter())
import tui_trainer.cli
t.append(time.perf_counter())
import tui_trainer.app
t.append(time.perf_counter())
s = core.Session.create()
t.append(time.perf_counter())
def ready(app):
    t.append(time.perf_counter())
    app.exit()
textual.app.App.on_ready = ready
tui_trainer.app.TrainerApp(s).run(headless=True, size=(120, 40))
names = ["numpy", "textual.app", "core", "tui_trainer.cli", "tui_trainer.app", "Session.create", "compose+first frame"]
print(json.dumps({n: (b - a) * 1000 for n, a, b in zip(names, t, t[1:])}))
"""


def main() -> None:
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, cwd=tempfile.gettempdir()
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print("stage                    median ms   (runs)")
    total = 0.0
    for name in runs[0]:
        vals = [r[name] for r in runs]
        total += statistics.median(vals)
        print(f"  {name:22} {statistics.median(vals):7.1f}   ({', '.join(f'{v:.0f}' for v in vals)})")
    print(f"  {'sum of medians':22} {total:7.1f}")


if __name__ == "__main__":
    main()
