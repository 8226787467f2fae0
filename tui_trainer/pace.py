"""Slow motion: space the steps of a run at a chosen number of steps per second.

A 200-step run takes 0.17 s at full speed: the moment "watch the loss fall" is a blink. The
training worker calls ``Pacer.after_step`` after each step; it sleeps until the next step is due
(in short slices, so a stop or a new speed takes effect at once). The clock and the sleep are
parameters, so tests pace a run on a fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: the speeds - and + step through (steps per second); None is as fast as possible
SPEEDS: tuple[float | None, ...] = (0.5, 1, 2, 5, 10, 20, 50, 100, None)
#: the longest single sleep, so a stop (escape) or a new speed waits at most this long
SLICE = 0.05
MAX_SPEED = 10_000.0


def speed_text(speed: float | None) -> str:
    return "max speed" if speed is None else f"{speed:g} steps/s"


def slower(speed: float | None) -> float | None:
    """The next speed down the ladder (the slowest stays)."""
    if speed is None:
        return SPEEDS[-2]
    below = [s for s in SPEEDS[:-1] if s < speed * 0.999]
    return below[-1] if below else SPEEDS[0]


def faster(speed: float | None) -> float | None:
    """The next speed up the ladder (past the top: as fast as possible)."""
    if speed is None:
        return None
    return next((s for s in SPEEDS[:-1] if s > speed * 1.001), None)


class Pacer:
    """Holds a run to ``speed`` steps per second (None: no waiting)."""

    def __init__(
        self,
        speed: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        #: steps per second, or None for as fast as possible; the UI thread may change it mid-run
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self._last = 0.0

    def start(self) -> None:
        """A run begins now."""
        self._last = self.clock()

    def after_step(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Wait until the next step is due (or the run should stop)."""
        while True:
            speed = self.speed  # read each time round: - and + act within one slice
            now = self.clock()
            if speed is None:
                self._last = now
                return
            due = self._last + 1.0 / speed
            if now >= due or should_stop():
                # late (a slow step): start the next interval now rather than rush to catch up
                self._last = due if now - due < 1.0 / speed else now
                return
            self.sleep(min(due - now, SLICE))
