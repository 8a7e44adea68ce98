"""Dates named in a question ("on December 30", "last week of 2021") -> a date range.

Explicit patterns find the time phrase and its connective (on/in/since/before/between...);
dateparser turns the calendar part into a date and a period (day, week, month, year).
Holidays, quarters and "first/last week of", "early/late X" are ours: dateparser has no
notion of them. A date without a year means the most recent such date not after `today`;
for a corpus, pass `today` = the newest document date (Catalog.newest_date). An anchor after the
real today or before 1800 is a placeholder date (9999-12-31), never trusted: today is used instead.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from qa.types import OLDEST_TRUSTED_DATE

Span = tuple[dt.date, dt.date]


@dataclass(frozen=True)
class DateRange:
    """Inclusive range of document dates, and the words of the question it came from."""

    since: dt.date
    until: dt.date
    phrase: str


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?![-'’]\w)\.?"  # not Mar-a-Lago
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?\b"
_YEAR = r"\b(?:19|20)\d\d\b"
_HOLIDAYS = {  # name pattern -> (month, day) or a function of the year
    r"christmas eve": (12, 24),
    r"christmas(?: day)?": (12, 25),
    r"new year['’]?s eve": (12, 31),
    r"new year['’]?s(?: day)?": (1, 1),
    r"valentine['’]?s day": (2, 14),
    r"halloween": (10, 31),
    r"independence day|(?:the )?fourth of july|july 4th": (7, 4),
    r"thanksgiving(?: day)?": lambda y: _nth_weekday(y, 11, 3, 4),
    r"easter(?: sunday)?": lambda y: _easter(y),
}
_HOLIDAY = "|".join(_HOLIDAYS)
_N = r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|few)"
_UNIT = r"(?:days?|weeks?|months?|years?)"
_CAL = (
    rf"\d{{4}}-\d\d?-\d\d?|\d\d?/\d\d?/(?:\d{{4}}|\d\d)\b|(?:{_HOLIDAY})\b(?:,?\s+{_YEAR})?"
    rf"|{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?|{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?"
    rf"|{_MONTH},?\s+(?:of\s+)?{_YEAR}|{_MONTH}|{_YEAR}"
)
_PART = (
    r"(?:(?:the\s+)?(?:first|last|final|second|third|fourth)\s+(?:day|week|month|quarter)\s+of"
    r"|(?:the\s+)?(?:beginning|start|middle|end)\s+of|early|mid|late)[\s-]+"
)
_RELATIVE = (
    rf"the\s+day\s+before\s+yesterday|yesterday|today|(?:last|this|previous)\s+(?:week|month|year)"
    rf"|{_N}\s+{_UNIT}\s+ago|(?:the\s+)?(?:past|last)\s+(?:{_N}\s+)?{_UNIT}"
    r"|last\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day"
)
_QUARTER = rf"(?:q([1-4])|(first|second|third|fourth|1st|2nd|3rd|4th)\s+quarter)(?:\s+of)?,?\s+({_YEAR})"
_ATOM = rf"(?:(?:{_PART})(?:{_CAL})|{_QUARTER}|{_RELATIVE}|{_CAL})"  # longest readings first
_PREP = r"between|from|since|after|before|until|till|through|by|on|in|during|of|at|around"
_START = r"(?<![\d,.])\b"  # not inside a number such as 1,000
_RANGE_RE = re.compile(
    rf"\b(?:between\s+(?P<a>{_ATOM})\s+and"
    rf"|from\s+(?P<b>{_ATOM})\s+(?:to|until|till|through))\s+(?P<c>{_ATOM})",
    re.IGNORECASE,
)
_ONE_RE = re.compile(rf"(?:\b(?P<prep>{_PREP})\s+(?:the\s+)?)?{_START}(?P<atom>{_ATOM})", re.IGNORECASE)
_WEAK_RE = re.compile(rf"(?:{_MONTH}|{_YEAR}|{_HOLIDAY})", re.IGNORECASE)  # a bare month, year or holiday needs a preposition
_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "few": 3,
}
_ORDINAL = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
}


def parse_question_dates(question: str, today: dt.date | None = None) -> DateRange | None:
    """The date range a question names, or None. Never raises on odd input."""
    today = anchor(today)
    try:
        return _parse(question or "", today)
    except (ValueError, OverflowError, ArithmeticError, LookupError, TypeError):
        # "February 30", "9999 years ago": the calendar or dateparser gives up
        return None


def anchor(day: dt.date | None, now: dt.date | None = None) -> dt.date:
    """`day` when a document date can anchor year-less dates: from 1800 to today; else today."""
    now = now or dt.date.today()
    return day if day is not None and OLDEST_TRUSTED_DATE <= day <= now else now


def _parse(question: str, today: dt.date) -> DateRange | None:
    m = _RANGE_RE.search(question)
    if m:
        first, last = _resolve(m.group("a") or m.group("b"), today), _resolve(m.group("c"), today)
        if first and last and first[0] > last[1]:  # "from January to February 2016": a year-less start
            first = _resolve(m.group("a") or m.group("b"), last[1])  # is the latest not after the end
        if first and last:
            return DateRange(first[0], last[1], m.group(0))
    for m in _ONE_RE.finditer(question):
        prep, atom = (m.group("prep") or "").lower(), m.group("atom")
        if not prep and _WEAK_RE.fullmatch(atom):
            continue
        span = _resolve(atom, today)
        if span is None:
            continue
        since, until = span
        if prep in ("since", "from", "after"):  # open end: up to today, or unbounded past it
            since = until + dt.timedelta(days=1) if prep == "after" else since
            until = today if today >= since else dt.date.max
        elif prep == "before":
            since, until = dt.date.min, since - dt.timedelta(days=1)
        elif prep in ("until", "till", "through", "by"):
            since = dt.date.min
        return DateRange(since, until, m.group(0).strip())
    return None


def _resolve(atom: str, today: dt.date) -> Span | None:
    """One time expression -> the inclusive span of days it names."""
    text = " ".join(atom.lower().split())
    part = re.match(_PART, text)
    if part:
        inner = _resolve(text[part.end() :], today)
        return _apply_part(part.group(0), inner) if inner else None
    q = re.fullmatch(_QUARTER, text)
    if q:
        year, n = int(q.group(3)), int(q.group(1)) - 1 if q.group(1) else _ORDINAL[q.group(2)]
        return dt.date(year, 3 * n + 1, 1), _month_end(year, 3 * n + 3)
    rolling = re.fullmatch(rf"(?:the )?(?:past|last) (?:({_N}) )?({_UNIT})", text)
    if rolling and (rolling.group(1) or text.startswith(("the", "past"))):
        n = int(rolling.group(1)) if (rolling.group(1) or "").isdigit() else _WORDS.get(rolling.group(1), 1)
        n = max(n, 1)
        days = {"d": 1, "w": 7, "m": 30, "y": 365}[rolling.group(2)[0]] * n
        return today - dt.timedelta(days=days - 1), today
    for pattern, when in _HOLIDAYS.items():
        h = re.fullmatch(rf"({pattern})(?:,? ({_YEAR}))?", text)
        if h:
            return _holiday(when, int(h.group(2)) if h.group(2) else None, today)
    if re.fullmatch(_YEAR, text):
        return dt.date(int(text), 1, 1), dt.date(int(text), 12, 31)
    if text == "previous week":
        text = "last week"
    return _dateparser_span(text, today)


def _dateparser_span(text: str, today: dt.date) -> Span | None:
    data = _parser(today).get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    day = data.date_obj.date()
    if data.period == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    if data.period == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if data.period == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    return day, day


def _parser(today: dt.date) -> Any:
    from dateparser.date import DateDataParser  # imported late: ~0.1 s, only for dated questions

    base = dt.datetime.combine(today, dt.time(12))
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RELATIVE_BASE": base,
            "PREFER_DAY_OF_MONTH": "first",
        },
    )


def _apply_part(part: str, span: Span) -> Span:
    since, until = span
    words = part.replace("-", " ").split()
    length = (until - since).days + 1
    if words[-1] == "of" and words[-2] in ("day", "week", "month", "quarter"):
        unit = {"day": 1, "week": 7, "month": 0, "quarter": 0}[words[-2]]
        if unit == 0:  # calendar months / quarters within the span
            return _calendar_part(words[-3], words[-2], span)
        n = {"first": 0, "second": 1, "third": 2, "fourth": 3}.get(words[-3])
        if n is None:  # last / final
            return max(since, until - dt.timedelta(days=unit - 1)), until
        start = since + dt.timedelta(days=n * unit)
        return start, min(until, start + dt.timedelta(days=unit - 1))
    third = max(1, length // 3)
    if words[0] in ("early",) or "beginning" in words or "start" in words:
        return since, since + dt.timedelta(days=third - 1)
    if words[0] in ("late",) or "end" in words:
        return until - dt.timedelta(days=third - 1), until
    return since + dt.timedelta(days=third), until - dt.timedelta(days=third)


def _calendar_part(which: str, unit: str, span: Span) -> Span:
    since, until = span
    months = 1 if unit == "month" else 3
    if which in ("last", "final"):
        first = _add_months(until.replace(day=1), 1 - months)
        return max(since, first), until
    start = _add_months(since.replace(day=1), months * _ORDINAL.get(which, 0))
    end = _add_months(start, months) - dt.timedelta(days=1)
    return max(since, start), min(until, end)


def _holiday(when: Any, year: int | None, today: dt.date) -> Span:
    def on(y: int) -> dt.date:
        return dt.date(y, *when) if isinstance(when, tuple) else when(y)

    day = on(year) if year else (on(today.year) if on(today.year) <= today else on(today.year - 1))
    return day, day


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _easter(year: int) -> dt.date:
    from dateutil.easter import easter  # dateutil comes with dateparser

    return easter(year)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
