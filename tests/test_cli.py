"""The `qa` command as a user runs it: real processes, real index, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa import Library
from qa.cli import COMMANDS

from .conftest import BIDEN

pytestmark = pytest.mark.e2e  # a real server, browser or `qa` process

QA = [sys.executable, "-m", "qa.cli"]


def qa(*args: str, env_index: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QA_INDEX": str(env_index)} if env_index else None
    return subprocess.run([*QA, *args], capture_output=True, text=True, timeout=300, env=env)


def test_index_then_ask_json(seeds_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    first = qa("index", str(seeds_copy), "--index", str(index))
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout
    second = qa("index", str(seeds_copy), "--index", str(index), "--quiet")
    assert "0 passages encoded" in second.stdout
    out = qa("ask", "What did Biden warn Putin about?", "--json", "--k", "3", env_index=index)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"question", "answer", "hits"}
    assert data["hits"][0]["source"] == BIDEN
    fields = {"rank", "score", "chunk_id", "text", "source", "date", "title", "start", "end", "line_start", "line_end",
              "page", "sentence_start", "sentence_end", "section", "date_source", "ocr"}  # fmt: skip
    assert fields <= set(data["hits"][0])
    human = qa("ask", "What did Biden warn Putin about?", "--k", "2", "--index", str(index))
    assert re.search(rf"^\[1\] {re.escape(BIDEN)}:\d+-\d+ · 2021-12-31 \(header\) · score \d", human.stdout, re.M)


ERRORS = [
    (["ask", "anything", "--index", "{tmp}/none"], "No index in"),
    (["ask", "   ", "--index", "{tmp}/none"], "question is empty"),
    (["index", "{tmp}/no-such-folder", "--index", "{tmp}/i"], "no such folder"),
    (["ask", "x", "--since", "last tuesday-ish", "--index", "{seeds}"], "'last tuesday-ish' is not a date"),
    (["ask", "Who called?", "--until", "someday", "--index", "{seeds}"], "'someday' is not a date"),
    (["ask", "x", "--k", "many", "--index", "{seeds}"], "invalid int value: 'many'"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS)
def test_errors_are_one_line_without_traceback(tmp_path: Path, seed_library: Library, args: list[str], message: str) -> None:
    result = qa(*[a.format(tmp=tmp_path, seeds=seed_library.store.root) for a in args])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = qa(command, "--help")
    assert result.returncode == 0
    assert "example" in result.stdout.lower()


@pytest.mark.parametrize(("name", "value"), [("QA_PRECISION", "fp16"), ("QA_QUERY_THREADS", "two")])
def test_a_bad_environment_variable_is_one_line_naming_it(seed_library: Library, name: str, value: str) -> None:
    env = {**os.environ, name: value}
    result = subprocess.run([*QA, "ask", "Who called?", "--index", str(seed_library.store.root)],
                            capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and f"{name}={value!r}" in result.stderr, result.stderr


def _ask_in_a_terminal(index: Path, question: str, **env: str) -> str:
    """`qa ask` with its output on a pseudo-terminal, as a person at a shell sees it."""
    import pty

    main_fd, side_fd = pty.openpty()
    proc = subprocess.Popen([*QA, "ask", question, "--index", str(index)], stdout=side_fd, stderr=subprocess.PIPE,
                            env={**os.environ, **env})  # fmt: skip
    os.close(side_fd)
    out = b""
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=300)
    os.close(main_fd)
    return out.decode("utf-8")


def test_ask_highlights_the_answering_phrase_in_a_terminal_only(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    note = "# Library extension\n\nThe extension opens on 2 September 2024, after two years of work.\n"
    (folder / "library.md").write_text(note)
    index = tmp_path / "index"
    assert qa("index", str(folder), "--index", str(index), "--quiet").returncode == 0
    question = "When does the library extension open?"
    shown = _ask_in_a_terminal(index, question, TERM="xterm")
    assert "\x1b[1m2 September 2024\x1b[0m" in shown
    assert "\x1b[" not in _ask_in_a_terminal(index, question, TERM="xterm", NO_COLOR="1")
    piped = qa("ask", question, "--index", str(index))
    assert "2 September 2024" in piped.stdout and "\x1b[" not in piped.stdout
