"""The REST API's requests and responses as Pydantic models: validated on the way in, documented in
the OpenAPI schema, and checked on the way out.

Responses are built from the dataclasses they carry (`model_of`), field by field with their types:
a field another module adds to `Citation`, `Hit` or `DocumentInfo` appears in the JSON and the
schema without a change here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from pydantic_core import PydanticCustomError

from qa import config
from qa.answer.check import Occurrence
from qa.library import MAX_QUESTION_CHARS
from qa.types import DocumentInfo, Hit, Quote

MAX_K = 50  # passages one request may ask for; the chat's slider stops at 20
MAX_NEIGHBOURS = 3  # adjacent passages on each side of a hit
MAX_SOURCE_CHARS = 4096  # a source is a path inside the folder

Mode = Literal[config.MODES]  # type: ignore[valid-type]  # the tuple's values, checked by pydantic
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(value: object) -> object:
    """Dates as "YYYY-MM-DD" only: pydantic alone would take a number as seconds since 1970."""
    if value is None or isinstance(value, dt.date) or (isinstance(value, str) and ISO_DAY.fullmatch(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a valid date as YYYY-MM-DD")


def whole(value: object) -> object:
    """A number, not "3" or true, which pydantic would otherwise take for 3 and 1 (4.0 is 4; 2.5 stays an error)."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# The validator after the Field: before it, pydantic writes the bounds as "ge"/"le", not JSON Schema's minimum/maximum.
K = Annotated[int, Field(ge=1, le=MAX_K, description="passages to return"), BeforeValidator(whole)]
Day = Annotated[
    dt.date | None, Field(description="YYYY-MM-DD; only documents dated on or after/before it"), BeforeValidator(iso_day)
]
Text = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class QuestionRequest(Request):
    question: Text
    k: K = config.DEFAULT_K
    since: Day = None
    until: Day = None
    mode: Mode = config.MODES[0]


class PreviousAnswer(Request):
    """The answer before, for a follow-up: these fields of the /ask response it came in."""

    question: Text
    searched: Annotated[str, Field(max_length=2 * MAX_QUESTION_CHARS, description="the question as searched")] = ""
    found: bool = False
    sources: Annotated[
        list[Annotated[str, Field(max_length=MAX_SOURCE_CHARS)]],
        Field(max_length=MAX_K, description="the source of each of its quotes"),
    ] = []


class AskRequest(QuestionRequest):
    previous: Annotated[
        PreviousAnswer | None,
        Field(description='the answer before: a follow-up that leans on it ("and what did he say about sanctions?") '
                          "is searched with its key terms and its documents preferred"),
    ] = None  # fmt: skip


class RetrieveRequest(QuestionRequest):
    neighbours: Annotated[int, Field(ge=0, le=MAX_NEIGHBOURS, description="adjacent passages each"), BeforeValidator(whole)] = 0


class CheckRequest(Request):
    text: Annotated[Text, Field(description='a claim, or text with a "quoted part"')]
    k: K = config.DEFAULT_K


def model_of(cls: type, name: str, **extra: Any) -> type[BaseModel]:
    """A response model with every field of dataclass `cls` (all present in its to_json), plus `extra`."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(cls)}
    return create_model(name, __config__=ConfigDict(extra="allow"), **fields, **extra)


HitOut = model_of(Hit, "Hit", sentence=(str, Field(description="the best-matching sentence of text")))
QuoteOut = model_of(Quote, "Quote", answer_phrase=(str, ...))
OccurrenceOut = model_of(Occurrence, "Occurrence", verbatim=(bool, ...))
PassageOut = create_model("Passage", __base__=HitOut, support=(float, ...))
DocumentOut = model_of(DocumentInfo, "DocumentInfo")
DocumentTextOut = create_model(
    "DocumentText", __base__=DocumentOut, text=(str, ...), page_starts=(list[int], Field(description="PDF: offset of each page"))
)


class RetrieveResponse(BaseModel):
    hits: list[HitOut]  # type: ignore[valid-type]


class AskResponse(BaseModel):
    question: str
    answer: str
    found: bool
    since: dt.date | None
    until: dt.date | None
    date_note: str
    searched: str
    quotes: list[QuoteOut]  # type: ignore[valid-type]
    hits: list[HitOut]  # type: ignore[valid-type]


class CheckResponse(BaseModel):
    text: str
    label: str
    note: str
    quotes: list[str]
    occurrences: list[OccurrenceOut]  # type: ignore[valid-type]
    passages: list[PassageOut]  # type: ignore[valid-type]
    best_passage: int | None


class DocumentsResponse(BaseModel):
    count: int
    passages: int
    documents: list[DocumentOut]  # type: ignore[valid-type]


class Rejected(BaseModel):
    name: str
    error: str
    fix: str


class Already(BaseModel):
    name: str = Field(description="the file's name as sent")
    source: str = Field(description="the file of the folder holding the same bytes")


class UploadResponse(BaseModel):
    added: list[DocumentOut]  # type: ignore[valid-type]
    already: list[Already]
    not_indexed: list[Rejected]
    passages_encoded: int


class RemoveResponse(BaseModel):
    removed: str
    count: int
    passages: int


class ErrorOut(BaseModel):
    error: str = Field(description="what is wrong")
    fix: str = Field(description="what to do about it")
