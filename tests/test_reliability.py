"""Reliability with real processes: a killed ingest, a Chroma server that goes away and comes back, an index
directory that cannot be written. No mocks; every wait is bounded in time."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.index import IndexUnavailable
from assistant.research import ResearchAssistant
from assistant.settings import Settings
from tests.conftest import ChromaServer, free_port

COMPANIES = ["腾讯", "阿里巴巴", "小米", "百度", "美团", "京东", "快手", "网易"]
N_DOCS = 40


def cli_env(index_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_INDEX_DIR": str(index_dir), **extra})
    return env


def cli(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def write_docs(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        company = COMPANIES[i % len(COMPANIES)]
        body = "\n\n".join(
            f"{company}第{i}号研究笔记第{p}段：公司在人工智能领域持续投入，云业务收入同比增长{10 + i + p}%，"
            f"市场关注其大模型商业化进展与估值变化。编号 DOC{i:03d}-P{p}。"
            for p in range(3)
        )
        (folder / f"note-{i:03d}.txt").write_text(f"{company}研究笔记 {i}\n\n{body}\n", encoding="utf-8")


def chunk_counts(assistant: ResearchAssistant) -> tuple[Counter, Counter]:
    """Stored chunks per source, and per (source, doc_hash)."""
    _, _, metas = assistant.index.all_chunks()
    per_source = Counter(m.get("source", "") for m in metas)
    per_version = Counter((m.get("source", ""), m.get("doc_hash", "")) for m in metas)
    return per_source, per_version


def assert_consistent(index_dir: Path, embedder) -> list[str]:
    """Every listed source has exactly its recorded chunks, and no chunk is left without a record."""
    assistant = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
    records = assistant.sources()  # repairs what an interrupted write left behind
    per_source, per_version = chunk_counts(assistant)
    for record in records:
        assert record.chunks > 0, record
        assert per_version[(record.source, record.doc_hash)] == record.chunks, record
        assert per_source[record.source] == record.chunks, record
    assert set(per_source) == {r.source for r in records}, "chunks of a source the manifest does not list"
    return [r.source for r in records]


def test_a_kill_9_during_ingest_leaves_no_half_indexed_document_and_a_rerun_completes(tmp_path, embedder):
    docs = tmp_path / "docs"
    write_docs(docs, N_DOCS)
    index_dir = tmp_path / "index"
    # A small embedding batch makes the ingest write every few documents, so the kill lands between writes.
    env = cli_env(index_dir, ASSISTANT_EMBEDDING_BATCH_SIZE="1")
    err_path = tmp_path / "ingest.err"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ingest", str(docs)], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            deadline = time.monotonic() + 120
            done = 0
            while time.monotonic() < deadline and proc.poll() is None:
                counts = [int(n) for n in re.findall(rf"(\d+)/{N_DOCS}\b", err_path.read_text(errors="replace"))]
                done = max(counts, default=0)
                if done >= 4:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, f"the ingest finished before it could be killed: {err_path.read_text()[-1500:]}"
            assert done >= 4, f"the ingest made no progress in 120 s: {err_path.read_text()[-1500:]}"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    listed = cli("sources", "--json", env=env)
    assert listed.returncode == 0, listed.stderr[-2000:]
    after_kill = json.loads(listed.stdout)
    assert 0 < len(after_kill) < N_DOCS, f"{len(after_kill)} sources after the kill"
    assert len(assert_consistent(index_dir, embedder)) == len(after_kill)

    rerun = cli("ingest", str(docs), env=cli_env(index_dir), timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    final = json.loads(cli("sources", "--json", env=env).stdout)
    assert len(final) == N_DOCS
    sources = assert_consistent(index_dir, embedder)
    assert len(sources) == N_DOCS and all(s.endswith(".txt") for s in sources)


# --- a Chroma server that stops and starts again ------------------------------------------------------------------
def test_the_same_assistant_reports_an_unavailable_chroma_server_and_recovers_when_it_restarts(tmp_path, embedder):
    server = ChromaServer(tmp_path, free_port())
    doc = tmp_path / "tencent.md"
    doc.write_text(
        "# 腾讯混元大模型进展\n\n腾讯控股2025年第三季度云业务收入同比增长15%，混元大模型已接入元宝应用，日活跃用户超过两千万。\n",
        encoding="utf-8",
    )
    question = "腾讯混元大模型接入了哪个应用？"
    try:
        server.start()
        assistant = ResearchAssistant(Settings(chroma_url=server.url, collection="reliability"), embedder=embedder)
        report = assistant.ingest([str(doc)], show_progress=False)
        assert report.added and not report.failed, report.summary()
        first = assistant.ask(question)
        assert first.sources

        server.kill()
        with pytest.raises(IndexUnavailable) as caught:
            assistant.ask(question)
        message = str(caught.value)
        assert "index unavailable" in message and "ASSISTANT_CHROMA_URL" in message and server.url in message
        with pytest.raises(IndexUnavailable):
            assistant.sources()

        server.start()
        again = assistant.ask(question)  # the very same object, not rebuilt
        assert again.sources and {s["source"] for s in again.sources} == {s["source"] for s in first.sources}
        assert [r.source for r in assistant.sources()] == [
            r.source for r in ResearchAssistant(Settings(chroma_url=server.url, collection="reliability"), embedder=embedder).sources()
        ]
    finally:
        server.kill()


# --- an index directory that cannot be written --------------------------------------------------------------------
def _tree_mode(root: Path, writable: bool) -> None:
    paths = [root, *root.rglob("*")]
    for path in paths:
        mode = path.stat().st_mode
        if writable:
            mode |= stat.S_IWUSR
        else:
            mode &= ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        path.chmod(mode)


def test_an_unwritable_index_location_gives_a_clear_error_and_keeps_the_indexed_data(tmp_path, embedder):
    index_dir = tmp_path / "index"
    docs = tmp_path / "docs"
    write_docs(docs, 3)
    extra = tmp_path / "extra"
    write_docs(extra, 1)
    (extra / "note-000.txt").write_text("美团外卖的人工智能调度系统研究笔记。\n", encoding="utf-8")
    assistant = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
    assert not assistant.ingest([str(docs)], show_progress=False).failed
    before = [(r.source, r.doc_hash, r.chunks) for r in assistant.sources()]
    assert len(before) == 3
    del assistant

    if os.geteuid() == 0:
        # root writes through any mode bits; an index path that is a file is the unwritable case instead.
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("this is a file, not an index directory\n", encoding="utf-8")
        broken = ResearchAssistant(Settings(index_dir=blocker), embedder=embedder)
        with pytest.raises(IndexUnavailable) as caught:
            broken.ingest([str(extra)], show_progress=False)
        assert "ASSISTANT_INDEX_DIR" in str(caught.value) and str(blocker) in str(caught.value)
        with pytest.raises(IndexUnavailable):
            broken.sources()
        assert blocker.read_text(encoding="utf-8").startswith("this is a file")
    else:
        _tree_mode(index_dir, writable=False)
        try:
            locked = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
            with pytest.raises(IndexUnavailable) as caught:
                locked.ingest([str(extra)], show_progress=False)
            assert "ASSISTANT_INDEX_DIR" in str(caught.value)
        finally:
            _tree_mode(index_dir, writable=True)

    reopened = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
    assert [(r.source, r.doc_hash, r.chunks) for r in reopened.sources()] == before
    assert_consistent(index_dir, embedder)
    assert reopened.ask("腾讯云业务收入增长多少？").sources


# --- a full disk and a read-only index folder (real mounts, so root only: CI runs as root) -------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs or a read-only bind needs root (CI is root)")


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _fill(folder: Path) -> Path:
    """Write zeros until the file system says no space is left."""
    filler = folder / "filler.bin"
    with filler.open("wb") as fh:
        block = b"\0" * (1 << 20)
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    return filler


@needs_root
def test_a_full_disk_fails_the_ingest_clearly_and_keeps_what_was_indexed(tmp_path, embedder):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount))
    try:
        index_dir = mount / "index"
        docs, extra = tmp_path / "docs", tmp_path / "extra"
        write_docs(docs, 3)
        extra.mkdir()
        (extra / "new.txt").write_text("腾讯控股2025年第三季度广告收入同比增长21%。" * 20, encoding="utf-8")
        assistant = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
        assert not assistant.ingest([str(docs)], show_progress=False).failed
        before = [(r.source, r.doc_hash, r.chunks) for r in assistant.sources()]
        del assistant
        filler = _fill(mount)

        full = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
        with pytest.raises(IndexUnavailable) as caught:
            full.ingest([str(extra)], show_progress=False)
        message = str(caught.value)
        assert "ASSISTANT_INDEX_DIR" in message and "free disk space" in message
        del full

        filler.unlink()
        reopened = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
        assert [(r.source, r.doc_hash, r.chunks) for r in reopened.sources()] == before
        assert_consistent(index_dir, embedder)
        assert reopened.ingest([str(extra)], show_progress=False).added  # room again: the same ingest now works
    finally:
        _umount(mount)


@needs_root
def test_a_read_only_index_folder_gives_a_clear_error_and_loses_nothing(tmp_path, embedder):
    index_dir, view = tmp_path / "index", tmp_path / "read-only-view"
    docs, extra = tmp_path / "docs", tmp_path / "extra"
    write_docs(docs, 3)
    write_docs(extra, 1)
    (extra / "note-000.txt").write_text("美团外卖的人工智能调度系统研究笔记。\n", encoding="utf-8")
    assistant = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
    assert not assistant.ingest([str(docs)], show_progress=False).failed
    before = [(r.source, r.doc_hash, r.chunks) for r in assistant.sources()]
    del assistant
    view.mkdir()
    _mount("--bind", str(index_dir), str(view))
    try:
        _mount("-o", "remount,bind,ro", str(view))
        locked = ResearchAssistant(Settings(index_dir=view), embedder=embedder)
        with pytest.raises(IndexUnavailable) as caught:
            locked.ingest([str(extra)], show_progress=False)
        assert "ASSISTANT_INDEX_DIR" in str(caught.value) and str(view) in str(caught.value)
    finally:
        _umount(view)
    reopened = ResearchAssistant(Settings(index_dir=index_dir), embedder=embedder)
    assert [(r.source, r.doc_hash, r.chunks) for r in reopened.sources()] == before
    assert_consistent(index_dir, embedder)
