"""Phrases of a sentence that could answer a question of a given kind (qa/answer/kinds.py).

A date or time for "when", a number for "how many", a person's name for "who", a place after a
preposition (or a web address, a file path) for "where", any name for "which company", a causal
connective for "why", a means ("use the chars method", "by running cargo doc") for "how do I". Surface
patterns only: no tagger or NER model can be installed offline here, so each detector was kept
only where it told the answering sentence from the others on the dev halves of bench/questions
(docs/benchmarks/answer.md).
"""

from __future__ import annotations

import re

from qa.text import STOPWORDS

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
MONTHS_SHORT = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|dozens|twenty|thirty|forty|"
    "fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousand|thousands|million|millions|billion|trillion"
)
FRACTIONS = "half|third|thirds|quarter|quarters|fifth|fifths|tenth|tenths|double|twice|triple"

_DATE = re.compile(
    r"\b(?:(?:19|20)\d\d-[01]\d-[0-3]\d|[0-3]?\d[/.][01]?\d[/.](?:19|20)\d\d"  # 2024-03-02, 2/3/2024, 02.03.2024
    rf"|(?:\d{{1,2}} )?(?:{MONTHS}|{MONTHS_SHORT})\.?(?: \d{{1,2}}(?:st|nd|rd|th)?)?(?:,? \d{{4}})?"
    rf"|(?:{DAYS})(?: (?:morning|afternoon|evening|night))?"
    r"|(?:19|20)\d\d(?:s|-\d\d)?|\d{1,2}(?::\d\d)? ?(?:a\.m\.|p\.m\.|am|pm)|\d\d:\d\d"
    r"|yesterday|today|tomorrow|tonight|midnight|noon"
    r"|(?:last|next|this|that) (?:week|month|year|spring|summer|autumn|fall|winter)"
    r"|(?:the )?(?:end|beginning|start|middle|turn) of (?:the|this|next|last) (?:year|month|week|decade|century)"
    r"|(?:first|second|third|fourth|last) quarter|\d{1,2}(?:st|nd|rd|th) century|(?:in|since|until|by) \d{3,4})\b"
)
_MODIFIER = re.compile(r"(?:early|late|mid|last|next|this)[ -]$")  # "late January": kept out of _DATE, which it slows
_NUMBER = re.compile(
    rf"(?<![\w.])([$£€]\s?)?(\d+(,\d{{3}})*(\.\d+)?|{NUMBER_WORDS}|(a|one|two|three) ({FRACTIONS})|{FRACTIONS})"
    rf"(\s?(%|percent|per cent))?(\s(and a half|({NUMBER_WORDS})))*(\s[a-z]+)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(19|20)\d\d")
