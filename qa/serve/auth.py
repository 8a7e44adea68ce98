"""With a login (`--auth`), every request but the login page and its static files needs a logged-in session.

Gradio checks the login on its data routes (/config, /gradio_api/info, /call, /upload, /file=...) but
leaves others open: /gradio_api/heartbeat, /cancel, /reset, /stream/..., /token, /app_id,
/openapi.json. `LoginRequired` closes them all: a request without the session cookie gets 401 unless
its path is one the login page itself needs (PUBLIC, PUBLIC_PREFIXES), which hold no document data.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

# What the browser needs to show the login form and post it ("/" without a login is that form), and
# /gradio_api/startup-events, which launch() itself calls once at start-up (later calls do nothing).
PUBLIC = frozenset(
    {
        "/", "/login", "/login/", "/favicon.ico", "/theme.css", "/robots.txt", "/manifest.json",
        "/gradio_api/theme.css", "/gradio_api/login_check", "/gradio_api/login_check/", "/gradio_api/startup-events",
    }
)  # fmt: skip
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon")
REFUSED = {"detail": {"error": "Not authenticated", "auth_message": "Log in first: this server requires --auth credentials."}}


def logged_in(scope: dict[str, Any]) -> bool:
    """True when the request carries the cookie of a session that logged in (gradio's own tokens)."""
    app = scope.get("app")
    tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
    if not tokens or cookie_id is None:
        return False
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in tokens


def is_public(path: str) -> bool:
    return path in PUBLIC or path.startswith(PUBLIC_PREFIXES)


class LoginRequired:
    """ASGI middleware: 401 for any HTTP or websocket request that is neither public nor logged in."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket") or is_public(scope.get("path", "")) or logged_in(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await JSONResponse(REFUSED, status_code=401)(scope, receive, send)
