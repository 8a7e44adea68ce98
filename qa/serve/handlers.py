"""What the chat page does when a question is asked, a source opened or a file dropped."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from qa.answer.check import Check, check
from qa.config import DEFAULT_K
from qa.errors import IndexLocked, QAError
from qa.export import FORMATS, export
from qa.library import Library
from qa.serve.documents_panel import documents_html, intro_html
from qa.serve.render import (
    EMPTY_DOCUMENT,
    EMPTY_SOURCES,
    Target,
    answer_note,
    answer_pieces,
    check_reply,
    check_sources_html,
    check_targets,
    esc,
    quoted_spans,
    sources_html,
    timeline_frame,
    timeline_limits,
)
from qa.serve.service import Service
from qa.serve.viewer import document_html
from qa.types import Answer

ASK, CHECK = "Ask a question", "Check a claim"
# An upload while `qa index` writes the index waits this long for it (the file is in the folder
# either way; a later sync indexes it).
UPLOAD_WAIT = 600.0
STREAM_PAUSE = 0.06  # seconds between cited sentences: the answer visibly streams in, in well under a second
# Gradio sees this default and passes a live progress bar in its place.
PROGRESS = gr.Progress()
# The page's targets state: for each answer, by its place in the chat history, where its source
# cards (and so its [n] markers) point. The sources panel shows the cards of the newest one.
Targets = dict[int, list[dict[str, Any]]]


@dataclasses.dataclass(frozen=True)
class Question:
    """What the reader asked, with the settings it was asked under."""

    text: str
    k: int
    mode: str
    since: str | None
    until: str | None
    task: str
    before: tuple[Answer, ...] = ()  # the conversation's last answer, which a follow-up leans on


def unchanged(history: list[Any]) -> tuple[Any, ...]:
    """What `Handlers.chat` yields to show `history` and leave the sources, plot, state and result as they are."""
    return history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip()


class Handlers:
    """Event handlers bound to one Library and the folder uploads go to."""

    def __init__(self, lib: Library, folder: Path, service: Service | None = None):
        # Shared with the REST API and MCP of the same process (qa/serve/service.py): uploads and
        # deletions sync one at a time; questions read the last published index meanwhile, with no lock.
        self.service = service or Service(lib, folder)
        self.lib, self.folder = self.service.lib, self.service.folder
        # Evidence files for the download buttons; gradio copies each into its own cache when shown.
        self.exports = tempfile.TemporaryDirectory(prefix="qa-exports-")

    def chat(  # noqa: PLR0913 — gradio passes one argument per input component of the page
        self,
        question: str,
        history: list[Any] | None,
        k: float,
        mode: str,
        since: str | None,
        until: str | None,
        task: str,
        known: Targets | None = None,
        previous: Answer | Check | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat, one cited sentence at a time; fill the sources panel.

        `previous` is this session's last answer (or check): a follow-up ("and what did he say about
        sanctions?") is searched with its key terms, as Library.ask does with `history`."""
        history = list(history or [])
        text, k = (question or "").strip(), int(k or DEFAULT_K)
        if not text:
            yield unchanged(history)
            return
        history.append({"role": "user", "content": esc(text)})
        yield unchanged(history)
        turn = len(history)  # the answer's place in the history: its markers carry it
        before = (previous,) if isinstance(previous, Answer) and len(history) > 1 else ()  # not after a clear
        try:
            pieces, sources, targets, dated, result = self._answer(Question(text, k, mode, since, until, task, before), turn)
        except QAError as exc:
            history.append({"role": "assistant", "content": esc(str(exc))})
            yield unchanged(history)
            return
        state = {**(known or {}), turn: [dataclasses.asdict(t) for t in targets]}
        frame = timeline_frame(dated)
        plot = gr.ScatterPlot(value=frame, x_lim=timeline_limits(frame))
        shown = ""
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(STREAM_PAUSE)
            shown = f"{shown} {piece}" if shown else piece
            reply = {"role": "assistant", "content": shown}
            yield [*history, reply], "", sources, plot, state, result

    def _answer(self, q: Question, turn: int) -> tuple[list[str], str, list[Target], list[Any], Answer | Check]:
        """Chat pieces, sources panel, card targets, dated items and the result for a question or a claim."""
        if q.task == CHECK:
            result = check(self.lib, q.text, k=q.k)
            dated = [*result.occurrences, *result.passages]
            return [check_reply(result)], check_sources_html(result), check_targets(result), dated, result
        answer = self.lib.ask(q.text, k=q.k, since=q.since or None, until=q.until or None, mode=q.mode, history=q.before)
        quoted = quoted_spans(answer)
        sources = sources_html(answer.hits, weak=not answer.found, note=answer_note(answer), quoted=quoted)
        targets = [Target.of_hit(h, quoted.get(n, ())) for n, h in enumerate(answer.hits, 1)]
        return answer_pieces(answer, turn), sources, targets, list(answer.hits), answer

    def downloads(self, result: Answer | Check | None) -> tuple[Any, ...]:
        """The download buttons for the last answer or check: its evidence as Markdown, CSV and JSON
        (qa/export.py); hidden while there is none."""
        if result is None:
            return tuple(gr.DownloadButton(value=None, visible=False) for _ in FORMATS)
        folder = Path(tempfile.mkdtemp(dir=self.exports.name))
        buttons = []
        for fmt in FORMATS:
            text, _, name = export(result, fmt)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            buttons.append(gr.DownloadButton(value=str(path), visible=True))
        return tuple(buttons)

    def forget(self) -> tuple[Any, ...]:
        """The chat was cleared: no last result, no download buttons."""
        return (None, *self.downloads(None))

    def refresh(self) -> None:
        """Open the newest generation and load what its first search reads now, so the next question
        does not wait for it (the chat's watcher calls this after each sync)."""
        self.lib.warm_index()

    def open_source(self, known: Targets | None, evt: gr.EventData) -> tuple[Any, Any]:
        """Show the whole document behind card `evt.open` of answer `evt.turn` (a marker in the chat)
        or of the newest answer (a card), the passage marked and in view."""
        data = evt._data if isinstance(evt._data, dict) else {}
        index, known = data.get("open"), known or {}
        turn = data.get("turn", max(known, default=None))
        targets = known.get(turn, []) if isinstance(turn, int) else []
        if not isinstance(index, int) or not 0 <= index < len(targets):
            return gr.skip(), gr.skip()
        target = Target(**targets[index])
        doc = self.lib.document(target.source)
        return document_html(doc, target), gr.Tabs(selected="document")

    def documents(self, needle: str | None = None, notice: str = "") -> tuple[str, str]:
        """The documents panel (filtered by `needle`) and the page's intro line with the totals."""
        docs = self.service.inventory()
        return documents_html(docs, needle or "", notice), intro_html(self.folder, docs)

    def delete_document(self, needle: str | None, evt: gr.EventData) -> tuple[str, str]:
        """The panel's confirmed "Yes, delete": the document leaves the folder and the index."""
        data = evt._data if isinstance(evt._data, dict) else {}
        source = data.get("delete")
        if not isinstance(source, str):
            return self.documents(needle)
        try:
            self.service.remove(source)
        except QAError as exc:
            return self.documents(needle, f"Not deleted: {exc}")
        return self.documents(needle, f"Deleted {source}: it is gone from the folder and the index.")

    @staticmethod
    def clear() -> tuple[Any, ...]:
        """The chat was cleared: so are the sources, the document viewer, the timeline and the targets."""
        return EMPTY_SOURCES, EMPTY_DOCUMENT, gr.ScatterPlot(value=None, x_lim=None), {}, gr.Tabs(selected="sources")

    def upload(self, files: list[str] | None, progress: Any = PROGRESS) -> tuple[str, Any]:
        """Copy the files into the folder (checked, renamed if taken, not again if already there), then
        index them, waiting for a `qa index` that is writing the index meanwhile."""
        paths = [Path(f) for f in files or []]
        bar = lambda stage, done, total: progress((done, total), desc=stage)  # noqa: E731
        added = self.service.add([(p, p.name) for p in paths], progress=bar, wait=UPLOAD_WAIT)
        lines = [f"Not added: {exc}" for _, exc in added.rejected]
        lines += [f"Already in the folder as {there}: nothing added." for _, there in added.already]
        if isinstance(added.failed, IndexLocked):
            names = ", ".join(p.name for p in added.placed)
            later = "the next upload or qa index adds it"
            lines.append(f"Saved {names}; not indexed yet: another qa index is still writing — {later}.")
        elif added.failed:
            lines.append(f"Indexing failed: {added.failed}")
        elif added.report:
            not_indexed = added.not_indexed
            for p in added.placed:
                reason = not_indexed.get(p.name)
                lines.append(f"Not added: {p.name}: {reason}" if reason else f"Added {p.name}: searchable now.")
            lines.append(f"{added.report.chunks_encoded} new passages encoded.")
        if not lines:
            lines.append("No file received.")
        body = "".join(f"<li>{esc(line)}</li>" for line in lines)
        return f'<ul class="qa-upload-status">{body}</ul>', None
