"""The `qa` command: index a folder, ask a question, and the subcommands other modules add."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from qa.errors import QAError

EPILOG = {
    "index": "example: qa index seeds/            (a second run encodes nothing)",
    "ask": 'example: qa ask "What did Biden warn Putin about?" --k 3 --json',
}

# Subcommands living in other modules: each has add_parser(subparsers) and run(args) -> int.
# Imported only when their name is on the command line, so `qa ask` never imports gradio or ray.
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("qa.serve.app", "serve the chat in the browser (Gradio)"),
    "check": ("qa.answer.check", "check a claim or a quote against the documents"),
    "eval": ("qa.eval.retrieval", "measure retrieval quality on a BEIR folder or a query TSV"),
}


def add_index(sub: Any) -> None:
    p = sub.add_parser("index", help="index a folder (incremental)", epilog=EPILOG["index"])
    p.add_argument("folder", help="folder of .txt/.md/.html/.pdf files")
    p.add_argument("--index", help="index directory (default $QA_INDEX or .qa-index)")
    p.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS", help="encode on Ray: a local instance, or the cluster at ADDRESS"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_ask(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer a question from the index, with citations", epilog=EPILOG["ask"])
    p.add_argument("question")
    p.add_argument("--index", help="index directory (default $QA_INDEX or .qa-index)")
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--since", help="only documents dated on or after YYYY-MM-DD")
    p.add_argument("--until", help="only documents dated on or before YYYY-MM-DD")
    p.add_argument("--mode", choices=("hybrid", "dense", "keyword"), default="hybrid")
    p.add_argument("--json", action="store_true", help="print {question, answer, hits} as JSON")


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line naming the fix, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} — see: {self.prog} --help\n")


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    top = OneLineParser(prog="qa", description="Answers from your own documents, every passage cited.")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    add_index(sub)
    add_ask(sub)
    words = list(sys.argv[1:] if argv is None else argv)
    wanted = next((a for a in words if not a.startswith("-")), None)
    for name, (module, summary) in COMMANDS.items():
        if wanted == name:
            importlib.import_module(module).add_parser(sub)
        else:  # `qa --help` lists it without importing gradio or ranx
            sub.add_parser(name, help=summary)
    return top


def progress_bar(quiet: bool) -> Any:
    if quiet:
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="file" if stage == "chunk" else "passage", file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def run_index(args: argparse.Namespace) -> int:
    from qa.library import Library

    encoder = None
    if args.ray:
        from qa.ingest.distributed import make_ray_encoder

        encoder = make_ray_encoder(None if args.ray == "local" else args.ray, None)
    lib = Library.open(args.index)
    report = lib.sync(args.folder, progress=progress_bar(args.quiet), encoder=encoder)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(
        f"{report.added} added, {report.changed} changed, {report.removed} removed, {report.unchanged} unchanged; "
        f"{report.chunks_encoded} passages encoded, {report.chunks_reused} reused; index: {lib.store.root}"
    )
    return 0


def format_hit(hit: Any) -> str:
    where = f"page {hit.page}, " if hit.page else ""
    head = f"[{hit.rank}] {hit.source}:{hit.line_start}-{hit.line_end} ({where}{hit.date or 'undated'}) score {hit.score:.4f}"
    also = "".join(f"\n    also in {d.source}:{d.line_start}-{d.line_end} ({d.date or 'undated'})" for d in hit.duplicates)
    body = "\n".join("    " + line for line in hit.text.splitlines() if line.strip())
    return f"{head}{also}\n{body}"


def run_ask(args: argparse.Namespace) -> int:
    from qa.library import Library

    answer = Library.open(args.index).ask(args.question, k=args.k, since=args.since, until=args.until, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.date_note:
        print(f"({answer.date_note})")
    print()
    print("\n\n".join(format_hit(h) for h in answer.hits))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser(argv).parse_args(argv)
    runners = {"index": run_index, "ask": run_ask}
    try:
        if args.command in runners:
            return runners[args.command](args)
        return int(importlib.import_module(COMMANDS[args.command][0]).run(args))
    except QAError as exc:
        print(f"qa: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `qa ask ... | head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("qa: interrupted — the index is as it was before this run", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
