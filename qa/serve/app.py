"""The chat in the browser (Gradio 6): cited answers streaming in, sources, documents, upload, an API.

    qa chat seeds/                      # sync seeds/ into the index, serve http://127.0.0.1:7860
    qa chat docs/ --host 0.0.0.0 --auth alice:secret

Only the modules of qa.serve import gradio, and only `qa chat` imports them; the REST API and MCP
mounted beside the page come from qa/serve/programs.py.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry, no version check

import gradio as gr

from qa import config
from qa.errors import ConfigError, FolderMissing
from qa.export import FORMATS
from qa.ingest.sync import Progress
from qa.library import Library
from qa.serve.access import Access
from qa.serve.auth import LoginLimiter
from qa.serve.documents_panel import CSS as DOCUMENTS_CSS
from qa.serve.documents_panel import DOCS_JS
from qa.serve.guard import LOOPBACK_NAMES, guard
from qa.serve.handlers import ASK, CHECK, Handlers
from qa.serve.page import CSS, OPEN_JS, SCROLL_JS, register_api
from qa.serve.programs import MCP_PATH, Mounted, guarded_elsewhere, mount
from qa.serve.render import EMPTY_DOCUMENT, EMPTY_SOURCES
from qa.serve.rest import PREFIX
from qa.serve.service import Service
from qa.serve.upload import MAX_UPLOAD_BYTES
from qa.terminal import format_skipped, format_synced, log, stamp, sync_counts

if TYPE_CHECKING:
    from qa.watch import Synced, Watcher

# Queue settings, measured with bench/load_chat.py: 50 users x 2 questions (docs/benchmarks/chat.md, "Load").
# Questions and API calls in flight at once (Library serves them without a lock; 2 cores do the work).
# Measured when their Library calls still took turns: 1 -> p50 19.0 / 18.5 s, 2.2 answers/s;
# 4 -> p50 16.3 / 14.7 s, 2.5 / 2.8 answers/s; 16 -> no better than 4.
READ_CONCURRENCY = 4
# At 2.5 answers/s a full queue of 100 drains in 40 s, inside a client's 60 s; a longer one would only
# turn "queue full" now into a timeout later.
MAX_QUEUE = 100
MAX_THREADS = 40  # gradio's default; 8 was slower (p50 21.1 / 19.3 s, 2.1 / 2.2 answers/s)
# The server refuses bigger uploads with 413 before they reach the page's handler; a file between
# MAX_UPLOAD_BYTES and this gets the handler's own message, which names the limit.
SERVER_MAX_FILE_BYTES = MAX_UPLOAD_BYTES + 2**20


def build_app(
    lib: Library, folder: Path, read_concurrency: int = READ_CONCURRENCY, handlers: Handlers | None = None
) -> gr.Blocks:
    """The page: chat, sources, document viewer, timeline, settings, upload, the documents; API retrieve/ask/check.

    `handlers.service` is shared with the REST API and MCP mounted beside the page (qa/serve/programs.py)."""
    h = handlers or Handlers(lib, Path(folder))
    with gr.Blocks(title="qa — answers from your documents", analytics_enabled=False) as demo:
        panel, intro_line = h.documents()
        intro = gr.HTML(intro_line, elem_id="qa-intro", js_on_load=None)
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    height=560,
                    render_markdown=False,
                    sanitize_html=True,
                    buttons=["copy"],
                    placeholder="Ask a question about your documents.",
                )
                task = gr.Radio([ASK, CHECK], value=ASK, show_label=False, elem_id="qa-task")
                question = gr.Textbox(
                    elem_id="qa-question",
                    show_label=False,
                    placeholder="e.g. Who requested the call?",
                    submit_btn=True,
                    autofocus=True,
                )
                with gr.Row(elem_id="qa-export"):  # the last answer's evidence (qa/export.py), once there is one
                    downloads = [
                        gr.DownloadButton(f"Evidence as {name}", visible=False, size="sm", elem_id=f"qa-export-{fmt}")
                        for fmt, name in zip(FORMATS, ("Markdown", "CSV", "JSON"), strict=True)
                    ]
            with gr.Column(scale=2), gr.Tabs() as tabs:
                with gr.Tab("Sources", id="sources"):
                    timeline = gr.ScatterPlot(
                        None,  # not an empty frame: a plot that starts empty never draws its points
                        x="date",
                        y="source",
                        title="When the sources were published",
                        height=220,
                        elem_id="qa-timeline",
                        tooltip="all",
                    )
                    sources = gr.HTML(
                        EMPTY_SOURCES,
                        elem_id="qa-sources",
                        js_on_load=OPEN_JS,
                    )
                with gr.Tab("Document", id="document"):
                    viewer = gr.HTML(
                        EMPTY_DOCUMENT,
                        elem_id="qa-document",
                        js_on_load=SCROLL_JS,
                        max_height=640,
                    )
                with gr.Tab("All documents", id="documents"):
                    needle = gr.Textbox(
                        elem_id="qa-docs-filter", show_label=False, placeholder="Filter by file name or title", max_lines=1
                    )
                    documents = gr.HTML(panel, elem_id="qa-docs", js_on_load=DOCS_JS)
                with gr.Tab("Settings", id="settings"):
                    k = gr.Slider(1, 20, value=config.DEFAULT_K, step=1, label="Passages (k)", elem_id="qa-k")
                    mode = gr.Radio(list(config.MODES), value=config.MODES[0], label="Search mode", elem_id="qa-mode")
                    since = gr.DateTime(include_time=False, type="string", label="From (YYYY-MM-DD)", elem_id="qa-since")
                    until = gr.DateTime(include_time=False, type="string", label="To (YYYY-MM-DD)", elem_id="qa-until")
                with gr.Tab("Upload", id="upload"):
                    kinds = " ".join(config.SUFFIXES)
                    files = gr.File(
                        file_count="multiple",
                        label=f"Add documents ({kinds}, up to {MAX_UPLOAD_BYTES // 2**20} MiB each)",
                        elem_id="qa-files",
                    )
                    status = gr.HTML("", elem_id="qa-upload-status", js_on_load=None)
        targets = gr.State({})  # per browser session: where each answer's cards and markers point (handlers.Targets)
        last = gr.State(None)  # per browser session: the last Answer or Check, for the downloads and follow-ups
        # "read" events share `read_concurrency` workers, each reading the generation it started
        # with. Uploads ("write") run beside them, one at a time: readers see the previous index
        # until the new one is published.
        question.submit(
            h.chat, [question, chatbot, k, mode, since, until, task, targets, last],
            [chatbot, question, sources, timeline, targets, last],
            api_name="chat", concurrency_id="read", concurrency_limit=read_concurrency,
        ).then(h.downloads, [last], downloads, api_visibility="private", queue=False)  # fmt: skip
        # A card's "Open document" and a marker [n] in the chat (page.OPEN_JS) both arrive as this click.
        sources.click(
            h.open_source, [targets], [viewer, tabs],
            api_visibility="private", concurrency_id="read", concurrency_limit=read_concurrency,
        )  # fmt: skip
        chatbot.clear(h.clear, None, [sources, viewer, timeline, targets, tabs], api_visibility="private", queue=False).then(
            h.forget, None, [last, *downloads], api_visibility="private", queue=False
        )
        files.upload(
            h.upload, [files], [status, files], api_name="upload", concurrency_id="write", concurrency_limit=1
        ).then(h.documents, [needle], [documents, intro], api_visibility="private", queue=False)
        # The documents panel: fresh on each page load, filtered as the reader types, a confirmed delete.
        demo.load(h.documents, [needle], [documents, intro], api_visibility="private", queue=False)
        # "always_last": keys typed while a filter runs end in one more run with the whole text; the
        # default ("once") dropped them, leaving the rows of a prefix ("PA" for "PANGOLIN").
        needle.input(
            h.documents, [needle], [documents, intro], api_visibility="private", queue=False, trigger_mode="always_last"
        )
        documents.click(
            h.delete_document, [needle], [documents, intro], api_visibility="private", concurrency_id="write", concurrency_limit=1
        )

        register_api(lib, read_concurrency)
    return demo


def guarded(options: ServeOptions, programs: Mounted, limiter: LoginLimiter) -> Any:
    """A lifespan that puts qa.serve.guard in front of the whole app, and runs MCP's sessions: gradio
    adds its CORS and compression layers outside any middleware given to launch(), and its CORS layer
    would answer a foreign origin's preflight itself. The stack is built by the time the lifespan
    starts, and uvicorn accepts no connection before the lifespan has started. The REST API and MCP
    take the login or a token themselves (their Guard counts failures on the same `limiter`)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        stack = app.middleware_stack or app.build_middleware_stack()
        app.middleware_stack = guard(stack, options.host, bool(options.auth), limiter, guarded_elsewhere)
        async with programs.lifespan(app):
            yield

    return lifespan


