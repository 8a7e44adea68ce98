"""What kind of answer a question wants: the question's side of qa/answer/phrases.py.

"Who" wants a person's name the question does not already hold, "when" a date or time, "how many"
a number, "where" a place, "which company" or "what is the name of" some other name, "why" a cause,
"how do I" a means (a method, a command, a flag: what documentation answers it with).
A sentence with no such phrase is unlikely to answer, and one whose phrase follows the question's
own preposition ("until midnight" for "Until what time ...?") likelier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from qa.answer import phrases
from qa.text import STOPWORDS

PLACE_NOUNS = (
    "country|countries|city|cities|town|village|state|region|place|province|prefecture|county|constituency|district|"
    "island|port|capital|airport|venue|stadium|area|neighbo(u)?rhood|street|road|building|hospital|prison|"
    "university|nation|peak|mountain|river|lake|sea|ocean|bay|coast|valley|park|square|border|continent|"
    "suburb|municipality|station|courthouse|court|hotel|site|location|base|camp|territory|republic|room|shop|store"
)
PERSON_NOUNS = (
    "person|people|man|woman|men|women|official|minister|leader|player|president|politician|figure|lawyer|"
    "spokes(man|woman|person)|judge|actor|actress|singer|author|writer|director|chief|executive|ceo|founder|mp|"
    "senator|governor|mayor|coach|manager|captain|member|candidate|journalist|reporter|analyst|expert|economist|"
    "professor|doctor|officer|general|king|queen|prince|princess|secretary|chairman|chairwoman|chair|owner|star|"
    "artist|teenager|boy|girl|son|daughter|wife|husband|envoy|ambassador|researcher|scientist|engineer|"
    "installer|neighbou?r|cleric|priest|operative|adviser|advisor|head|boss|employee|worker|student"
)
TIME_NOUNS = "year|date|day|month|time|week|point|hour|season|decade|age|period|quarter|century"
QUANTITY_WORDS = (
    "percentage|percent|share|number|proportion|amount|price|sum|fraction|total|rate|"
    "fine|cost|value|salary|budget|tally|score|margin|distance|size|temperature|speed|weight|height|length|level"
)
_WH = r"(what|which|whose)(\s+[\w-]+){0,3}?\s+"
_KIND = [
    (
        "quantity",
        re.compile(
            rf"\bhow (many|much|long|old|far|big|large|often|frequently|tall|high|deep|heavy|fast)\b"
            rf"|\b{_WH}({QUANTITY_WORDS})s?\b"
            r"|\bwhat (\w+ ){0,6}?(cost|costs|spend|spent|pay|paid|charge|charged|earn|earned|weigh|weighed)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "when",
        re.compile(rf"\bwhen\b|\b{_WH}({TIME_NOUNS})s?\b|\b(until|since|by) what\b(?!\s+({QUANTITY_WORDS}))", re.IGNORECASE),
    ),
    ("who", re.compile(rf"\b(who|whom)\b|\b{_WH}({PERSON_NOUNS})s?\b", re.IGNORECASE)),
    ("where", re.compile(rf"\bwhere\b|\b{_WH}({PLACE_NOUNS})\b", re.IGNORECASE)),
    (
        "why",
        re.compile(
            r"\bwhy\b|\bfor what reason\b|\bwhat (was|is|were|are) the (reason|cause)s?\b|\bwhat (reason|cause)s?\b"
            r"|\bhow come\b"
            r"|\bwhat (\w+ )?(prompted|caused|led|pushed|drove|triggered|made|sparked|set off)\b",
            re.IGNORECASE,
        ),
    ),
    ("how", re.compile(r"\bhow\s+(do|does|can|could|should|would|to|will|may|might)\b", re.IGNORECASE)),  # a means
    (  # a name of something else: "Which company ...", "What is the name of ...", "What was the film called?"
        "name",
        re.compile(
            r"\bwhich\s+[\w-]+|\bwhat (is|was|were|are) (the|its|his|her|their) (name|title)s?\b"
            r"|\bwhat (name|title)\b|\bcalled\?",
            re.IGNORECASE,
        ),
    ),
]

_FIRST_WH = re.compile(r"\b(what|which|whose|who|whom|when|where|why|how)\b", re.IGNORECASE)
_PREPOSITIONS = (
    "in|on|at|from|near|until|till|since|by|to|into|for|with|under|during|before|after|through|over|across|"
    "between|within|towards|toward|about|against|around|behind|beyond|outside|inside"
)
_GOVERNING = re.compile(rf"\b({_PREPOSITIONS})\s+(what|which|whose|whom|how)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")
_AGE_ASKED = re.compile(r"\bhow old\b|\bage\b", re.IGNORECASE)
_WHO_IS = re.compile(r"^\s*who\s+(is|was|are|were)\s+(?P<name>[^?]+?)\s*\??\s*$", re.IGNORECASE)
_NAME_WORDS = 4


def question_kind(question: str) -> str:
    """who, when, where, quantity, why, how, name, or "" when the question asks for something else.

    Only the question's first wh-word counts ("Who said when ...?" is a who; "What does it do
    when ...?" asks no kind), with what binds to it ("by what point", "which Russian city").
    "Who is Aiko Tanaka?" asks no kind: it wants what she is, not another name.
    """
    wh = _FIRST_WH.search(question)
    if wh is None or _asks_who_someone_is(question):
        return ""
    found = []
    for kind, pattern in _KIND:
        for m in pattern.finditer(question, max(0, wh.start() - 12)):
            if m.start() <= wh.start() < m.end():
                found.append((kind == "name", m.end() - m.start(), kind))
                break
    return min(found)[2] if found else ""  # a typed noun before "name", then the shorter phrase (its noun nearer)


@dataclass(frozen=True)
class Wanted:
    """What a question wants: its kind, and the words it already holds (an answer is new to it)."""

    kind: str
    asked: frozenset[str]  # its words, lower-cased
    ages: bool = False  # it asks an age ("how old"), so "Lisa Murphy, 39," counts as a quantity
    preposition: str = ""  # the one before its wh-word, lower-cased: "until" in "Until what time ...?"

    def phrases(self, sentence: str) -> list[tuple[int, int]]:
        """Spans in `sentence` of phrases of the wanted kind whose words the question does not hold."""
        return [(a, b) for a, b in phrases.spans(self.kind, sentence, self.ages) if _new_words(sentence[a:b], self.asked)]

    def strength(self, sentence: str, spans: list[tuple[int, int]], known: frozenset[str] = frozenset()) -> float:
        """How surely the phrases found answer the kind: 1; 0.5 for a "who" that found only single
        capitalised words (a first name in notes, but in news mostly a place or a party), unless one
        is the surname of a full name `known` from other sentences ("Putin" after "Vladimir Putin");
        0 for none."""
        if not spans:
            return 0.0
        if self.kind == "who" and not any(" " in sentence[a:b] or sentence[a:b] in known for a, b in spans):
            return 0.5
        return 1.0

    def governed(self, sentence: str, spans: list[tuple[int, int]]) -> bool:
        """True when the question's preposition stands just before one of the phrases (at most
        three words between): "until midnight Wednesday" for "Until what time ...?"."""
        if not self.preposition:
            return False
        before = re.compile(rf"\b{self.preposition}\b(\s+\S+){{0,3}}\s*$", re.IGNORECASE)
        return any(before.search(sentence, max(0, a - 40), a) for a, _ in spans)


def wanted(question: str) -> Wanted:
    """What `question` wants: its kind, the words it holds, the preposition before its wh-word."""
    governing = _GOVERNING.search(question)
    return Wanted(
        question_kind(question),
        frozenset(w.lower() for w in _WORD.findall(question)),
        bool(_AGE_ASKED.search(question)),
        governing.group(1).lower() if governing else "",
    )


def candidates(kind: str, sentence: str, question: str) -> list[tuple[int, int]]:
    """Spans in `sentence` of phrases of `kind` whose words `question` does not already hold."""
    return replace(wanted(question), kind=kind).phrases(sentence)


def _asks_who_someone_is(question: str) -> bool:
    """True for "Who is Aiko Tanaka?": a name of up to four capitalised words, none a small word
    (not "Who Is Responsible For The Budget?"). It wants what the person is ("the on-call
    engineer"), not another name."""
    m = _WHO_IS.match(question)
    words = m.group("name").split() if m else []
    return 0 < len(words) <= _NAME_WORDS and all(w[0].isupper() and w.lower() not in STOPWORDS for w in words)


def _new_words(phrase: str, asked: frozenset[str]) -> bool:
    return bool({w.lower() for w in _WORD.findall(phrase)} - asked)
