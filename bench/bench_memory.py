"""Memory of history and undo: bytes per step, and undo over the whole history.

    python bench/bench_memory.py          # S: 10,000 steps, M: 1,000 steps

For each size: the bytes that ``Session.history`` holds per step (StepRecords
with their arrays, measured by walking them), the bytes undo holds
(``Session.undo_bytes``: checkpoints within ``undo_memory``, plus the newest
actions kept whole), and the time to undo every step back to step 0 (old
states are replayed from checkpoints) with a check that it lands exactly on
the initial parameters.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_session

from core.session import UNDO_RECENT, _nbytes


def deep_size(obj) -> int:
    """Bytes of a StepRecord: the object, its floats and strings, its arrays."""
    size = sys.getsizeof(obj)
    for f in obj.__dataclass_fields__:
        v = getattr(obj, f)
        size += v.nbytes + sys.getsizeof(np.empty(0)) if isinstance(v, np.ndarray) else sys.getsizeof(v)
    return size


def whole_snapshot_bytes(s) -> int:
    return sum(_nbytes(x.params, x.opt_state, x.forward, x.backward, x.update) for x in s._undo if x.whole)


def run(size: str, steps: int, optimizer: str, undo_memory: int) -> None:
    s = make_session(size, undo=True, optimizer=optimizer, undo_memory=undo_memory)
    t0 = time.perf_counter()
    s.run(steps)
    t_run = time.perf_counter() - t0
    hist = sum(deep_size(r) for r in s.history)
    log_light = sum(sys.getsizeof(x) for x in s._undo)
    whole = whole_snapshot_bytes(s)
    state = s.model.params.nbytes * (1 + {"sgd": 0, "momentum": 1, "adam": 2}[optimizer])
    naive = steps * (state + _nbytes(s.forward_result, s.backward_result, s.last_update))
    print(
        f"{size} {optimizer:5} {steps:6,} steps ({t_run:.1f} s): history {hist / steps:,.0f} B/step "
        f"({hist / 2**20:.1f} MiB); undo log {log_light / steps:,.0f} B/step; "
        f"checkpoints {s.undo_bytes / 2**20:.1f} MiB (cap {undo_memory / 2**20:.0f} MiB, every "
        f"{s._stride} actions, lean: no results); all whole snapshots incl. the newest "
        f"{s._recent_window()} of at most {UNDO_RECENT} {whole / 2**20:.1f} MiB; "
        f"a whole snapshot per step would take {naive / 2**30:.2f} GiB; undo holds "
        f"{s.undo_held_bytes() / 2**20:.1f} MiB beyond the current state"
    )
    depth = s.undo_depth
    t0 = time.perf_counter()
    n = 0
    while s.can_undo:
        assert s.undo().ok
        n += 1
    t_undo = time.perf_counter() - t0
    fresh = make_session(size, optimizer=optimizer)
    exact = np.array_equal(s.model.params, fresh.model.params) and s.step == 0
    print(
        f"   undo all {depth:,} actions back to step {s.step}: {t_undo:.2f} s "
        f"({t_undo / n * 1e3:.2f} ms per undo, run was {t_run / steps * 1e3:.2f} ms per step); "
        f"exactly the initial parameters: {exact}"
    )


def main() -> int:
    cap = 64 * 2**20  # the default undo_memory
    run("S", 10_000, "sgd", cap)
    run("S", 10_000, "adam", cap)
    run("M", 1_000, "adam", cap)
    run("L", 24, "adam", cap)  # V = 10,000, 2,048 positions: one state with its results is ~0.4 GB
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
