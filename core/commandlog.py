"""A branch's command log, run-length encoded: a play of a million steps is one run.

``OpLog`` holds one code per position as runs of one code (a long run of ``step`` commands costs
16 bytes, not one a command); ``UpdateLog`` holds the positions of the commands that made an
update as runs of consecutive positions (a play's updates are one run, not eight bytes each).
Both answer by bisecting their runs, so a replay or a goto reads a command in O(log runs).
Stepping by hand (forward, backward, update: a new run each) costs 9 to 16 bytes a command, at
the pace of keys.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right


class OpLog:
    """One-byte command codes by position, as runs of one code."""

    __slots__ = ("codes", "n", "starts")

    def __init__(self) -> None:
        self.starts = array("q")  # the first position of each run
        self.codes = bytearray()  # each run's code
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def __bool__(self) -> bool:
        return self.n > 0

    def append(self, code: int) -> None:
        if not self.codes or self.codes[-1] != code:
            self.starts.append(self.n)
            self.codes.append(code)
        self.n += 1

    def __getitem__(self, i: int | slice) -> int | bytearray:
        if isinstance(i, slice):  # (the codes spelled out, one a position)
            return bytearray(self[k] for k in range(*i.indices(self.n)))
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.codes[bisect_right(self.starts, i) - 1]

    def rfind(self, code: int, end: int | None = None) -> int:
        """The last position below ``end`` (default: all) holding ``code``, or -1."""
        end = self.n if end is None else min(end, self.n)
        if end <= 0:
            return -1
        r = bisect_right(self.starts, end - 1) - 1  # the run holding end - 1, then the ones before
        while r >= 0:
            if self.codes[r] == code:
                return min(end, self.starts[r + 1] if r + 1 < len(self.starts) else self.n) - 1
            r -= 1
        return -1

    def nbytes(self) -> int:
        return self.starts.itemsize * len(self.starts) + len(self.codes)


class UpdateLog:
    """Increasing positions (of the commands that made an update), as runs of consecutive ones."""

    __slots__ = ("first", "n", "pos")

    def __init__(self) -> None:
        self.pos = array("q")  # each run's first position
        self.first = array("q")  # the index (the update's number) of each run's first position
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def _last(self) -> int:
        return self.pos[-1] + (self.n - 1 - self.first[-1])

    def add(self, p: int) -> None:
        if not self.n or p != self._last() + 1:
            self.pos.append(p)
            self.first.append(self.n)
        self.n += 1

    def __getitem__(self, j: int) -> int:
        """The ``j``-th position."""
        if not 0 <= j < self.n:
            raise IndexError(j)
        r = bisect_right(self.first, j) - 1
        return self.pos[r] + (j - self.first[r])

    def count_before(self, p: int) -> int:
        """How many positions are below ``p``."""
        r = bisect_left(self.pos, p) - 1
        if r < 0:
            return 0
        end = self.first[r + 1] if r + 1 < len(self.first) else self.n  # (the run's end, exclusive)
        return self.first[r] + min(end - self.first[r], p - self.pos[r])

    def prefix(self, p: int) -> UpdateLog:
        """A new log of the positions below ``p``."""
        k = self.count_before(p)
        out = UpdateLog()
        runs = bisect_left(self.first, k)  # the runs that start before the k-th position
        out.pos, out.first, out.n = self.pos[:runs], self.first[:runs], k
        return out

    def nbytes(self) -> int:
        return self.pos.itemsize * (len(self.pos) + len(self.first))
