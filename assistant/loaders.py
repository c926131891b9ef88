"""Read one file or URL into LangChain Documents. Every failure is a LoadError that names the file and says why."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import yaml
from langchain_core.documents import Document

from assistant.pdf_tables import Table, find_tables
from assistant.rows import row_text
from assistant.text import date_int, normalize

TEXT_TYPES = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown"}
HTML_TYPES = {".html": "html", ".htm": "html"}
OTHER_TYPES = {".pdf": "pdf", ".docx": "docx", ".csv": "csv", ".xlsx": "xlsx"}
SUPPORTED = {**TEXT_TYPES, **HTML_TYPES, **OTHER_TYPES}
# An Office file may not unpack to more than this multiple of the size limit (zip bombs).
_MAX_UNZIP_RATIO = 10
# Private-use glyphs (icon fonts on web pages), controls other than line breaks and tabs, and the replacement
# character carry no text: they are dropped before indexing, and a file that is mostly them is refused.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
_COLUMN_GAP = re.compile(r" {4,}")  # a wide gap inside a line of layout text


class LoadError(Exception):
    """A file that cannot be indexed; the message names it and says what to do."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def kind_of(name: str) -> str | None:
    return SUPPORTED.get(Path(name.split("?")[0]).suffix.lower())


def decode_text(raw: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK), then a detector's guess."""
    if b"\x00" in raw[:8192]:
        raise LoadError(source, "looks like binary data, not text (it contains NUL bytes); convert it to UTF-8 text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        if best is None:
            raise LoadError(source, "cannot detect the text encoding; save it as UTF-8 and try again")
        text = str(best)
    cleaned = strip_unprintable(text)
    if len(cleaned.strip()) < 0.5 * len(text.strip()):
        raise LoadError(source, "looks like binary junk rather than text (mostly control or private-use characters); "
                                "check that it is the right file")
    return cleaned


def strip_unprintable(text: str) -> str:
    """The text without private-use, control and replacement characters (line breaks, tabs and form feeds stay)."""
    return _UNPRINTABLE.sub("", text)


def _front_matter(text: str) -> tuple[dict, str]:
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n?", text, re.S)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[match.end():]


def _iso(value: object) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value or "")


def _base_meta(source: str, title: str, doc_type: str, extra: dict | None = None) -> dict:
    extra = extra or {}
    date = _iso(extra.get("date"))
    meta = {
        "source": source,
        "title": title or _stem(source),
        "date": date,
        "date_int": date_int(date),
        "type": doc_type,
        "publisher": str(extra.get("source_publisher") or extra.get("publisher") or ""),
        "url": str(extra.get("url") or ""),
    }
    if extra.get("language"):
        meta["language"] = str(extra["language"])
    for key in ("companies", "tickers"):
        values = extra.get(key)
        if isinstance(values, str):
            values = [values]
        if values:
            meta[key] = [str(v) for v in values if str(v)]
    return meta


def _stem(source: str) -> str:
    """A readable fallback title: the file name without extension or an "upload:" style label."""
    return Path(source).stem.rsplit(":", 1)[-1]


# A filing's first line is often its codes ("证券代码:603877 证券简称:墨羽新材 公告编号:2023-020", "(Stock Code:
# 2468)"), not its title: the title ("…2022年年度权益分派实施公告") comes after.
_CODE_LINE = re.compile(r"^[(（]?\s*(?:(?:证券|股票)代码|股份代[号號]|stock code)\s*[:：]", re.I)


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not _CODE_LINE.match(line + " "):
            return line.lstrip("#").strip()[:120] if len(line) <= 120 else ""
    return ""


def load_markdown(text: str, source: str) -> list[Document]:
    meta, body = _front_matter(text)
    title = str(meta.get("title") or _first_heading(body))
    return [Document(page_content=body, metadata={**_base_meta(source, title, "article", meta), "format": "markdown"})]


def load_text(text: str, source: str) -> list[Document]:
    # A plain article's first short line is its headline.
    return [Document(page_content=text, metadata=_base_meta(source, _first_heading(text), "document"))]


