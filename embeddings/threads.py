"""How many threads one query gets: every core while that is faster, one when it is not.

Two threads encode a headline in 2.4 ms against 3.5 on one when the second core is free, and in
6.9 ms when another process keeps it busy (docs/benchmarks/speed.md). The load average cannot
tell the two apart here: on this VM it read 0.85 with a second process spinning for a minute.
So the encoder measures instead, as a moving average of the time per word piece:

- on all threads while they stay faster than one thread would be (measured, or estimated as
  ONE_THREAD_RATIO x their best time until it is measured);
- on one thread once they are not, trying all of them again in a short burst every EXPLORE-th
  query (the burst's first query only wakes the idle threads up and is not counted), and going
  back when they are faster again.

On a quiet machine nothing is ever tried: every query runs on every thread.
"""

from __future__ import annotations

import threading

EXPLORE = 50  # on one thread: every this many queries, try all threads again
BURST = 4  # for this many queries in a row; the first only wakes them up
SMOOTHING = 0.3  # weight of the newest timing in the moving average
ONE_THREAD_RATIO = 1.45  # one thread's time over two threads' on a quiet machine (3.5 / 2.4 ms)


class ThreadChooser:
    """Picks 1 or `most` threads for a lone query from its recent timings; thread-safe."""

    def __init__(self, most: int):
        self.most = max(1, most)
        self.cost: dict[int, float | None] = {1: None, self.most: None}  # seconds per word piece, smoothed
        self.best: float | None = None  # the lowest smoothed cost `most` threads have shown
        self.current = self.most
        self.count = 0
        self._left = 0  # queries left in a burst on `most`
        self._warming = False  # the next timing on `most` is a burst's wake-up: not counted
        self._fresh = False  # the one after it starts the average afresh (the old one is from busier times)
        self._lock = threading.Lock()

    def pick(self) -> int:
        with self._lock:
            self.count += 1
            if self._left:
                self._left -= 1
                return self.most
            if self.current == 1 and self.most > 1 and self.count % EXPLORE == 0:
                self._left, self._warming = BURST - 1, True
                return self.most
            return self.current

    def record(self, threads: int, seconds: float, tokens: int) -> None:
        per_token = seconds / max(tokens, 1)
        with self._lock:
            if self._warming and threads == self.most:
                self._warming, self._fresh = False, True
                return
            old = None if (self._fresh and threads == self.most) else self.cost.get(threads)
            self._fresh = self._fresh and threads != self.most
            now = per_token if old is None else (1 - SMOOTHING) * old + SMOOTHING * per_token
            self.cost[threads] = now
            if threads == self.most and self.most > 1:
                self.best = now if self.best is None else min(self.best, now)
            many, one = self.cost[self.most], self.cost[1]
            if self.most > 1 and many is not None and self.best is not None and not self._left:
                self.current = self.most if many <= (one if one is not None else ONE_THREAD_RATIO * self.best) else 1
