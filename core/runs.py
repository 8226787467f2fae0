"""Many steps at once: a run of N steps (until a condition holds), and a sweep of settings.

A run is full steps, one after another, each the same command a key makes, so a run's states are
on the timeline like any others. A sweep is the same start trained once per setting (learning
rate, optimizer), one branch each: the lesson's learning-rate table (S10), measured. The current
branch goes on for the setting it already has. ``tui-trainer sweep`` and the app's ``S`` both run
it, so their numbers agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .breakpoints import Breakpoint
from .interpreter import READY
from .optim import DEFAULT_LR
from .results import ActionResult

if TYPE_CHECKING:
    from .session import Session


def run(
    s: Session,
    n: int,
    should_stop: Callable[[], bool] | None = None,
    on_step: Callable[[Session], None] | None = None,
    until: Breakpoint | None = None,
) -> ActionResult:
    """``Session.run``: ``n`` full steps, ended early by ``should_stop``, divergence or ``until``."""
    if n < 0:
        return ActionResult("run", ok=False, code="bad_count", value=n)
    start = s.step
    if s.divergence is not None:
        return s.refuse("run", start_step=start)
    if until is not None:
        if s.phase == READY:
            s.forward()  # measure the state we start from: it may already hold
        if hit := until.check(s):
            return ActionResult("run", stopped="breakpoint", code="breakpoint", detail=hit, start_step=start)
    done = rose = 0
    for _ in range(n):
        if should_stop is not None and should_stop():
            return ActionResult(
                "run", steps=done, stopped="cancelled", code="cancelled", start_step=start, overshoots=rose
            )
        r = s.train_step()
        done += r.steps
        rose += r.overshoots
        if on_step is not None and r.steps:
            on_step(s)
        if until is not None and (hit := until.check(s)):
            return ActionResult(
                "run",
                r.ran,
                steps=done,
                stopped="breakpoint",
                code="breakpoint",
                detail=hit,
                divergence=r.divergence,
                start_step=start,
                overshoots=rose,
            )
        if not r.ok:
            return ActionResult(
                "run",
                r.ran,
                False,
                r.code,
                done,
                r.stopped,
                r.divergence,
                start_step=start,
                branch=r.branch,
                overshoots=rose,
            )
    return ActionResult("run", steps=done, start_step=start, overshoots=rose)


@dataclass(frozen=True)
class SweepRun:
    """One setting's branch and how its run ended (``result.divergence`` when it diverged)."""

    branch: int
    optimizer: str
    lr: float
    result: ActionResult


def sweep(
    s: Session,
    lrs: Sequence[float | None],
    steps: int,
    optimizers: Sequence[str] | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_step: Callable[[Session], None] | None = None,
    on_run: Callable[[SweepRun], None] | None = None,
) -> list[SweepRun]:
    """Train ``steps`` steps from the current state for every optimizer (default: the current
    one) and learning rate (None: each optimizer's usual one), in that order; stops early when
    ``should_stop()`` says so. A setting the session refuses (an unusable rate) gets the refusal
    as its result and no branch.
    ``on_run`` is called after each run, the session at the end of that run's branch."""
    with s.lock:
        start_branch, start = s.branch, s.position
    runs: list[SweepRun] = []
    for name in optimizers or [None]:
        for lr in lrs:
            if should_stop is not None and should_stop():
                return runs
            with s.lock:
                s.goto_position(start, branch=start_branch)
                opt = name or s.optimizer.name
                rate = DEFAULT_LR[opt] if lr is None else float(lr)  # (None: that optimizer's usual rate)
                if (opt, rate) != (s.optimizer.name, s.lr):  # (the setting this branch has: it goes on)
                    forked = s.fork_branch(opt, rate)
                    if not forked.ok:
                        runs.append(SweepRun(s.branch, opt, rate, forked))
                        continue
            r = s.run(steps, should_stop=should_stop, on_step=on_step)
            runs.append(SweepRun(s.branch, opt, rate, r))
            if on_run is not None:
                on_run(runs[-1])
    return runs
