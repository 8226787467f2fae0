"""Large vocabularies: milliseconds per refresh of each pane, V = 10,000.

    python bench/bench_render.py                  # S and V10k, 120x40 and 200x60
    python bench/bench_render.py --sizes V10k --screens 120x40
    python bench/bench_render.py --sizes S,S-gpt --screens 120x40   # the MLP and the GPT, the lesson

The app runs under ``App.run_test`` (headless driver) after one full step and a
forward pass (so every pane has logits, probabilities, gradients, an update and a
loss curve). A refresh of one pane is what the app does for it: building the
frame of readouts (``core.frame.build_frame``, under the session's lock; the app
builds one per refresh for every pane, so "show" counts it once per pane here)
and then painting it, i.e. rendering all its lines through Textual
(``Widget.render_lines`` over its whole region, caches cleared). The whole screen's refresh is
``refresh_panes()`` plus the paint that follows, in this thread's CPU time.

Each figure is the median of several repetitions (the machine is shared);
goal (issue 5, item 5): every pane under one frame, 16.7 ms at 60 Hz.
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
from textual.geometry import Region

from core.frame import build_frame
from tui_trainer.app import TrainerApp
from tui_trainer.widgets.base import Pane

FRAME_MS = 1000 / 60
REPS = 7


def session_for(size: str):
    if size == "S":
        s = make_session("S", undo=True)
    elif size == "S-gpt":  # the GPT at the lesson's size (--model gpt), the app's undo memory
        from core import Session

        s = Session.create(model="gpt", undo_memory=64 * 2**20)
    else:  # V = 10,000: the L model (d 128, H 256), 2,048 positions
        s = make_session("L", undo=True)
    s.run(3)
    s.forward()
    return s


async def measure(size: str, width: int, height: int) -> list[tuple[str, float | None, float]]:
    session = session_for(size)
    app = TrainerApp(session=session)
    rows: list[tuple[str, float | None, float]] = []
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause()
        position = 1
        app.position = position
        widgets = [*app.query("#main > Pane"), app.query_one("#status")]

        def time_widget(w, label: str, before=None) -> None:
            shows, paints = [], []
            for _ in range(REPS):
                if before is not None:
                    before()
                t0 = time.perf_counter()
                with session.lock:
                    frame = build_frame(session, position)  # (one per refresh, shared by every pane)
                if isinstance(w, Pane):
                    w.set_reactive(Pane.frame, None)  # (a pane skips a frame equal to the one it shows)
                    w.frame = frame
                else:
                    w.show(frame, False, "")
                t1 = time.perf_counter()
                w.refresh()  # marks the whole widget dirty: its content is rendered again
                w._styles_cache.clear()
                region = Region(0, 0, w.outer_size.width, w.outer_size.height)
                lines = w.render_lines(region)
                paints.append(time.perf_counter() - t1)
                shows.append(t1 - t0)
                assert len(lines) == region.height
            show, paint = statistics.median(shows) * 1000, statistics.median(paints) * 1000
            rows.append((f"{label} ({w.outer_size.width}x{w.outer_size.height})", show, paint))

        for w in widgets:
            time_widget(w, w.id)
        # the backward view: the first refresh after b also computes the layers' gradient
        # norms (over dL/dlogits, N x V), kept with the backward result for later refreshes
        session.backward()
        grads = app.query_one("#gradients")
        time_widget(grads, "gradients after b, first", before=lambda: session.backward_result.memo.clear())
        time_widget(grads, "gradients after b, later")
        # the whole screen, as refresh_panes and the paint after it
        times = []
        for _ in range(REPS):
            # a new state each time, as after a key: an equal frame would paint nothing
            app.frame = None
            for w in widgets:
                if isinstance(w, Pane):
                    w.set_reactive(Pane.frame, None)
            t0 = time.thread_time()
            app.refresh_panes()
            painted = asyncio.get_running_loop().create_future()
            app.call_after_refresh(painted.set_result, None)
            await painted
            times.append(time.thread_time() - t0)
        rows.append(("whole screen (refresh_panes + paint)", None, statistics.median(times) * 1000))
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,V10k")
    ap.add_argument("--screens", default="120x40,200x60")
    args = ap.parse_args(argv)
    print(f"frame budget: {FRAME_MS:.1f} ms; median of {REPS} refreshes each")
    for size in args.sizes.split(","):
        for screen in args.screens.split(","):
            w, h = map(int, screen.split("x"))
            print(f"\n{size} at {w}x{h}:{'show ms':>38} {'paint ms':>9} {'total ms':>9} {'frames':>7}")
            for name, show, paint in asyncio.run(measure(size, w, h)):
                ms = paint + (show or 0)
                mark = "ok" if ms <= FRAME_MS else "OVER"
                shown = "" if show is None else f"{show:.2f}"
                print(f"  {name:42} {shown:>7} {paint:9.2f} {ms:9.2f} {ms / FRAME_MS:7.2f}  {mark}")


if __name__ == "__main__":
    main()
