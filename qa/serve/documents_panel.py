"""The chat's documents panel: every indexed document with its title, date (and where the date came
from), passage count, and a delete button that asks first; the totals on top. Pure HTML: no gradio.

Every name and title passes through `esc`: a file called `<script>.txt` shows as text.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.serve.render import esc
from qa.types import DocumentInfo

MAX_ROWS = 500  # rows drawn at once; the filter box finds the others

# On the panel: "Delete" shows a confirmation in its row; "Yes, delete" sends the panel's click
# with the document's source (not its row number: a list that changed meanwhile deletes nothing
# it did not name), "Cancel" hides the confirmation again.
DOCS_JS = """element.addEventListener('click', (e) => {
  const row = e.target.closest('tr[data-source]');
  if (!row) return;
  const ask = row.querySelector('.qa-confirm'), del = row.querySelector('.qa-del');
  if (e.target.closest('.qa-del')) { ask.hidden = false; del.hidden = true; }
  else if (e.target.closest('.qa-no')) { ask.hidden = true; del.hidden = false; }
  else if (e.target.closest('.qa-yes')) { e.target.disabled = true; trigger('click', {delete: row.dataset.source}); }
});"""
CSS = """
.qa-docs-count { font-size: 1.05em; margin: 2px 0 6px; } .qa-docs-notice { margin: 4px 0; font-weight: 600; }
table.qa-docs { width: 100%; border-collapse: collapse; font-size: .9em; }
table.qa-docs td, table.qa-docs th { border-bottom: 1px solid var(--border-color-primary); padding: 4px; text-align: left;
  vertical-align: top; }
table.qa-docs td.qa-n { text-align: right; } table.qa-docs td.qa-day { white-space: nowrap; }
.qa-date-source { font-size: .8em; opacity: .75; }
.qa-del, .qa-yes, .qa-no { font-size: .85em; cursor: pointer; border: 1px solid var(--border-color-primary); border-radius: 4px;
  padding: 0 6px; background: none; color: inherit; }
.qa-yes { background: #dc2626; color: #fff; border-color: #dc2626; }
"""


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def totals(docs: Sequence[DocumentInfo]) -> str:
    """'2 documents, 16 passages'."""
    return f"{plural(len(docs), 'document')}, {plural(sum(d.passages for d in docs), 'passage')}"


def _date(doc: DocumentInfo) -> str:
    if doc.date is None:
        return "undated"
    where = f'<div class="qa-date-source" title="where the date came from">{esc(doc.date_source)}</div>'
    source = where if doc.date_source else ""
    return f"{esc(doc.date.isoformat())}{source}"


def _row(doc: DocumentInfo) -> str:
    title = f'<div class="qa-title">{esc(doc.title)}</div>' if doc.title else ""
    pages = f", {plural(doc.pages, 'page')}" if doc.pages else ""
    confirm = (
        '<span class="qa-confirm" hidden>Delete it from the folder and the index? '
        '<button class="qa-yes">Yes, delete</button> <button class="qa-no">Cancel</button></span>'
    )
    return (
        f'<tr data-source="{esc(doc.source)}"><td><div class="qa-file">{esc(doc.source)}</div>{title}</td>'
        f'<td class="qa-day">{_date(doc)}</td><td class="qa-n">{doc.passages}{esc(pages)}</td>'
        f'<td><button class="qa-del" title="Delete this document">Delete</button>{confirm}</td></tr>'
    )


def documents_html(docs: Sequence[DocumentInfo], needle: str = "", notice: str = "") -> str:
    """The panel: the totals, the rows the filter `needle` matches, a notice (e.g. what was deleted)."""
    shown = [d for d in docs if d.matches(needle)]
    head = f'<div class="qa-docs-count"><b>{esc(totals(docs))}</b> in the index'
    if needle.strip():
        head += f" · {len(shown):,} shown for “{esc(needle.strip())}”"
    head += "</div>"
    if len(shown) > MAX_ROWS:
        head += f'<div class="qa-note">Showing the first {MAX_ROWS:,}: type in the filter to find the others.</div>'
    if notice:
        head += f'<div class="qa-docs-notice">{esc(notice)}</div>'
    if not docs:
        return head + '<div class="qa-empty">No documents yet: add some in the Upload tab.</div>'
    if not shown:
        return head + '<div class="qa-empty">No document matches the filter.</div>'
    rows = "".join(_row(d) for d in shown[:MAX_ROWS])
    table = '<table class="qa-docs"><thead><tr><th>Document</th><th>Date</th><th>Passages</th><th></th></tr></thead>'
    return f"{head}{table}<tbody>{rows}</tbody></table>"


def intro_html(folder: object, docs: Sequence[DocumentInfo]) -> str:
    """The line under the page's title: how many documents the answers come from, and where they are."""
    return (
        f"<h2>qa</h2><p>Answers quoted from <b>{esc(totals(docs))}</b> in <code>{esc(folder)}</code>, "
        'each sentence cited. <a href="api/v1/docs" class="qa-note">REST API</a></p>'
    )
