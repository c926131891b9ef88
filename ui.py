"""The Gradio page: chat with cited, streamed answers; the corpus (upload, list, remove); the datasets as tables and charts.

Only the page lives here: every callback calls the ResearchAssistant facade (assistant/research.py) and lays out
what it returns; parsing, files, datasets, filters and sign-in live in the assistant package. Everything that came
from a document (text, titles, source and file names) goes through html.escape before it is rendered, because
documents are untrusted input.

Run it with `assistant serve` (or `python -m ui`); settings come from ASSISTANT_* variables (see assistant/settings.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The facade first: importing it switches every library offline before gradio loads (gradio reads its switches then).
from assistant.research import (
    ANY_COMPANY,
    ANY_TYPE,
    SUPPORTED_TYPES,
    Answer,
    Chart,
    IndexUnavailable,
    QuestionError,
    ResearchAssistant,
    Settings,
    esc,
    where_label,
)

# isort: split
import gradio as gr
import pandas as pd

log = logging.getLogger("assistant.ui")

DOC_TYPES = [ANY_TYPE, "article", "dataset", "document"]
EXAMPLES = [
    "阿里云2025年第三季度收入增长多少?",
    "阿里巴巴、腾讯、小米2025年股价涨幅分别是多少?",
    "小米MiMo-V2-Flash的推理速度和成本如何?",
    "What share of Tencent's revenue is AI-related?",
    "Why has Xiaomi's AI value not been priced in yet?",
    "How were Zhipu and MiniMax valued before their IPOs?",
]
# Chinese readers need a CJK font: the common system ones come before the generic family.
FONTS = ["system-ui", "-apple-system", "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "sans-serif"]

CSS = """
/* Chinese text needs a CJK font: the common system ones first, then the generic family. */
body, .gradio-container, .ra-answer-body, textarea, input, button {
  font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
    "WenQuanYi Micro Hei", sans-serif; }
