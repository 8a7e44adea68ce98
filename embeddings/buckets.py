"""Forward passes whose shapes depend on each text alone: what keeps a passage's vector the same bits
in every call (embeddings/encoder.py).

oneDNN picks its matrix-product kernels by shape, and in bf16 a text's vector moved by up to 1e-3 when
the padding of its batch or the number of rows in it changed. Rows of one shape, though, do not touch
each other: a row's result is the same bits whatever the other rows hold (tests/test_embeddings.py).
So each text is padded to its own bucket (its word pieces rounded up to a multiple of `step`), and
every pass of a bucket has the same number of rows: a last, short pass is filled with copies of
its first row, whose results are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def bucket_length(tokens: int, step: int) -> int:
    """The length a text of `tokens` word pieces (with [CLS] and [SEP]) is padded to."""
    return -(-tokens // step) * step


def passes(rows: list[list[int]], step: int, size: int) -> Iterator[tuple[list[int], int]]:
    """(indices of `rows`, bucket length) for each pass: rows of one bucket, `size` at most, in order."""
    buckets: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        buckets.setdefault(bucket_length(len(row), step), []).append(i)
    for length in sorted(buckets):
        members = buckets[length]
        for start in range(0, len(members), size):
            yield members[start : start + size], length


def batch(rows: list[list[int]], length: int, size: int, pad_id: int) -> tuple[Any, Any]:
    """Token ids (size, length) and their mask (bool, True = token): `rows` padded to `length`, then
    copies of the first row up to `size` rows."""
    import torch

    filled = rows + [rows[0]] * (size - len(rows))
    ids = torch.full((size, length), pad_id, dtype=torch.long)
    mask = torch.zeros((size, length), dtype=torch.bool)
    for i, r in enumerate(filled):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = True
    return ids, mask
