"""The facade the CLI, the web page and the evaluation all use: ingest, upload, list, remove, reindex, retrieve,
ask, the datasets and their charts, and warming everything up before a page serves.

The page imports only this module: the facade and the data types it hands out are re-exported here.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path

import pandas as pd
from langchain_core.documents import Document
from tqdm import tqdm

from assistant import offline
from assistant.answer import Answer, AnswerEngine, QuestionError
from assistant.auth import parse_auth
from assistant.citations import MARKER, markers_in
from assistant.conversation import esc, where_label, write_conversation
from assistant.datasets import Chart, answer_chart, chartable_metrics, dataset_tables, metric_chart
from assistant.embeddings import Embedder, make_embedder
from assistant.index import DocumentRecord, Index, IndexUnavailable
from assistant.ingest import Ingestor, IngestReport, embedding_text, shipped_corpus
from assistant.lexical import LexicalIndex
from assistant.llm import describe
from assistant.loaders import SUPPORTED
from assistant.retrieval import Filters, Retrieval, Retriever
from assistant.settings import Settings
from assistant.text import Lexicon, date_int
from assistant.uploads import UPLOAD_PREFIX, UploadStore

__all__ = [
    "ANY_COMPANY", "ANY_TYPE", "Answer", "Chart", "DocumentRecord", "Filters", "IndexUnavailable", "IngestReport",
    "QuestionError", "ResearchAssistant", "Settings", "SUPPORTED_TYPES", "UPLOAD_PREFIX", "esc", "where_label",
]

SUPPORTED_TYPES = tuple(sorted(SUPPORTED))
# The "no filter" choices of the page's company and type controls (also what API clients of the page send).
ANY_COMPANY = "All companies / 全部公司"
ANY_TYPE = "all"
# Answered once at start so every part is loaded (jieba, BM25, the answerer) before the first real question;
# one per language, since each loads its own pieces.
WARM_UP_QUESTIONS = ("港股科技公司的AI估值如何?", "How is AI valued at Hong Kong tech companies?")

offline.prepare()  # every entry point imports the facade before the page's libraries: they must start offline


class ResearchAssistant:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        offline.prepare()
        self.settings = settings or Settings()
        self.lexicon = Lexicon.load(self.settings.lexicon_path)
        self.index = Index(self.settings)
        self._embedder = embedder
        self._opened = False
        self._engine: AnswerEngine | None = None
        self._lock = threading.RLock()  # web sessions share one facade
        self.uploads = UploadStore(self.settings)
        self._tables: tuple[str, dict[str, pd.DataFrame]] | None = None  # (index fingerprint, dataset tables)

    @cached_property
    def embedder(self) -> Embedder:
        embedder = self._embedder or make_embedder(self.settings)
        embedder.warm_up()
        return embedder

    def open(self) -> None:
        """Open the index once per process; tidy away anything an interrupted ingest left behind."""
        with self._lock:
            if self._opened:
                return
            self.index.open(self.embedder.name, self.embedder.dim)
            self.index.repair()
            self._opened = True

    @cached_property
    def lexical(self) -> LexicalIndex:
        cache_dir = self.settings.index_dir if not self.settings.uses_server() else offline.CACHE_ROOT
        return LexicalIndex(self.index, self.lexicon, cache_dir)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.settings, self.index, self.lexical, self.embedder, self.lexicon)

    @property
    def engine(self) -> AnswerEngine:
        with self._lock:  # checked under the lock: two first questions must not build two engines
            if self._engine is None:
                self.open()
                self._engine = AnswerEngine(self.settings, self.retriever, self.lexicon, self.embedder)
            return self._engine

    def warm_up(self) -> float:
        """Open the index, build the engine and retrieval (embedder, BM25) and answer a throwaway question, so the
        first question a user asks is as fast as the tenth. Returns the seconds it took."""
        started = time.perf_counter()
        self.open()
        self.retriever.warm_up()
        for question in WARM_UP_QUESTIONS:
            self.ask(question)
        return time.perf_counter() - started

    def companies(self) -> list[str]:
        """Company names the lexicon knows, for the page's filter (any other name may still be typed)."""
        return sorted(self.lexicon.aliases)

    @property
    def model_description(self) -> str:
        """The chat model in words, for the page's settings panel (never the key)."""
        return describe(self.settings)

    def login_pairs(self) -> list[tuple[str, str]] | None:
        """The page's users from ASSISTANT_AUTH (None: no sign-in); a ValueError names what is malformed."""
        return parse_auth(self.settings.auth)

    # --- questions --------------------------------------------------------------------------------------------
    @staticmethod
    def make_filters(
        company: str | None = None,
        ticker: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        doc_type: str | None = None,
        source: str | None = None,
    ) -> Filters:
        """Filters from form fields: blanks, ANY_COMPANY and ANY_TYPE mean no filter; a date that is not one is a
        QuestionError to show."""
        company = None if company == ANY_COMPANY else company
        doc_type = None if doc_type == ANY_TYPE else doc_type
        for raw in (date_from, date_to):
            raw = (raw or "").strip()
            if raw and not date_int(raw):
                raise QuestionError(f"the filter date {raw!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
        return Filters(
            company=(company or "").strip() or None,
            ticker=(ticker or "").strip().upper() or None,
            date_from=(date_from or "").strip() or None,
            date_to=(date_to or "").strip() or None,
            type=(doc_type or "").strip() or None,
            source=(source or "").strip() or None,
        )

    def retrieve(self, query: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> Retrieval:
        self.open()
        return self.retriever.run(query, filters, mode, k)

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None) -> Answer:
        return self.engine.ask(question, history, filters, mode)

    def ask_streaming(
        self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None
    ) -> Iterator[tuple[str, object]]:
        return self.engine.stream(question, history, filters, mode)

    @staticmethod
    def replace_markers(text: str, render: Callable[[list[int]], str]) -> str:
        """Each citation marker in text (the one grammar, citations.MARKER) replaced by render(its numbers)."""
        return MARKER.sub(lambda match: render(markers_in(match.group(0))), text)

    def export_conversation(self, turns: list[dict], directory: Path | None = None) -> Path:
        """The page's conversation as a Markdown file in a fresh temporary folder."""
        s = self.settings
        return write_conversation(turns, f"_Model: {self.model_description} · retrieval {s.retrieval_mode}, top-k {s.top_k}_", directory)

    # --- corpus -----------------------------------------------------------------------------------------------
    def ingest(
        self,
        inputs: Iterable[str],
        show_progress: bool = True,
        names: dict[str, str] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        return Ingestor(self.settings, self.index, self.embedder, self.lexicon).run(inputs, show_progress, names, on_progress)

    def upload(self, files: list[str], on_progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Add files from the page: staged under sanitised names, indexed as `upload:NAME`, and kept under
        ASSISTANT_INDEX_DIR/uploads/ once they index. Refused files (type, size) are in the report's failures."""
        staged = self.uploads.stage(files)
        try:
            report = self.ingest(staged.paths, False, staged.names, on_progress) if staged.paths else IngestReport()
        except BaseException:
            self.uploads.keep(staged, set(staged.names.values()))  # no staged file is kept after a failed batch
            raise
        report.failed[:0] = staged.refused
        self.uploads.keep(staged, {source for source, _ in report.failed})
        return report

    def ensure_corpus(self, show_progress: bool = True) -> IngestReport | None:
        """Index the shipped corpus when the index is empty (first run on a new machine)."""
        self.open()
        if self.index.documents():
            return None
        return self.ingest(shipped_corpus(self.settings), show_progress=show_progress)

    def sources(self) -> list[DocumentRecord]:
        self.open()
        return self.index.documents()

    def remove(self, source: str) -> int:
        """Delete one source's chunks, and the stored copy of an upload; returns the number of chunks removed."""
        self.open()
        if self.index.document(source) is None:
            raise KeyError(f"{source} is not indexed; `assistant sources` lists what is")
        removed = self.index.remove(source)
        self.uploads.delete(source)
        return removed

    # --- datasets ---------------------------------------------------------------------------------------------
    def datasets(self) -> dict[str, pd.DataFrame]:
        """Every dataset in the index as a table, by source name; read again only when the index changed."""
        self.open()
        fingerprint = self.index.fingerprint()
        with self._lock:
            if self._tables is None or self._tables[0] != fingerprint:
                _, texts, metas = self.index.all_chunks()
                self._tables = (fingerprint, dataset_tables(zip(texts, metas)))
            return self._tables[1]

    def chartable_metrics(self) -> list[str]:
        """Metrics with figures for two companies or more, the one with most companies first."""
        return chartable_metrics(self.datasets())

    def metric_chart(self, metric: str | None = None) -> Chart | None:
        """One metric across companies (default: the metric with most companies); None when nothing is chartable."""
        metrics = self.chartable_metrics()
        metric = metric if metric in metrics else (metrics[0] if metrics else None)
        return metric_chart(self.datasets(), metric) if metric else None

    @staticmethod
    def answer_chart(answer: Answer | dict) -> Chart | None:
        """The chart beside an answer whose sources hold one metric for several companies; None for a refusal."""
        data = answer.to_dict() if isinstance(answer, Answer) else answer
        if data.get("refused"):
            return None
        cited = {c["marker"] for c in data.get("citations") or []}
        return answer_chart(data.get("sources") or [], data.get("answer", ""), cited)

    def reindex(self, show_progress: bool = True) -> IngestReport:
        """Re-embed every stored chunk with the configured model (the files may be gone, the chunks are not).
        An empty or missing index is built from the shipped corpus instead.

        The new index is built in staging collections beside the old one and swapped in at the end, so an
        interruption leaves the old index whole (or, after the swap began, the new one, finished on the next run)."""
        report = IngestReport()
        staging = Index(self.settings.model_copy(update={"collection": f"{self.settings.collection}-reindex"}))
        if not self.index.exists() and staging.exists():
            staging.rename_to(self.settings.collection)  # an earlier reindex stopped between drop and rename
        chunks, records = self.index.snapshot()
        if not chunks:
            self.index.drop()
            return self.ingest(shipped_corpus(self.settings), show_progress=show_progress)
        by_source: dict[str, list[Document]] = defaultdict(list)
        for chunk in sorted(chunks, key=lambda c: (c.metadata.get("source", ""), c.metadata.get("chunk_index", 0))):
            by_source[chunk.metadata["source"]].append(chunk)
        staging.drop()
        staging.open(self.embedder.name, self.embedder.dim)
        for source, parts in tqdm(by_source.items(), desc="reindex", unit="doc", disable=not show_progress):
            staging.write_document(records[source], parts, self.embedder.embed_passages([embedding_text(c) for c in parts]))
            report.embedded += len(parts)
            report.added.append(source)
            report.chunks += len(parts)
        self.index.drop()
        staging.rename_to(self.settings.collection)
        self.index.reset_connection()
        return report

    def status(self) -> str:
        records = self.sources()
        chunks = sum(r.chunks for r in records)
        kinds = defaultdict(int)
        for r in records:
            kinds[r.type] += 1
        parts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        return (
            f"index: {self.settings.index_location()} (collection {self.settings.collection!r}, "
            f"embeddings {self.embedder.name}, {self.embedder.dim}-d)\n"
            f"{len(records)} sources ({parts}), {chunks} chunks"
        )
