"""The pace of a run: a steps-per-second limit and the rate measured (no Qt,
no machine). The host's step loop (``child.py``) keeps it."""

from __future__ import annotations

import time


class Pace:
    """The pace of a run: a steps-per-second ``limit`` (0: flat out), the steps
    due under it, and the rate measured."""

    def __init__(self) -> None:
        self.limit = 0.0
        self.rate = 0.0
        self._next = 0.0
        self._t0, self._n = time.perf_counter(), 0

    def start(self) -> None:
        now = time.perf_counter()
        self._next, self._t0, self._n = now, now, 0

    def set_limit(self, steps_per_s: float) -> None:
        self.limit = max(0.0, float(steps_per_s))
        self._next = time.perf_counter()

    def due(self, now: float) -> int:
        """How many steps are due by ``now`` under the limit (never more than a
        second's worth: a run that fell behind does not race to catch up)."""
        due = 0
        period = 1.0 / self.limit
        while self._next <= now and due < max(1, int(self.limit)):
            due += 1
            self._next += period
        if self._next < now - 1.0:
            self._next = now
        return due

    def wait(self, now: float) -> float:
        """Seconds until the next step is due."""
        return max(0.0, self._next - now)

    def count(self, n: int = 1) -> None:
        self._n += n

    def measure(self, now: float) -> None:
        """Update ``rate`` (steps per second), twice a second."""
        if now - self._t0 >= 0.5:
            self.rate = self._n / (now - self._t0)
            self._t0, self._n = now, 0