def check_port(host: str, port: int) -> None:
    """ConfigError naming the fix when `port` is no port, or is taken on `host`."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port {port} is not a port — use 1 to 65535, e.g. --port 7860")
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            msg = f"port {port} is in use on {host} — stop what runs there, or choose another: --port {port + 1}"
            raise ConfigError(msg) from exc
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}) — check --host and --port") from exc


@dataclass(frozen=True)
class ServeOptions:
    """Where and how the chat listens; the queue settings are measured (docs/benchmarks/chat.md)."""

    host: str = "127.0.0.1"
    port: int = 7860
    auth: tuple[str, str] | None = None
    token: str | None = None  # for programs: the REST API and MCP (qa/serve/access.py)
    read_concurrency: int = READ_CONCURRENCY
    max_queue: int = MAX_QUEUE
    max_threads: int = MAX_THREADS
    watch: bool = False  # sync the folder whenever its files change (qa/watch.py)


def serve(
    folder: str | os.PathLike[str] | None,
    index_dir: str | os.PathLike[str] | None = None,
    options: ServeOptions = ServeOptions(),
    progress: Progress | None = None,
) -> None:
    """Sync `folder` into the index (incremental), load the model, then serve the page until stopped."""
    check_port(options.host, options.port)  # before the minutes a first sync may take
    lib = Library.open(index_dir)
    root = Path(folder).resolve() if folder else lib.folder
    if root is None:
        raise FolderMissing(f"No folder to serve: give one, e.g. qa chat seeds/ (index: {config.index_dir(index_dir)})")
    report = lib.sync(root, progress=progress)
    print(sync_counts(report), file=sys.stderr)
    lib.warm()  # the first question should not wait for the model or the BM25 postings to load
    if options.host not in LOOPBACK_NAMES and not options.auth:
        print(f"qa chat: warning: {options.host} without --auth — anyone who can reach it reads your documents", file=sys.stderr)
    service = Service(lib, root)
    handlers = Handlers(lib, root, service)
    demo = build_app(lib, root, options.read_concurrency, handlers)
    limiter = LoginLimiter()  # wrong passwords at the login form and wrong credentials at the API alike
    programs = mount(service, Access(options.auth, options.token, limiter), options.host)
    watcher = watch_folder(lib, root, handlers) if options.watch else None
    login = ", login required" if options.auth else ""
    where = f"http://{options.host}:{options.port}"
    print(f"qa chat: {where}  (folder {root}, index {lib.store.root}{login})", file=sys.stderr)
    print(f"qa chat: programs: {where}{PREFIX}/docs and {where}{MCP_PATH}", file=sys.stderr, flush=True)
    # `routes` go first in the app's router, ahead of gradio's own.
    app_kwargs = {"routes": programs.routes, "lifespan": guarded(options, programs, limiter)}
    demo.queue(default_concurrency_limit=1, max_size=options.max_queue).launch(
        server_name=options.host, server_port=options.port, auth=options.auth, max_file_size=SERVER_MAX_FILE_BYTES,
        max_threads=options.max_threads,
        allowed_paths=[], css=CSS + DOCUMENTS_CSS, ssr_mode=False, mcp_server=False, quiet=True, footer_links=["api"],
        app_kwargs=app_kwargs, prevent_thread_lock=True,
    )  # fmt: skip
    # A process started in the background by a script (`cmd &`) inherits SIGINT ignored, and Python
    # then never turns it into KeyboardInterrupt: `kill -INT` (or a test's Ctrl-C) would do nothing.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        while True:  # until Ctrl-C (KeyboardInterrupt, handled by run) or SIGTERM
            time.sleep(1)
    finally:
        if watcher:
            watcher.stop.set()
        demo.close()


def watch_folder(lib: Library, folder: Path, h: Handlers) -> Watcher:
    """Start syncing `folder` as its files change, on a thread of the chat's process.

    The watcher writes through a Library of its own; the chat's readers pick up each new generation at
    their next question (Library.view), and `h.refresh` opens it at once. Uploads and the watcher take
    turns (h.service.writing), as do the API's uploads and deletions.
    """
    from qa.watch import Watcher

    def synced(change: Synced) -> None:
        log(f"qa chat: {format_synced(change)}")
        h.refresh()

    watcher = Watcher(
        Library.open(lib.store.root, lib.model_path), folder, on_sync=synced,
        on_skipped=lambda s: log(f"qa chat: {format_skipped(s)}"),
        on_error=lambda message: log(f"qa chat: {stamp()} not synced: {message} (still watching)"),
        lock=h.service.writing,
    )  # fmt: skip
    watcher.start(ready=lambda: log(f"qa chat: watching {folder} for changes"))
    return watcher
