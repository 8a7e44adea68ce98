"""Near-duplicate passages: news repeats quotes and wire copy verbatim, so of each group of passages
sharing most of their word triples only the first is shown, the others listed as its duplicates.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Set as AbstractSet

from qa.text import terms

THRESHOLD = 0.6  # share of the shorter passage's word triples
# A copy repeats at least a sentence: ten word triples, about twelve content words. Short passages
# (a title, an abstract's stock phrases) share a few triples with many others, or lie whole inside
# them, and counted as copies they hid relevant records behind another one (Cranfield nDCG@10
# 0.4107 with any share, 0.4165 from 5 triples, 0.4176 from 10, 0.4145 from 10 or the whole
# shorter passage, 0.4177 with no collapse; docs/benchmarks/retrieval.md). Wire copy and repeated
# quotes share far more.
MIN_SHARED = 10


@functools.lru_cache(maxsize=1024)
def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """A passage's word triples. Cached: the passages near the top of one question's list are
    often near the top of the next (~30 µs each, 20 a question; ~8 kB an entry)."""
    words = terms(text)
    return frozenset(zip(words, words[1:], words[2:], strict=False)) if len(words) > 2 else frozenset({tuple(words)})


def repeats(shared: int, a: int, b: int, threshold: float = THRESHOLD) -> bool:
    """True when `shared` word triples, at least MIN_SHARED, are most of the shorter passage's (`a`
    and `b` triples)."""
    return shared >= MIN_SHARED and shared / min(a, b) >= threshold


def near_duplicate(a: AbstractSet[tuple[str, ...]], b: AbstractSet[tuple[str, ...]], threshold: float = THRESHOLD) -> bool:
    """True when two passages share most of their word triples (news repeats quotes verbatim)."""
    return repeats(len(a & b), len(a), len(b), threshold)


class Collapser:
    """Keeps the first of each group of near-duplicate passages. Against a few kept passages a set
    intersection each is fastest; past DIRECT of them an inverted index of word triples finds the
    twin in one pass instead of comparing every pair (qa eval keeps 200)."""

    DIRECT = 16

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self.kept: list[frozenset[tuple[str, ...]]] = []
        self.owners: dict[tuple[str, ...], list[int]] = defaultdict(list)

    def twin(self, shingles: frozenset[tuple[str, ...]]) -> int | None:
        """Index of the kept passage this one nearly repeats (the first kept, when several), or None."""
        if len(self.kept) <= self.DIRECT:
            for i, kept in enumerate(self.kept):
                if repeats(len(shingles & kept), len(shingles), len(kept), self.threshold):
                    return i
            return None
        if not self.owners:  # built once past DIRECT kept: a question's top 5 never needs it
            for i, kept in enumerate(self.kept):
                self._own(i, kept)
        shared = Counter(i for s in shingles for i in self.owners.get(s, ()))
        for i, n in sorted(shared.items()):
            if repeats(n, len(shingles), len(self.kept[i]), self.threshold):
                return i
        return None

    def keep(self, shingles: frozenset[tuple[str, ...]]) -> None:
        if self.owners:
            self._own(len(self.kept), shingles)
        self.kept.append(shingles)

    def _own(self, i: int, shingles: frozenset[tuple[str, ...]]) -> None:
        for s in shingles:
            self.owners[s].append(i)
