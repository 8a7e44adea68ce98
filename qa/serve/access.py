"""Who may call the REST API and the MCP endpoint (qa/serve/rest.py, qa/serve/mcp_tools.py).

- A bearer token (`--token` / $QA_TOKEN), for programs: `Authorization: Bearer TOKEN`.
- The chat's login (`--auth user:password` / $QA_AUTH): the session cookie of a browser logged in
  to the chat, or HTTP Basic with the same user and password.
- Neither configured: only clients on this machine (loopback), as the chat binds by default.

Secrets are compared in constant time (hmac.compare_digest), so timing tells nothing of them, and
wrong ones are limited per client as wrong passwords at the chat's login form are (auth.LoginLimiter,
the same one in `qa chat`): after a few, 429 until the lockout ends. Host and Origin are checked
before any of this, by qa/serve/guard.py.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from qa.serve.auth import LoginLimiter, client_of, logged_in, retry_seconds

REALM = 'Basic realm="qa", charset="UTF-8"'


def same(given: str, expected: str) -> bool:
    """Equal strings, compared in a time that does not depend on where they differ."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def is_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return bool(address.is_loopback or (mapped and mapped.is_loopback))


@dataclass(frozen=True)
class Access:
    """The credentials a server accepts (neither set: loopback clients only), and the limiter that
    counts wrong ones."""

    login: tuple[str, str] | None = None
    token: str | None = None
    limiter: LoginLimiter = field(default_factory=LoginLimiter, compare=False, repr=False)

    @property
    def open(self) -> bool:
        return self.login is None and self.token is None

    def allows(self, scope: dict[str, Any]) -> bool:
        """True when the request carries an accepted credential (or needs none, from loopback)."""
        if self.open:
            return is_loopback(client_of(scope))
        scheme, _, value = Headers(scope=scope).get("authorization", "").strip().partition(" ")
        scheme, value = scheme.lower(), value.strip()
        if self.token is not None and scheme == "bearer" and same(value, self.token):
            return True
        if self.login is not None:
            return (scheme == "basic" and self._basic(value)) or logged_in(scope)
        return False

    def _basic(self, value: str) -> bool:
        assert self.login is not None
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Both compared whatever the first gives: `&`, not `and`.
        return bool(sep) & same(user, self.login[0]) & same(password, self.login[1])

    def refusal(self, scope: dict[str, Any]) -> JSONResponse:
        """The answer to a request `allows` refused: 403 off loopback when no credential is set, else 401."""
        if self.open:
            body = {
                "error": "this server answers programs on this machine only",
                "fix": "start it with --token (or --auth user:password) to let other machines in",
            }
            return JSONResponse(body, status_code=403)
        ways = (["Authorization: Bearer TOKEN (--token / QA_TOKEN)"] if self.token else []) + (
            ["HTTP Basic with the --auth user and password, or the chat's login"] if self.login else []
        )
        challenge = ", ".join((["Bearer"] if self.token else []) + ([REALM] if self.login else []))
        body = {"error": "not authenticated", "fix": "send " + " or ".join(ways)}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})


def presents_credentials(scope: dict[str, Any]) -> bool:
    return "authorization" in Headers(scope=scope)


def locked_out(seconds: float, client: str) -> JSONResponse:
    wait = retry_seconds(seconds)
    body = {"error": f"too many wrong credentials from {client}", "fix": f"try again in {wait} s, with the right token or login"}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})


class Guard:
    """ASGI middleware: pass requests `access` allows, answer the others with its refusal; a client
    that sent wrong credentials too often is refused (429) until its lockout ends."""

    def __init__(self, app: Any, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client, limiter = client_of(scope), self.access.limiter
        if not self.access.open and (wait := limiter.wait(client)) > 0:
            await locked_out(wait, client)(scope, receive, send)
        elif self.access.allows(scope):
            if presents_credentials(scope):
                limiter.succeeded(client)
            await self.app(scope, receive, send)
        else:
            if presents_credentials(scope):  # a wrong token or password; none at all is no guess
                limiter.failed(client)
            await self.access.refusal(scope)(scope, receive, send)
