"""Who may get in: one ASGI middleware in front of everything the server answers (the page, gradio's
API, and any REST or MCP route mounted on the same app).

1. The Host header must name this server: 127.0.0.1, localhost, ::1 or the --host it was started
   with (bound to every address, any IP address or this machine's own name). A page on
   http://attacker.example whose name was made to point at 127.0.0.1 (DNS rebinding) sends
   `Host: attacker.example`: refused with 400, before anything else runs.
2. An Origin header must name one of those too: a page on another site gets 403, and so no CORS
   grant (gradio's own CORS layer, inside this one, would echo any origin when the Host is not local).
3. With a login: wrong passwords are limited per client (auth.LoginLimiter), every route but the
   login form needs the session (auth.needs_login), and the form comes without the API schema.
   Routes that take credentials of their own (`elsewhere`: the REST API and MCP, which also take a
   token: qa/serve/access.py) pass on to their own check, after the Host and Origin checks.

`guard(app, ...)` wraps any ASGI app; `qa chat` puts it outside gradio's whole middleware stack.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse

from qa.serve.auth import LOGIN_PATHS, REFUSED, LoginLimiter, client_of, is_public, logged_in, login_page, retry_seconds

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
EVERY_ADDRESS = ("0.0.0.0", "::", "")


def hostname(value: str) -> str:
    """'127.0.0.1:7860' -> '127.0.0.1'; '[::1]:7860' -> '::1'; 'http://Example.org:80' -> 'example.org'."""
    value = value.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def own_names(host: str) -> frozenset[str]:
    """The host names a server bound to `host` answers to."""
    names = set(LOOPBACK_NAMES) | {hostname(host)}
    if host in EVERY_ADDRESS:
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(n for n in names if n)


class Guard:
    """ASGI middleware: refuses foreign hosts and origins, limits failed logins, requires the login."""

    def __init__(
        self, app: Any, host: str = "127.0.0.1", login: bool = False, limiter: LoginLimiter | None = None,
        elsewhere: Callable[[str], bool] = lambda path: False,
    ) -> None:  # fmt: skip
        self.app, self.elsewhere = app, elsewhere
        self.names = own_names(host)
        self.any_ip = host in EVERY_ADDRESS  # bound to every address: reached by any of its IPs
        self.login = login
        self.limiter = limiter or LoginLimiter()

    def known(self, name: str) -> bool:
        return name in self.names or (self.any_ip and is_ip(name))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin = hostname(headers.get("host", "")), headers.get("origin")
        if not self.known(host):
            msg = f"Host {host!r} is not a name this server answers to — open it as http://127.0.0.1 or localhost"
            await self.refuse(scope, receive, send, 400, msg)
        elif origin is not None and not self.known(hostname(origin)):
            msg = f"Origin {origin!r} is another site: this server answers only pages of its own"
            await self.refuse(scope, receive, send, 403, msg)
        elif not self.login:
            await self.app(scope, receive, send)
        else:
            await self.logged(scope, receive, send)

    async def logged(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The login rules: limited tries at /login, the form alone without a login, 401 elsewhere."""
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and path in LOGIN_PATHS:
            await self.try_login(scope, receive, send)
        elif logged_in(scope) or self.elsewhere(path):
            await self.app(scope, receive, send)
        elif path == "/" and scope["type"] == "http":
            await self.form_only(scope, receive, send)
        elif is_public(path):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await JSONResponse(REFUSED, status_code=401)(scope, receive, send)

    async def try_login(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = client_of(scope)
        wait = self.limiter.wait(client)
        if wait > 0:
            seconds = retry_seconds(wait)
            detail = f"Too many failed logins from {client} — try again in {seconds} s"
            response = JSONResponse({"detail": detail}, status_code=429, headers={"Retry-After": str(seconds)})
            await response(scope, receive, send)
            return

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 200:
                    self.limiter.succeeded(client)
                elif 400 <= status < 500:
                    self.limiter.failed(client)
            await send(message)

        await self.app(scope, receive, watch)

    async def form_only(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Gradio's page (the login form, as nobody is logged in) with its API schema emptied."""
        # Uncompressed, so that it can be edited: the page is read whole, changed, then sent.
        plain = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: dict[str, Any] = {}
        body = bytearray()

        async def collect(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    page = login_page(bytes(body))
                    kept = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                    await send({**start, "headers": [*kept, (b"content-length", str(len(page)).encode())]})
                    await send({"type": "http.response.body", "body": page})

        await self.app({**scope, "headers": plain}, receive, collect)

    @staticmethod
    async def refuse(scope: dict[str, Any], receive: Any, send: Any, status: int, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await PlainTextResponse(message, status_code=status)(scope, receive, send)


def guard(
    app: Any, host: str = "127.0.0.1", login: bool = False, limiter: LoginLimiter | None = None,
    elsewhere: Callable[[str], bool] = lambda path: False,
) -> Guard:  # fmt: skip
    """`app` behind the Guard: what `qa chat` serves, and what any other server of qa should."""
    return Guard(app, host, login, limiter, elsewhere)

