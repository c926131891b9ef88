"""The facade the CLI, the web page and the evaluation all use: ingest, list, remove, reindex, retrieve, ask."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property

from langchain_core.documents import Document
from tqdm import tqdm

from assistant import offline
from assistant.answer import Answer, AnswerEngine
from assistant.embeddings import Embedder, make_embedder
from assistant.index import DocumentRecord, Index
from assistant.ingest import Ingestor, IngestReport, embedding_text, shipped_corpus
from assistant.lexical import LexicalIndex
from assistant.retrieval import Filters, Retrieval, Retriever
from assistant.settings import Settings
from assistant.text import Lexicon


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

    # --- questions --------------------------------------------------------------------------------------------
    def retrieve(self, query: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> Retrieval:
        self.open()
        return self.retriever.run(query, filters, mode, k)

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None) -> Answer:
        return self.engine.ask(question, history, filters, mode)

    def ask_streaming(
        self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None
    ) -> Iterator[tuple[str, object]]:
        return self.engine.stream(question, history, filters, mode)

    # --- corpus -----------------------------------------------------------------------------------------------
    def ingest(
        self,
        inputs: Iterable[str],
        show_progress: bool = True,
        names: dict[str, str] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        return Ingestor(self.settings, self.index, self.embedder, self.lexicon).run(inputs, show_progress, names, on_progress)

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
        self.open()
        if self.index.document(source) is None:
            raise KeyError(f"{source} is not indexed; `assistant sources` lists what is")
        return self.index.remove(source)

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
