"""Dates named in questions -> ranges; CLI date arguments."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.search.dates import DateRange, parse_question_dates

TODAY = dt.date(2017, 3, 9)  # a Thursday; plays the newest document of a corpus
D = dt.date
MIN, MAX = dt.date.min, dt.date.max

CASES = [
    ("What did Biden say on December 30?", D(2016, 12, 30), D(2016, 12, 30), "on December 30"),
    (
        "What did Biden say on December 30, 2021?",
        D(2021, 12, 30),
        D(2021, 12, 30),
        "on December 30, 2021",
    ),
    ("Who was fired on March 9?", D(2017, 3, 9), D(2017, 3, 9), "on March 9"),  # today counts
    (
        "Who was fired on March 10?",
        D(2016, 3, 10),
        D(2016, 3, 10),
        "on March 10",
    ),  # never the future
    ("What happened in January 2017?", D(2017, 1, 1), D(2017, 1, 31), "in January 2017"),
    ("Any news in May?", D(2016, 5, 1), D(2016, 5, 31), "in May"),
    ("Which storms hit during December?", D(2016, 12, 1), D(2016, 12, 31), "during December"),
    (
        "Who resigned in the last week of 2021?",
        D(2021, 12, 25),
        D(2021, 12, 31),
        "in the last week of 2021",
    ),
    ("first week of January 2017", D(2017, 1, 1), D(2017, 1, 7), "first week of January 2017"),
    ("second week of January 2017", D(2017, 1, 8), D(2017, 1, 14), "second week of January 2017"),
    ("the last month of 2016", D(2016, 12, 1), D(2016, 12, 31), "the last month of 2016"),
    ("What was said before Christmas 2016?", MIN, D(2016, 12, 24), "before Christmas 2016"),
    ("after Christmas 2016", D(2016, 12, 26), TODAY, "after Christmas 2016"),
    ("on Christmas Eve", D(2016, 12, 24), D(2016, 12, 24), "on Christmas Eve"),
    ("on New Year’s Eve 2016", D(2016, 12, 31), D(2016, 12, 31), "on New Year’s Eve 2016"),
    ("Thanksgiving 2016", D(2016, 11, 24), D(2016, 11, 24), "Thanksgiving 2016"),
    ("Protests in 2016", D(2016, 1, 1), D(2016, 12, 31), "in 2016"),
    ("Layoffs since March 2017", D(2017, 3, 1), TODAY, "since March 2017"),
    ("since March", D(2017, 3, 1), TODAY, "since March"),
    ("after 2020", D(2021, 1, 1), MAX, "after 2020"),
    ("until February 2017", MIN, D(2017, 2, 28), "until February 2017"),
    (
        "between December 1, 2016 and January 15, 2017",
        D(2016, 12, 1),
        D(2017, 1, 15),
        "between December 1, 2016 and January 15, 2017",
    ),
    (
        "from January to February 2016",
        D(2016, 1, 1),
        D(2016, 2, 29),
        "from January to February 2016",
    ),
    (
        "between December 30 and January 2",
        D(2016, 12, 30),
        D(2017, 1, 2),
        "between December 30 and January 2",
    ),
    ("What happened yesterday?", D(2017, 3, 8), D(2017, 3, 8), "yesterday"),
    ("the day before yesterday", D(2017, 3, 7), D(2017, 3, 7), "the day before yesterday"),
    ("What did he say last week?", D(2017, 2, 27), D(2017, 3, 5), "last week"),  # Monday..Sunday
    ("two weeks ago", D(2017, 2, 20), D(2017, 2, 26), "two weeks ago"),
    ("3 days ago", D(2017, 3, 6), D(2017, 3, 6), "3 days ago"),
    ("in the past 3 days", D(2017, 3, 7), TODAY, "in the past 3 days"),
    ("last Friday", D(2017, 3, 3), D(2017, 3, 3), "last Friday"),
    ("last year", D(2016, 1, 1), D(2016, 12, 31), "last year"),
    ("in Q1 2017", D(2017, 1, 1), D(2017, 3, 31), "in Q1 2017"),
    ("late December 2016", D(2016, 12, 22), D(2016, 12, 31), "late December 2016"),
    ("in early January", D(2017, 1, 1), D(2017, 1, 10), "in early January"),
    ("on 2016-12-30", D(2016, 12, 30), D(2016, 12, 30), "on 2016-12-30"),
    ("on 12/30/2016", D(2016, 12, 30), D(2016, 12, 30), "on 12/30/2016"),
    ("the 30th of December 2016", D(2016, 12, 30), D(2016, 12, 30), "30th of December 2016"),
]


@pytest.mark.parametrize(("question", "since", "until", "phrase"), CASES)
def test_phrase_to_range(question: str, since: dt.date, until: dt.date, phrase: str) -> None:
    assert parse_question_dates(question, today=TODAY) == DateRange(since, until, phrase)


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2016 election?",  # a bare year without a preposition describes, not dates
        "Berlin Christmas market attack inquiry",  # so does a bare holiday
        "Eastern Australia hit by drought",
        "How much does Trump work at Mar-a-Lago?",
        "Hitler-themed Valentine's card",
        "You may want to march on",
        "Trump's plan for the border wall",
        "How many of the 1,000 days ago",
        "What happened on February 30, 2017?",
        "",
        "garbage %%% 99/99/9999 ¿¿",
    ],
)
def test_no_date(question: str) -> None:
    assert parse_question_dates(question, today=TODAY) is None


def test_today_defaults_to_the_clock() -> None:
    got = parse_question_dates("yesterday")
    assert got is not None and got.since == dt.date.today() - dt.timedelta(days=1)


GARBAGE = [*"0123456789/-., aeiouyrstdnm", "December ", "May ", "2016 ", "in ", "since ", "between "]
GARBAGE += [" and ", "last ", "week ", "of ", "ago ", "early ", "Christmas ", "Q3 ", "9999 ", "0 "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(GARBAGE), max_size=30).map("".join))
def test_garbage_never_raises(text: str) -> None:
    got = parse_question_dates(text, today=TODAY)
    assert got is None or (isinstance(got, DateRange) and got.phrase in text)