def load_html(raw: bytes, source: str) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(raw, source), "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    for tag in soup.select('[role="navigation"], [class*="nav"], [class*="menu"], [class*="sidebar"], [class*="footer"]'):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    h1 = root.find("h1")
    lines: list[str] = []
    for el in root.find_all(["h1", "h2", "h3", "h4", "p", "li", "td", "pre", "blockquote"]):
        if el.find(["p", "li"]):  # the inner element carries the text
            continue
        text = el.get_text(" ", strip=True)
        if not text:
            continue
        if el.name in ("h1", "h2", "h3", "h4"):
            lines.append("#" * int(el.name[1]) + " " + text)
        else:
            lines.append(text)
    body = "\n".join(lines).strip() or root.get_text("\n", strip=True)
    title = (h1.get_text(" ", strip=True) if h1 else "") or title
    return [Document(page_content=body, metadata={**_base_meta(source, title, "document"), "format": "markdown"})]


def load_pdf(raw: bytes, source: str, on_page: Callable[[int, int], None] | None = None) -> list[Document]:
    """One document per page of prose (page kept) and one per statement table found on it (title line, then one
    row per line in the shared row form, with `table` and `unit` in the metadata; see assistant/pdf_tables.py)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not raw.lstrip().startswith(b"%PDF"):
        raise LoadError(source, "is not a PDF file (no %PDF header); check the file or its extension")
    pages: list[tuple[str, list[Table]]] = []
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(source, "is an encrypted PDF; remove the password and add it again")
        title = str((reader.metadata or {}).get("/Title") or "")
        total = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            pages.append(_read_page(page))
            if on_page:
                on_page(number, total)
    except LoadError:
        raise
    except (PdfReadError, Exception) as exc:  # pypdf raises many kinds of errors for damaged files
        raise LoadError(source, f"is a corrupt or unreadable PDF ({type(exc).__name__}); re-export it and try again") from exc
    docs: list[Document] = []
    for number, (prose, tables) in enumerate(pages, start=1):
        meta = {**_base_meta(source, title, "document"), "page": number}
        if prose.strip():
            docs.append(Document(page_content=prose, metadata=meta))
        for table in tables:
            lines = table.row_lines()
            table_meta = {**meta, "table": table.title, "unit": table.unit, "format": "table"}
            docs.append(Document(page_content="\n".join([table.title, *lines]), metadata=table_meta))
    if not docs:
        raise LoadError(source, "has no extractable text (a scanned PDF?); run OCR on it first")
    if not title:
        first = _first_heading(docs[0].page_content) or _stem(source)
        for doc in docs:
            doc.metadata["title"] = first
    return docs


def _read_page(page) -> tuple[str, list[Table]]:
    """The page's prose and its tables. Layout mode keeps a table row on one line; prose comes from the same text
    without the table lines, unless the page is set in columns, where the plain reading order is the right one."""
    try:
        layout = strip_unprintable(page.extract_text(extraction_mode="layout") or "")
    except Exception:  # layout mode fails on some odd pages; plain text still indexes them
        return strip_unprintable(page.extract_text() or ""), []
    tables = [t for t in find_tables(layout) if t.rows]
    taken = set().union(*(t.lines for t in tables)) if tables else set()
    rest = [line for i, line in enumerate(layout.splitlines()) if i not in taken]
    text_lines = [line for line in rest if line.strip()]
    if len(text_lines) >= 5 and sum(1 for line in text_lines if _two_columns(line)) > len(text_lines) / 3:
        return strip_unprintable(page.extract_text() or ""), tables
    prose = "\n".join(re.sub(r"\s{2,}", " ", line).strip() for line in rest)
    return re.sub(r"\n{3,}", "\n\n", prose).strip(), tables


def _two_columns(line: str) -> bool:
    """A layout line holding two runs of prose side by side (a page set in two columns)."""
    parts = [p for p in _COLUMN_GAP.split(line.strip()) if p]
    return len(parts) == 2 and all(_prose_run(p) for p in parts)


def _prose_run(text: str) -> bool:
    chinese = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return chinese >= 12 or (len(text) >= 30 and len(text.split()) >= 4)


def _check_zip(raw: bytes, source: str, limit_bytes: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise LoadError(source, "is not a valid Office file (not a zip archive); check the file or its extension") from exc
    if unpacked > limit_bytes * _MAX_UNZIP_RATIO:
        raise LoadError(source, f"unpacks to {unpacked // 1_000_000} MB, far over the size limit (a zip bomb?)")


def load_docx(raw: bytes, source: str, limit_bytes: int) -> list[Document]:
    import docx

    _check_zip(raw, source, limit_bytes)
    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors...
        raise LoadError(source, f"is a damaged Word file ({type(exc).__name__}); re-save it as .docx") from exc
    lines: list[str] = []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "") if para.style is not None else ""
        level = re.search(r"Heading (\d)", style)
        lines.append(("#" * int(level.group(1)) + " " + text) if level else text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells) + "。")
    title = document.core_properties.title or _first_heading("\n".join(lines))
    return [Document(page_content="\n".join(lines), metadata={**_base_meta(source, title, "document"), "format": "markdown"})]


def _rows_to_docs(header: list[str], rows: list[list[str]], source: str, title: str, sheet: str = "") -> list[Document]:
    header = [normalize(h).strip() or f"column{i + 1}" for i, h in enumerate(header)]
    docs = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet shows it
        cells = [str(c).strip() if c is not None else "" for c in row]
        if not any(cells):
            continue
        meta = {**_base_meta(source, title, "dataset"), "row": number, "section": sheet}
        record = dict(zip(header, cells))
        if record.get("date"):
            meta["date"], meta["date_int"] = record["date"], date_int(record["date"])
        if record.get("company"):
            meta["companies"] = [record["company"]]
        if record.get("ticker"):
            meta["tickers"] = [record["ticker"]]
        docs.append(Document(page_content=row_text(list(zip(header, cells))), metadata=meta))
    return docs


def load_csv(text: str, source: str) -> list[Document]:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise LoadError(source, f"is not valid CSV ({exc}); check quotes and delimiters") from exc
    if len(rows) < 2:
        raise LoadError(source, "has a header but no data rows")
    return _rows_to_docs(rows[0], rows[1:], source, _stem(source))


def load_xlsx(raw: bytes, source: str, limit_bytes: int) -> list[Document]:
    import openpyxl

    _check_zip(raw, source, limit_bytes)
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for damaged workbooks
        raise LoadError(source, f"is a damaged Excel file ({type(exc).__name__}); re-save it as .xlsx") from exc
    docs: list[Document] = []
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        if len(rows) >= 2:
            docs.extend(_rows_to_docs([str(h or "") for h in rows[0]], rows[1:], source, _stem(source), sheet.title))
    if not docs:
        raise LoadError(source, "has no sheet with a header row and data rows")
    return docs


def load_bytes(
    raw: bytes, source: str, kind: str, limit_bytes: int, *, on_page: Callable[[int, int], None] | None = None
) -> list[Document]:
    """Dispatch on the file type; check size and emptiness first so every loader sees sane input.

    `on_page(pages_done, pages_total)` is called while a PDF is read, so a long report can show its progress."""
    if len(raw) > limit_bytes:
        raise LoadError(source, f"is {len(raw) / 1e6:.2f} MB, over the {limit_bytes / 1e6:g} MB limit (ASSISTANT_MAX_FILE_MB)")
    if not raw.strip():
        raise LoadError(source, "is empty")
    if kind in ("text", "markdown", "csv"):
        text = decode_text(raw, source)
        if not text.strip():
            raise LoadError(source, "is empty")
        docs = {"text": load_text, "markdown": load_markdown, "csv": load_csv}[kind](text, source)
    elif kind == "html":
        docs = load_html(raw, source)
    elif kind == "pdf":
        docs = load_pdf(raw, source, on_page)
    elif kind == "docx":
        docs = load_docx(raw, source, limit_bytes)
    elif kind == "xlsx":
        docs = load_xlsx(raw, source, limit_bytes)
    else:
        raise LoadError(source, f"unsupported type; supported: {', '.join(sorted(SUPPORTED))}")
    docs = [d for d in docs if d.page_content.strip()]
    if not docs:
        raise LoadError(source, "has no text to index")
    return docs


def fetch_url(url: str, limit_bytes: int, timeout_s: float) -> tuple[bytes, str]:
    """Download a page the user asked for; returns its bytes and the loader kind its content type implies."""
    import httpx

    try:
        with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit_bytes:
                    raise LoadError(url, f"is over the {limit_bytes / 1e6:g} MB limit (ASSISTANT_MAX_FILE_MB)")
                chunks.append(chunk)
            ctype = response.headers.get("content-type", "").lower()
    except httpx.HTTPStatusError as exc:
        raise LoadError(url, f"answered HTTP {exc.response.status_code}; check the address") from exc
    except httpx.HTTPError as exc:
        raise LoadError(url, f"could not be fetched ({type(exc).__name__}); check the address and your network") from exc
    if "pdf" in ctype:
        kind = "pdf"
    elif "html" in ctype or "xml" in ctype:
        kind = "html"
    elif "csv" in ctype:
        kind = "csv"
    elif "markdown" in ctype:
        kind = "markdown"
    elif ctype.startswith("text/"):
        kind = "text"
    else:
        kind = kind_of(url) or "html"
    return b"".join(chunks), kind
