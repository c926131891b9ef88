"""The answer chain: question (+ history) -> standalone query -> hybrid retrieval -> numbered passages ->
prompt from prompts/ -> chat model (streamed) -> [n] markers parsed and checked -> Answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from assistant.citations import Citation, check, drop_invalid_markers
from assistant.embeddings import Embedder
from assistant.llm import configured_model, describe, extractive_model, setting_name
from assistant.offline import count_tokens
from assistant.prompts import Prompts
from assistant.retrieval import Filters, Passage, Retriever
from assistant.rewrite import rewrite
from assistant.settings import Settings
from assistant.text import Lexicon, language_of, normalize


class QuestionError(ValueError):
    """A question that cannot be asked (empty); the message says what to do."""


@dataclass
class Answer:
    question: str
    standalone_question: str
    text: str
    refused: bool
    language: str
    citations: list[Citation] = field(default_factory=list)
    uncited: list[dict] = field(default_factory=list)  # sentences stating figures without a citation
    sources: list[dict] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    model: str = ""
    filters: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    @property
    def failed_citations(self) -> list[Citation]:
        return [c for c in self.citations if not c.supported]

    def to_dict(self) -> dict:
        """The stable JSON shape `assistant ask --json` prints (documented in the README)."""
        data = asdict(self)
        data["answer"] = data.pop("text")
        return data


def source_entry(marker: int, passage: Passage) -> dict:
    meta = passage.meta
    return {
        "marker": marker,
        "source": passage.source,
        "title": str(meta.get("title", "")),
        "date": str(meta.get("date", "")),
        "type": str(meta.get("type", "")),
        "section": str(meta.get("section", "")),
        "page": meta.get("page"),
        "row": meta.get("row"),
        "text": passage.text,
        "score": round(passage.score, 5),
        "similarity": None if passage.dense is None else round(passage.dense, 4),
    }


def _escape(text: str) -> str:
    """Document text cannot close or open the prompt's own tags."""
    return text.replace("<passage", "‹passage").replace("</passage", "‹/passage").replace("<question", "‹question").replace(
        "</question", "‹/question"
    ).replace("</passages", "‹/passages")


def _clean_history(history: object) -> list[dict]:
    """Earlier turns as {"question": str, "answer": str}; anything else is a clear error, not a crash later."""
    if not history:
        return []
    if not isinstance(history, list) or not all(isinstance(t, dict) for t in history):
        raise QuestionError('the history must be a list of {"question": ..., "answer": ...} turns')
    return [{"question": str(t.get("question") or ""), "answer": str(t.get("answer") or "")} for t in history]


class AnswerEngine:
    def __init__(self, settings: Settings, retriever: Retriever, lexicon: Lexicon, embedder: Embedder) -> None:
        self.settings = settings
        self.retriever = retriever
        self.lexicon = lexicon
        self.prompts = Prompts(settings.prompts_dir)
        self.extractive = extractive_model(lexicon, self.prompts, embedder)
        self.llm = configured_model(settings)
        self.prompt = ChatPromptTemplate.from_messages(
            [("system", self.prompts.get("system")), ("human", self.prompts.get("answer"))]
        )

    @property
    def model_name(self) -> str:
        return describe(self.settings)

    def _passages_block(self, passages: list[Passage]) -> str:
        template = self.prompts.get("passage")
        blocks = []
        for n, p in enumerate(passages, start=1):
            meta = p.meta
            where = f' page="{meta["page"]}"' if meta.get("page") else f' row="{meta["row"]}"' if meta.get("row") else ""
            blocks.append(
                template.format(
                    n=n, title=_escape(str(meta.get("title", ""))).replace('"', "'"), date=meta.get("date", ""),
                    source=_escape(str(p.source)).replace('"', "'"), where=where, text=_escape(p.text),
                )
            )
        return "\n".join(blocks)

    def standalone(self, question: str, history: list[dict]) -> str:
        if not history:
            return question
        if self.llm is not None:
            lines = "\n".join(f"Q: {t.get('question', '')}\nA: {t.get('answer', '')[:500]}" for t in history[-4:])
            try:
                text = self.llm.invoke(self.prompts.get("condense").format(history=lines, question=question)).content
                if isinstance(text, str) and text.strip():
                    return text.strip().splitlines()[0]
            except Exception:  # noqa: BLE001 - the rule-based rewrite is always there
                pass
        return rewrite(question, history, self.lexicon)

    def stream(
        self,
        question: str,
        history: list[dict] | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
    ) -> Iterator[tuple[str, object]]:
        """Yields ("token", str) while the answer streams, then ("answer", Answer) once checked."""
        started = time.perf_counter()
        notices: list[str] = []
        question = normalize(question or "").strip()
        if not question:
            raise QuestionError("the question is empty; type a question about HK tech companies and AI valuation")
        if len(question) > self.settings.max_question_chars:
            notices.append(
                f"The question was {len(question)} characters long and was cut to the first "
                f"{self.settings.max_question_chars} (ASSISTANT_MAX_QUESTION_CHARS)."
            )
            question = question[: self.settings.max_question_chars]
        history = _clean_history(history)
        language = language_of(question)
        standalone = self.standalone(question, history)
        filters = filters or Filters()

        retrieval = self.retriever.run(standalone, filters, mode)
        passages = retrieval.passages
        sources = [source_entry(n, p) for n, p in enumerate(passages, start=1)]
        answer = Answer(
            question=question, standalone_question=standalone, text="", refused=False, language=language,
            sources=sources, notices=notices, model=self.model_name, filters=filters.active(),
        )
        answer.timing["retrieval_ms"] = round(retrieval.ms, 1)

        gen_start = time.perf_counter()
        if not passages or retrieval.best_dense < self.settings.min_relevance:
            answer.refused = True
            answer.text = self.prompts.refusal(language)
            yield "token", answer.text
        else:
            inputs = {"passages": self._passages_block(passages), "question": standalone, "refusal": self.prompts.refusal(language)}
            answer.tokens["prompt"] = sum(count_tokens(str(m.content)) for m in self.prompt.format_messages(**inputs))
            pieces: list[str] = []
            model = self.llm or self.extractive
            try:
                for piece in (self.prompt | model | StrOutputParser()).stream(inputs):
                    pieces.append(piece)
                    yield "token", piece
            except Exception as exc:  # noqa: BLE001 - any backend failure falls back with a visible notice
                if model is self.extractive:
                    raise
                notice = self.prompts.get("notice_fallback_en").format(setting=setting_name(self.settings), error=type(exc).__name__)
                answer.notices.append(notice)
                answer.model = describe(self.settings.model_copy(update={"llm": "extractive"}))
                yield "reset", notice
                pieces = []
                for piece in (self.prompt | self.extractive | StrOutputParser()).stream(inputs):
                    pieces.append(piece)
                    yield "token", piece
            text = "".join(pieces).strip()
            refusals = (self.prompts.refusal("zh"), self.prompts.refusal("en"))
            if not text or any(r in text for r in refusals):
                answer.refused = True
                answer.text = self.prompts.refusal(language)
            else:
                answer.text = drop_invalid_markers(text, len(passages))
                answer.citations, answer.uncited = check(answer.text, passages)
        answer.tokens["completion"] = count_tokens(answer.text)
        answer.tokens.setdefault("prompt", 0)
        answer.timing["generation_ms"] = round((time.perf_counter() - gen_start) * 1000, 1)
        answer.timing["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
        yield "answer", answer

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None) -> Answer:
        for kind, value in self.stream(question, history, filters, mode):
            if kind == "answer":
                return value  # type: ignore[return-value]
        raise RuntimeError("the answer chain ended without an answer")
