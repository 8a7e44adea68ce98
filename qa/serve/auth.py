"""Logins: what a request without one may reach, how fast wrong passwords may be tried, and the
login page stripped of everything but the form.

Gradio checks the login on its data routes (/config, /gradio_api/info, /call, /upload, /file=...) but
leaves others open: /gradio_api/heartbeat, /cancel, /reset, /stream/..., /token, /app_id,
/openapi.json. `needs_login` closes them all: a request without the session cookie gets 401 unless
its path is one the login page itself needs (PUBLIC, PUBLIC_PREFIXES), which hold no document data.
Gradio's login page also embeds the API's schema (`window.gradio_api_info`): `login_page` empties it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from typing import Any

from starlette.requests import HTTPConnection

from qa.errors import ConfigError

# What the browser needs to show the login form and post it ("/" without a login is that form), and
# /gradio_api/startup-events, which launch() itself calls once at start-up (later calls do nothing).
PUBLIC = frozenset(
    {
        "/", "/login", "/login/", "/favicon.ico", "/theme.css", "/robots.txt", "/manifest.json",
        "/gradio_api/theme.css", "/gradio_api/login_check", "/gradio_api/login_check/", "/gradio_api/startup-events",
    }
)  # fmt: skip
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon")
LOGIN_PATHS = ("/login", "/login/")
REFUSED = {"detail": {"error": "Not authenticated", "auth_message": "Log in first: this server requires --auth credentials."}}
# Wrong passwords: the first FREE_FAILURES from one client are answered at once; after that each
# failure locks the client out for LOCKOUT_BASE seconds, doubled at every further failure, up to
# LOCKOUT_MAX. A guesser gets ~40 tries in the first hour instead of ~460 a second
# (docs/benchmarks/integrity.md); a person who mistypes five times waits one second.
FREE_FAILURES = 5
LOCKOUT_BASE = 1.0
LOCKOUT_MAX = 300.0
MAX_CLIENTS = 10_000  # clients remembered; the oldest is forgotten first
API_INFO = re.compile(rb"window\.gradio_api_info\s*=\s*.*?;\s*</script>", re.S)


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


def login_page(body: bytes) -> bytes:
    """Gradio's page without a login, with the API schema it embeds emptied: only the form is left."""
    return API_INFO.sub(b"window.gradio_api_info = {};</script>", body)


def client_of(scope: dict[str, Any]) -> str:
    """The address a request came from, as the login limiter counts it."""
    return str((scope.get("client") or ("unknown", 0))[0])


def retry_seconds(wait: float) -> int:
    """A locked-out client's wait, whole seconds for Retry-After: at least 1, rounded up."""
    return max(1, round(wait + 0.5))


class LoginLimiter:
    """Failed logins per client (by address): free at first, then locked out for a doubling time."""

    def __init__(self, free: int = FREE_FAILURES, base: float = LOCKOUT_BASE, most: float = LOCKOUT_MAX):
        self.free, self.base, self.most = free, base, most
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # client -> (failures, locked until)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds the client must still wait before its next try; 0 when it may try now."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - time.monotonic())

    def failed(self, client: str) -> None:
        with self._lock:
            count = self._failures.pop(client, (0, 0.0))[0] + 1
            over = count - self.free
            until = time.monotonic() + min(self.most, self.base * 2 ** (over - 1)) if over > 0 else 0.0
            self._failures[client] = (count, until)
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


AUTH_ENV = "QA_AUTH"  # read by config.auth(); named here for the message


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'user:password' -> (user, password); None or '' -> None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError(f"--auth / ${AUTH_ENV} must look like user:password, not {value.split(':')[0]!r}…")
    return user, password
