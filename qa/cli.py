"""The `qa` command, every subcommand: index, ask, check, eval, chat, serve, mcp. The one place arguments are
parsed and QAError becomes a one-line message; what is printed is formatted by qa.terminal.

Optional heavy parts load only for the command that needs them: `qa ask` never imports gradio, ray or ranx.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from qa import config
from qa.answer.check import check
from qa.errors import DatasetError, MissingExtra, QAError
from qa.export import FORMATS, export
from qa.library import Library
from qa.terminal import (
    format_answer,
    format_check,
    format_collections,
    format_hit,
    format_report,
    format_skipped,
    format_synced,
    format_table,
    log,
    progress_bar,
    stamp,
    wants_colour,
)

INDEX_HELP = "index directory (default $QA_INDEX or .qa-index)"


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line naming the fix, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} — see: {self.prog} --help\n")


def add_index(sub: Any) -> None:
    example = "example: qa index seeds/   (a second run encodes nothing)"
    p = sub.add_parser("index", help="index a folder (incremental)", epilog=example)
    p.add_argument("folder", help="folder of .txt/.md/.html/.pdf files")
    p.add_argument("--index", help=INDEX_HELP)
    where = "encode on Ray: a local instance, or the cluster at ADDRESS"
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS", help=where)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_format(p: argparse.ArgumentParser, what: str) -> None:
    """--format md|csv|json (evidence export: qa/export.py), and --json as its old name for json."""
    group = p.add_mutually_exclusive_group()
    kinds = "md: the quotes and their citation list; csv: one row per quote with file, date, lines, page, sha256"
    group.add_argument("--format", choices=FORMATS, help=f"print {what} as evidence ({kinds}; json: everything)")
    group.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")


def add_ask(sub: Any) -> None:
    example = 'example: qa ask "What did Biden warn Putin about?" --k 3 --format csv > evidence.csv'
    p = sub.add_parser("ask", help="answer a question from the index, with citations", epilog=example)
    p.add_argument("question")
    p.add_argument("--index", help=INDEX_HELP)
    p.add_argument("--k", type=int, default=config.DEFAULT_K, help=f"passages to retrieve (default {config.DEFAULT_K})")
    p.add_argument("--since", help="only documents dated on or after YYYY-MM-DD")
    p.add_argument("--until", help="only documents dated on or before YYYY-MM-DD")
    p.add_argument("--mode", choices=config.MODES, default=config.MODES[0])
    add_format(p, "the answer")


def add_check(sub: Any) -> None:
    example = "example: qa check 'Biden spoke of “nothing about you without you”' --format md > check.md"
    p = sub.add_parser("check", help="check a claim or a quote against the documents", epilog=example)
    p.add_argument("text", help='the claim, or text with a "quoted part"')
    p.add_argument("--index", help=INDEX_HELP)
    p.add_argument("--k", type=int, default=config.DEFAULT_K, help=f"related passages to show (default {config.DEFAULT_K})")
    add_format(p, "the result")


def add_eval(sub: Any) -> None:
    example = (
        "example: qa eval news_titles.tsv --corpus articles/ --mode all\n"
        "         qa eval scifact/ --json    (a BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv)\n"
        "         qa eval ../shared/data/ir/* --corpus-set --mode all    (every collection x mode, one table)\n"
        "         qa eval --answers bench/questions/answers.jsonl --corpus articles/ --split test"
    )
    p = sub.add_parser(
        "eval", help="measure retrieval on a BEIR folder or a TSV of queries", epilog=example,
        description="Document-level retrieval quality: nDCG, recall and MRR at k.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("dataset", type=Path, nargs="*", help="BEIR folder, or TSV: query id, query, document id")
    p.add_argument(
        "--corpus-set", action="store_true",
        help="several BEIR folders: one table of every collection x mode, the mean, the worst gap to the best reference",
    )  # fmt: skip
    p.add_argument(
        "--references", type=Path,
        help="with --corpus-set: reference figures, JSON or a Markdown table (default: README.md beside the collections)",
    )  # fmt: skip
    p.add_argument("--answers", type=Path, help="JSON lines of questions with short answers: score the answers shown")
    p.add_argument("--split", choices=("dev", "test", "all"), default="all", help="with --answers: which half")
    p.add_argument("--corpus", type=Path, help="folder of documents a TSV is judged over")
    p.add_argument("--index", type=Path, help="index directory (--corpus-set: their parent; default: a cache folder per corpus)")
    p.add_argument("--k", type=int, default=10, help="cut-off for nDCG, recall and MRR (default 10)")
    p.add_argument("--mode", choices=(*config.MODES, "all"), default=config.MODES[0])
    p.add_argument("--json", action="store_true", help='print {"mode": {"ndcg@10": ...}}')


def add_watch(sub: Any) -> None:
    example = "example: qa watch seeds/   (then add, edit, rename or delete files in seeds/; Ctrl-C stops)"
    p = sub.add_parser("watch", help="keep the index in line with a folder as its files change", epilog=example)
    p.add_argument("folder", help="folder of .txt/.md/.html/.pdf files, synced now and after every change")
    p.add_argument("--index", help=INDEX_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress bar for the first sync")


def add_chat(sub: Any) -> None:
    example = "example: qa chat seeds/ --port 7860 --watch"
    p = sub.add_parser("chat", help="serve the chat in the browser (http://127.0.0.1:7860)", epilog=example)
    p.add_argument("folder", nargs="?", help="folder of documents, synced first (default: the folder last indexed)")
    p.add_argument("--index", help=INDEX_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 opens it to the network)")
    p.add_argument("--port", type=int, default=7860, help="port, 1-65535 (default 7860)")
    p.add_argument("--auth", help="require a login, user:password (or set $QA_AUTH)")
    p.add_argument("--watch", action="store_true", help="sync the folder whenever its files change (as qa watch)")
    p.add_argument("--token", help="bearer token programs send to /api/v1 and /mcp (or set $QA_TOKEN)")


def add_serve(sub: Any) -> None:
    example = (
        "example: export QA_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe())')\n"
        "         qa serve seeds/ &\n"
        "         curl -H \"Authorization: Bearer $QA_TOKEN\" -H 'Content-Type: application/json' \\\n"
        "              -d '{\"question\": \"Who requested the call?\", \"k\": 2}' http://127.0.0.1:8000/api/v1/retrieve"
    )
    p = sub.add_parser(
        "serve", help="serve the REST API (/api/v1, docs at /api/v1/docs) and MCP (/mcp), without the chat page",
        epilog=example, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("folder", nargs="?", help="folder of documents, synced first (default: the folder last indexed)")
    p.add_argument("--index", help=INDEX_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--auth", help="accept HTTP Basic user:password (or set $QA_AUTH)")
    p.add_argument("--token", help="accept Authorization: Bearer TOKEN (or set $QA_TOKEN); neither: loopback only")


def add_mcp(sub: Any) -> None:
    example = 'example: qa mcp seeds/    (a client\'s config: {"command": "qa", "args": ["mcp", "--index", "/path/.qa-index"]})'
    p = sub.add_parser("mcp", help="serve the MCP tools on stdio (retrieve, ask, check_claim, get_document)", epilog=example)
    p.add_argument("folder", nargs="?", help="folder of documents, synced first (default: the index as it is)")
    p.add_argument("--index", help=INDEX_HELP)


def parser() -> argparse.ArgumentParser:
    top = OneLineParser(prog="qa", description="Answers from your own documents, every passage cited.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for add in (add_index, add_ask, add_check, add_eval, add_watch, add_chat, add_serve, add_mcp):
        add(sub)
    return top


def run_index(args: argparse.Namespace) -> int:

    encoder = None
    if args.ray:
        from qa.ingest.distributed import make_ray_encoder

        encoder = make_ray_encoder(None if args.ray == "local" else args.ray, None)
    lib = Library.open(args.index)
    report = lib.sync(args.folder, progress=progress_bar(args.quiet), encoder=encoder)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(format_report(report, lib.store.root))
    return 0


def run_ask(args: argparse.Namespace) -> int:

    answer = Library.open(args.index).ask(args.question, k=args.k, since=args.since, until=args.until, mode=args.mode)
    if args.format:
        return emit(export(answer, args.format)[0])
    print(format_answer(answer, highlight=wants_colour(sys.stdout)))
    if answer.date_note:
        print(f"({answer.date_note})")
    print()
    print("\n\n".join(format_hit(h) for h in answer.hits))
    return 0


def run_check(args: argparse.Namespace) -> int:

    lib = Library.open(args.index)
    try:
        result = check(lib, args.text, args.k)
    finally:
        lib.close()
    return emit(export(result, args.format)[0] if args.format else format_check(result))


def emit(text: str) -> int:
    """Print `text` as it is, ending in exactly one line break; 0 for the exit status."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from qa.eval.retrieval import default_index_dir, load_dataset

    if args.answers:
        return run_eval_answers(args)
    if not args.dataset:
        raise DatasetError("qa eval needs a dataset (a BEIR folder or a TSV) or --answers FILE — see: qa eval --help")
    if args.corpus_set:
        return run_eval_collections(args)
    if len(args.dataset) > 1:
        raise DatasetError(f"{len(args.dataset)} datasets given — add --corpus-set to evaluate several collections")
    data = load_dataset(args.dataset[0], args.corpus)
    if not data.queries:
        raise DatasetError(f"{args.dataset[0]}: no queries with judged documents — check its qrels or TSV")
    results = _evaluate(args.index or default_index_dir(data.corpus), data, args)
    print(json.dumps(results, indent=2) if args.json else format_table(results, len(data.queries)))
    return 0


