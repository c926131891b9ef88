"""Hybrid retrieval: dense (Chroma) and BM25 (jieba words) fused by reciprocal rank fusion, with metadata filters
and an optional cross-encoder reranker."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.embeddings import Embedder
from assistant.index import Index
from assistant.lexical import LexicalIndex, searchable_text
from assistant.lookup import ROWS_WEIGHT, TABLE_BREADTH, TABLE_FILTER, rank_table_hits
from assistant.question import analyse, expected_kind
from assistant.settings import Settings
from assistant.text import Lexicon, date_int, language_of, normalize

FILTER_KEYS = ("company", "ticker", "date_from", "date_to", "source", "type")
# Runs the BM25 side of hybrid searches beside the dense side; shared by every session of the process.
_SIDES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bm25")


@dataclass
class Filters:
    company: str | None = None
    ticker: str | None = None
    date_from: str | None = None  # YYYY-MM-DD, inclusive
    date_to: str | None = None
    source: str | None = None
    type: str | None = None  # article, dataset or document

    @classmethod
    def parse(cls, items: list[str] | None) -> Filters:
        """From `key=value` strings as the CLI takes them (`company=小米`, `type=dataset`)."""
        values: dict[str, str] = {}
        for item in items or []:
            key, sep, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in FILTER_KEYS:
                raise ValueError(f"bad filter {item!r}: use KEY=VALUE with KEY one of {', '.join(FILTER_KEYS)}")
            values[key] = value.strip()
        return cls(**values)

    def active(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value and not date_int(value):
                raise ValueError(f"bad filter {name}={value!r}: give a date such as 2025-03-05, 2025-03 or 2025")

    def where(self, lexicon: Lexicon) -> dict | None:
        """The same filter as a Chroma `where` clause."""
        clauses: list[dict] = []
        if self.company:
            names = list(dict.fromkeys([lexicon.resolve(self.company), self.company]))
            ors = [{"companies": {"$contains": n}} for n in names]
            clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if self.ticker:
            clauses.append({"tickers": {"$contains": self.ticker.upper()}})
        if self.date_from:
            clauses.append({"date_int": {"$gte": date_int(self.date_from)}})
        if self.date_to:
            # Undated chunks (stored as 0) cannot be said to fall in a date range.
            clauses += [{"date_int": {"$lte": date_int(self.date_to, end=True)}}, {"date_int": {"$gt": 0}}]
        if self.source:
            clauses.append({"source": self.source})
        if self.type:
            clauses.append({"type": self.type})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def keep(self, lexicon: Lexicon) -> Callable[[dict], bool] | None:
        """The same filter as a predicate on metadata, for the lexical side."""
        if not self.active():
            return None
        names = {lexicon.resolve(self.company), self.company} if self.company else set()
        low = date_int(self.date_from) if self.date_from else None
        high = date_int(self.date_to, end=True) if self.date_to else None

        def keep(meta: dict) -> bool:
            if names and not names & set(meta.get("companies") or []):
                return False
            if self.ticker and self.ticker.upper() not in (meta.get("tickers") or []):
                return False
            date = int(meta.get("date_int") or 0)
            if low is not None and date < low:
                return False
            if high is not None and not 0 < date <= high:
                return False
            if self.source and meta.get("source") != self.source:
                return False
            return not (self.type and meta.get("type") != self.type)

        return keep


@dataclass
class Passage:
    id: str
    text: str
    meta: dict
    score: float = 0.0  # fused score
    dense: float | None = None  # cosine similarity, when the dense side found it
    bm25: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return str(self.meta.get("source", ""))

    @classmethod
    def from_document(cls, doc: Document) -> Passage:
        meta = dict(doc.metadata)
        scores = {k: meta.pop(k, None) for k in ("id", "score", "dense", "bm25")}
        return cls(str(scores["id"] or ""), doc.page_content, meta, float(scores["score"] or 0.0), scores["dense"], scores["bm25"])

    def to_document(self) -> Document:
        """The passage as a LangChain Document; its retrieval scores travel in the metadata."""
        scores = {"id": self.id, "score": self.score, "dense": self.dense, "bm25": self.bm25}
        return Document(page_content=self.text, metadata={**self.meta, **{k: v for k, v in scores.items() if v is not None}})


@dataclass
class Retrieval:
    query: str
    passages: list[Passage]
    best_dense: float  # the highest cosine similarity seen, the relevance signal for refusal
    ms: float


def rrf(rankings: dict[str, list[str]], weights: dict[str, float], k: int) -> dict[str, float]:
    """Reciprocal rank fusion: each list adds weight / (k + rank) to every id it ranks (rank from 1)."""
    scores: dict[str, float] = {}
    for name, ids in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, id_ in enumerate(ids, start=1):
            scores[id_] = scores.get(id_, 0.0) + weight / (k + rank)
    return scores


def _keep_each_best(ordered: list[Passage], rankings: dict[str, list[str]], k: int, each: int = 2) -> list[Passage]:
    """Fusion can push out a passage that one retriever alone ranks near the top: for a question in English over
    Chinese passages the dense side is weak and BM25 (with the lexicon's synonyms) finds the passage. Each
    retriever's first `each` passages are kept within the top k. One each was measured (own set +2, cross-lingual
    seed +1, rgb_zh_dev -2 strict) and not kept: it let a dataset README's rows outrank an uploaded article's answer."""
    top = ordered[:k]
    wanted = [id_ for ids in rankings.values() for id_ in ids[:each]]
    by_id = {p.id: p for p in ordered}
    for id_ in wanted:
        if id_ in by_id and by_id[id_] not in top and len(rankings) > 1:
            keep = {w for w in wanted}
            for i in range(len(top) - 1, -1, -1):
                if top[i].id not in keep:
                    top[i] = by_id[id_]
                    break
    top.sort(key=lambda p: -p.score)
    return top + [p for p in ordered if p not in top]


class Retriever:
    def __init__(self, settings: Settings, index: Index, lexical: LexicalIndex, embedder: Embedder, lexicon: Lexicon) -> None:
        self.settings = settings
        self.index = index
        self.lexical = lexical
        self.embedder = embedder
        self.lexicon = lexicon
        self._reranker = None

    def warm_up(self) -> None:
        self.embedder.warm_up()
        if self.settings.reranker_model and self._reranker is None:
            from sentence_transformers import CrossEncoder

            self._reranker = CrossEncoder(self.settings.reranker_model, device="cpu")

    def expand(self, query: str) -> str:
        """Add the lexicon's other names for the companies and metrics a query names, so an English question
        also matches Chinese passages word for word (and the reverse)."""
        extra = [" ".join(self.lexicon.aliases_of(c)) for c in self.lexicon.companies_in(query)]
        extra += [" ".join(group) for group in self.lexicon.metrics_in(query)]
        return " ".join([query, *extra])

    def run(self, query: str, filters: Filters | None = None, mode: str | None = None, k: int | None = None) -> Retrieval:
        start = time.perf_counter()
        self.warm_up()
        filters = filters or Filters()
        mode = mode or self.settings.retrieval_mode
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        found: dict[str, Passage] = {}
        rankings: dict[str, list[str]] = {}
        best_dense = 0.0

        # The BM25 side runs on a worker thread while this one embeds the query (the encoder's C code releases the
        # GIL): in hybrid mode the two sides overlap instead of adding up.
        lexical = _SIDES.submit(self._bm25_side, query, filters, n) if mode in ("hybrid", "bm25") else None
        if mode in ("hybrid", "dense"):
            hits = self._dense_side(query, filters, n)
            rankings["dense"] = [id_ for id_, _ in hits]
            for rank, (id_, sim) in enumerate(hits, start=1):
                found[id_] = Passage(id_, "", {}, dense=sim, ranks={"dense": rank})
                best_dense = max(best_dense, sim)
        if lexical is not None:
            hits = lexical.result()
            rankings["bm25"] = [id_ for id_, _ in hits]
            for rank, (id_, score) in enumerate(hits, start=1):
                passage = found.setdefault(id_, Passage(id_, "", {}))
                passage.bm25 = score
                passage.ranks["bm25"] = rank

        if mode in ("hybrid", "dense"):
            rows = self._statement_rows(query, self.embedder.cached_query_vector(query), n, filters, found)
            if rows:
                rankings["rows"] = rows

        weights = {"dense": self.settings.dense_weight, "bm25": self.settings.bm25_weight, "rows": ROWS_WEIGHT}
        fused = rrf(rankings, weights, self.settings.rrf_k)
        for id_, score in fused.items():
            found[id_].score = score
        ordered = sorted(found.values(), key=lambda p: -p.score)
        ordered = _keep_each_best(ordered, rankings, k)
        # Texts and metadata are read back only for the passages that can still be returned.
        wide = k + self.settings.cross_language_extra_k
        ordered = self._fill(ordered[: max(wide * 3, 20)] if self._reranker is not None else ordered[:wide])
        k = wide if self._other_language(query, ordered[:k]) else k
        if self._reranker is not None and ordered:
            scores = self._reranker.predict([(query, searchable_text(p.text, p.meta)) for p in ordered])
            ordered = [p for _, p in sorted(zip(scores, ordered), key=lambda sp: -float(sp[0]))]
        if mode == "bm25":
            # No similarity to threshold on: the answerer's own evidence check decides on refusal.
            best_dense = 1.0 if ordered else 0.0
        return Retrieval(query, ordered[:k], best_dense, (time.perf_counter() - start) * 1000)

    @staticmethod
    def _other_language(query: str, passages: list[Passage]) -> bool:
        """Most of the top passages are in a language other than the question's."""
        language = language_of(query)
        return sum(language_of(p.text) != language for p in passages) * 2 > len(passages)

    def _dense_side(self, query: str, filters: Filters, n: int) -> list[tuple[str, float]]:
        return self.index.nearest(self.embedder.cached_query_vector(query), n, filters.where(self.lexicon))

    def _bm25_side(self, query: str, filters: Filters, n: int) -> list[tuple[str, float]]:
        return self.lexical.rank(self.expand(query), n, filters.keep(self.lexicon))

    def _fill(self, passages: list[Passage]) -> list[Passage]:
        """The passages with their text and metadata from the index, in one read; a chunk deleted since it was
        ranked (another process removed its document) is dropped."""
        found = self.index.get([p.id for p in passages])
        for passage in passages:
            if passage.id in found:
                passage.text, passage.meta = found[passage.id]
        return [p for p in passages if p.id in found]

    def _statement_rows(self, query: str, vector: list[float], n: int, filters: Filters, found: dict[str, Passage]) -> list[str]:
        """For a figure question, table passages ranked by how well a row's label says what is asked
        (assistant/lookup.py): a third list for the fusion, so the statement's own row is among the passages."""
        # The question's kind by its words first (what `analyse` starts from, without its word cutting), and the
        # full analysis only when the index holds table passages: a corpus without tables pays one empty search.
        if expected_kind(normalize(query).strip()) not in ("number", "any"):
            return []
        if not self.index.has_any(TABLE_FILTER):
            return []
        where = filters.where(self.lexicon)
        # A statement chunk lists many items, so its text is only loosely like any one question: look wide.
        hits = self.index.search(vector, n * TABLE_BREADTH, {"$and": [where, TABLE_FILTER]} if where else TABLE_FILTER)
        if not hits:
            return []
        asked = analyse(query, self.lexicon)
        if asked.expects != "number":
            return []
        hits = rank_table_hits(hits, asked, self.lexicon)
        for rank, (id_, text, meta, sim) in enumerate(hits, start=1):
            found.setdefault(id_, Passage(id_, text, meta, dense=sim)).ranks["rows"] = rank
        return [hit[0] for hit in hits]


class HybridRetriever(BaseRetriever):
    """The hybrid retriever as a LangChain retriever: `invoke(query, filters=..., mode=...)` returns Documents whose
    metadata carry the fused score and the dense/BM25 scores. The fusion itself stays hand-written (`rrf` above):
    LangChain's EnsembleRetriever fuses whole retrievers but cannot share one Chroma query between filters, keep
    each side's best passages, or report the dense similarity the refusal floor needs."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: Retriever

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, filters: Filters | None = None, mode: str | None = None
    ) -> list[Document]:
        return [p.to_document() for p in self.engine.run(query, filters, mode).passages]
