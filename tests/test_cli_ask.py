"""`assistant ask` as a user runs it: a real `python -m assistant.cli` process over the session's corpus index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

QUESTION = "阿里云2025年第三季度收入增长多少?"


HISTORY = [{"question": "阿里巴巴2025年股价涨幅是多少?", "answer": "阿里巴巴2025年股价涨幅超80% [1]。"}]


@pytest.fixture(scope="module")
def cli_env(corpus_assistant) -> dict[str, str]:
    """The caller's environment without any ASSISTANT_* setting of its own, pointed at the corpus index."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_INDEX_DIR"] = str(corpus_assistant.settings.index_dir)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def start_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen:
    # cwd is an empty folder, so no .env file there can change the settings.
    return subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, encoding="utf-8",
    )


def finish(proc: subprocess.Popen, timeout: float = 180) -> subprocess.CompletedProcess:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{proc.args} ran longer than {timeout}s: {err[-2000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def runs(cli_env, corpus_assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.CompletedProcess]]:
    """The slow commands (each loads the embedding model) start together, two cores' worth at a time, and are read
    back by the tests below."""
    corpus_assistant.retrieve(QUESTION)  # the lexical cache is written once, before any command reads it
    cwd = tmp_path_factory.mktemp("cli")
    history = cwd / "history.json"
    history.write_text(json.dumps(HISTORY, ensure_ascii=False), encoding="utf-8")
    commands = {
        "json": ("ask", QUESTION, "--json"),
        "filter": ("ask", "AI估值怎么看?", "--filter", "company=小米", "--json"),
        "history": ("ask", "那腾讯呢?", "--history", str(history), "--json"),
        "plain": ("ask", QUESTION),
    }
    results: dict[str, subprocess.CompletedProcess] = {}
    pending = list(commands.items())
    running: list[tuple[str, subprocess.Popen]] = []
    try:
        while pending or running:
            while pending and len(running) < 2:
                name, args = pending.pop(0)
                running.append((name, start_cli(cli_env, cwd, *args)))
            name, proc = running.pop(0)
            results[name] = finish(proc)
        yield results
    finally:
        for _, proc in running:
            proc.kill()
            proc.wait()


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return finish(start_cli(env, cwd, *args))


def json_answer(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_ask_json_prints_one_answer_document(runs) -> None:
    data = json_answer(runs["json"])
    for key in ("question", "answer", "refused", "citations", "sources", "timing", "tokens"):
        assert key in data, key
    assert data["question"] == QUESTION
    assert data["refused"] is False
    assert "34%" in data["answer"]
    assert data["citations"] and all(c["supported"] for c in data["citations"])
    assert data["sources"] and data["sources"][0]["marker"] == 1
    assert data["timing"]["total_ms"] > 0 and data["tokens"]["completion"] > 0


def test_ask_with_a_company_filter_uses_only_that_companys_chunks(runs, corpus_assistant) -> None:
    data = json_answer(runs["filter"])
    assert data["filters"] == {"company": "小米"}
    _, texts, metas = corpus_assistant.index.all_chunks()
    companies = {text: meta.get("companies", []) for text, meta in zip(texts, metas)}
    assert data["sources"]
    for source in data["sources"]:
        assert "小米" in companies[source["text"]], source["source"]


def test_ask_with_a_history_file_answers_the_follow_up(runs) -> None:
    data = json_answer(runs["history"])
    assert data["question"] == "那腾讯呢?"
    assert "腾讯" in data["standalone_question"]
    assert not data["refused"] and "46" in data["answer"]


def test_a_plain_ask_prints_the_answer_then_its_sources(runs) -> None:
    result = runs["plain"]
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "\nsources:\n" in out
    answer, sources = out.split("\nsources:\n", 1)
    assert "34%" in answer and "[1]" in answer
    listed = [line for line in sources.splitlines() if line.startswith("  [")]
    assert listed and listed[0].startswith("  [1] ")
    assert "corpus/" in listed[0]
    assert "ms" in sources.splitlines()[-1]  # the closing line says which model answered and how long it took


def test_a_bad_filter_exits_with_an_error_naming_it(cli_env, tmp_path: Path) -> None:
    result = run_cli(cli_env, tmp_path, "ask", QUESTION, "--filter", "colour=red")
    assert result.returncode == 2
    assert "colour=red" in result.stderr and result.stdout == ""