def _evaluate(index: Path, data: Any, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Sync the dataset's corpus into `index`, then score the modes `args` asks for."""
    from qa.eval.retrieval import evaluate_modes

    lib = Library.open(index)
    try:
        report = lib.sync(data.corpus)
        log(
            f"{data.name} index: {report.added} added, {report.changed} changed, {report.unchanged} unchanged, "
            f"{report.chunks_encoded} passages encoded"
        )
        modes = config.MODES if args.mode == "all" else (args.mode,)
        return evaluate_modes(lib, data, modes, max(1, args.k), log)
    finally:
        lib.close()


def run_eval_collections(args: argparse.Namespace) -> int:
    """`qa eval A B C --corpus-set`: each BEIR folder in its own index, one table of them all."""
    from qa.eval.collections import collection_folders, load_references, rows, summary
    from qa.eval.retrieval import default_index_dir, load_beir, metric_names

    folders = collection_folders(args.dataset, lambda p: log(f"skipped {p}: not a BEIR folder"))
    names = [f.name for f in folders]
    if len(set(names)) < len(names):
        raise DatasetError(f"two collections share a folder name ({', '.join(names)}) — give each its own name")
    readme = folders[0].parent / "README.md"
    references = load_references(args.references or (readme if readme.is_file() else None), names)
    results, queries = {}, {}
    for folder in folders:
        data = load_beir(folder)
        queries[data.name] = len(data.queries)
        results[data.name] = _evaluate(args.index / data.name if args.index else default_index_dir(data.corpus), data, args)
    metric, mode = metric_names(max(1, args.k))[0], config.MODES[0] if args.mode == "all" else args.mode
    table = rows(results, queries, references, metric)
    if args.json:
        print(json.dumps({"metric": metric, "results": results, "references": references, **summary(table, mode)}, indent=2))
    else:
        print(format_collections(table, mode, metric))
    return 0


def run_eval_answers(args: argparse.Namespace) -> int:
    from qa.eval.answers import format_answers_table, load_cases, run_cases, summarise
    from qa.eval.retrieval import default_index_dir

    if args.corpus is None or not args.corpus.is_dir():
        raise DatasetError(f"--answers needs --corpus FOLDER holding the documents its questions are about (got {args.corpus})")
    cases = [c for c in load_cases(args.answers) if args.split in ("all", c.split)]
    lib = Library.open(args.index or default_index_dir(args.corpus))
    try:
        lib.sync(args.corpus)
        table = summarise(run_cases(lib, cases, k=config.DEFAULT_K))
    finally:
        lib.close()
    print(json.dumps(table, indent=2) if args.json else format_answers_table(table))
    return 0


def run_watch(args: argparse.Namespace) -> int:
    from qa.watch import Watcher

    lib = Library.open(args.index)
    report = lib.sync(args.folder, progress=progress_bar(args.quiet))
    say(format_report(report, lib.store.root))  # the files it skipped are named by the watcher's first sync
    # Load the model now, beside the watch, so that the first file added does not wait for it.
    threading.Thread(target=lambda: lib.encoder, name="qa-load-model", daemon=True).start()
    watcher = Watcher(
        lib, args.folder, on_sync=lambda synced: say(format_synced(synced)),
        on_skipped=lambda s: log(format_skipped(s)),
        on_error=lambda message: log(f"{stamp()} not synced: {message} (still watching; retrying)"),
    )  # fmt: skip
    # Started in the background by a script, a process inherits SIGINT ignored: Ctrl-C (kill -INT) must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        watcher.run(ready=lambda: say(f"watching {watcher.folder} (Ctrl-C stops)"))
    except KeyboardInterrupt:  # syncs publish atomically: the index is whole whenever this lands
        log("qa watch: stopped")
    finally:
        lib.close()
    return 0


def say(line: str) -> None:
    """One line on stdout, shown at once even when the output is a file or a pipe."""
    print(line, flush=True)


def run_chat(args: argparse.Namespace) -> int:
    from qa.serve.app import ServeOptions, serve
    from qa.serve.auth import parse_auth

    login, token = parse_auth(args.auth or config.auth()), config.token(args.token)
    options = ServeOptions(host=args.host, port=args.port, auth=login, token=token, watch=args.watch)
    try:
        serve(args.folder, args.index, options, progress_bar())
    except KeyboardInterrupt:  # Ctrl-C: syncs publish atomically, so the index is whole either way
        print("\nqa chat: stopped", file=sys.stderr)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    need_extra("uvicorn", "fastapi_offline", "mcp")
    from qa.serve.access import Access
    from qa.serve.auth import parse_auth
    from qa.serve.programs import ApiOptions, serve_api

    access = Access(parse_auth(args.auth or config.auth()), config.token(args.token))
    try:
        serve_api(args.folder, args.index, ApiOptions(args.host, args.port, access), progress_bar())
    except KeyboardInterrupt:
        print("\nqa serve: stopped", file=sys.stderr)
    return 0


def run_mcp(args: argparse.Namespace) -> int:
    need_extra("mcp")
    from qa.serve.mcp_tools import serve_stdio

    with contextlib.suppress(KeyboardInterrupt):  # the client closing stdin ends it too
        serve_stdio(args.folder, args.index)
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "index": run_index, "ask": run_ask, "check": run_check, "eval": run_eval, "watch": run_watch, "chat": run_chat,
    "serve": run_serve, "mcp": run_mcp,
}  # fmt: skip


def need_extra(*modules: str) -> None:
    """MissingExtra naming the install command when a module of the `api` extra is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"{', '.join(missing)} not installed — pip install 'qa[api]'")


SERVERS = ("chat", "serve", "mcp")  # their errors name the command: they run long, beside others


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except QAError as exc:
        print(f"qa {args.command}: {exc}" if args.command in SERVERS else f"qa: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a disk or folder problem no library call foresaw: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"qa {args.command}: {where}{exc.strerror or exc} — check the disk and the folder's permissions", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `qa ask ... | head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("qa: interrupted — the index is as it was before this run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
