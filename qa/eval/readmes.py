"""Fifteen Python packages' READMEs as a folder of files, for `qa eval --answers bench/questions/readmes.jsonl`.

Technical documentation, unlike the news and the notes: Markdown with code fences, tables, badges
and raw HTML, and reStructuredText (written as .txt, which qa reads as plain text) with literal
blocks and doctests. Each README is the long description inside the package's wheel (its METADATA
after the headers), fetched with pip at run time at the pinned version, so the evidence sentences
of the question set stay verbatim. Nothing here is committed: the wheels live in the user cache.

    python -m qa.eval.readmes FOLDER
"""

from __future__ import annotations

import email.parser
import subprocess
import sys
import zipfile
from pathlib import Path

from qa import config

PINS = (
    "annotated-types==0.8.0",
    "bm25s==0.3.16",
    "courlan==1.4.0",
    "pathspec==1.1.1",
    "psutil==7.2.2",
    "pyrate-limiter==4.6.0",
    "pytest-timeout==2.4.0",
    "ranx==0.3.21",
    "RapidFuzz==3.14.6",
    "rich==15.0.0",
    "sse-starlette==3.7.1",
    "threadpoolctl==3.8.0",
    "tqdm==4.70.1",
    "typer==0.29.3",
    "xxhash==4.1.0",
)


def _stem(requirement: str) -> str:
    """The file stem a package's README is written under: its name as its dist-info spells it, lower case."""
    return requirement.split("==")[0].lower().replace("-", "_")


def fetch_wheels(cache: Path | None = None) -> list[Path]:
    """Each pinned package's wheel in the cache, downloaded with pip (no dependencies) if absent."""
    folder = (cache or config.cache_dir()) / "readme-wheels"
    missing = [pin for pin in PINS if not _wheel(folder, pin)]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(folder)]
        subprocess.run([*command, *missing], check=True)
    wheels = [_wheel(folder, pin) for pin in PINS]
    absent = [pin for pin, wheel in zip(PINS, wheels, strict=True) if wheel is None]
    if absent:
        raise FileNotFoundError(f"pip left no wheel for {', '.join(absent)} in {folder}")
    return [w for w in wheels if w is not None]


def _wheel(folder: Path, pin: str) -> Path | None:
    name, version = pin.split("==")
    found = sorted(folder.glob(f"{name.lower().replace('-', '_')}-{version}-*.whl"))
    return found[0] if found else None


def readme(wheel: Path) -> tuple[str, str]:
    """(file name, text) of a wheel's long description: .md for Markdown, .txt otherwise."""
    with zipfile.ZipFile(wheel) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        raw = archive.read(member).decode("utf-8")
    headers = email.parser.Parser().parsestr(raw, headersonly=True)
    body = raw.split("\n\n", 1)[1] if "\n\n" in raw else ""
    kind = headers.get("Description-Content-Type", "")
    stem = member.split("-", 1)[0].lower()
    return f"{stem}{'.md' if 'markdown' in kind else '.txt'}", body


def write_corpus(folder: Path, cache: Path | None = None) -> list[Path]:
    """The READMEs written into `folder` (created if absent); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for wheel in fetch_wheels(cache):
        name, text = readme(wheel)
        path = folder / name
        path.write_bytes(text.encode("utf-8"))
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m qa.eval.readmes FOLDER", file=sys.stderr)
        return 2
    written = write_corpus(Path(args[0]))
    print(f"{len(written)} READMEs written to {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
