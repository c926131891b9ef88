"""A conversation from the web page as a Markdown file: questions, answers, notices, failed checks and sources."""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path


def esc(value: object) -> str:
    """HTML-escape anything that came from a document, a user or a file name: the page and the Markdown export
    (which renders raw HTML) both show it inert."""
    return html.escape("" if value is None else str(value), quote=True)


def where_label(source: dict) -> str:
    """"p. 12" or "row 5": where in its source a passage stands."""
    if source.get("page"):
        return f"p. {source['page']}"
    if source.get("row"):
        return f"row {source['row']}"
    return ""


def conversation_markdown(turns: list[dict], settings_line: str = "") -> str:
    """Turns are {"question", "answer", "data": Answer.to_dict()}; everything from documents is escaped."""
    lines = [f"# Research conversation ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    if settings_line:
        lines += [settings_line, ""]
    for i, turn in enumerate(turns, start=1):
        data = turn.get("data") or {}
        lines += [f"## {i}. {esc(turn.get('question', ''))}", ""]
        resolved = data.get("standalone_question")
        if resolved and resolved != data.get("question"):
            lines += [f"_Understood as: {esc(resolved)}_", ""]
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
                where = ", ".join(x for x in (s.get("date"), where_label(s)) if x)
                lines.append(f"[{s.get('marker')}] **{esc(s.get('title', ''))}** ({esc(where)}) — {esc(s.get('source', ''))}")
                for q in dict.fromkeys(q for q in quotes.get(s.get("marker"), []) if q):
                    lines.append(f"   - cited: «{esc(q)}»")
                passage = " ".join(esc(s.get("text", "")).split())
                lines += [f"   > {passage[:600]}{'…' if len(passage) > 600 else ''}", ""]
        lines.append("")
    return "\n".join(lines)


def write_conversation(turns: list[dict], settings_line: str = "", directory: Path | None = None) -> Path:
    """The Markdown export in a fresh temporary folder (or `directory`), named by the time of export."""
    directory = Path(directory or tempfile.mkdtemp(prefix="assistant-export-"))
    path = directory / f"conversation-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(conversation_markdown(turns, settings_line), encoding="utf-8")
    return path
