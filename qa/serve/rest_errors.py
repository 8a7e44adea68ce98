"""Every error of the REST API as JSON `{"error": "...", "fix": "..."}` with its HTTP status: each
QAError subclass has one (STATUS), validation errors are 422, and nothing reaches the client as a
traceback. The responses each route may give are declared here for the OpenAPI schema.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from qa import config, errors
from qa.serve.schemas import ErrorOut, UploadResponse

log = logging.getLogger("qa.serve")

# Every QAError subclass, by the status it answers with (tests check none is missing).
STATUS: dict[type[errors.QAError], int] = {
    errors.BadQuestion: 400,
    errors.BadDate: 400,
    errors.UploadRejected: 400,
    errors.DatasetError: 400,
    errors.DocumentNotFound: 404,
    errors.BadArgument: 400,
    errors.IndexLocked: 409,
    errors.UploadTooLarge: 413,
    errors.UnsupportedType: 415,
    errors.DocumentError: 422,
    errors.IndexMissing: 503,
    errors.IndexIncompatible: 503,
    errors.IndexCorrupt: 503,
    errors.IndexUnwritable: 503,
    errors.FolderMissing: 503,
    errors.FolderReadOnly: 503,
    errors.ConfigError: 503,
    errors.ClusterError: 503,
    errors.MissingExtra: 503,
}
FIXES = {  # for a message that names no fix of its own
    400: "correct the request as the error says",
    401: "send the token or the login",
    404: "see the endpoints at /api/v1/docs",
    405: "see the methods each endpoint takes at /api/v1/docs",
    409: "retry when the other writer has finished",
    413: "send less: split the file, or shorten the text",
    415: "upload one of " + " ".join(config.SUFFIXES),
    422: "send JSON (Content-Type: application/json) as the schema at /api/v1/openapi.json describes",
    503: "see the server's log; restart it when the index is mended",
}


def _declared(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "unusable question, date or file name", 401: "no or wrong credentials",
        403: "no credentials configured, and the request is not from this machine", 404: "no such document",
        409: "another process is writing the index", 413: "request or file too big", 415: "file type not supported",
        422: "the request does not match the schema, or no uploaded file could be read", 429: "too many wrong credentials: wait",
        503: "the index cannot be read now",
    }  # fmt: skip
    return {code: {"model": ErrorOut, "description": descriptions[code]} for code in codes}


COMMON = _declared(400, 401, 403, 413, 422, 429, 503)
NOT_FOUND = _declared(404)
UPLOAD = {**_declared(409, 415), 200: {"model": UploadResponse, "description": "nothing new: every file was there already"}}
REMOVE = _declared(404, 409)


def status_of(exc: errors.QAError) -> int:
    """The status of the nearest class of `exc` in STATUS (a subclass added later answers as its parent)."""
    return next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 400)


def split(message: str, status: int = 400) -> dict[str, str]:
    """'what is wrong — the fix' as {"error", "fix"}; a message without a fix gets the status's."""
    error, dash, fix = str(message).partition(" — ")
    return {"error": error.strip(), "fix": fix.strip() if dash else FIXES.get(status, FIXES[400])}


def reply(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(split(message, status), status_code=status, headers=headers)


def _validation(exc: RequestValidationError) -> str:
    """The first few problems, each as 'field: message', without echoing the input back."""
    parts = []
    for e in list(exc.errors())[:3]:
        if e.get("type") == "json_invalid":
            return "the body is not valid JSON"
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")) or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    """The handlers that turn every exception into {"error", "fix"}."""

    @app.exception_handler(errors.QAError)
    async def qa_error(_: Request, exc: errors.QAError) -> JSONResponse:
        return reply(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return reply(422, _validation(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return reply(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": f"internal error ({type(exc).__name__})", "fix": "see the server's log"}, status_code=500)
