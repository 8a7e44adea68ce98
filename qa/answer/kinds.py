"""What kind of answer a question wants, and the phrases of a sentence that could be one.

"Who" wants a name the question does not already hold, "when" a date or time, "how many" a
number, "where" a place; a sentence with no such phrase is unlikely to answer. Surface patterns
only: no tagger or NER model can be installed offline here, so a phrase is marked only when
exactly one candidate of the wanted kind stands in the sentence.
"""

from __future__ import annotations

import re

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTHS_SHORT = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|twenty|thirty|forty|"
    "fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|trillion"
)

PLACE_NOUNS = (
    "country|city|town|village|state|region|place|province|county|constituency|district|island|port|"
    "capital|airport|venue|stadium|area|neighbo(u)?rhood|street|building|hospital|prison|university|nation"
)
PERSON_NOUNS = (
    "person|man|woman|official|minister|leader|player|president|politician|figure|lawyer|spokes(man|woman|person)|"
    "judge|actor|actress|singer|author|writer|director|chief|executive|ceo|founder|mp|senator|governor|mayor|"
    "coach|manager|captain|member|candidate|journalist|reporter|analyst|expert|economist|professor|"
    "doctor|officer|general|king|queen|prince|princess|secretary|chairman|chairwoman|owner|star|artist"
)
TIME_NOUNS = "year|date|day|month|time|week|point|hour|season|decade|age"
QUANTITY_WORDS = (
    "percentage|percent|share|number|proportion|amount|price|sum|fraction|total|rate|"
    "fine|cost|value|salary|budget|tally|score|margin|distance|size"
)
_WH = r"(what|which|whose)(\s+\w+){0,3}?\s+"
_KIND = [
    (
        "quantity",
        re.compile(
            rf"\bhow (many|much|long|old|far|big|large|often|tall|high|deep)\b|\b{_WH}({QUANTITY_WORDS})\b", re.IGNORECASE
        ),
    ),
    ("when", re.compile(rf"\bwhen\b|\b{_WH}({TIME_NOUNS})s?\b|\b(until|since|by) what\b", re.IGNORECASE)),
    ("who", re.compile(rf"\b(who|whom)\b|\b{_WH}({PERSON_NOUNS})s?\b", re.IGNORECASE)),
    ("where", re.compile(rf"\bwhere\b|\b{_WH}({PLACE_NOUNS})s?\b", re.IGNORECASE)),
    (
        "why",
        re.compile(r"\bwhy\b|\bfor what reason\b|\bwhat (was|is) the reason\b|\bwhat (prompted|caused|led)\b", re.IGNORECASE),
    ),
]

_DATE = re.compile(
    rf"\b((early|late|mid|last|next|this)[ -])?((\d{{1,2}} )?({MONTHS}|{MONTHS_SHORT}\.?)( \d{{1,2}}(st|nd|rd|th)?)?(,? \d{{4}})?"
    rf"|({DAYS})( (morning|afternoon|evening|night))?|(19|20)\d\d|\d{{1,2}}(:\d\d)? ?(a\.m\.|p\.m\.|am|pm)"
    r"|yesterday|today|tomorrow|tonight|last (week|month|year)|next (week|month|year))\b"
)
_NUMBER = re.compile(
    rf"(?<![\w.])([$£€]\s?)?(\d[\d,]*(\.\d+)?|{NUMBER_WORDS})(\s?(%|percent|per cent))?"
    rf"(\s(and a half|({NUMBER_WORDS})))*(\s[a-z]+)?",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b([A-Z][\w'’.-]*[a-z][\w'’-]*)((\s(of|de|van|von|al|bin|the|for|and|&))?\s[A-Z][\w'’.-]*)*")
_PLACE = re.compile(
    r"\b(in|at|from|near|to|into|across|outside|inside)\s+(the\s)?([A-Z][\w.-]*[a-z](\s(of|de|upon|on-)?\s?[A-Z][\w.-]*[a-z])*)\b(?!['’])"
)
_REASON = re.compile(r"\b(because|due to|owing to|as a result|in order to|so that|after|since|amid|over|for)\b", re.IGNORECASE)
_NOT_NAMES = frozenset((MONTHS + "|" + DAYS + "|The|A|An|In|On|At|But|And|He|She|It|They|We|I|This|That|Mr|Mrs|Ms|Dr").split("|"))


def question_kind(question: str) -> str:
    """who, when, where, quantity, why, or "" when the question asks for something else: the kind
    whose question phrase stands first in the question ("Who said when ...?" is a who)."""
    found = [(m.start(), m.end() - m.start(), kind) for kind, pattern in _KIND if (m := pattern.search(question))]
    return min(found)[2] if found else ""  # the first; of two at one place, the shorter (its noun nearer)


def candidates(kind: str, sentence: str, question: str) -> list[tuple[int, int]]:
    """Spans in `sentence` of phrases of `kind` whose words the question does not already hold."""
    asked = {w.lower() for w in re.findall(r"[\w']+", question)}
    spans: list[tuple[int, int]] = []
    if kind == "when":
        spans = [m.span() for m in _DATE.finditer(sentence)]
    elif kind == "quantity":
        spans = [m.span() for m in _NUMBER.finditer(sentence) if not _DATE.fullmatch(m.group().strip())]
    elif kind == "who":
        spans = [m.span() for m in _NAME.finditer(sentence) if m.group() not in _NOT_NAMES]
    elif kind == "where":
        spans = [m.span(3) for m in _PLACE.finditer(sentence) if m.group(3) not in _NOT_NAMES]
    elif kind == "why":
        spans = [m.span() for m in _REASON.finditer(sentence)]
    return [(a, b) for a, b in spans if _new_words(sentence[a:b], asked)]


def _new_words(phrase: str, asked: set[str]) -> bool:
    words = {w.lower() for w in re.findall(r"[\w']+", phrase)}
    return bool(words - asked)
