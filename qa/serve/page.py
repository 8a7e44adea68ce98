"""The page's fixed parts: its CSS, the two snippets of JavaScript, and the API endpoints for programs."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import gradio as gr

from qa import config
from qa.answer.check import check
from qa.errors import QAError
from qa.library import Library

# On the sources panel: a card's "Open document" (data-open: the card's index) and a marker [n] in
# the chat (its class qa-cite-TURN-N, render.cite) both send the panel's click. The chat's listener
# is set once per page; it calls the trigger of the panel that mounted last. Opening the passage
# already shown changes no value, so it is scrolled back into view here as well.
OPEN_JS = """const open = (data) => {
  trigger('click', data);
  setTimeout(() => window.qaScrollToTarget && window.qaScrollToTarget(), 500);
};
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-open]');
  if (b) open({open: Number(b.dataset.open)});
});
window.qaOpenCited = open;
if (!window.qaCitesListen) {
  window.qaCitesListen = true;
  document.addEventListener('click', (e) => {
    const c = e.target.closest('#qa-chat .qa-cite');
    const m = c && /\\bqa-cite-(\\d+)-(\\d+)\\b/.exec(c.className);
    if (m) window.qaOpenCited({turn: Number(m[1]), open: Number(m[2]) - 1});
  });
}"""
# The viewer mounts only when its tab is first shown, after its value was set: scroll on load too.
SCROLL_JS = """const show = () => setTimeout(() => {
  const m = element.querySelector('#qa-target');
  if (m) m.scrollIntoView({block: 'center'});
}, 200);
window.qaScrollToTarget = show;
watch('value', show);
show();"""
CSS = """
#qa-chat .message-content, #qa-chat .message { white-space: pre-wrap; }
.qa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px; margin: 6px 0; }
.qa-card.qa-weak { opacity: .8; border-style: dashed; }
.qa-weak-badge { background: #f59e0b; color: #000; border-radius: 4px; padding: 0 4px; font-size: .8em; }
.qa-weak-note { font-weight: 600; margin: 4px 0; }
.qa-head { font-size: .85em; } .qa-file { font-family: var(--font-mono); }
.qa-passage, .qa-doc-text { white-space: pre-wrap; margin: 4px 0; }
.qa-passage mark, .qa-best { background: #fde047; color: #000; }
.qa-passage-mark { background: #fef9c3; color: #000; }
.qa-open { font-size: .8em; text-decoration: underline; cursor: pointer; }
.qa-also { font-size: .8em; opacity: .8; }
.qa-title { font-size: .85em; font-style: italic; opacity: .85; }
.qa-quoted-badge { background: #86efac; color: #000; border-radius: 4px; padding: 0 4px; font-size: .8em; }
.qa-note { font-size: .85em; opacity: .8; }
.qa-cite { background: none; border: none; padding: 0; font: inherit; color: var(--link-text-color, #2563eb);
  text-decoration: underline; cursor: pointer; }
.qa-doc-where { font-size: .85em; margin: 2px 0 6px; }
/* Line numbers and page labels: empty spans at line and page starts (qa/serve/viewer.py), shown by
   ::before so that selecting or copying the text takes the document's text only. */
.qa-doc-text { padding-left: calc(var(--qa-digits, 3) * 1ch + 1.4em); }
.qa-ln { position: relative; }
.qa-ln::before { content: attr(data-line); position: absolute; right: .9em; width: calc(var(--qa-digits, 3) * 1ch);
  text-align: right; font-family: var(--font-mono); font-size: .8em; opacity: .55; user-select: none; }
.qa-page { display: block; }
.qa-page::before { content: "page " attr(data-page); display: block; border-top: 1px dashed var(--border-color-primary);
  font-size: .8em; opacity: .7; user-select: none; }
"""


def whole(k: Any) -> Any:
    """k as JSON brings it (5 or 5.0) as an int; anything else is left for Library to refuse by name."""
    return int(k) if isinstance(k, float) and k.is_integer() else k


def _api(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn QAError into gr.Error (its message reaches the caller), resolve the hints.

    gr.api reads the return annotation as written; with `from __future__ import annotations`
    that is a string, so the evaluated hints are put on the signature first.
    """
    hints, sig = typing.get_type_hints(fn), inspect.signature(fn)

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except QAError as exc:
            raise gr.Error(str(exc)) from exc

    params = [p.replace(annotation=hints[p.name]) for p in sig.parameters.values()]
    wrapped.__signature__ = sig.replace(parameters=params, return_annotation=hints["return"])  # type: ignore[attr-defined]
    wrapped.__annotations__ = hints
    return wrapped


def register_api(lib: Library, concurrency: int) -> None:
    """/retrieve, /ask and /check, for gradio_client and plain HTTP. They share the page's "read"
    workers; Library serves them at once (each keeps the view it started with)."""

    def retrieve(
        question: str, k: int = config.DEFAULT_K, since: str | None = None, until: str | None = None, mode: str = config.MODES[0]
    ) -> list[dict[str, Any]]:
        """The k passages that best match the question, as JSON: the fields of qa.Hit.to_json()."""
        hits = lib.retrieve(question, k=whole(k), since=since or None, until=until or None, mode=mode)
        return [hit.to_json() for hit in hits]

    def ask(
        question: str, k: int = config.DEFAULT_K, since: str | None = None, until: str | None = None, mode: str = config.MODES[0]
    ) -> dict[str, Any]:
        """An extractive answer, its quotes and hits, as JSON: qa.Answer.to_json()."""
        return lib.ask(question, k=whole(k), since=since or None, until=until or None, mode=mode).to_json()

    gr.api(_api(retrieve), api_name="retrieve", concurrency_id="read", concurrency_limit=concurrency)
    gr.api(_api(ask), api_name="ask", concurrency_id="read", concurrency_limit=concurrency)

    def check_claim(text: str, k: int = config.DEFAULT_K) -> dict[str, Any]:
        """Where a claim or quote occurs in the documents, and the most similar passages."""
        return dict(check(lib, text, k=whole(k)).to_json())

    gr.api(_api(check_claim), api_name="check", concurrency_id="read", concurrency_limit=concurrency)
