"""What programs reach on a qa server: the REST API at /api/v1 and MCP at /mcp, behind one Guard.

The chat mounts them on gradio's own FastAPI app (qa/serve/app.py), so the app's middleware covers
them too; `qa serve` (`serve_api` below) runs them alone on uvicorn, with no chat page.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route

from qa import config
from qa.errors import ConfigError, FolderMissing
from qa.ingest.sync import Progress
from qa.library import Library
from qa.serve.access import Access, Guard
from qa.serve.guard import LOOPBACK_NAMES, guard
from qa.serve.mcp_tools import build_mcp
from qa.serve.rest import PREFIX, SizeLimit, any_name, build_rest
from qa.serve.service import Service
from qa.terminal import sync_counts

MCP_PATH = "/mcp"
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[None]]


@dataclass(frozen=True)
class Mounted:
    """The routes to put on an app, and the lifespan that must run for MCP's sessions."""

    routes: list[BaseRoute]
    lifespan: Lifespan


def mount(service: Service, access: Access, host: str = "127.0.0.1") -> Mounted:
    """/api/v1 and /mcp for `service`, each behind `access`."""
    mcp = build_mcp(service)
    # The SDK's own Host/Origin checks for a loopback server; the app's middleware covers the rest.
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False) if host not in LOOPBACK_NAMES else None
    # Stateless, JSON answers: each call stands alone, so any worker can answer it and curl can read it.
    mcp.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, json_response=True,
                            transport_security=security, host=host)  # fmt: skip
    endpoint = StreamableHTTPASGIApp(mcp.session_manager)  # what that app routes MCP_PATH to
    routes: list[BaseRoute] = [
        any_name(Mount(PREFIX, app=Guard(SizeLimit(build_rest(service, access)), access))),  # type: ignore[arg-type]
        Route(MCP_PATH, endpoint=Guard(endpoint, access), methods=["GET", "POST", "DELETE"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with mcp.session_manager.run():
            yield

    return Mounted(routes, lifespan)


def guarded_elsewhere(path: str) -> bool:
    """Paths whose own Guard decides who gets in (the chat's login middleware lets them through)."""
    return path in (PREFIX, MCP_PATH) or path.startswith((PREFIX + "/", MCP_PATH + "/"))


def api_app(service: Service, access: Access, host: str = "127.0.0.1") -> Any:
    """The API and MCP without the chat, behind qa.serve.guard's Host and Origin checks (the
    credentials are `access`'s): what `qa serve` runs."""
    mounted = mount(service, access, host)

    async def home(_: Any) -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/docs")

    routes = [*mounted.routes, Route("/", home)]
    app = FastAPI(routes=routes, lifespan=mounted.lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    return guard(app, host)


@dataclass(frozen=True)
class ApiOptions:
    """Where `qa serve` listens and whom it lets in."""

    host: str = "127.0.0.1"
    port: int = 8000
    access: Access = field(default_factory=Access)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, or a ConfigError naming the port (in use, not allowed, out of range)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # proto from getaddrinfo (IPPROTO_TCP, not 0): asyncio sets TCP_NODELAY on accepted sockets
        # only then, and without it every response waits ~40 ms for the client's delayed ACK.
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except (OSError, OverflowError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"cannot listen on {host}:{port} ({why}) — choose another --port or --host") from exc
    return sock


def serve_api(folder: str | os.PathLike[str] | None, index_dir: str | os.PathLike[str] | None, options: ApiOptions,
              progress: Progress | None = None) -> None:  # fmt: skip
    """Sync `folder` into the index, then serve the API and MCP until stopped (`qa serve`)."""
    lib = Library.open(index_dir)
    root = Path(folder).resolve() if folder else lib.folder
    if root is None:
        raise FolderMissing(f"No folder to serve: give one, e.g. qa serve seeds/ (index: {config.index_dir(index_dir)})")
    sock = bind(options.host, options.port)
    report = lib.sync(root, progress=progress)
    print(sync_counts(report), file=sys.stderr)
    lib.warm()
    if options.host not in LOOPBACK_NAMES and options.access.open:
        print(f"qa serve: warning: {options.host} without --token or --auth — it answers this machine only", file=sys.stderr)
    app = api_app(Service(lib, root), options.access, options.host)
    where = f"http://{options.host}:{options.port}"
    print(f"qa serve: {where}{PREFIX}/docs and {where}{MCP_PATH}  (folder {root}, index {lib.store.root})",
          file=sys.stderr, flush=True)  # fmt: skip
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    server.run(sockets=[sock])
