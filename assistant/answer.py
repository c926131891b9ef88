"""The answer chain: question (+ history) -> standalone query -> hybrid retrieval -> numbered passages ->
prompt from prompts/ -> chat model (streamed), or the offline answerer over the passages -> [n] markers parsed and
checked -> Answer. `AnswerEngine.chain` is that pipeline, built once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableGenerator, RunnableLambda, RunnablePassthrough

from assistant.citations import Citation, check, drop_invalid_markers
from assistant.embeddings import Embedder
from assistant.llm import configured_model, describe, extractive_answerer, setting_name
from assistant.offline import count_tokens
from assistant.prompts import Prompts
from assistant.rankings import RankingAnswer, answer_ranking, is_ranking_question
from assistant.retrieval import Filters, HybridRetriever, Passage, Retrieval, Retriever
from assistant.rewrite import follow_up_topic, rewrite
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
    """The answer chain, built once as one LCEL pipeline (see `self.chain`)."""

    def __init__(self, settings: Settings, retriever: Retriever, lexicon: Lexicon, embedder: Embedder) -> None:
        self.settings = settings
        self.retriever = retriever
        self.documents = HybridRetriever(engine=retriever)
        self.lexicon = lexicon
        self.prompts = Prompts(settings.prompts_dir)
        self.extractive = extractive_answerer(lexicon, self.prompts, embedder)
        self.llm = configured_model(settings)
        self.prompt = ChatPromptTemplate.from_messages(
            [("system", self.prompts.get("system")), ("human", self.prompts.get("answer"))]
        )
        # The two ways to write an answer from {"question", "documents"}: an LLM reads the passages through the
        # prompt files; the offline answerer reads the Documents themselves, so editing a prompt cannot break it.
        self.llm_answer = (
            RunnablePassthrough.assign(passages=RunnableLambda(lambda x: self._passages_block(x["documents"])))
            | self.prompt
            | (self.llm if self.llm is not None else RunnableLambda(lambda _: ""))
            | StrOutputParser()
        )
        self.offline_answer = RunnableGenerator(self._offline_tokens)
        self._rows: tuple[str, list[Document]] = ("", [])  # dataset rows, by index fingerprint
        self._rows_lock = threading.Lock()
        # question (+ history) -> standalone question -> hybrid retrieval -> answer (streamed) -> markers checked.
        self.chain = (
            RunnablePassthrough.assign(standalone=RunnableLambda(self._standalone_step))
            | RunnablePassthrough.assign(retrieval=RunnableLambda(self._retrieve_step))
            | RunnableGenerator(self._answer_step)
        )

    @property
    def model_name(self) -> str:
        return describe(self.settings)

    def _passages_block(self, documents: list[Document]) -> str:
        template = self.prompts.get("passage")
        blocks = []
        for n, doc in enumerate(documents, start=1):
            meta = doc.metadata
            where = f' page="{meta["page"]}"' if meta.get("page") else f' row="{meta["row"]}"' if meta.get("row") else ""
            blocks.append(
                template.format(
                    n=n, title=_escape(str(meta.get("title", ""))).replace('"', "'"), date=meta.get("date", ""),
                    source=_escape(str(meta.get("source", ""))).replace('"', "'"), where=where, text=_escape(doc.page_content),
                )
            )
        return "\n".join(blocks)

    def _relevance_floor(self, language: str, documents: list[Document]) -> float:
        """The similarity below which nothing retrieved can be on topic. An English question scores lower against
        Chinese passages than against English ones (multilingual-e5), so each language pair has its own floor."""
        top = language_of(" ".join(d.page_content[:200] for d in documents[:3]))
        return self.settings.min_relevance if top == language else self.settings.min_relevance_cross_language

    def _offline_tokens(self, inputs: Iterator[dict]) -> Iterator[str]:
        data = _gather(inputs)
        yield from self.extractive.stream(data["question"], data["documents"])

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

    def _standalone_step(self, data: dict) -> str:
        return self.standalone(data["question"], data["history"])

    def _retrieve_step(self, data: dict) -> Retrieval:
        start = time.perf_counter()
        documents = self.documents.invoke(data["standalone"], filters=data["filters"], mode=data["mode"])
        passages = [Passage.from_document(d) for d in documents]
        # Each retriever's best passages stay in the top k, so the best similarity seen is among them.
        best = max((p.dense for p in passages if p.dense is not None), default=0.0)
        if (data["mode"] or self.settings.retrieval_mode) == "bm25":
            best = 1.0 if passages else 0.0  # no similarity to judge: the answerer's evidence check decides
        return Retrieval(data["standalone"], passages, best, (time.perf_counter() - start) * 1000)

    def stream(
        self,
        question: str,
        history: list[dict] | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
    ) -> Iterator[tuple[str, object]]:
        """Yields ("token", str) while the answer streams, ("reset", notice) if a failed LLM's partial answer must be
        discarded, then ("answer", Answer) once checked."""
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
        inputs = {
            "question": question, "history": _clean_history(history), "filters": filters or Filters(), "mode": mode,
            "notices": notices, "started": started,
        }
        yield from self.chain.stream(inputs)

    def _ranking(self, question: str, language: str) -> RankingAnswer | None:
        """Rankings and comparisons of one metric are computed over every dataset row of the index, not over the
        few passages retrieval returned (those may miss a company's row)."""
        if not is_ranking_question(question):
            return None
        with self._rows_lock:
            fingerprint = self.retriever.index.fingerprint()
            if self._rows[0] != fingerprint:
                self._rows = (fingerprint, self.retriever.index.dataset_rows())
            rows = self._rows[1]
        return answer_ranking(question, rows, self.lexicon, language) if rows else None

    def _answer_step(self, inputs: Iterator[dict]) -> Iterator[tuple[str, object]]:
        data = _gather(inputs)
        question, standalone, retrieval, filters = data["question"], data["standalone"], data["retrieval"], data["filters"]
        language = language_of(question)
        passages = retrieval.passages
        ranking = self._ranking(standalone, language) if not filters.active() else None
        if ranking is not None:
            yield from self._ranked_answer(data, ranking, language)
            return
        documents = [p.to_document() for p in passages]
        answer = Answer(
            question=question, standalone_question=standalone, text="", refused=False, language=language,
            sources=[source_entry(n, p) for n, p in enumerate(passages, start=1)], notices=data["notices"],
            model=self.model_name, filters=filters.active(),
        )
        answer.timing["retrieval_ms"] = round(retrieval.ms, 1)
        gen_start = time.perf_counter()
        if not passages or retrieval.best_dense < self._relevance_floor(language, documents):
            answer.refused = True
            answer.text = self.prompts.refusal(language, *follow_up_topic(question, standalone, self.lexicon))
            yield "token", answer.text
        else:
            step_inputs = {"documents": documents, "question": standalone, "refusal": self.prompts.refusal(language)}
            if self.llm is not None:
                answer.tokens["prompt"] = sum(
                    count_tokens(str(m.content))
                    for m in self.prompt.format_messages(passages=self._passages_block(documents), question=standalone,
                                                         refusal=step_inputs["refusal"])
                )
            pieces: list[str] = []
            try:
                for piece in (self.llm_answer if self.llm is not None else self.offline_answer).stream(step_inputs):
                    pieces.append(piece)
                    yield "token", piece
            except Exception as exc:  # noqa: BLE001 - any backend failure falls back with a visible notice
                if self.llm is None:
                    raise
                notice = self.prompts.get("notice_fallback_en").format(setting=setting_name(self.settings), error=type(exc).__name__)
                answer.notices.append(notice)
                answer.model = describe(self.settings.model_copy(update={"llm": "extractive"}))
                yield "reset", notice
                pieces = []
                for piece in self.offline_answer.stream(step_inputs):
                    pieces.append(piece)
                    yield "token", piece
            text = "".join(pieces).strip()
            refusals = (self.prompts.refusal("zh"), self.prompts.refusal("en"))
            if not text or any(r in text for r in refusals):
                answer.refused = True
                answer.text = self.prompts.refusal(language, *follow_up_topic(question, standalone, self.lexicon))
            else:
                answer.text = drop_invalid_markers(text, len(passages))
                answer.citations, answer.uncited = check(answer.text, passages)
        answer.tokens["completion"] = count_tokens(answer.text)
        answer.tokens.setdefault("prompt", count_tokens(standalone) + sum(count_tokens(d.page_content) for d in documents))
        answer.timing["generation_ms"] = round((time.perf_counter() - gen_start) * 1000, 1)
        answer.timing["total_ms"] = round((time.perf_counter() - data["started"]) * 1000, 1)
        yield "answer", answer

    def _ranked_answer(self, data: dict, ranking: RankingAnswer, language: str) -> Iterator[tuple[str, object]]:
        """A ranking computed over dataset rows: the rows used are the numbered sources, each figure cited."""
        gen_start = time.perf_counter()
        passages = [Passage(str(d.metadata.get("id", "")), d.page_content, dict(d.metadata)) for d in ranking.used]
        answer = Answer(
            question=data["question"], standalone_question=data["standalone"], text=ranking.text.strip(), refused=False,
            language=language, sources=[source_entry(n, p) for n, p in enumerate(passages, start=1)],
            notices=data["notices"], model=self.model_name, filters=data["filters"].active(),
        )
        answer.timing["retrieval_ms"] = round(data["retrieval"].ms, 1)
        for line in answer.text.splitlines(keepends=True):
            yield "token", line
        answer.citations, answer.uncited = check(answer.text, passages, set(ranking.derived))
        answer.tokens = {"prompt": 0, "completion": count_tokens(answer.text)}
        answer.timing["generation_ms"] = round((time.perf_counter() - gen_start) * 1000, 1)
        answer.timing["total_ms"] = round((time.perf_counter() - data["started"]) * 1000, 1)
        yield "answer", answer

    def ask(self, question: str, history: list[dict] | None = None, filters: Filters | None = None, mode: str | None = None) -> Answer:
        for kind, value in self.stream(question, history, filters, mode):
            if kind == "answer":
                return value  # type: ignore[return-value]
        raise RuntimeError("the answer chain ended without an answer")


def _gather(inputs: Iterator[dict]) -> dict:
    """A streamed step's input arrives in pieces (one per assigned key); an answer needs all of it."""
    data: dict = {}
    for piece in inputs:
        data.update(piece)
    return data
