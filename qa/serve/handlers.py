"""What the chat page does when a question is asked, a source opened or a file dropped."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from qa.answer.check import check
from qa.config import DEFAULT_K
from qa.errors import IndexLocked, QAError
from qa.library import Library
from qa.serve.render import (
    EMPTY_DOCUMENT,
    EMPTY_SOURCES,
    Target,
    answer_pieces,
    check_reply,
    check_sources_html,
    check_targets,
    esc,
    sources_html,
    timeline_frame,
    timeline_limits,
)
from qa.serve.upload import check_file, duplicate_of, place, withdraw_refused
from qa.serve.viewer import document_html

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


class Handlers:
    """Event handlers bound to one Library and the folder uploads go to."""

    def __init__(self, lib: Library, folder: Path):
        self.lib, self.folder = lib, folder
        # Uploads sync one at a time; questions keep reading the last published index meanwhile, with
        # no lock: each read takes the Library's current view and keeps it to the end (Library.view).
        self.write_lock = threading.Lock()

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
    ) -> Iterator[tuple[Any, ...]]:
        """Stream an answer into the chat, one cited sentence at a time; fill the sources panel."""
        history = list(history or [])
        text, k = (question or "").strip(), int(k or DEFAULT_K)
        if not text:
            yield history, "", gr.skip(), gr.skip(), gr.skip()
            return
        history.append({"role": "user", "content": esc(text)})
        yield history, "", gr.skip(), gr.skip(), gr.skip()
        turn = len(history)  # the answer's place in the history: its markers carry it
        try:
            pieces, sources, targets, dated = self._answer(Question(text, k, mode, since, until, task), turn)
        except QAError as exc:
            history.append({"role": "assistant", "content": esc(str(exc))})
            yield history, "", gr.skip(), gr.skip(), gr.skip()
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
            yield [*history, reply], "", sources, plot, state

    def _answer(self, q: Question, turn: int) -> tuple[list[str], str, list[Target], list[Any]]:
        """Chat pieces, sources panel, card targets and dated items for a question or a claim."""
        if q.task == CHECK:
            result = check(self.lib, q.text, k=q.k)
            dated = [*result.occurrences, *result.passages]
            return [check_reply(result)], check_sources_html(result), check_targets(result), dated
        answer = self.lib.ask(q.text, k=q.k, since=q.since or None, until=q.until or None, mode=q.mode)
        quoted = {quote.marker for quote in answer.quotes}
        sources = sources_html(answer.hits, weak=not answer.found, note=answer.date_note, quoted=quoted)
        return answer_pieces(answer, turn), sources, [Target.of_hit(h) for h in answer.hits], list(answer.hits)

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

    @staticmethod
    def clear() -> tuple[Any, ...]:
        """The chat was cleared: so are the sources, the document viewer, the timeline and the targets."""
        return EMPTY_SOURCES, EMPTY_DOCUMENT, gr.ScatterPlot(value=None, x_lim=None), {}, gr.Tabs(selected="sources")

    def upload(self, files: list[str] | None, progress: Any = PROGRESS) -> tuple[str, Any]:
        """Copy the files into the folder (checked, renamed if taken, not again if already there), then
        index them, waiting for a `qa index` that is writing the index meanwhile."""
        lines, placed = [], []
        indexed = self._indexed()
        for f in files or []:
            path = Path(f)
            try:
                check_file(path, path.name)
                there = duplicate_of(path, path.name, self.folder, indexed)
                if there is not None:
                    lines.append(f"Already in the folder as {there}: nothing added.")
                    continue
                placed.append(place(path, path.name, self.folder))
            except (QAError, OSError) as exc:
                lines.append(f"Not added: {exc}")
        if placed:
            with self.write_lock:
                lines += self._index(placed, progress)
        if not lines:
            lines.append("No file received.")
        body = "".join(f"<li>{esc(line)}</li>" for line in lines)
        return f'<ul class="qa-upload-status">{body}</ul>', None

    def _indexed(self) -> dict[str, str]:
        """sha256 -> path of every document in the index (none when there is no index yet)."""
        try:
            return {state.sha256: path for path, state in self.lib.view().catalog.files().items()}
        except QAError:
            return {}

    def _index(self, placed: list[Path], progress: Any) -> list[str]:
        progress(0.0, desc="indexing (waiting for another qa index to finish, if one is running)")
        try:
            report = self.lib.sync(
                self.folder, progress=lambda stage, done, total: progress((done, total), desc=stage), wait=UPLOAD_WAIT
            )
        except IndexLocked:
            names = ", ".join(p.name for p in placed)
            return [f"Saved {names}; not indexed yet: another qa index is still writing — the next upload or qa index adds it."]
        except QAError as exc:
            return [f"Indexing failed: {exc}"]
        refused = withdraw_refused(placed, report)  # a refused upload does not stay in the folder
        lines = [f"Not added: {p.name}: {refused[p.name]}" if p.name in refused else f"Added {p.name}: searchable now."
                 for p in placed]
        return [*lines, f"{report.chunks_encoded} new passages encoded."]
