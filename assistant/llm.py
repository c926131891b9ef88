"""Chat models: the offline extractive answerer (default), any OpenAI-compatible endpoint, or Ollama."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from assistant.embeddings import Embedder
from assistant.extractive import ExtractiveAnswerer
from assistant.prompts import Prompts
from assistant.settings import Settings
from assistant.text import Lexicon


class LLMUnavailable(RuntimeError):
    """The configured model could not answer; the message names the setting to check."""


def extractive_answerer(lexicon: Lexicon, prompts: Prompts, embedder: Embedder | None) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(lexicon, refusals={"zh": prompts.refusal("zh"), "en": prompts.refusal("en")}, embedder=embedder)


def configured_model(settings: Settings) -> BaseChatModel | None:
    """The LLM the settings ask for, built by LangChain's `init_chat_model`, or None for the offline default."""
    if settings.llm == "extractive":
        return None
    from langchain.chat_models import init_chat_model

    if settings.llm == "openai":
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        return init_chat_model(
            settings.llm_model, model_provider="openai", base_url=settings.llm_base_url, api_key=key,
            timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries, temperature=settings.llm_temperature,
            streaming=True,
        )
    return init_chat_model(
        settings.llm_model, model_provider="ollama", base_url=settings.ollama_base_url,
        temperature=settings.llm_temperature, client_kwargs={"timeout": settings.llm_timeout_s},
    )


def setting_name(settings: Settings) -> str:
    """Which setting a user should check when the model fails (never the key itself)."""
    if settings.llm == "ollama":
        return f"ASSISTANT_OLLAMA_BASE_URL={settings.ollama_base_url}, ASSISTANT_LLM_MODEL={settings.llm_model}"
    return f"ASSISTANT_LLM_BASE_URL={settings.llm_base_url or 'https://api.openai.com/v1'}, ASSISTANT_LLM_MODEL={settings.llm_model}"


def describe(settings: Settings) -> str:
    if settings.llm == "extractive":
        return "offline extractive answerer (no LLM)"
    return f"{settings.llm}: {settings.llm_model} ({setting_name(settings)})"