.ra-answer-body { line-height: 1.6; }
.ra-resolved { color: #4b5563; font-size: 0.85em; margin: 0 0 6px 0; }
.ra-cite { font-size: 0.75em; margin-left: 1px; }
.ra-cite a, .ra-cite span { text-decoration: none; font-weight: 600; padding: 0 3px; border-radius: 4px;
  background: #e0e7ff; color: #3730a3 !important; }
.ra-cite.ra-bad a, .ra-cite.ra-bad span { background: #fee2e2; color: #991b1b !important; }
.ra-refusal { border: 1px solid #f59e0b; background: #fffbeb; color: #78350f; border-radius: 8px; padding: 8px 12px; }
.ra-refusal b { display: block; margin-bottom: 4px; }
.ra-notice { border-left: 4px solid #3b82f6; background: #eff6ff; color: #1e3a8a; padding: 6px 10px; margin: 6px 0;
  border-radius: 4px; font-size: 0.9em; }
.ra-error { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d; padding: 8px 12px; border-radius: 4px; }
.ra-warn { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d; padding: 6px 10px; margin: 6px 0;
  border-radius: 4px; font-size: 0.9em; }
.ra-warn ul { margin: 2px 0 0 0; padding-left: 18px; }
.ra-sources { margin-top: 10px; font-size: 0.88em; }
.ra-sources > summary { cursor: pointer; font-weight: 600; margin-bottom: 4px; }
.ra-src { border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 9px; margin: 6px 0; background: #fafafa; color: #111827; }
.ra-src.ra-bad { border-color: #fca5a5; }
.ra-src-head { font-size: 0.92em; margin-bottom: 3px; }
.ra-src-head .ra-title { font-weight: 600; }
.ra-meta { color: #6b7280; }
.ra-tag { display: inline-block; font-size: 0.8em; padding: 0 5px; border-radius: 4px; background: #e5e7eb; color: #374151; }
.ra-tag.ra-ok { background: #dcfce7; color: #166534; }
.ra-tag.ra-bad { background: #fee2e2; color: #991b1b; }
.ra-excerpt { color: #374151; }
.ra-src-text { max-height: 14em; overflow-y: auto; white-space: normal; color: #374151; }
.ra-src mark { background: #fde68a; color: #111827; padding: 0 1px; }
.ra-full > summary { cursor: pointer; color: #6b7280; font-size: 0.85em; }
.ra-nearest { margin: 4px 0 0 0; padding-left: 18px; }
.ra-nearest li { margin: 2px 0; }
.ra-timing { color: #9ca3af; font-size: 0.78em; margin-top: 6px; }
.ra-panel { font-size: 0.9em; line-height: 1.5; }
.ra-panel code { font-size: 0.95em; }
.ra-status-ok { color: #166534; }
.ra-status-bad { color: #991b1b; }
.ra-confirm { border: 1px solid #f59e0b; background: #fffbeb; border-radius: 8px; padding: 8px 12px; color: #78350f; }
"""


# --- rendering (tested in tests/test_ui.py) -----------------------------------------------------------------------
def _highlight(text: str, quotes: list[str]) -> str:
    """The escaped passage with each cited sentence wrapped in <mark>."""
    body = esc(text)
    for quote in dict.fromkeys(q.strip() for q in quotes if q and q.strip()):
        target = esc(quote)
        if target in body:
            body = body.replace(target, f"<mark>{target}</mark>", 1)
    return body.replace("\n", "<br>")


def _render_text(text: str, bad: set[int], anchor: str) -> str:
    """Answer text, escaped, with [n] markers as badges linking to the source cards below."""

    def badge(numbers: list[int]) -> str:
        parts = []
        for n in numbers:
            cls = "ra-cite ra-bad" if n in bad else "ra-cite"
            mark = f"⚠{n}" if n in bad else str(n)
            parts.append(f'<sup class="{cls}"><a href="#{anchor}-{n}" title="source {n}">[{mark}]</a></sup>')
        return "".join(parts)

    lines = [line.strip() for line in esc(text).splitlines()]
    return ResearchAssistant.replace_markers("\n".join(lines), badge)


def _snippet(text: str, quotes: list[str], context: int = 50, plain: int = 150) -> tuple[str, bool]:
    """The cited sentences with a little context (escaped, marked), or the passage's opening; and whether it is cut."""
    flat = " ".join(str(text).split())
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        target = " ".join(str(quote or "").split())
        at = flat.find(target) if target else -1
        if at >= 0:
            spans.append((at, at + len(target)))
    if not spans:
        return esc(flat[:plain]) + ("…" if len(flat) > plain else ""), len(flat) > plain
    spans.sort()
    start = max(0, spans[0][0] - context)
    end = min(len(flat), max(e for _, e in spans) + context)
    out, pos = ["…" if start else ""], start
    for s, e in spans:
        if s < pos:  # overlapping quotes: extend the previous mark
            s = pos
        if e <= s:
            continue
        out.append(f"{esc(flat[pos:s])}<mark>{esc(flat[s:e])}</mark>")
        pos = e
    out.append(esc(flat[pos:end]) + ("…" if end < len(flat) else ""))
    return "".join(out), start > 0 or end < len(flat)


def source_card(source: dict, anchor: str, quotes: list[str], verdict: str | None, reason: str = "") -> str:
    """One retrieved passage: title, date, source name, page or row, and the cited sentence marked in a short
    excerpt; the whole passage (also marked) folds out under it."""
    n = source.get("marker")
    meta = " · ".join(esc(x) for x in (source.get("date"), source.get("type"), where_label(source)) if x)
    tag = ""
    if verdict == "ok":
        tag = ' <span class="ra-tag ra-ok">cited</span>'
    elif verdict == "bad":
        tag = f' <span class="ra-tag ra-bad">⚠ not supported{": " + esc(reason) if reason else ""}</span>'
    excerpt, cut = _snippet(source.get("text", ""), quotes)
    full = (
        f'<details class="ra-full"><summary>whole passage</summary><div class="ra-src-text">{_highlight(source.get("text", ""), quotes)}'
        "</div></details>"
        if cut
        else ""
    )
    return (
        f'<div class="ra-src{" ra-bad" if verdict == "bad" else ""}" id="{anchor}-{n}">'
        f'<div class="ra-src-head"><span class="ra-tag">[{esc(n)}]</span> <span class="ra-title">{esc(source.get("title") or "")}</span>'
        f' <span class="ra-meta">{meta} · {esc(source.get("source", ""))}</span>{tag}</div>'
        f'<div class="ra-excerpt">{excerpt}</div>{full}</div>'
    )


def nearest_line(source: dict) -> str:
    meta = " · ".join(esc(x) for x in (source.get("date"), source.get("type"), where_label(source), source.get("source")) if x)
    title = esc(source.get("title") or "")
    return f'<li><span class="ra-tag">[{esc(source.get("marker"))}]</span> <b>{title}</b> <span class="ra-meta">{meta}</span></li>'


def render_answer(answer: Answer | dict, anchor: str | None = None) -> str:
    """The final chat message: answer with citation badges (or a refusal box), notices, unsupported citations and
    uncited figures, then the sources. Markdown for the answer text (escaped), single-line HTML blocks after it."""
    data = answer.to_dict() if isinstance(answer, Answer) else answer
    anchor = anchor or f"ra-{uuid.uuid4().hex[:8]}"
    citations = data.get("citations") or []
    bad = {c["marker"] for c in citations if not c.get("supported")}
    good = {c["marker"] for c in citations if c.get("supported")} - bad
    blocks: list[str] = []
    for notice in data.get("notices") or []:
        blocks.append(f'<div class="ra-notice">ℹ {esc(notice)}</div>')
    resolved = data.get("standalone_question")
    if resolved and resolved != data.get("question"):
        # A follow-up was rewritten into a question of its own: show what was actually asked of the sources.
        blocks.append(f'<div class="ra-resolved">↳ Understood as · 理解为: {esc(resolved)}</div>')
    if data.get("refused"):
        blocks.append(f'<div class="ra-refusal"><b>ⓘ No answer in the sources · 资料中没有答案</b>{esc(data.get("answer", ""))}</div>')
    else:
        blocks.append(_render_text(data.get("answer", ""), bad, anchor))
    problems = [
        f"<li>⚠ not supported: [{esc(c['marker'])}] «{esc(c.get('sentence', '').strip())}»"
        f"{' — ' + esc(c['reason']) if c.get('reason') else ''}</li>"
        for c in citations
        if not c.get("supported")
    ]
    problems += [
        f"<li>⚠ figure without a citation: «{esc(u.get('sentence', '').strip())}»{' — ' + esc(u['reason']) if u.get('reason') else ''}</li>"
        for u in data.get("uncited") or []
    ]
    if problems:
        blocks.append(f'<div class="ra-warn"><b>Check these claims</b><ul>{"".join(problems)}</ul></div>')
    sources = data.get("sources") or []
    if sources:
        quotes: dict[int, list[str]] = {}
        reasons: dict[int, str] = {}
        for c in citations:
            quotes.setdefault(c["marker"], []).append(c.get("quote", ""))
            if not c.get("supported") and c.get("reason"):
                reasons.setdefault(c["marker"], c["reason"])
        cited = [s for s in sources if s.get("marker") in good | bad]
        other = [s for s in sources if s.get("marker") not in good | bad]

        def card(s: dict) -> str:
            m = s.get("marker")
            verdict = "bad" if m in bad else "ok" if m in good else None
            return source_card(s, anchor, quotes.get(m, []), verdict, reasons.get(m, ""))

        if cited:
            cards = "".join(map(card, cited))
            blocks.append(f'<details class="ra-sources" open><summary>Sources ({len(cited)} cited)</summary>{cards}</details>')
        if other and data.get("refused"):
            blocks.append(
                f'<div class="ra-sources"><b>Nearest sources ({len(other)})</b> — retrieved, but they do not answer the question:'
                f'<ul class="ra-nearest">{"".join(map(nearest_line, other))}</ul></div>'
            )
            cards = "".join(map(card, other))
            blocks.append(f'<details class="ra-sources"><summary>Their passages</summary>{cards}</details>')
        elif other:
            cards = "".join(map(card, other))
            blocks.append(f'<details class="ra-sources"><summary>Other retrieved passages ({len(other)})</summary>{cards}</details>')
    timing = data.get("timing") or {}
    if timing:
        blocks.append(
            f'<div class="ra-timing">{esc(data.get("model", ""))} · retrieval {timing.get("retrieval_ms", 0):.0f} ms · '
            f"answer {timing.get('generation_ms', 0):.0f} ms · total {timing.get('total_ms', 0):.0f} ms</div>"
        )
    # Blank lines separate the blocks so the answer text is Markdown while each HTML block stays raw.
    return "\n\n".join(b.replace("\n\n", "\n") if b.startswith("<") else b for b in blocks)


def render_streaming(text: str, notices: list[str]) -> str:
    body = "\n".join(line.strip() for line in esc(text).splitlines())
    head = "".join(f'<div class="ra-notice">ℹ {esc(n)}</div>\n\n' for n in notices)
    return f"{head}{body} ▌"


def render_error(message: str) -> str:
    return f'<div class="ra-error">⚠ {esc(message)}</div>'


def error_message(exc: BaseException) -> str:
    """What the chat says when a question fails: the facade's own message for known errors, never a traceback."""
    if isinstance(exc, QuestionError):
        return f"Cannot ask this: {exc}"
    if isinstance(exc, IndexUnavailable):
        return f"The index is not available right now ({exc}). Check ASSISTANT_INDEX_DIR / ASSISTANT_CHROMA_URL and retry."
    return f"Something went wrong while answering ({type(exc).__name__}). The error was logged on the server; please try again."


def plain_messages(chat: list[Any] | None) -> list[dict]:
    """Chatbot values as {"role", "content": str}; Gradio 6 hands content back as a list of typed parts."""
    out = []
    for message in chat or []:
        if not isinstance(message, dict):
            message = {"role": getattr(message, "role", "assistant"), "content": getattr(message, "content", "")}
        content = message.get("content", "")
        if isinstance(content, list):
            content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        out.append({"role": message.get("role", "assistant"), "content": content})
    return out



# --- the page --------------------------------------------------------------------------------------------------
def chart_update(chart: Chart | None) -> dict:
    if chart is None:
        return gr.update(visible=False, value=None)
    return gr.update(visible=True, value=chart.frame, title=chart.title, y_title=chart.unit or "value")


@dataclass
class Page:
    """The callbacks, bound to one facade. Per-user data travels in gr.State, never here."""

    assistant: ResearchAssistant

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    # ---- chat
    def settings_html(self, filters: dict | None = None) -> str:
        s = self.settings
        active = ", ".join(f"{esc(k)}={esc(v)}" for k, v in (filters or {}).items()) or "none"
        return (
            '<div class="ra-panel">'
            f"<b>Chat model</b>: {esc(self.assistant.model_description)}<br>"
            f"<b>Retrieval</b>: {esc(s.retrieval_mode)}, top-k {s.top_k}, min relevance {s.min_relevance}<br>"
            f"<b>Embeddings</b>: {esc(s.embedding_model)}<br>"
            f"<b>Index</b>: {esc(s.index_location())}<br>"
            f"<b>Active filters</b>: {active}</div>"
        )

    def filters_changed(self, company, ticker, date_from, date_to, doc_type) -> str:
        try:
            return self.settings_html(self.assistant.make_filters(company, ticker, date_from, date_to, doc_type).active())
        except QuestionError as exc:
            return self.settings_html() + f'<div class="ra-warn">⚠ {esc(exc)}</div>'

    def respond(
        self, message: str, chat: list, history: list[dict], turns: list[dict], company, ticker, date_from, date_to, doc_type
    ) -> Iterator[tuple]:
        """Stream one answer. Outputs: textbox, chatbot, history, turns, chart, settings panel."""
        question = (message or "").strip()
        chat = plain_messages(chat)
        history = list(history or [])
        turns = list(turns or [])
        if not question:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat = [*chat, {"role": "user", "content": esc(question)}, {"role": "assistant", "content": "…"}]
        yield "", list(chat), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        pieces: list[str] = []
        notices: list[str] = []
        answer: Answer | None = None
        try:
            filters = self.assistant.make_filters(company, ticker, date_from, date_to, doc_type)
            for kind, value in self.assistant.ask_streaming(question, history, filters):
                if kind == "token":
                    pieces.append(str(value))
                    chat[-1] = {"role": "assistant", "content": render_streaming("".join(pieces), notices)}
                    yield gr.skip(), list(chat), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                elif kind == "reset":
                    pieces = []
                    notices.append(str(value))
                    chat[-1] = {"role": "assistant", "content": render_streaming("", notices)}
                    yield gr.skip(), list(chat), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                elif kind == "answer":
                    answer = value  # type: ignore[assignment]
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message in the chat
            if not isinstance(exc, QuestionError | IndexUnavailable):
                log.exception("question failed: %r", question)
            chat[-1] = {"role": "assistant", "content": render_error(error_message(exc))}
            yield gr.skip(), list(chat), gr.skip(), gr.skip(), gr.update(visible=False), gr.skip()
            return
        if answer is None:
            chat[-1] = {"role": "assistant", "content": render_error("The answer chain ended without an answer; please try again.")}
            yield gr.skip(), list(chat), gr.skip(), gr.skip(), gr.update(visible=False), gr.skip()
            return
        data = answer.to_dict()
        chat[-1] = {"role": "assistant", "content": render_answer(data, anchor=f"ra-{len(turns) + 1}-{uuid.uuid4().hex[:6]}")}
        history.append({"question": question, "answer": answer.text})
        turns.append({"question": question, "answer": answer.text, "data": data})
        yield gr.skip(), list(chat), history, turns, chart_update(self.assistant.answer_chart(data)), self.settings_html(answer.filters)

    def export(self, turns: list[dict]):
        if not turns:
            gr.Info("Nothing to export yet: ask a question first.")
            return gr.update(value=None, visible=False)
        return gr.update(value=str(self.assistant.export_conversation(turns)), visible=True)

    # ---- corpus
    def corpus_view(self):
        """Sources table, remove dropdown, summary line."""
        try:
            records = self.assistant.sources()
        except Exception as exc:  # noqa: BLE001
            log.exception("listing sources failed")
            return gr.skip(), gr.skip(), f'<div class="ra-warn">⚠ {esc(error_message(exc))}</div>'
        frame = pd.DataFrame(
            [[r.title, r.date, r.type, r.chunks, r.source] for r in records], columns=["title", "date", "type", "chunks", "source"]
        )
        summary = f'<div class="ra-panel">{len(records)} sources, {sum(r.chunks for r in records)} chunks</div>'
        return frame, gr.update(choices=[r.source for r in records], value=None), summary

    def ingest_files(self, files: list[str] | None, progress=gr.Progress()):
        """Outputs: summary, sources table, remove dropdown, corpus summary, file input (cleared)."""
        if not files:
            return '<div class="ra-warn">⚠ Choose one or more files first.</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip()
        progress(0, desc="Copying uploads")
        try:
            report = self.assistant.upload(files, on_progress=lambda done, total: progress((done, total), desc="Indexing"))
        except Exception as exc:  # noqa: BLE001
            log.exception("ingest failed")
            return f'<div class="ra-warn">⚠ {esc(error_message(exc))}</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip()
        lines: list[str] = []
        for label, items in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
            if items:
                lines.append(f'<span class="ra-status-ok">✔ {label} {len(items)}</span>: {", ".join(esc(x) for x in items)}')
        for source, reason in report.failed:
            lines.append(f'<span class="ra-status-bad">✗ failed</span>: {esc(source)} — {esc(reason)}')
        head = report.summary().splitlines()[0]
        summary = f'<div class="ra-panel"><b>{esc(head)}</b><br>{"<br>".join(lines)}</div>'
        frame, dropdown, count = self.corpus_view()
        return summary, frame, dropdown, count, None

    def ask_remove(self, source: str | None):
        """Outputs: confirm box (visibility), confirm text, pending source."""
        if not source:
            return gr.update(visible=False), '<div class="ra-warn">⚠ Pick a source to remove first.</div>', None
        record = next((r for r in self.assistant.sources() if r.source == source), None)
        if record is None:
            return gr.update(visible=False), f'<div class="ra-warn">⚠ {esc(source)} is not indexed.</div>', None
        text = (
            f'<div class="ra-confirm">Remove <b>{esc(record.title)}</b> ({esc(record.source)}, {record.chunks} chunks) from the index? '
            "Answers will no longer cite it.</div>"
        )
        return gr.update(visible=True), text, source

    def confirm_remove(self, pending: str | None):
        """Outputs: confirm box, status, pending, table, dropdown, corpus summary."""
        if not pending:
            return gr.update(visible=False), "", None, gr.skip(), gr.skip(), gr.skip()
        try:
            removed = self.assistant.remove(pending)
        except KeyError:
            status = f'<div class="ra-warn">⚠ {esc(pending)} is not indexed (already removed?).</div>'
        except Exception as exc:  # noqa: BLE001
            log.exception("remove failed")
            status = f'<div class="ra-warn">⚠ {esc(error_message(exc))}</div>'
        else:
            status = f'<div class="ra-panel ra-status-ok">Removed {esc(pending)} ({removed} chunks).</div>'
        frame, dropdown, count = self.corpus_view()
        return gr.update(visible=False), status, None, frame, dropdown, count

    def cancel_remove(self):
        return gr.update(visible=False), '<div class="ra-panel">Nothing was removed.</div>', None

    # ---- datasets
    def datasets_view(self, current: str | None = None, metric: str | None = None):
        """Outputs: dataset dropdown, table, metric dropdown, chart."""
        tables = self.assistant.datasets()
        names = list(tables)
        current = current if current in tables else (names[0] if names else None)
        chart = self.assistant.metric_chart(metric)
        return (
            gr.update(choices=names, value=current),
            tables[current] if current else pd.DataFrame(),
            gr.update(choices=self.assistant.chartable_metrics(), value=chart.metric if chart else None),
            self.metric_chart(chart.metric if chart else None),
        )

    def show_dataset(self, name: str | None) -> pd.DataFrame:
        return self.assistant.datasets().get(name or "", pd.DataFrame())

    def metric_chart(self, metric: str | None):
        chart = self.assistant.metric_chart(metric) if metric else None
        if chart is None:
            return gr.update(value=None)
        return gr.update(value=chart.frame, title=chart.title, y_title=chart.unit or "value")


def build_app(assistant: ResearchAssistant) -> gr.Blocks:
    """The whole page over one facade. Launch it with `launch(demo, settings)` (or `main()`) to get the styling."""
    page = Page(assistant)
    settings = assistant.settings
    companies = [ANY_COMPANY, *assistant.companies()]

    # delete_cache: Gradio's copies of uploads (ours live under the index folder) go after a day.
    with gr.Blocks(title="HK Tech AI Research Assistant", analytics_enabled=False, delete_cache=(3600, 86400)) as demo:
        gr.HTML(
            "<h2 style='margin:0'>HK Tech AI Research Assistant · 港股科技AI研究助手</h2>"
            "<div class='ra-panel'>Answers come only from the indexed sources and cite them; "
            "when the sources do not say, it says so.</div>"
        )
        history = gr.State([])  # [{"question", "answer"}] for follow-ups, one per browser session
        turns = gr.State([])  # the same turns with the full Answer, for export
        pending = gr.State(None)  # source awaiting confirmation of removal

        with gr.Tabs():
            with gr.Tab("Chat · 问答", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            show_label=False,
                            height=660,
                            sanitize_html=True,
                            render_markdown=True,
                            latex_delimiters=[],
                            buttons=["copy"],
                            elem_id="chatbot",
                            placeholder="Ask about how the market prices AI at Hong Kong-listed tech companies. 用中文或英文提问。",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="Ask a question, e.g. 阿里云2025年第三季度收入增长多少?",
                                show_label=False,
                                scale=5,
                                autofocus=True,
                                elem_id="question",
                                max_length=settings.max_question_chars * 2,
                            )
                            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                        with gr.Row():
                            clear = gr.Button("✕ Clear chat", size="sm", elem_id="clear")
                            new = gr.Button("✚ New conversation", size="sm", elem_id="new")
                            export_btn = gr.Button("⬇ Export as Markdown", size="sm", elem_id="export")
                        export_file = gr.File(label="Conversation export", visible=False, interactive=False, elem_id="export-file")
                        gr.Examples(examples=[[q] for q in EXAMPLES], inputs=[question], label="Example questions · 示例问题")
                    with gr.Column(scale=2):
                        panel = gr.HTML(page.settings_html(), elem_id="settings")
                        with gr.Accordion("Filters · 筛选", open=True):
                            company = gr.Dropdown(companies, value=ANY_COMPANY, label="Company", allow_custom_value=True)
                            ticker = gr.Textbox(label="Ticker", placeholder="e.g. 0700.HK")
                            with gr.Row():
                                date_from = gr.Textbox(label="Date from", placeholder="YYYY-MM-DD")
                                date_to = gr.Textbox(label="Date to", placeholder="YYYY-MM-DD")
                            doc_type = gr.Radio(DOC_TYPES, value=ANY_TYPE, label="Type")
                        answer_chart = gr.BarPlot(
                            value=None,
                            x="company",
                            y="value",
                            title="Figures in the answer",
                            visible=False,
                            elem_id="answer-chart",
                            sort="-y",
                            height=300,
                            y_lim=[0, None],
                        )

            with gr.Tab("Corpus · 资料库", id="corpus") as corpus_tab:
                gr.HTML(
                    f"<div class='ra-panel'>Add documents ({esc(', '.join(SUPPORTED_TYPES))}; up to "
                    f"{settings.max_file_mb:g} MB each). They are copied under the index folder and indexed at once.</div>"
                )
                uploads = gr.File(label="Upload files", file_count="multiple", type="filepath", elem_id="uploads", height=160)
                add = gr.Button("Add to index", variant="primary", elem_id="add")
                ingest_summary = gr.HTML(elem_id="ingest-summary")
                corpus_count = gr.HTML(elem_id="corpus-count")
                sources_table = gr.Dataframe(
                    headers=["title", "date", "type", "chunks", "source"],
                    interactive=False,
                    wrap=True,
                    label="Indexed sources",
                    elem_id="sources-table",
                    max_height=420,
                    column_widths=["34%", "11%", "9%", "7%", "39%"],
                )
                with gr.Row():
                    to_remove = gr.Dropdown([], label="Source to remove", scale=4, elem_id="remove-source")
                    remove = gr.Button("Remove…", variant="stop", scale=1, elem_id="remove")
                with gr.Group(visible=False) as confirm_box:
                    confirm_text = gr.HTML(elem_id="confirm-text")
                    with gr.Row():
                        confirm = gr.Button("Yes, remove it", variant="stop", elem_id="confirm-remove")
                        cancel = gr.Button("Cancel", elem_id="cancel-remove")
                remove_status = gr.HTML(elem_id="remove-status")

            with gr.Tab("Datasets · 数据", id="datasets") as datasets_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        dataset = gr.Dropdown([], label="Dataset", elem_id="dataset")
                        table = gr.Dataframe(interactive=False, wrap=True, label="Rows", max_height=480, elem_id="dataset-table")
                    with gr.Column(scale=2):
                        metric = gr.Dropdown([], label="Metric across companies", elem_id="metric")
                        metric_plot = gr.BarPlot(
                            value=None, x="company", y="value", elem_id="metric-chart", sort="-y", height=360, y_lim=[0, None]
                        )

        # chat wiring
        chat_io = dict(
            fn=page.respond,
            inputs=[question, chatbot, history, turns, company, ticker, date_from, date_to, doc_type],
            outputs=[question, chatbot, history, turns, answer_chart, panel],
        )
        question.submit(**chat_io)
        send.click(**chat_io)
        clear.click(lambda: ([], [], [], gr.update(visible=False, value=None)), None, [chatbot, history, turns, answer_chart])

        def fresh_conversation():
            hidden = gr.update(visible=False, value=None)
            return [], [], [], hidden, gr.update(visible=False, value=None), ANY_COMPANY, "", "", "", ANY_TYPE, ""

        new.click(
            fresh_conversation,
            None,
            [chatbot, history, turns, answer_chart, export_file, company, ticker, date_from, date_to, doc_type, question],
        ).then(page.settings_html, None, panel)
        for control in (company, ticker, date_from, date_to, doc_type):
            control.change(page.filters_changed, [company, ticker, date_from, date_to, doc_type], panel)
        export_btn.click(page.export, turns, export_file)

        # corpus wiring
        corpus_outputs = [sources_table, to_remove, corpus_count]
        corpus_tab.select(page.corpus_view, None, corpus_outputs)
        # One corpus change at a time, whoever asks: ingest and remove share a queue slot.
        add.click(page.ingest_files, uploads, [ingest_summary, *corpus_outputs, uploads], concurrency_limit=1, concurrency_id="corpus")
        remove.click(page.ask_remove, to_remove, [confirm_box, confirm_text, pending])
        confirm.click(
            page.confirm_remove,
            pending,
            [confirm_box, remove_status, pending, *corpus_outputs],
            concurrency_limit=1,
            concurrency_id="corpus",
        )
        cancel.click(page.cancel_remove, None, [confirm_box, remove_status, pending])

        # datasets wiring
        datasets_tab.select(page.datasets_view, [dataset, metric], [dataset, table, metric, metric_plot])
        dataset.input(page.show_dataset, dataset, table)
        metric.input(page.metric_chart, metric, metric_plot)

        demo.load(page.corpus_view, None, corpus_outputs)
    return demo


def theme() -> gr.themes.Base:
    # System fonts only: the default theme would fetch Google Fonts, and the page must work offline.
    return gr.themes.Soft(primary_hue="indigo", font=FONTS, font_mono=["ui-monospace", "monospace"])


def launch(demo: gr.Blocks, assistant: ResearchAssistant, **overrides: Any):
    """Queue and launch as the settings say: host, port, auth, concurrency; never shared, no analytics."""
    settings = assistant.settings
    demo.queue(default_concurrency_limit=max(1, int(settings.concurrency)))
    options: dict[str, Any] = dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=assistant.login_pairs(),
        share=False,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        enable_monitoring=False,
        max_file_size=f"{max(settings.max_file_mb * 2, settings.max_file_mb + 1):g}mb",
        theme=theme(),
        css=CSS,
        footer_links=["settings"],
    )
    if options["auth"]:
        options["auth_message"] = "HK Tech AI Research Assistant: sign in with the account your administrator gave you."
    options.update(overrides)
    return demo.launch(**options)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    assistant = ResearchAssistant(Settings())
    try:
        assistant.login_pairs()  # fail before indexing anything when the auth setting is malformed
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    report = assistant.ensure_corpus(show_progress=True)
    if report is not None:
        log.info("indexed the shipped corpus: %s", report.summary())
    try:
        log.info("warmed up in %.1f s: the first question is as fast as the next", assistant.warm_up())
    except Exception:  # noqa: BLE001 - the page still starts; the chat will show the error on a question
        log.exception("warm-up failed")
    launch(build_app(assistant), assistant)


if __name__ == "__main__":
    main()
