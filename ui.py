"""The Gradio page: chat with cited, streamed answers; the corpus (upload, list, remove); the datasets as tables and charts.

Only the page lives here: every callback calls the ResearchAssistant facade and formats what it returns.
Everything that came from a document (text, titles, source and file names) goes through html.escape before it is
rendered, because documents are untrusted input.

Run it with `python ui.py` (or `assistant serve`); settings come from ASSISTANT_* variables (see assistant/settings.py).
"""

from __future__ import annotations

from assistant import offline

offline.prepare()  # before gradio is imported: it reads GRADIO_ANALYTICS_ENABLED at import time

import html  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import unicodedata  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Collection, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.answer import Answer, QuestionError  # noqa: E402
from assistant.index import IndexUnavailable  # noqa: E402
from assistant.llm import describe  # noqa: E402
from assistant.loaders import SUPPORTED, LoadError, decode_text  # noqa: E402
from assistant.research import ResearchAssistant  # noqa: E402
from assistant.retrieval import Filters  # noqa: E402
from assistant.settings import Settings  # noqa: E402

log = logging.getLogger("assistant.ui")

UPLOAD_PREFIX = "upload:"
ALL_COMPANIES = "All companies / 全部公司"
DOC_TYPES = ["all", "article", "dataset", "document"]
DEFAULT_METRIC = "2025年股价涨幅"
EXAMPLES = [
    "阿里云2025年第三季度收入增长多少?",
    "阿里巴巴、腾讯、小米2025年股价涨幅分别是多少?",
    "小米MiMo-V2-Flash的推理速度和成本如何?",
    "What share of Tencent's revenue is AI-related?",
    "Why has Xiaomi's AI value not been priced in yet?",
    "How were Zhipu and MiniMax valued before their IPOs?",
]
_DATE = re.compile(r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$")
_MARKERS = re.compile(r"\s?\[(\d+(?:\s*,\s*\d+)*)\]")

CSS = """
.ra-answer-body { line-height: 1.6; }
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


# --- pure helpers (tested in tests/test_ui.py) --------------------------------------------------------------------
def esc(value: object) -> str:
    """HTML-escape anything that came from a document, a user or a file name."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_upload_name(name: str) -> str:
    """A plain file name for an upload, whatever the browser claimed: no directories, no `..`, no drive letters,
    no hidden files, no characters a shell or HTML would treat specially."""
    base = unicodedata.normalize("NFKC", str(name or "")).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-+()\[\] ]", "_", base)  # \w keeps CJK letters
    base = re.sub(r"\.{2,}", ".", base).strip(" ._")
    if not base:
        return "upload"
    stem, dot, suffix = base.rpartition(".")
    if dot and stem and len(suffix) <= 10:
        return f"{stem[:100].rstrip(' .')}.{suffix}"
    return base[:110]


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """ASSISTANT_AUTH: None, `user:pass,user2:pass2`, or a path to a file of such entries (one or more per line,
    blank lines and # comments ignored). Passwords may contain ':' (only the first one splits)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    path = Path(text).expanduser()
    origin = "ASSISTANT_AUTH"
    if path.is_file():
        origin = f"auth file {path}"
        text = path.read_text(encoding="utf-8-sig")
    elif ":" not in text:
        raise ValueError("ASSISTANT_AUTH is neither user:password pairs nor the path of an existing file")
    pairs: list[tuple[str, str]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for item in line.split(","):
            item = item.strip()
            if not item:
                continue
            user, sep, password = item.partition(":")
            if not sep or not user.strip() or not password:
                # never echo the entry: it may hold a password
                raise ValueError(f"{origin}, line {line_no}: every entry must be user:password (one is malformed)")
            pairs.append((user.strip(), password))
    if not pairs:
        raise ValueError(f"{origin} holds no user:password entries")
    return pairs


def parse_row(text: str) -> dict[str, str]:
    """A dataset chunk ("company: 腾讯; ticker: 0700.HK; metric: ...; value: 46; ...。") back into its fields."""
    fields: dict[str, str] = {}
    for part in str(text).strip().rstrip("。").split("; "):
        key, sep, value = part.partition(": ")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _number(value: object) -> float | None:
    try:
        number = float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is not a figure


def chart_data(sources: list[dict], answer_text: str = "", cited: Collection[int] = ()) -> tuple[str, str, pd.DataFrame] | None:
    """(metric, unit, frame of company/value) when the answer's sources hold one metric for two or more companies
    and that metric is what the answer is about: one of its rows is cited, or the answer names the metric."""
    groups: dict[tuple[str, str], dict[str, float]] = {}
    markers: dict[tuple[str, str], set[int]] = {}
    for source in sources or []:
        if source.get("type") != "dataset":
            continue
        row = parse_row(source.get("text", ""))
        value = _number(row.get("value"))
        if not row.get("company") or not row.get("metric") or value is None:
            continue
        key = (row["metric"], row.get("unit", ""))
        groups.setdefault(key, {}).setdefault(row["company"], value)
        markers.setdefault(key, set()).add(int(source.get("marker") or 0))
    text = re.sub(r"\s+", "", answer_text or "")

    def relevant(key: tuple[str, str]) -> bool:
        core = re.sub(r"[((].*?[))]", "", key[0]).replace(" ", "")
        core = re.sub(r"^\d{4}(年|Q\d)?", "", core)  # "2025年股价涨幅" is named as "全年股价涨幅" too
        return bool(markers[key] & set(cited)) or bool(core and core in text)

    candidates = [(key, values) for key, values in groups.items() if len(values) >= 2 and relevant(key)]
    if not candidates:
        return None
    (metric, unit), values = max(candidates, key=lambda kv: len(kv[1]))  # first seen wins ties
    frame = pd.DataFrame({"company": list(values), "value": list(values.values())})
    return metric, unit, frame


def metric_frame(frames: dict[str, pd.DataFrame], metric: str) -> tuple[str, pd.DataFrame]:
    """One metric across companies from every chartable dataset table: (unit, frame of company/value)."""
    rows: dict[str, float] = {}
    unit = ""
    for frame in frames.values():
        if not {"company", "metric", "value"} <= set(frame.columns):
            continue
        for _, row in frame[frame["metric"] == metric].iterrows():
            value = _number(row["value"])
            if value is not None and row["company"]:
                rows.setdefault(str(row["company"]), value)
                unit = unit or str(row.get("unit", "") or "")
    return unit, pd.DataFrame({"company": list(rows), "value": list(rows.values())})


def chartable_metrics(frames: dict[str, pd.DataFrame]) -> list[str]:
    """Metrics with numeric values for at least two companies, most companies first."""
    counts: dict[str, set[str]] = {}
    for frame in frames.values():
        if not {"company", "metric", "value"} <= set(frame.columns):
            continue
        for _, row in frame.iterrows():
            if row["company"] and row["metric"] and _number(row["value"]) is not None:
                counts.setdefault(str(row["metric"]), set()).add(str(row["company"]))
    metrics = [m for m, companies in counts.items() if len(companies) >= 2]
    return sorted(metrics, key=lambda m: -len(counts[m]))


def make_filters(company: str | None, ticker: str | None, date_from: str | None, date_to: str | None, doc_type: str | None) -> Filters:
    """The filter controls as a Filters; a malformed date is a QuestionError the chat shows."""
    values: dict[str, str | None] = {}
    company = (company or "").strip()
    values["company"] = company if company and company != ALL_COMPANIES else None
    values["ticker"] = (ticker or "").strip().upper() or None
    for key, raw in (("date_from", date_from), ("date_to", date_to)):
        raw = (raw or "").strip()
        if raw and not _DATE.match(raw):
            raise QuestionError(f"the filter date {raw!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
        values[key] = raw or None
    values["type"] = doc_type if doc_type and doc_type != "all" else None
    return Filters(**values)


def _where(source: dict) -> str:
    if source.get("page"):
        return f"p. {source['page']}"
    if source.get("row"):
        return f"row {source['row']}"
    return ""


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

    def badge(match: re.Match) -> str:
        parts = []
        for n in (int(x) for x in re.split(r"\s*,\s*", match.group(1))):
            cls = "ra-cite ra-bad" if n in bad else "ra-cite"
            mark = f"⚠{n}" if n in bad else str(n)
            parts.append(f'<sup class="{cls}"><a href="#{anchor}-{n}" title="source {n}">[{mark}]</a></sup>')
        return "".join(parts)

    lines = [line.strip() for line in esc(text).splitlines()]
    return _MARKERS.sub(badge, "\n".join(lines))


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
    meta = " · ".join(esc(x) for x in (source.get("date"), source.get("type"), _where(source)) if x)
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
    meta = " · ".join(esc(x) for x in (source.get("date"), source.get("type"), _where(source), source.get("source")) if x)
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


def export_markdown(turns: list[dict], settings_line: str = "", directory: Path | None = None) -> Path:
    """The conversation with its sources as a Markdown file in a fresh temporary folder."""
    directory = Path(directory or tempfile.mkdtemp(prefix="assistant-export-"))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    lines = [f"# Research conversation ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    if settings_line:
        lines += [settings_line, ""]
    for i, turn in enumerate(turns, start=1):
        data = turn.get("data") or {}
        lines += [f"## {i}. {esc(turn.get('question', ''))}", ""]
        if data.get("refused"):
            lines += ["> ⓘ No answer in the sources.", ""]
        lines += [esc(turn.get("answer", "")), ""]
        for notice in data.get("notices") or []:
            lines += [f"- ℹ {esc(notice)}"]
        for c in data.get("citations") or []:
            if not c.get("supported"):
                lines += [f"- ⚠ not supported: [{c['marker']}] {esc(c.get('sentence', ''))} — {esc(c.get('reason', ''))}"]
        for u in data.get("uncited") or []:
            lines += [f"- ⚠ figure without a citation: {esc(u.get('sentence', ''))}"]
        sources = data.get("sources") or []
        if sources:
            lines += ["", "### Sources" if not data.get("refused") else "### Nearest sources", ""]
            quotes: dict[int, list[str]] = {}
            for c in data.get("citations") or []:
                quotes.setdefault(c["marker"], []).append(c.get("quote", ""))
            for s in sources:
                where = ", ".join(x for x in (s.get("date"), _where(s)) if x)
                lines.append(f"[{s.get('marker')}] **{esc(s.get('title', ''))}** ({esc(where)}) — {esc(s.get('source', ''))}")
                for q in dict.fromkeys(q for q in quotes.get(s.get("marker"), []) if q):
                    lines.append(f"   - cited: «{esc(q)}»")
                passage = " ".join(esc(s.get("text", "")).split())
                lines += [f"   > {passage[:600]}{'…' if len(passage) > 600 else ''}", ""]
        lines.append("")
    path = directory / f"conversation-{stamp}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


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


def read_dataset(path: Path) -> pd.DataFrame:
    text = decode_text(path.read_bytes(), str(path))
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


# --- the page --------------------------------------------------------------------------------------------------
@dataclass
class Page:
    """The callbacks, bound to one facade. Per-user data travels in gr.State, never here."""

    assistant: ResearchAssistant

    @property
    def settings(self) -> Settings:
        return self.assistant.settings

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.index_dir) / "uploads"

    # ---- chat
    def settings_html(self, filters: dict | None = None) -> str:
        s = self.settings
        active = ", ".join(f"{esc(k)}={esc(v)}" for k, v in (filters or {}).items()) or "none"
        return (
            '<div class="ra-panel">'
            f"<b>Chat model</b>: {esc(describe(s))}<br>"
            f"<b>Retrieval</b>: {esc(s.retrieval_mode)}, top-k {s.top_k}, min relevance {s.min_relevance}<br>"
            f"<b>Embeddings</b>: {esc(s.embedding_model)}<br>"
            f"<b>Index</b>: {esc(s.index_location())}<br>"
            f"<b>Active filters</b>: {active}</div>"
        )

    def filters_changed(self, company, ticker, date_from, date_to, doc_type) -> str:
        try:
            return self.settings_html(make_filters(company, ticker, date_from, date_to, doc_type).active())
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
            filters = make_filters(company, ticker, date_from, date_to, doc_type)
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
        yield gr.skip(), list(chat), history, turns, self.answer_chart(data), self.settings_html(answer.filters)

    def answer_chart(self, data: dict) -> dict:
        cited = {c["marker"] for c in data.get("citations") or []}
        found = None if data.get("refused") else chart_data(data.get("sources") or [], data.get("answer", ""), cited)
        if found is None:
            return gr.update(visible=False, value=None)
        metric, unit, frame = found
        return gr.update(visible=True, value=frame, title=f"{metric} ({unit})" if unit else metric, y_title=unit or "value")

    def export(self, turns: list[dict]):
        if not turns:
            gr.Info("Nothing to export yet: ask a question first.")
            return gr.update(value=None, visible=False)
        s = self.settings
        path = export_markdown(turns, f"_Model: {esc(describe(s))} · retrieval {esc(s.retrieval_mode)}, top-k {s.top_k}_")
        return gr.update(value=str(path), visible=True)

    # ---- corpus
    def sources_frame(self) -> pd.DataFrame:
        records = self.assistant.sources()
        return pd.DataFrame(
            [[r.title, r.date, r.type, r.chunks, r.source] for r in records], columns=["title", "date", "type", "chunks", "source"]
        )

    def corpus_view(self):
        """Sources table, remove dropdown, summary line."""
        try:
            frame = self.sources_frame()
        except Exception as exc:  # noqa: BLE001
            log.exception("listing sources failed")
            return gr.skip(), gr.skip(), f'<div class="ra-warn">⚠ {esc(error_message(exc))}</div>'
        choices = list(frame["source"])
        summary = f'<div class="ra-panel">{len(frame)} sources, {int(frame["chunks"].sum()) if len(frame) else 0} chunks</div>'
        return frame, gr.update(choices=choices, value=None), summary

    def store_uploads(self, files: list[str]) -> tuple[list[str], dict[str, str], list[tuple[str, str]]]:
        """Copy uploads to <index_dir>/uploads/.incoming with sanitised names; returns paths, source names, refusals.
        `keep_uploads` moves the ones that indexed into <index_dir>/uploads."""
        incoming = (self.uploads_dir / ".incoming").resolve()
        incoming.mkdir(parents=True, exist_ok=True)
        stored: list[str] = []
        names: dict[str, str] = {}
        refused: list[tuple[str, str]] = []
        used: set[str] = set()
        limit = self.settings.max_file_mb * 1_000_000  # the same MB as the ingest limit
        for item in files or []:
            src = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            name = safe_upload_name(src.name)
            stem, dot, suffix = name.rpartition(".")
            n = 2
            while name in used:
                name = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
                n += 1
            used.add(name)
            if Path(name).suffix.lower() not in SUPPORTED:
                refused.append((UPLOAD_PREFIX + name, f"unsupported type; supported: {', '.join(sorted(SUPPORTED))}"))
                continue
            if src.stat().st_size > limit:
                refused.append((UPLOAD_PREFIX + name, f"is over the {self.settings.max_file_mb:g} MB limit (ASSISTANT_MAX_FILE_MB)"))
                continue
            # Staged first: a failed re-upload must not overwrite the copy of a version that is still indexed.
            target = (incoming / name).resolve()
            if target.parent != incoming:  # cannot happen with a sanitised name; refuse rather than trust it
                refused.append((UPLOAD_PREFIX + name, "unsafe file name"))
                continue
            shutil.copyfile(src, target)
            stored.append(str(target))
            names[str(target)] = UPLOAD_PREFIX + name
        return stored, names, refused

    def keep_uploads(self, names: dict[str, str], failed: set[str]) -> None:
        """Uploads that indexed replace their stored copy; a file that did not index is not kept."""
        for path, source in names.items():
            staged = Path(path)
            if source in failed:
                staged.unlink(missing_ok=True)
            elif staged.exists():
                os.replace(staged, self.uploads_dir / staged.name)

    def ingest_files(self, files: list[str] | None, progress=gr.Progress()):
        """Outputs: summary, sources table, remove dropdown, corpus summary, file input (cleared)."""
        if not files:
            return '<div class="ra-warn">⚠ Choose one or more files first.</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip()
        progress(0, desc="Copying uploads")
        stored, names, refused = self.store_uploads(files)
        lines: list[str] = []
        try:
            report = None
            if stored:
                report = self.assistant.ingest(
                    stored, show_progress=False, names=names, on_progress=lambda done, total: progress((done, total), desc="Indexing")
                )
        except Exception as exc:  # noqa: BLE001
            log.exception("ingest failed")
            return f'<div class="ra-warn">⚠ {esc(error_message(exc))}</div>', gr.skip(), gr.skip(), gr.skip(), gr.skip()
        failed = list(refused) + (list(report.failed) if report else [])
        if report:
            for label, items in (("added", report.added), ("updated", report.updated), ("unchanged", report.unchanged)):
                if items:
                    lines.append(f'<span class="ra-status-ok">✔ {label} {len(items)}</span>: {", ".join(esc(x) for x in items)}')
        for source, reason in failed:
            lines.append(f'<span class="ra-status-bad">✗ failed</span>: {esc(source)} — {esc(reason)}')
        self.keep_uploads(names, {source for source, _ in failed})
        head = report.summary().splitlines()[0] if report else f"added 0, updated 0, unchanged 0, failed {len(failed)}"
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
            if pending.startswith(UPLOAD_PREFIX):
                stored = self.uploads_dir / safe_upload_name(pending[len(UPLOAD_PREFIX) :])
                if stored.resolve().parent == self.uploads_dir.resolve():
                    stored.unlink(missing_ok=True)
        frame, dropdown, count = self.corpus_view()
        return gr.update(visible=False), status, None, frame, dropdown, count

    def cancel_remove(self):
        return gr.update(visible=False), '<div class="ra-panel">Nothing was removed.</div>', None

    # ---- datasets
    def dataset_frames(self) -> dict[str, pd.DataFrame]:
        """Shipped dataset CSVs and uploaded CSVs that are still indexed, by source name."""
        frames: dict[str, pd.DataFrame] = {}
        for path in sorted((Path(self.settings.corpus_dir) / "datasets").glob("*.csv")):
            try:
                frames[f"corpus/datasets/{path.name}"] = read_dataset(path)
            except (OSError, LoadError, ValueError, pd.errors.ParserError):
                log.warning("cannot read dataset %s", path)
        if self.uploads_dir.is_dir():
            try:
                indexed = {r.source for r in self.assistant.sources()}
            except Exception:  # noqa: BLE001 - tables of shipped data still show
                indexed = set()
            for path in sorted(self.uploads_dir.glob("*.csv")):
                if UPLOAD_PREFIX + path.name in indexed:
                    try:
                        frames[UPLOAD_PREFIX + path.name] = read_dataset(path)
                    except (OSError, LoadError, ValueError, pd.errors.ParserError):
                        log.warning("cannot read uploaded dataset %s", path)
        return frames

    def datasets_view(self, current: str | None = None, metric: str | None = None):
        """Outputs: dataset dropdown, table, metric dropdown, chart."""
        frames = self.dataset_frames()
        names = list(frames)
        current = current if current in frames else (names[0] if names else None)
        metrics = chartable_metrics(frames)
        metric = metric if metric in metrics else (DEFAULT_METRIC if DEFAULT_METRIC in metrics else (metrics[0] if metrics else None))
        table = frames[current] if current else pd.DataFrame()
        return (
            gr.update(choices=names, value=current),
            table,
            gr.update(choices=metrics, value=metric),
            self.metric_chart(metric, frames),
        )

    def show_dataset(self, name: str | None) -> pd.DataFrame:
        frames = self.dataset_frames()
        return frames.get(name or "", pd.DataFrame())

    def metric_chart(self, metric: str | None, frames: dict[str, pd.DataFrame] | None = None):
        if not metric:
            return gr.update(value=None)
        unit, frame = metric_frame(frames if frames is not None else self.dataset_frames(), metric)
        return gr.update(value=frame, title=f"{metric} ({unit})" if unit else metric, y_title=unit or "value")


def build_app(assistant: ResearchAssistant) -> gr.Blocks:
    """The whole page over one facade. Launch it with `launch(demo, settings)` (or `main()`) to get the styling."""
    page = Page(assistant)
    settings = assistant.settings
    companies = [ALL_COMPANIES, *sorted(assistant.lexicon.aliases)]

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
                            company = gr.Dropdown(companies, value=ALL_COMPANIES, label="Company", allow_custom_value=True)
                            ticker = gr.Textbox(label="Ticker", placeholder="e.g. 0700.HK")
                            with gr.Row():
                                date_from = gr.Textbox(label="Date from", placeholder="YYYY-MM-DD")
                                date_to = gr.Textbox(label="Date to", placeholder="YYYY-MM-DD")
                            doc_type = gr.Radio(DOC_TYPES, value="all", label="Type")
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
                    f"<div class='ra-panel'>Add documents ({esc(', '.join(sorted(SUPPORTED)))}; up to "
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
            return [], [], [], hidden, gr.update(visible=False, value=None), ALL_COMPANIES, "", "", "", "all", ""

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
    return gr.themes.Soft(
        primary_hue="indigo", font=["system-ui", "PingFang SC", "Noto Sans CJK SC", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )


def launch(demo: gr.Blocks, settings: Settings, **overrides: Any):
    """Queue and launch as the settings say: host, port, auth, concurrency; never shared, no analytics."""
    demo.queue(default_concurrency_limit=max(1, int(settings.concurrency)))
    options: dict[str, Any] = dict(
        server_name=settings.host,
        server_port=settings.port,
        auth=parse_auth(settings.auth),
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
    settings = Settings()
    try:
        parse_auth(settings.auth)  # fail before indexing anything when the auth setting is malformed
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    assistant = ResearchAssistant(settings)
    report = assistant.ensure_corpus(show_progress=True)
    if report is not None:
        log.info("indexed the shipped corpus: %s", report.summary())
    _ = assistant.engine  # build the answer chain now, not on the first question
    try:
        assistant.retrieve("港股科技公司 AI 估值")  # and load the lexical index, so the first question is not the slow one
    except Exception:  # noqa: BLE001 - the page still starts; the chat will show the error on a question
        log.exception("warm-up retrieval failed")
    launch(build_app(assistant), settings)


if __name__ == "__main__":
    main()
