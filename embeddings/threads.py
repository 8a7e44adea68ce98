"""How many threads one query gets, chosen by the speed each choice has shown lately.

Two threads encode a headline in 2.4 ms against 3.5 on one when the second core is free, and in
6.9 ms when another process keeps it busy (docs/benchmarks/speed.md). The load average cannot
tell the two apart here: on this VM it read 0.85 with a second process spinning for a minute.
So the encoder measures instead: it keeps a moving average of the time per word piece of each
choice and uses the faster. Every EXPLORE-th query starts a short run of BURST queries on the
other choice, whose first is not counted: a thread pool idle for a while wakes slowly, and a
single try would always look slow. A change either way (another job starting, or ending) is
noticed within EXPLORE questions.
"""

from __future__ import annotations

import threading

EXPLORE = 50  # every this many queries, try the choice that is not the best
BURST = 4  # for this many queries in a row; the first only warms its threads up
SMOOTHING = 0.3  # weight of the newest timing in the moving average


class ThreadChooser:
    """Picks among thread counts (e.g. 1 and 2) for a lone query; thread-safe."""

    def __init__(self, choices: tuple[int, ...]):
        self.choices = choices
        self.cost: dict[int, float | None] = dict.fromkeys(choices)  # seconds per word piece, smoothed
        self.count = 0
        self._trying: int | None = None  # the choice being tried in a burst
        self._left = 0  # queries left in the burst
        self._warming = False  # the next timing of the tried choice is its warm-up: not counted
        self._lock = threading.Lock()

    def pick(self) -> int:
        with self._lock:
            self.count += 1
            if self._left:
                self._left -= 1
                return self._trying or self.choices[0]
            untried = [c for c in self.choices if self.cost[c] is None]
            best = min(self.choices, key=lambda c: self.cost[c] or 0.0)
            others = untried or ([c for c in self.choices if c != best] if self.count % EXPLORE == 0 else [])
            if not others:
                return best
            self._trying, self._left, self._warming = others[0], BURST - 1, True
            return others[0]

    def record(self, threads: int, seconds: float, tokens: int) -> None:
        per_token = seconds / max(tokens, 1)
        with self._lock:
            if self._warming and threads == self._trying:
                self._warming = False
                return
            old = self.cost.get(threads)
            self.cost[threads] = per_token if old is None else (1 - SMOOTHING) * old + SMOOTHING * per_token