DATE_REACH = 12  # characters either side of a number that a date holding it may reach ("September 30, 2024")
_VERSION = re.compile(r"\.\d")  # after a number with its decimals: "1.0.0" is a version
_AGE = re.compile(r", \d{1,3},")  # "Lisa Murphy, 39,": an age, not the amount a question asks for
_NAME = re.compile(r"\b([A-Z][\w'’.-]*[a-z][\w'’-]*)((\s(of|de|van|von|al|bin|the|for|and|&))?\s[A-Z][\w'’.-]*)*")
# Two capitalised words or more (a title counts): in news almost every sentence holds some name,
# but far fewer a person's full name, which is what "who" usually wants.
_PERSON = re.compile(r"\b[A-Z][a-z][\w'’-]*(\s(van|von|de|al|bin|da|di|le|la|del))?(\s[A-Z][\w'’.-]*[a-z][\w'’-]*)+")
_SINGLE = re.compile(r"\b[A-Z][^\W\d_A-Z][\w'’-]*")
_LEADING = re.compile(rf"^(The|A|An|In|On|At|But|And|This|That|When|After|As|If|For|{MONTHS}|{DAYS})\s")
_NAME_WORDS = r"[A-Z][\w'’.-]*[a-z][\w'’-]*((\s(of|de|van|von|al|bin|the|upon|on|la|le|du|del))?\s[A-Z][\w'’.-]*)*"
_LOCATIVE = (
    "in|at|from|near|to|into|across|outside|inside|of|for|around|towards?|through|via|off|"
    "left|leaving|reached|visited|within|between"
)
# A place: a name after a preposition, perhaps past "the village of", "Russia's" or "the remote".
_PLACE = re.compile(
    rf"\b({_LOCATIVE})\s+((the|a|an|his|her|its|their|[A-Z][\w.-]*['’]s)\s+)?([a-z][\w-]*\s+){{0,3}}?(of\s+)?({_NAME_WORDS})"
)
# Where a thing is kept: a web address or a file's path ("Where can I find the Go port?":
# "https://github.com/shirou/gopsutil"; "Where is the settings file?": "~/.config/qa/qa.toml").
_ADDRESS = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]`'\"]+[\w/]|(?<![\w/.])(?:~|\.{1,2})?/(?:[\w.-]+/)+[\w.-]*\w")
# A means: what a "how do I" question's answer names ("use the chars method", "by running cargo doc",
# "you can send the --test-threads flag", "pass it with -p").
_MEANS = re.compile(
    r"\b(?:use|uses|using|call|calls|calling|run|running|pass|passing|add|adding|set|setting|send|specify|"
    r"provide|provides|install|type|enter|click|choose|select|press|via|by [a-z]+ing|you can|we can|can be|"
    r"allows? you|lets? you|method|function|command|flag|option|macro|attribute|keyword)\b"
)
# A cause: connectives and causal verbs ("for" and "over" left out: in news nearly every sentence
# has one). Matched on the lower-cased sentence: twice as fast as re.IGNORECASE.
_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|result of|in order to|so that|caused|causing|cause|led to|leading to|"
    r"prompted|triggered|blamed|thanks to|in response|in protest|reason|after|following|amid|since|so)\b"
)
_REASON_ANY_CASE = re.compile(_REASON.pattern, re.IGNORECASE)
_NOT_NAMES = frozenset(f"{MONTHS}|{DAYS}|The|A|An|In|On|At|But|And|He|She|It|They|We|I|This|That|Mr|Mrs|Ms|Dr".split("|"))


def spans(kind: str, sentence: str, ages: bool = False) -> list[tuple[int, int]]:
    """Spans in `sentence` of the phrases that could be an answer of `kind`; `ages`: count an
    age in commas (", 39,") as a quantity."""
    if kind == "when":
        return [_modified(sentence, m.span()) for m in _DATE.finditer(sentence)]
    if kind == "quantity":
        return [_unit(sentence, m) for m in _NUMBER.finditer(sentence) if _is_quantity(sentence, m, ages)]
    if kind == "who":
        people = [span for m in _PERSON.finditer(sentence) if (span := _trim(sentence, m.span()))]
        return people or [m.span() for m in _SINGLE.finditer(sentence) if _is_single_name(m.group())]
    if kind == "name":
        return [m.span() for m in _NAME.finditer(sentence) if m.group() not in _NOT_NAMES]
    if kind == "where":
        places = [m.span(6) for m in _PLACE.finditer(sentence) if m.group(6) not in _NOT_NAMES]
        return sorted(places + [m.span() for m in _ADDRESS.finditer(sentence)])
    if kind == "how":
        low = sentence.lower()
        return [m.span() for m in _MEANS.finditer(low)] if len(low) == len(sentence) else []
    if kind == "why":
        low = sentence.lower()  # the same offsets, unless lower-casing changed a length ("İ")
        found = _REASON.finditer(low) if len(low) == len(sentence) else _REASON_ANY_CASE.finditer(sentence)
        return [m.span() for m in found]
    return []


def surnames(sentences: list[str], found: list[list[tuple[int, int]]]) -> frozenset[str]:
    """The last words of the full names found in `sentences` (their "who" spans, one list each)."""
    pairs = zip(sentences, found, strict=True)
    return frozenset(s[a:b].rsplit(None, 1)[-1] for s, spans in pairs for a, b in spans if " " in s[a:b])


def _is_quantity(sentence: str, m: re.Match[str], ages: bool) -> bool:
    """Not a date or part of one ("3 May", "2024-03-02"), a year, a version ("1.0.0", "v2.0") or,
    unless `ages`, an age in commas."""
    if _DATE.fullmatch(m.group().strip()) or _YEAR.fullmatch(m.group(2) or "") or _VERSION.match(sentence, m.end(2)):
        return False
    if m.group(2) and m.group(2)[0].isdigit():  # a date around it: looked for in a window, not the whole sentence
        w = max(0, m.start() - DATE_REACH)
        if any(a <= m.start() - w < b for a, b in (d.span() for d in _DATE.finditer(sentence[w : m.end() + DATE_REACH]))):
            return False
    return ages or not _AGE.match(sentence, max(0, m.start() - 2), m.start(2) + len(m.group(2)) + 1)


def _unit(sentence: str, m: re.Match[str]) -> tuple[int, int]:
    """A number's span with the word after it ("3 million euros"), unless that word is a stop word ("a third of")."""
    a, b = m.span()
    last = sentence.rfind(" ", a, b)
    return (a, last) if last >= m.end(2) and sentence[last + 1 : b].lower() in STOPWORDS else (a, b)


def _modified(sentence: str, span: tuple[int, int]) -> tuple[int, int]:
    """A date's span with "early", "late", "mid", ... before it."""
    m = _MODIFIER.search(sentence, max(0, span[0] - 6), span[0])
    return (m.start(), span[1]) if m else span


def _is_single_name(word: str) -> bool:
    return word.lower() not in STOPWORDS and word not in _NOT_NAMES


def _trim(sentence: str, span: tuple[int, int]) -> tuple[int, int] | None:
    """A name's span without a leading "The", "In" or month; None when one word is left."""
    a, b = span
    while (m := _LEADING.match(sentence[a:b])) is not None:
        a += m.end()
    return (a, b) if " " in sentence[a:b].strip() else None
