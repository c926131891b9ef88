"""Every supported format loads into clean text with the right metadata; every bad file is refused by name and reason."""

from __future__ import annotations

import functools
import http.server
import io
import random
import threading
import zipfile
from pathlib import Path

import pytest

from assistant.chunking import chunk_documents
from assistant.ingest import source_name
from assistant.loaders import LoadError, kind_of, load_bytes
from assistant.settings import Settings
from tests.conftest import chunks_of, docx_bytes, pdf_bytes, xlsx_bytes

LIMIT = 20_000_000

CHINESE = (
    "小米发布了自研芯片玄戒O1,市场认为这是垂直整合的重要一步。\n"
    "腾讯的混元大模型持续迭代,元宝的用户数快速增长!\n"
    "阿里云的收入增速回升了吗?分析师普遍给出了肯定的回答;估值随之修复。\n"
)


def load_file(path: Path) -> list:
    return load_bytes(path.read_bytes(), source_name(path), kind_of(path.name), LIMIT)


# --- Markdown -----------------------------------------------------------------------------------------------------
MARKDOWN = """---
title: "小米的物理AI叙事"
date: 2025-12-26
companies: [小米, Xiaomi]
tickers: ["1810.HK"]
source_publisher: 中金在线
---

# 小米

开篇介绍小米的生态。

## 人车家

人车家生态覆盖手机、汽车和家居。小米是唯一形成闭环的公司。

## 估值

市场对小米AI价值的定价仍然滞后。
"""


def test_markdown_front_matter_supplies_title_date_and_companies(tmp_path: Path) -> None:
    path = tmp_path / "xiaomi.md"
    path.write_text(MARKDOWN, encoding="utf-8")

    [doc] = load_file(path)

    assert doc.metadata["title"] == "小米的物理AI叙事"
    assert doc.metadata["date"] == "2025-12-26"
    assert doc.metadata["date_int"] == 20251226
    assert doc.metadata["companies"] == ["小米", "Xiaomi"]
    assert doc.metadata["tickers"] == ["1810.HK"]
    assert doc.metadata["publisher"] == "中金在线"
    assert doc.metadata["type"] == "article"
    assert "title:" not in doc.page_content, "the front matter must not be indexed as text"


def test_markdown_headings_become_the_section_of_indexed_chunks(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "xiaomi.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    assistant = assistant_factory()

    report = assistant.ingest([str(path)], show_progress=False)

    assert report.added == [source_name(path)] and not report.failed
    stored = chunks_of(assistant, source_name(path))
    by_section = {meta["section"]: text for text, meta in stored}
    assert set(by_section) == {"小米", "小米 > 人车家", "小米 > 估值"}
    assert "唯一形成闭环" in by_section["小米 > 人车家"]
    assert "定价仍然滞后" in by_section["小米 > 估值"]
    for _, meta in stored:
        assert meta["title"] == "小米的物理AI叙事"
        assert meta["date"] == "2025-12-26"
        assert "小米" in meta["companies"]  # the front matter's companies, under their canonical names
        assert "1810.HK" in meta["tickers"]


# --- plain text in several encodings ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "encoding",
    [
        pytest.param(lambda t: t.encode("utf-8"), id="utf-8"),
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), id="utf-8-bom"),
        pytest.param(lambda t: t.encode("gbk"), id="gbk"),
        pytest.param(lambda t: t.encode("gb18030"), id="gb18030"),
    ],
)
def test_text_file_decodes_to_the_same_text_whatever_its_encoding(tmp_path: Path, encoding) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(encoding(CHINESE))

    [doc] = load_file(path)

    assert doc.page_content == CHINESE
    assert not doc.page_content.startswith("\ufeff")
    assert doc.metadata["title"] == CHINESE.splitlines()[0]


def test_a_filings_code_line_is_not_its_title(tmp_path: Path) -> None:
    notice = "证券代码:603877 证券简称:墨羽新材 公告编号:2023-020\n\n墨羽新材料股份有限公司2022年年度权益分派实施公告\n\n正文。\n"
    path = tmp_path / "notice.txt"
    path.write_text(notice, encoding="utf-8")

    [doc] = load_file(path)

    assert doc.metadata["title"] == "墨羽新材料股份有限公司2022年年度权益分派实施公告"


