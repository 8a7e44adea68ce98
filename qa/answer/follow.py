"""Follow-up questions: "And what did he say about sanctions?" after a question about Putin.

A question that leans on the turn before it (a pronoun, "and ...", "what about ...", "tell me
more", or too few words of its own to search) is searched with the previous question's key
terms added, and the documents the previous answer quoted lifted (`conversation`);
Answer.searched shows the question as searched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.answer.confidence import names
from qa.index.lexicon import tokens
from qa.text import terms
from qa.types import Answer

# Words that point back at something named earlier; "it"/"that" only count with few words of their own.
POINTERS = frozenset("he him his she her hers they them their theirs there"
                     " this these those it its that".split())  # fmt: skip
OPENERS = re.compile(r"^\s*(and|also|what about|how about|tell me more|more on|more about|then|but)\b", re.IGNORECASE)
OWN_TERMS = 2  # a question with at most this many content words of its own is an ellipsis
CARRIED = 6  # key terms carried over, at most


def points_back(question: str) -> bool:
    """The question holds a word pointing back ("he", "it", "that") or opens as a continuation ("and ...")."""
    return bool(POINTERS.intersection(re.findall(r"[a-z']+", question.lower()))) or bool(OPENERS.match(question))


def leans_on_before(question: str) -> bool:
    """True when the question cannot stand alone: it points back, opens as a continuation, or is too short."""
    return points_back(question) or len(terms(question)) <= OWN_TERMS


@dataclass(frozen=True)
class Turn:
    """What a follow-up needs of the answer before it: its question, the question as searched,
    whether it was answered, and the documents its quotes came from. A program calling the REST API
    or the MCP server sends these fields of the answer it got (`question`, `searched`, `found`, and
    each quote's `source`)."""

    question: str
    searched: str = ""
    found: bool = False
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, answer: Answer | Turn) -> Turn:
        if isinstance(answer, Turn):
            return answer
        return cls(answer.question, answer.searched, answer.found, tuple(dict.fromkeys(q.source for q in answer.quotes)))


def key_terms(answer: Answer | Turn) -> list[str]:
    """The previous turn's key terms: the words of the question as it was searched, names first."""
    asked = answer.searched or answer.question
    words = re.findall(r"[^\W_]+(?:['’][^\W_]+)?", asked)
    names = [w for i, w in enumerate(words) if w[:1].isupper() and (i > 0 or w.lower() not in _QUESTION_WORDS)]
    rest = terms(asked)
    out: list[str] = []
    for w in [*names, *rest]:
        if w.lower() not in {o.lower() for o in out} and w.lower() not in _QUESTION_WORDS:
            out.append(w)
    return out[:CARRIED]


_QUESTION_WORDS = frozenset("who whom whose what when where why how which did does do is was were are".split())


def conversation(history: Sequence[Answer | Turn]) -> frozenset[str]:
    """The documents the previous answer quoted: a follow-up is most often about the same one. None
    when it was not answered (its hits were only the closest)."""
    last = Turn.of(history[-1]) if history else None
    return frozenset(last.sources) if last is not None and last.found else frozenset()


def only_follows(question: str, history: Sequence[Answer | Turn]) -> bool:
    """The question points back and names nothing the turn before did not ("Which journal carried
    it?", "And where did he die?"): it can only be about what the conversation was about. One that
    names something new ("What did Merkel say about it?") or is merely short ("What destroyed the
    blossom?") may be about something else."""
    if not history or not points_back(question):
        return False
    before = set(tokens(history[-1].searched or history[-1].question))
    return not any(set(tokens(name)) - before for name in names(question))


def follow_up(question: str, history: Sequence[Answer | Turn]) -> str:
    """The question as it should be searched: with the previous turn's key terms when it leans on it."""
    if not history or not leans_on_before(question):
        return question
    own = {w.lower() for w in terms(question)}
    carried = [w for w in key_terms(history[-1]) if w.lower() not in own]
    return f"{question} {' '.join(carried)}".strip() if carried else question
