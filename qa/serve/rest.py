"""The REST API, version 1: retrieve, ask, check, and the documents (list, read, upload, delete).

Mounted at /api/v1 beside the chat (qa/serve/app.py) or alone (`qa serve`, qa/serve/programs.py);
its schema is at /api/v1/openapi.json and its docs page at /api/v1/docs, whose Swagger UI comes from
the fastapi-offline package: the page loads nothing from a CDN. Who may call it: qa/serve/access.py.
Every error is JSON `{"error", "fix"}` (qa/serve/rest_errors.py).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.datastructures import Headers

from qa import config
from qa.answer.check import check
from qa.answer.follow import Turn
from qa.errors import DocumentError, DocumentNotFound
from qa.export import export
from qa.serve import rest_errors
from qa.serve.access import Access
from qa.serve.schemas import (
    AskRequest,
    AskResponse,
    CheckRequest,
    CheckResponse,
    DocumentsResponse,
    DocumentTextOut,
    RemoveResponse,
    RetrieveRequest,
    RetrieveResponse,
    UploadResponse,
)
from qa.serve.service import Service
from qa.serve.upload import MAX_UPLOAD_BYTES, check_file

VERSION = "1"
PREFIX = "/api/v1"
MAX_JSON_BYTES = 64 * 1024  # a question is at most 2,000 characters
MAX_UPLOAD_REQUEST = MAX_UPLOAD_BYTES + 2**20  # one file at the page's limit, and the form around it
MAX_FILES = 20
DESCRIPTION = """Answers from your own documents, every passage cited: the passages that match a question,
an extractive answer quoting them, where a claim or quote occurs, and the documents themselves.

