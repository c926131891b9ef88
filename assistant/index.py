"""The Chroma index: chunks with their vectors, and a manifest of documents. Chroma is the single source of truth.

A document is written in three steps: its new chunks (new ids), then its manifest entry, then the removal of
its old chunks. A crash between steps leaves chunks the manifest does not vouch for; `repair()` removes them,
so no document is ever half-indexed.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import gc
import hashlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from assistant.settings import Settings

RECHECK_S = 5.0  # how long a fact about the whole collection is trusted when this process has not written


def release_memory() -> None:
    """Hand the heap freed after a big transient (every chunk's metadata or words read once) back to the system:
    glibc keeps it otherwise, and the process stays at its peak size (at 100k chunks, about 100 MB after a
    repair pass alone)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc (macOS, musl): only memory is at stake


class IndexError_(RuntimeError):
    """The index cannot be used; the message says which setting or command fixes it."""


class IndexUnavailable(IndexError_):
    pass


class IndexMismatch(IndexError_):
    pass


@dataclass
class DocumentRecord:
    source: str
    title: str
    date: str
    type: str
    doc_hash: str
    chunks: int
    added_at: str = ""

    def as_meta(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _doc_id(source: str) -> str:
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def _chroma_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma takes str/int/float/bool and non-empty lists of one type; drop the rest."""
    clean: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, (str, int, float, bool)):
            clean[key] = value
        elif isinstance(value, list) and value:
            clean[key] = [str(v) for v in value]
    return clean


class Index:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client = None
        self._chunks = None
        self._docs = None
        self._max_batch = 0
        self.generation = 0  # bumped on every write in this process, so derived indexes know to refresh
        self._any: dict[str, tuple[int, float, bool]] = {}  # filter -> (generation, checked at, any chunk matches)

    # --- connection -------------------------------------------------------------------------------------------
    def _connect(self):  # noqa: ANN202 - chromadb client types are internal
        if self._client is not None:
            return self._client
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.settings.uses_server():
                from urllib.parse import urlparse

                url = urlparse(self.settings.index_location())
                self._client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or 8000,
                    ssl=url.scheme == "https",
                    settings=chroma_settings,
                )
                self._client.heartbeat()
            else:
                Path(self.settings.index_dir).mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(self.settings.index_dir), settings=chroma_settings)
        except Exception as exc:
            self._client = None
            raise self._unavailable(exc) from exc
        return self._client

    def _unavailable(self, exc: Exception) -> IndexUnavailable:
        if self.settings.uses_server():
            where = f"the Chroma server at {self.settings.index_location()} (ASSISTANT_CHROMA_URL)"
            hint = "start it with `chroma run --path DIR --host 127.0.0.1 --port N` or fix the setting"
        else:
            where = f"the index directory {self.settings.index_dir} (ASSISTANT_INDEX_DIR)"
            hint = "check that it exists, is writable and has free disk space"
        return IndexUnavailable(f"index unavailable: cannot use {where}: {type(exc).__name__}: {exc}. {hint}.")

    def reset_connection(self) -> None:
        self._client = self._chunks = self._docs = None

    def _collections(self, embedder_name: str | None = None, dim: int | None = None, create: bool = True):  # noqa: ANN202
        if self._chunks is not None:
            return self._chunks, self._docs
        client = self._connect()
        name = self.settings.collection
        try:
            if create:
                meta = {"hnsw:space": "cosine"}
                if embedder_name:
                    meta.update({"embedding_model": embedder_name, "embedding_dim": int(dim or 0)})
                chunks = client.get_or_create_collection(name, embedding_function=None, metadata=meta)
                docs = client.get_or_create_collection(f"{name}_documents", embedding_function=None)
            else:
                chunks = client.get_collection(name, embedding_function=None)
                docs = client.get_collection(f"{name}_documents", embedding_function=None)
        except Exception as exc:
            if not create and "not exist" in str(exc).lower():
                return None, None
            raise self._unavailable(exc) from exc
        self._chunks, self._docs = chunks, docs
        return chunks, docs

    def open(self, embedder_name: str, dim: int) -> None:
        """Open (or create) the collections and refuse an index built with another embedding model."""
        chunks, _ = self._collections(embedder_name, dim)
        meta = chunks.metadata or {}
        built_with = meta.get("embedding_model")
        built_dim = meta.get("embedding_dim")
        if not built_with:
            self._call(chunks.modify, metadata={**meta, "embedding_model": embedder_name, "embedding_dim": int(dim)})
        elif built_with != embedder_name or int(built_dim or 0) != int(dim):
            raise IndexMismatch(
                f"the index {self.settings.collection!r} at {self.settings.index_location()} was built with the embedding "
                f"model {built_with!r} ({built_dim}-d), but ASSISTANT_EMBEDDING_MODEL is {embedder_name!r} ({dim}-d). "
                "Run `assistant reindex` to rebuild it with the new model, or set the old model back."
            )

    def _call(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202
        try:
            return fn(*args, **kwargs)
        except IndexError_:
            raise
        except Exception as exc:
            # Reconnect on the next call: the server may be back, or another process (reindex) may have
            # replaced the collections this one holds handles to.
            self.reset_connection()
            raise self._unavailable(exc) from exc

    # --- reading ----------------------------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        _, docs = self._collections()
        got = self._call(docs.get, include=["metadatas"])
        records = [DocumentRecord(**{k: m.get(k, "") for k in DocumentRecord.__dataclass_fields__}) for m in got["metadatas"]]
        return sorted(records, key=lambda r: r.source)

    def document(self, source: str) -> DocumentRecord | None:
        _, docs = self._collections()
        got = self._call(docs.get, ids=[_doc_id(source)], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        return DocumentRecord(**{k: meta.get(k, "") for k in DocumentRecord.__dataclass_fields__})

    def source_with_hash(self, doc_hash: str) -> str | None:
        _, docs = self._collections()
        got = self._call(docs.get, where={"doc_hash": doc_hash}, include=["metadatas"], limit=1)
        return got["metadatas"][0]["source"] if got["ids"] else None

    def count(self) -> int:
        chunks, _ = self._collections()
        return int(self._call(chunks.count))

    def iter_chunks(self, batch: int = 5000, texts: bool = True) -> Iterator[tuple[list[str], list[str], list[dict]]]:
        """Every chunk's id, text and metadata, a page at a time, so a big collection is never all in memory.
        With `texts=False` the texts come back empty: checks that need only metadata skip reading them."""
        chunks, _ = self._collections()
        include = ["documents", "metadatas"] if texts else ["metadatas"]
        offset = 0
        while True:
            got = self._call(chunks.get, include=include, limit=batch, offset=offset)
            yield got["ids"], (got["documents"] if texts else [""] * len(got["ids"])), got["metadatas"]
            if len(got["ids"]) < batch:
                return
            offset += batch

    def dataset_rows(self) -> list[Document]:
        """Every dataset row chunk (type "dataset") as a Document whose metadata carries its chunk id."""
        chunks, _ = self._collections()
        got = self._call(chunks.get, where={"type": "dataset"}, include=["documents", "metadatas"])
        return [Document(page_content=t, metadata={**m, "id": i}) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def all_chunks(self, batch: int = 5000, texts: bool = True) -> tuple[list[str], list[str], list[dict]]:
        """Every chunk's id, text and metadata as three lists."""
        ids: list[str] = []
        documents: list[str] = []
        metas: list[dict] = []
        for page_ids, page_texts, page_metas in self.iter_chunks(batch, texts):
            ids += page_ids
            documents += page_texts
            metas += page_metas
        return ids, documents, metas

    def embeddings_by_hash(self, source: str) -> dict[str, np.ndarray]:
        """Vectors already stored for a source, keyed by chunk content hash: a changed file re-embeds only new text."""
        chunks, _ = self._collections()
        got = self._call(chunks.get, where={"source": source}, include=["metadatas", "embeddings"])
        if got["embeddings"] is None:
            return {}
        return {m["content_hash"]: np.asarray(e) for m, e in zip(got["metadatas"], got["embeddings"])}

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id."""
        chunks, _ = self._collections()
        got = self._call(chunks.get, ids=ids, include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def embeddings_by_embed_hash(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors already stored for these embedded-text hashes, from any document: a text is embedded once."""
        if not keys:
            return {}
        chunks, _ = self._collections()
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            got = self._call(
                chunks.get, where={"embed_hash": {"$in": keys[start : start + 500]}}, include=["metadatas", "embeddings"]
            )
            if got["embeddings"] is None:
                continue
            for meta, vector in zip(got["metadatas"], got["embeddings"]):
                found.setdefault(str(meta["embed_hash"]), np.asarray(vector, dtype=np.float32))
        return found

    def _query(self, vector: np.ndarray, n: int, where: dict | None, include: list[str]) -> dict:
        chunks, _ = self._collections()
        # Chroma returns fewer rows when the collection (or the filter) holds fewer: no count() call first.
        return self._call(
            chunks.query,
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=max(1, n),
            where=where or None,
            include=include,
        )

    def search(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, str, dict, float]]:
        """Nearest chunks as (id, text, metadata, cosine similarity)."""
        got = self._query(vector, n, where, ["documents", "metadatas", "distances"])
        return [
            (i, t, m, 1.0 - float(d))
            for i, t, m, d in zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        ]

    def nearest(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest chunk ids with their cosine similarity, without texts or metadata: retrieval reads those back
        only for the few passages that survive fusion (`get`)."""
        got = self._query(vector, n, where, ["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    def has_any(self, where: dict) -> bool:
        """Whether any chunk matches a metadata filter. A filtered read scans every chunk's metadata (20 ms at 100k
        chunks), so the answer is kept until this process writes, and at most a few seconds (another may)."""
        key = json.dumps(where, sort_keys=True)
        now = time.monotonic()
        known = self._any.get(key)
        if known and known[0] == self.generation and now - known[1] < RECHECK_S:
            return known[2]
        chunks, _ = self._collections()
        found = bool(self._call(chunks.get, where=where, limit=1, include=[])["ids"])
        self._any[key] = (self.generation, now, found)
        return found

    def get(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        if not ids:
            return {}
        chunks, _ = self._collections()
        got = self._call(chunks.get, ids=ids, include=["documents", "metadatas"])
        return {i: (t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])}

    def snapshot(self) -> tuple[list[Document], dict[str, DocumentRecord]]:
        """Every vouched-for chunk and document record, whatever model built the index; empty when there is none."""
        chunks_col, _ = self._collections(create=False)
        if chunks_col is None:
            self.reset_connection()
            return [], {}
        try:
            self.repair()
            records = {r.source: r for r in self.documents()}
            _, texts, metas = self.all_chunks()
        finally:
            self.reset_connection()
        return [Document(page_content=t, metadata=m) for t, m in zip(texts, metas)], records

    # --- writing ----------------------------------------------------------------------------------------------
    def write_document(self, record: DocumentRecord, chunks: list[Document], vectors: np.ndarray) -> None:
        """Add the new chunks, switch the manifest to them, then drop the old ones."""
        self.write_documents([(record, chunks, vectors)])

    def write_documents(
        self, items: list[tuple[DocumentRecord, list[Document], np.ndarray]], new_sources: set[str] | frozenset = frozenset()
    ) -> None:
        """Several documents in the same three steps as one: every new chunk, then every manifest entry, then the old
        chunks of the documents that had some. A few calls per batch instead of four per document: on real
        passages of one chunk each, the per-document calls took a third as long as embedding them.
        `new_sources` are sources the caller knows had no entry, so there is nothing old to delete."""
        if not items:
            return
        chunk_col, doc_col = self._collections()
        if not self._max_batch:
            self._max_batch = max(1, int(self._call(self._connect().get_max_batch_size)))
        chunks = [c for _, doc_chunks, _ in items for c in doc_chunks]
        ids = [c.metadata["chunk_id"] for c in chunks]
        vectors = np.vstack([np.asarray(v, dtype=np.float32).reshape(len(c), -1) for _, c, v in items]) if ids else None
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._call(
                chunk_col.upsert,
                ids=ids[start:end],
                embeddings=vectors[start:end].tolist(),  # lists: Chroma's numpy path rounds some values by one ulp
                documents=[c.page_content for c in chunks[start:end]],
                metadatas=[_chroma_meta(c.metadata) for c in chunks[start:end]],
            )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        records = [record for record, _, _ in items]
        for record in records:
            record.added_at = record.added_at or now
        self._call(
            doc_col.upsert,
            ids=[_doc_id(r.source) for r in records],
            embeddings=[[1.0]] * len(records),
            documents=[r.title for r in records],
            metadatas=[_chroma_meta(r.as_meta()) for r in records],
        )
        for record in records:
            if record.source not in new_sources:
                self._call(
                    chunk_col.delete, where={"$and": [{"source": record.source}, {"doc_hash": {"$ne": record.doc_hash}}]}
                )
        self.generation += 1

    def remove(self, source: str) -> int:
        """Delete one source's chunks and manifest entry; returns how many chunks went."""
        chunk_col, doc_col = self._collections()
        existing = self._call(chunk_col.get, where={"source": source}, include=[])
        self._call(doc_col.delete, ids=[_doc_id(source)])
        if existing["ids"]:
            self._call(chunk_col.delete, ids=existing["ids"])
        self.generation += 1
        return len(existing["ids"])

    def repair(self) -> int:
        """Remove chunks that no manifest entry vouches for (left by an interrupted write); returns how many."""
        current = {r.source: r.doc_hash for r in self.documents()}
        stale: Counter = Counter()
        # A page of metadata at a time: all 100k chunks' metadata as dicts at once took 800 MB at start-up.
        for _, _, metas in self.iter_chunks(texts=False):
            stale.update(
                (m.get("source", ""), m.get("doc_hash", "")) for m in metas if current.get(m.get("source", "")) != m.get("doc_hash")
            )
        chunk_col, _ = self._collections()
        for source, doc_hash in stale:
            self._call(chunk_col.delete, where={"$and": [{"source": source}, {"doc_hash": doc_hash}]})
        if stale:
            self.generation += 1
        release_memory()
        return sum(stale.values())

    def drop(self) -> None:
        """Delete both collections (used by reindex)."""
        client = self._connect()
        for name in (self.settings.collection, f"{self.settings.collection}_documents"):
            try:
                client.delete_collection(name)
            except Exception:  # noqa: BLE001 - a missing collection is what we want anyway
                pass
        self._chunks = self._docs = None
        self.generation += 1

    def exists(self) -> bool:
        try:
            self._connect().get_collection(self.settings.collection, embedding_function=None)
            return True
        except Exception:  # noqa: BLE001 - chromadb raises NotFoundError or ValueError by version
            return False

    def rename_to(self, collection: str) -> None:
        """Give both collections another name (reindex builds aside, then switches)."""
        client = self._connect()
        for suffix in ("", "_documents"):
            client.get_collection(f"{self.settings.collection}{suffix}", embedding_function=None).modify(name=f"{collection}{suffix}")
        self.reset_connection()

    def fingerprint(self) -> str:
        """Changes whenever any document is added, changed or removed, in this process or another."""
        records = self.documents()
        joined = "|".join(f"{r.source}:{r.doc_hash}" for r in records)
        return hashlib.sha1(joined.encode("utf-8")).hexdigest()
