"""The optional LLM judge of `assistant eval --judge`: correctness and faithfulness, 1-5, from an OpenAI-compatible
chat model (ASSISTANT_LLM_BASE_URL / ASSISTANT_LLM_MODEL / ASSISTANT_LLM_API_KEY), with its prompt in prompts/judge.md."""

from __future__ import annotations

import re
from typing import Any

from assistant.prompts import Prompts
from assistant.questions import GoldQuestion
from assistant.settings import Settings


class Judge:
    """Scores an answer with an OpenAI-compatible chat model; any failure gives no score, never an error."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self.name = settings.llm_model
        self.prompt = Prompts(settings.prompts_dir).get("judge")
        self.model = ChatOpenAI(
            model=settings.llm_model, base_url=settings.llm_base_url, api_key=key, temperature=0,
            timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
        )

    @staticmethod
    def configured(settings: Settings) -> bool:
        return bool(settings.llm_base_url or settings.llm_api_key)

    def score(self, gold: GoldQuestion, answer: Any) -> tuple[int | None, int | None]:
        passages = "\n".join(f"[{s.get('marker')}] {str(s.get('text', ''))[:1200]}" for s in answer.sources)
        prompt = self.prompt.format(
            question=gold.question, expected=" | ".join(gold.lenient) or "(none)", passages=passages or "(none)", answer=answer.text
        )
        try:
            reply = self.model.invoke(prompt).content
        except Exception:  # noqa: BLE001 - the judge is optional; the string metrics stand without it
            return None, None
        return parse_judge_reply(reply if isinstance(reply, str) else str(reply))


def parse_judge_reply(text: str) -> tuple[int | None, int | None]:
    def grab(name: str) -> int | None:
        match = re.search(rf'"?{name}"?\s*[:=]\s*([1-5])', text, re.I)
        return int(match.group(1)) if match else None

    return grab("correctness"), grab("faithfulness")
