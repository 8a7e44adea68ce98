"""A question's misspelt words, put right from the collection's own words: "Who reqested the call?"
is searched as "Who requested the call?".

A word is put right only when no document holds it, it is no English word (pyspellchecker's English
word list: "poker" or "wifi" asked of documents that never use them are left alone, and so refused
or answered as they are), it has MIN_LETTERS or more, and an English word one edit away is held by
the documents; of those, the one most documents hold is taken ("luanch" is "launch" in the news,
where English at large would say "lunch"). Capitalised words past the first are names: a
misspelt name is refused by name instead, with the name the closest passages spell alike
(qa.answer.extract.not_found).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from qa.index.lexicon import tokens

MIN_LETTERS = 6  # "wifi" is one edit from "wife"; a longer word one edit from another is rarely meant as it
_WORD = re.compile(r"[^\W\d_]+")


@functools.cache
def _english() -> Any:
    from spellchecker import SpellChecker  # ~0.25 s and ~40 MB: loaded for the first word no document holds

    return SpellChecker(distance=1)


def respell(question: str, frequency: Callable[[str], int]) -> str:
    """`question` with each misspelt word put right (see the module); `frequency(stem)`: how many
    documents hold that stemmed word (Lexicon.frequency)."""
    out = question
    for i, m in reversed(list(enumerate(_WORD.finditer(question)))):
        word = m.group()
        if len(word) < MIN_LETTERS or (i > 0 and word[0].isupper()) or _held(word, frequency):
            continue
        fix = _held_alike(word.lower(), frequency)
        if fix:
            out = out[: m.start()] + (fix.capitalize() if word[0].isupper() else fix) + out[m.end() :]
    return out


def _held(word: str, frequency: Callable[[str], int]) -> int:
    """How many documents hold `word` (its rarest stem); a stop word counts as held."""
    return min((frequency(t) for t in tokens(word)), default=1)


def _held_alike(word: str, frequency: Callable[[str], int]) -> str:
    """The English word one edit from `word` that most documents hold; "" when `word` is English
    itself or the documents hold none."""
    english = _english()
    if english.known([word]):
        return ""
    held = [(n, w) for w in english.candidates(word) or () if w != word and (n := _held(w, frequency))]
    return max(held)[1] if held else ""