def test_gbk_text_file_is_decoded_and_indexed(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "gbk-note.txt"
    path.write_bytes(CHINESE.encode("gbk"))
    assistant = assistant_factory()

    report = assistant.ingest([str(path)], show_progress=False)

    assert report.added == [source_name(path)], report.summary()
    stored = chunks_of(assistant, source_name(path))
    joined = "".join(text for text, _ in stored)
    assert "玄戒O1" in joined and "混元大模型" in joined and "估值随之修复" in joined
    assert all(meta["language"] == "zh" for _, meta in stored)
    hits = assistant.lexical.search("玄戒O1", 3)
    assert hits and "玄戒O1" in hits[0][1]


# --- HTML -----------------------------------------------------------------------------------------------------------
HTML_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Tab title | SiteName</title>
<script>var tracker = "TRACKER_SCRIPT_TEXT";</script><style>body { color: STYLE_TEXT; }</style></head>
<body>
<header><div>SITE_HEADER_TEXT 登录 注册</div></header>
<nav><a href="/">NAV_LINK_TEXT 首页</a><a href="/news">NAV_LINK_TEXT 新闻</a></nav>
<div class="sidebar">SIDEBAR_AD_TEXT</div>
<main><article>
<h1>腾讯混元的估值逻辑</h1>
<p>腾讯的混元大模型持续迭代。元宝的用户增长迅速。</p>
<h2>市场反应</h2>
<p>Analysts think the market only partly prices Tencent's AI.</p>
<ul><li>要点一:广告业务受益于AI。</li><li>要点二:云业务回暖。</li></ul>
</article></main>
<footer>FOOTER_TEXT © 2025 SiteName</footer>
<script>console.log("INLINE_SCRIPT_TEXT")</script>
</body></html>
"""


def test_html_page_keeps_only_the_main_text_and_takes_the_article_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML_PAGE, encoding="utf-8")

    [doc] = load_file(path)

    text = doc.page_content
    for boilerplate in ("TRACKER_SCRIPT", "STYLE_TEXT", "SITE_HEADER", "NAV_LINK", "SIDEBAR_AD", "FOOTER_TEXT", "INLINE_SCRIPT"):
        assert boilerplate not in text, f"{boilerplate} leaked into the indexed text:\n{text}"
    assert "# 腾讯混元的估值逻辑" in text
    assert "## 市场反应" in text
    assert "腾讯的混元大模型持续迭代。元宝的用户增长迅速。" in text
    assert "only partly prices Tencent's AI" in text
    assert "要点一:广告业务受益于AI。" in text and "要点二:云业务回暖。" in text
    assert doc.metadata["title"] == "腾讯混元的估值逻辑"


def test_html_page_without_a_heading_takes_its_title_element(tmp_path: Path) -> None:
    path = tmp_path / "plain.htm"
    path.write_text("<html><head><title>港股科技周报</title></head><body><p>恒生科技指数本周上涨。</p></body></html>", "utf-8")

    [doc] = load_file(path)

    assert doc.metadata["title"] == "港股科技周报"
    assert doc.page_content.strip() == "恒生科技指数本周上涨。"


# A news passage scraped from a web page: icon-font glyphs (private use area) sit among the Chinese text.
ICONS = "\ue600\ue601\ue602\ue603\ue604\ue605\ue606\ue607\ue608\ue609\ue60a\ue60b"
SCRAPED = (
    f"{ICONS[:3]}恒生科技指数本周上涨,人工智能板块领涨。{ICONS[3:6]}分析师认为估值仍有修复空间,"
    f"资金持续流入港股科技龙头。{ICONS[6:9]}大模型应用加速落地,云计算收入增速回升。{ICONS[9:]}\n"
)


def test_passage_with_private_use_icons_is_indexed_without_them(tmp_path: Path) -> None:
    path = tmp_path / "scraped.txt"
    path.write_text(SCRAPED, encoding="utf-8")

    [doc] = load_file(path)

    assert not any("\ue000" <= ch <= "\uf8ff" for ch in doc.page_content)
    assert "恒生科技指数本周上涨,人工智能板块领涨。分析师认为估值仍有修复空间," in doc.page_content
    assert "云计算收入增速回升。" in doc.page_content


def test_control_characters_are_dropped_and_line_breaks_kept(tmp_path: Path) -> None:
    path = tmp_path / "controls.txt"
    path.write_text("第一行\x07文字。\x1b\n第二行\x0b文字。\n", encoding="utf-8")

    [doc] = load_file(path)

    assert doc.page_content.splitlines() == ["第一行文字。", "第二行文字。"]


def test_file_that_is_mostly_private_use_glyphs_is_refused_as_junk(tmp_path: Path) -> None:
    path = tmp_path / "icons.txt"
    path.write_text(ICONS * 20 + "图标。", encoding="utf-8")

    with pytest.raises(LoadError, match="binary junk"):
        load_file(path)


# --- PDF, Word, CSV, Excel ---------------------------------------------------------------------------------------
def test_two_page_pdf_is_indexed_with_page_numbers_one_and_two(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "notes.pdf"
    path.write_bytes(
        pdf_bytes(
            ["Tencent cloud revenue grew strongly this year. Hunyuan models improved.",
             "Xiaomi shipped the XRING O1 chip. Investors noticed the vertical integration."],
            title="Quarterly AI notes",
        )
    )
    assistant = assistant_factory()

    report = assistant.ingest([str(path)], show_progress=False)

    assert report.added == [source_name(path)], report.summary()
    stored = chunks_of(assistant, source_name(path))
    pages = {meta["page"]: text for text, meta in stored}
    assert set(pages) == {1, 2}
    assert "Hunyuan models improved" in pages[1]
    assert "XRING O1 chip" in pages[2]
    assert all(meta["title"] == "Quarterly AI notes" for _, meta in stored)
    assert assistant.index.document(source_name(path)).chunks == len(stored)


def test_pdf_without_a_title_takes_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "untitled.pdf"
    path.write_bytes(pdf_bytes(["Hong Kong tech review\nThe Hang Seng Tech index rose in 2025."]))

    docs = load_file(path)

    assert docs[0].metadata["title"] == "Hong Kong tech review"


def test_two_column_pdf_page_keeps_each_column_in_reading_order(tmp_path: Path) -> None:
    from fpdf import FPDF

    left = "Cloud revenue rose again this quarter on model demand. " * 6
    right = "Chip margins narrowed as new fabs ramped output slowly. " * 6
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=10)
    pdf.set_xy(10, 20)
    pdf.multi_cell(90, 6, left)
    pdf.set_xy(110, 20)
    pdf.multi_cell(90, 6, right)
    path = tmp_path / "columns.pdf"
    path.write_bytes(bytes(pdf.output()))

    [doc] = load_file(path)
    flat = " ".join(doc.page_content.split())

    assert flat.rindex("Cloud revenue") < flat.index("Chip margins"), "the left column is read before the right one"


def test_docx_keeps_heading_paragraph_and_table(tmp_path: Path) -> None:
    path = tmp_path / "memo.docx"
    path.write_bytes(
        docx_bytes(
            "小米季度笔记",
            ["小米的AI战略聚焦物理世界。玄戒O1芯片已经量产。"],
            [["公司", "代码", "涨幅"], ["小米", "1810.HK", "30%"]],
        )
    )

    [doc] = load_file(path)
    chunks = chunk_documents([doc], 320, 48)

    assert doc.metadata["title"] == "小米季度笔记"
    assert doc.page_content.splitlines()[0] == "# 小米季度笔记"
    assert "小米的AI战略聚焦物理世界。玄戒O1芯片已经量产。" in doc.page_content
    assert "公司 | 代码 | 涨幅" in doc.page_content
    assert "小米 | 1810.HK | 30%" in doc.page_content
    assert chunks and all(c.metadata["section"] == "小米季度笔记" for c in chunks)


DATASET_HEADER = ["company", "ticker", "metric", "value", "unit", "period", "source"]
DATASET_ROWS = [
    ["阿里巴巴", "9988.HK", "2025年股价涨幅", "80", "%", "2025", "中金在线"],
    ["腾讯", "0700.HK", "2025年股价涨幅", "50", "%", "2025", "中金在线"],
    ["小米", "1810.HK", "IoT连接设备数", "10.4", "亿台", "2025Q3", "中金在线"],
]


def test_csv_gives_one_document_per_row_with_column_names_and_row_numbers(tmp_path: Path) -> None:
    import csv

    path = tmp_path / "metrics.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([DATASET_HEADER, *DATASET_ROWS])

    docs = load_file(path)

    assert len(docs) == len(DATASET_ROWS)
    assert [d.metadata["row"] for d in docs] == [2, 3, 4]
    first = docs[0]
    assert first.page_content.startswith("company: 阿里巴巴; ticker: 9988.HK; metric: 2025年股价涨幅; value: 80; unit: %")
    assert first.metadata["type"] == "dataset"
    assert first.metadata["companies"] == ["阿里巴巴"]
    assert first.metadata["tickers"] == ["9988.HK"]
    assert "metric: IoT连接设备数" in docs[2].page_content and "value: 10.4" in docs[2].page_content


def test_csv_rows_are_written_in_the_row_form_shared_with_pdf_tables(tmp_path: Path) -> None:
    import csv

    from assistant.rows import parse_row

    path = tmp_path / "metrics.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([DATASET_HEADER, *DATASET_ROWS])

    docs = load_file(path)

    assert docs[2].page_content == (
        "company: 小米; ticker: 1810.HK; metric: IoT连接设备数; value: 10.4; unit: 亿台; period: 2025Q3; source: 中金在线。"
    )
    assert [parse_row(d.page_content) for d in docs] == [dict(zip(DATASET_HEADER, row)) for row in DATASET_ROWS]


def test_shipped_dataset_loads_every_row(tmp_path: Path) -> None:
    path = Settings().corpus_dir / "datasets" / "hk_tech_ai_metrics_2025.csv"
    data_rows = [line for line in path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]

    docs = load_file(path)

    assert len(docs) == len(data_rows)
    assert all(d.page_content.startswith("company: ") and "metric: " in d.page_content for d in docs)


def test_xlsx_gives_one_document_per_row_with_the_sheet_as_section(tmp_path: Path) -> None:
    path = tmp_path / "metrics.xlsx"
    path.write_bytes(
        xlsx_bytes(
            {
                "估值": [DATASET_HEADER, *DATASET_ROWS[:2]],
                "Empty": [["only a header"]],
                "设备": [DATASET_HEADER, DATASET_ROWS[2]],
            }
        )
    )

    docs = load_file(path)

    assert [(d.metadata["section"], d.metadata["row"]) for d in docs] == [("估值", 2), ("估值", 3), ("设备", 2)]
    assert "metric: 2025年股价涨幅" in docs[0].page_content and "value: 80" in docs[0].page_content
    assert docs[2].metadata["companies"] == ["小米"]


# --- URLs -----------------------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server(tmp_path: Path):
    """A real local web server (http.server in a thread) serving tmp_path/site; yields its base URL."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "article.html").write_text(HTML_PAGE, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_url_is_fetched_and_indexed_under_its_address(web_server: str, assistant_factory) -> None:
    url = f"{web_server}/article.html"
    assistant = assistant_factory()

    report = assistant.ingest([url], show_progress=False)

    assert report.added == [url], report.summary()
    [record] = assistant.sources()
    assert record.source == url and record.title == "腾讯混元的估值逻辑"
    text = "".join(t for t, _ in chunks_of(assistant, url))
    assert "混元大模型持续迭代" in text and "NAV_LINK" not in text and "FOOTER_TEXT" not in text


def test_url_answering_404_fails_with_a_clear_reason(web_server: str, assistant_factory) -> None:
    url = f"{web_server}/missing.html"
    assistant = assistant_factory()

    report = assistant.ingest([url, f"{web_server}/article.html"], show_progress=False)

    assert report.failed == [(url, "answered HTTP 404; check the address")]
    assert report.added == [f"{web_server}/article.html"]


# --- bad input ------------------------------------------------------------------------------------------------------
def _zip_bomb() -> bytes:
    """A .docx-shaped zip whose one member unpacks to 250 MB of zeros (about 250 KB on disk)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(250):
                member.write(block)
    return out.getvalue()


GOOD_PDF = pdf_bytes(["Alibaba cloud grew 34 percent. Qwen models drive demand.", "Second page about Tencent."], title="Cloud")

# name -> (bytes, words the failure reason must contain)
BAD_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "corrupt.pdf": (b"%PDF-1.7\n" + random.Random(7).randbytes(6000), ("corrupt or unreadable PDF",)),
    "truncated.pdf": (GOOD_PDF[: len(GOOD_PDF) // 2], ("corrupt or unreadable PDF",)),
    "locked.pdf": (pdf_bytes(["Confidential valuation memo."], user_password="secret"), ("encrypted PDF", "password")),
    "empty.txt": (b"", ("is empty",)),
    "blank.md": (b"  \n\t\r\n   \n", ("is empty",)),
    "setup.exe": (b"MZ\x90\x00" + bytes(200), ("unsupported type .exe",)),
    "bundle.zip": (b"PK\x05\x06" + bytes(18), ("unsupported type .zip",)),
    "junk.txt": (random.Random(11).randbytes(20000), ("binary",)),
    "noise.txt": (bytes(b for b in random.Random(5).randbytes(20000) if b), ("cannot detect the text encoding", "UTF-8")),
    "fake.pdf": ("这其实是一个文本文件,只是扩展名写成了PDF。".encode(), ("not a PDF",)),
    "fake.docx": (b"This is plain text that pretends to be a Word file.", ("not a zip archive",)),
    "bomb.docx": (_zip_bomb(), ("zip bomb",)),
}


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory: pytest.TempPathFactory, embedder):
    """An index holding good content, then one batch mixing every kind of bad file with good ones."""
    from assistant.research import ResearchAssistant

    root = tmp_path_factory.mktemp("bad-batch")
    assistant = ResearchAssistant(Settings(index_dir=root / "index"), embedder=embedder)
    before = root / "before"
    before.mkdir()
    (before / "prior.md").write_text(MARKDOWN, encoding="utf-8")
    (before / "report.pdf").write_bytes(GOOD_PDF)
    first = assistant.ingest([str(before)], show_progress=False)
    assert len(first.added) == 2 and not first.failed, first.summary()
    prior_chunks = {source: chunks_of(assistant, source) for source in first.added}

    batch = root / "batch"
    batch.mkdir()
    paths = []
    for name, (raw, _) in BAD_FILES.items():
        (batch / name).write_bytes(raw)
        paths.append(batch / name)
    (batch / "good.txt").write_text(CHINESE, encoding="utf-8")
    (batch / "good.html").write_text(HTML_PAGE, encoding="utf-8")
    (batch / "copy-of-prior.md").write_text(MARKDOWN, encoding="utf-8")  # same bytes as before/prior.md
    # A file indexed before is overwritten with junk: its old chunks must stay.
    (before / "report.pdf").write_bytes(b"%PDF-1.4\n" + random.Random(3).randbytes(3000))
    inputs = [str(p) for p in paths[:5]] + [str(batch / "good.txt")] + [str(p) for p in paths[5:]]
    inputs += [str(batch / "good.html"), str(batch / "copy-of-prior.md"), str(before / "report.pdf")]
    report = assistant.ingest(inputs, show_progress=False)
    return assistant, report, batch, before, prior_chunks


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_reported_by_name_with_a_clear_reason(bad_batch, name: str) -> None:
    _, report, batch, _, _ = bad_batch
    reasons = dict(report.failed)

    source = source_name(batch / name)
    assert source in reasons, f"{name} was not reported as failed: {report.summary()}"
    for word in BAD_FILES[name][1]:
        assert word in reasons[source], f"{name}: {reasons[source]!r} does not say {word!r}"


def test_file_with_the_same_content_as_an_indexed_one_is_reported_as_a_duplicate(bad_batch) -> None:
    _, report, batch, before, _ = bad_batch
    reasons = dict(report.failed)

    reason = reasons[source_name(batch / "copy-of-prior.md")]
    assert "duplicate" in reason and source_name(before / "prior.md") in reason


def test_bad_files_do_not_stop_the_rest_of_the_batch(bad_batch) -> None:
    assistant, report, batch, _, _ = bad_batch

    assert sorted(report.added) == sorted([source_name(batch / "good.txt"), source_name(batch / "good.html")])
    assert len(report.failed) == len(BAD_FILES) + 2  # plus the duplicate and the overwritten PDF
    indexed = {r.source for r in assistant.sources()}
    assert source_name(batch / "good.txt") in indexed and source_name(batch / "good.html") in indexed
    assert not indexed & {source_name(batch / name) for name in BAD_FILES}


def test_bad_files_leave_previously_indexed_content_untouched(bad_batch) -> None:
    assistant, report, _, before, prior_chunks = bad_batch

    overwritten = source_name(before / "report.pdf")
    assert "corrupt or unreadable PDF" in dict(report.failed)[overwritten]
    for source, chunks in prior_chunks.items():
        assert chunks_of(assistant, source) == chunks, f"{source} changed after a failed batch"
        assert assistant.index.document(source).chunks == len(chunks)


def test_load_error_message_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(b"\n\n")

    with pytest.raises(LoadError) as info:
        load_file(path)

    assert str(info.value) == f"{source_name(path)}: is empty"
    assert info.value.source == source_name(path)


def test_file_over_the_size_limit_is_refused_and_the_rest_is_indexed(tmp_path: Path, assistant_factory) -> None:
    big = tmp_path / "big.txt"
    big.write_text(CHINESE * 200, encoding="utf-8")  # about 40 KB
    small = tmp_path / "small.txt"
    small.write_text(CHINESE, encoding="utf-8")  # under 10 KB
    assistant = assistant_factory(max_file_mb=0.01)

    report = assistant.ingest([str(big), str(small)], show_progress=False)

    [(source, reason)] = report.failed
    assert source == source_name(big)
    assert "over the 0.01 MB limit" in reason and "ASSISTANT_MAX_FILE_MB" in reason
    assert report.added == [source_name(small)]


def test_size_limit_also_applies_to_bytes_handed_straight_to_the_loader() -> None:
    with pytest.raises(LoadError, match=r"0\.05 MB, over the 0\.01 MB limit \(ASSISTANT_MAX_FILE_MB\)"):
        load_bytes(CHINESE.encode("utf-8") * 200, "upload.txt", "text", 10_000)