Each hit carries its citation: `source` (the file, relative to the indexed folder), `date`, `title`,
`start`/`end` (characters), `line_start`/`line_end`, `page` (PDF), `section`, and `sentence`, the
best-matching sentence. Errors are `{"error": "...", "fix": "..."}`."""


# ?format= on /ask and /check: the result as evidence to file (qa/export.py), a download.
Format = Annotated[
    Literal["md", "csv", "json"] | None,
    Query(description="the result as evidence to file: md, csv or json (quotes with file, date, lines, sha256 and "
                      "index generation), sent as a download; without it, the plain JSON result"),
]  # fmt: skip
TEXT = {"schema": {"type": "string"}}
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {"description": "the result; with ?format=md or csv, that file", "content": {"text/markdown": TEXT, "text/csv": TEXT}}
}


def exported(result: Any, fmt: str) -> Response:
    """`result` (an Answer or a Check) as the evidence file `fmt`, named for a download."""
    text, media_type, name = export(result, fmt)
    return Response(text, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def build_rest(service: Service, access: Access | None = None) -> FastAPI:
    """The API as its own FastAPI app, to mount at PREFIX behind a Guard(access); `access` is named
    in the schema, so clients and the docs page know which credentials to send."""
    app = FastAPIOffline(
        title="qa", version=VERSION, description=DESCRIPTION, openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
        static_url="/static", swagger_ui_parameters={"validatorUrl": None}, max_body_size=MAX_JSON_BYTES,
        form_limits={"max_files": MAX_FILES, "max_fields": MAX_FILES}, responses=rest_errors.COMMON,
        dependencies=[Depends(known_query_only)],
    )  # fmt: skip
    rest_errors.install(app)
    declare_security(app, access or Access())
    lib = service.lib

    @app.post("/retrieve", response_model=RetrieveResponse, tags=["search"])
    def retrieve(req: RetrieveRequest) -> dict[str, Any]:
        """The k passages that best match the question, best first, each with its citation."""
        hits = lib.retrieve(req.question, k=req.k, since=req.since, until=req.until, mode=req.mode, neighbours=req.neighbours)
        return {"hits": [h.to_json() for h in hits]}

    @app.post("/ask", response_model=AskResponse, tags=["search"], responses=EXPORTED)
    def ask(req: AskRequest, format: Format = None) -> Any:
        """An extractive answer: the sentences of the best passages that answer, each followed by its marker [n].
        A follow-up sends `previous` (the question, searched, found and quote sources of the answer before).
        With ?format=md, csv or json: the same answer as evidence to file (qa ask --format)."""
        before = req.previous
        history = [Turn(before.question, before.searched, before.found, tuple(before.sources))] if before else []
        answer = lib.ask(req.question, k=req.k, since=req.since, until=req.until, mode=req.mode, history=history)
        return exported(answer, format) if format else answer.to_json()

    @app.post("/check", response_model=CheckResponse, tags=["search"], responses=EXPORTED)
    def check_claim(req: CheckRequest, format: Format = None) -> Any:
        """Where a claim or a quote occurs in the documents (verbatim or nearly, oldest first), and the most similar passages.
        With ?format=md, csv or json: the same result as evidence to file (qa check --format)."""
        result = check(lib, req.text, k=req.k)
        return exported(result, format) if format else dict(result.to_json())

    @app.get("/documents", response_model=DocumentsResponse, tags=["documents"])
    def documents(q: Annotated[str, Query(max_length=200, description="only sources or titles with q")] = "") -> dict[str, Any]:
        """Every indexed document with its title, date, sha256 and passage count (no text); the totals first."""
        shown = service.inventory(q)
        return {"count": len(shown), "passages": sum(d.passages for d in shown), "documents": [d.to_json() for d in shown]}

    @app.get("/documents/{source:path}", response_model=DocumentTextOut, tags=["documents"], responses=rest_errors.NOT_FOUND)
    def document(source: str) -> dict[str, Any]:
        """One document's text (what citations' offsets and lines refer to) and its metadata."""
        doc, info = lib.document(source), lib.info(source)
        if doc is None or info is None:
            raise DocumentNotFound(f"{source!r} is not in the index — list the documents: GET {PREFIX}/documents")
        return {**info.to_json(), "text": doc.text, "page_starts": list(doc.pages)}

    @app.post(
        "/documents", status_code=201, response_model=UploadResponse, tags=["documents"],
        responses=rest_errors.UPLOAD, max_body_size=MAX_UPLOAD_REQUEST,
    )  # fmt: skip
    def upload(
        files: Annotated[list[UploadFile], File(min_length=1, max_length=MAX_FILES, description=" ".join(config.SUFFIXES))],
        response: Response,
    ) -> dict[str, Any]:
        """Add files to the indexed folder (under a clean name, never over a file) and index them.

        Nothing is added when any file is refused; a file whose bytes are there already is not copied
        again (200 when none was new); files that cannot be read are not kept."""
        response.status_code, body = add_files(service, files)
        return body

    @app.delete("/documents/{source:path}", response_model=RemoveResponse, tags=["documents"], responses=rest_errors.REMOVE)
    def remove(source: str) -> dict[str, Any]:
        """Delete a document from the indexed folder and from the index; every other document stays."""
        service.remove(source)
        inventory = service.inventory()
        return {"removed": source, "count": len(inventory), "passages": sum(d.passages for d in inventory)}

    for route in [r for r in app.routes if isinstance(r, APIRoute) and "{source:path}" in r.path]:
        any_name(route)
    return app


def any_name(route: Any) -> Any:
    """`route` matching paths that hold any character: a file name may hold a newline, which the
    regular expressions Starlette compiles ('.' without DOTALL) would never match."""
    route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return route


async def known_query_only(request: Request) -> None:
    """422 for a query parameter the route does not take: `?qq=` is a typo, not a filter to ignore.
    (async: a plain function would cost each request a trip through the thread pool.)"""
    route = request.scope.get("route")
    known = {p.alias for p in route.dependant.query_params} if isinstance(route, APIRoute) else set()
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        error = {"loc": ("query", unknown[0]), "msg": "Extra inputs are not permitted", "type": "extra_forbidden"}
        raise RequestValidationError([error])


class SizeLimit:
    """ASGI middleware: a request whose Content-Length is over its route's limit gets the API's JSON
    413 before anything reads it. (FastAPI's own limits, which also count bodies sent without a
    length, answer a declared length with a plain-text 413.)"""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            upload = scope.get("method") == "POST" and scope.get("path", "").rstrip("/").endswith("/documents")
            limit = MAX_UPLOAD_REQUEST if upload else MAX_JSON_BYTES
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > limit:
                message = f"the request is {int(length):,} bytes, over the {limit:,} this endpoint takes"
                await rest_errors.reply(413, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def declare_security(app: FastAPI, access: Access) -> None:
    """Name in the OpenAPI schema the credentials `access` accepts (none: loopback clients only)."""
    schemes = ({"bearer": {"type": "http", "scheme": "bearer"}} if access.token else {}) | (
        {"basic": {"type": "http", "scheme": "basic"}} if access.login else {}
    )
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        schema = plain()  # built once, then cached by FastAPI: adding the schemes again changes nothing
        if schemes:
            schema.setdefault("components", {})["securitySchemes"] = schemes
            schema["security"] = [{name: []} for name in schemes]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_files(service: Service, files: list[UploadFile]) -> tuple[int, dict[str, Any]]:
    """POST /documents: (status, body). Every file is checked first, and one refused refuses them
    all; files whose bytes are in the folder already are named, not copied again; the others are
    copied and indexed together, and those the sync could not load taken out again (a DocumentError,
    422, when that leaves none). 201 when a document was added, 200 when all were there already."""
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as tmp:
        received = [(save(f, Path(tmp), i), f.filename or "upload") for i, f in enumerate(files)]
        for path, name in received:
            check_file(path, name)
        added = service.add(received, keep=False)
    if added.rejected:
        raise added.rejected[0][1]
    if added.failed:
        raise added.failed
    refused = added.not_indexed
    if added.placed and len(refused) == len(added.placed):
        name, reason = next(iter(refused.items()))
        raise DocumentError(f"{name}: {reason}")
    names = {p.name for p in added.placed} - set(refused)
    body = {
        "added": [i.to_json() for i in service.inventory() if i.source in names],
        "already": [{"name": name, "source": there} for name, there in added.already],
        "not_indexed": [{"name": n, **rest_errors.split(r)} for n, r in refused.items()],
        "passages_encoded": added.report.chunks_encoded if added.report else 0,
    }
    return (201 if names else 200), body


def save(upload: UploadFile, folder: Path, i: int) -> Path:
    """The uploaded bytes in a file of their own (place() copies from a path)."""
    path = folder / str(i)
    with path.open("wb") as out:
        while chunk := upload.file.read(2**20):
            out.write(chunk)
    return path
