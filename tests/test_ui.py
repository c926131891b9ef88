"""The Gradio page without a browser: the app builds over the real corpus, the callbacks stream and render real answers,
and the pure helpers escape, sanitise and parse what they are given."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd
import pytest

import ui
from assistant.answer import Answer, QuestionError
from assistant.citations import Citation
from assistant.index import IndexUnavailable

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NO_FILTERS = (ui.ALL_COMPANIES, "", "", "", "all")


def is_skip(value) -> bool:
    return isinstance(value, dict) and value == {"__type__": "update"}


def run(page: ui.Page, question: str, history=None, turns=None, filters=NO_FILTERS) -> list[tuple]:
    return list(page.respond(question, [], history or [], turns or [], *filters))


def final_chat(outputs: list[tuple]) -> list[dict]:
    return next(o[1] for o in reversed(outputs) if not is_skip(o[1]))


def last_message(outputs: list[tuple]) -> str:
    return final_chat(outputs)[-1]["content"]


@pytest.fixture(scope="module")
def page(corpus_assistant) -> ui.Page:
    return ui.Page(corpus_assistant)


class StubAssistant:
    """A facade whose ask_streaming replays a script (or raises), for the paths a real corpus cannot reach."""

    def __init__(self, settings, script=None, error: Exception | None = None) -> None:
        self.settings = settings
        self.script = script or []
        self.error = error
        self.calls: list[tuple] = []

    def ask_streaming(self, question, history=None, filters=None, mode=None):
        self.calls.append((question, list(history or []), filters))
        if self.error is not None:
            raise self.error
        yield from self.script


# --- the page over the real corpus -----------------------------------------------------------------------------------
def test_build_app_over_the_shipped_corpus(corpus_assistant):
    demo = ui.build_app(corpus_assistant)
    assert isinstance(demo, gr.Blocks)
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    for needed in (
        "chatbot",
        "question",
        "send",
        "uploads",
        "sources-table",
        "remove-source",
        "confirm-remove",
        "metric-chart",
        "answer-chart",
    ):
        assert needed in ids
    chatbot = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "chatbot")
    assert chatbot.sanitize_html is True


def test_answer_streams_then_renders_citations_and_sources(page):
    outputs = run(page, "阿里云2025年第三季度收入增长多少?")
    streamed = [o[1][-1]["content"] for o in outputs if not is_skip(o[1])]
    assert any(text.endswith("▌") for text in streamed), "tokens should be shown while they stream"
    assert outputs[0][0] == "", "the textbox is cleared when the question is sent"
    final = last_message(outputs)
    assert "34%" in final
    assert '<sup class="ra-cite"><a href="#' in final
    assert "<mark>" in final and 'class="ra-src"' in final
    assert "阿里巴巴:AI+云驱动的估值兑现" in final
    history, turns = outputs[-1][2], outputs[-1][3]
    assert history == [{"question": "阿里云2025年第三季度收入增长多少?", "answer": turns[0]["answer"]}]
    assert turns[0]["data"]["citations"], "the full answer is kept for export"


def test_follow_up_uses_the_session_history(page):
    first = run(page, "阿里巴巴2025年股价涨了多少?")
    history, turns = first[-1][2], first[-1][3]
    assert "80" in history[0]["answer"]
    second = run(page, "那腾讯呢?", history, turns)
    assert "46" in last_message(second)
    assert len(second[-1][2]) == 2 and len(second[-1][3]) == 2


def test_chart_beside_an_answer_comparing_companies(page):
    outputs = run(page, "港股科技公司2025年股价涨幅对比")
    chart = outputs[-1][4]
    assert chart["visible"] is True and chart["title"] == "2025年股价涨幅 (%)"
    values = dict(zip(chart["value"]["company"], chart["value"]["value"]))
    assert len(values) >= 2 and values.items() <= {"阿里巴巴": 80, "腾讯": 46, "小米": 13, "商汤": 80}.items()


def test_refusal_is_marked_and_lists_nearest_sources(page):
    outputs = run(page, "美团2025年的营收是多少?")
    final = last_message(outputs)
    assert 'class="ra-refusal"' in final and "根据现有资料无法回答这个问题。" in final
    assert "Nearest sources" in final
    assert outputs[-1][4]["visible"] is False, "no chart beside a refusal"


def test_company_filter_reaches_the_facade(settings_factory):
    stub = StubAssistant(settings_factory(), error=QuestionError("stop here"))
    page = ui.Page(stub)
    run(page, "收入?", filters=("腾讯", "0700.hk", "2025-01-01", "2025-12", "dataset"))
    filters = stub.calls[0][2]
    assert (filters.company, filters.ticker, filters.date_from, filters.date_to, filters.type) == (
        "腾讯",
        "0700.HK",
        "2025-01-01",
        "2025-12",
        "dataset",
    )


def test_datasets_tab_tables_and_default_metric(page):
    dropdown, table, metric, chart = page.datasets_view()
    assert "corpus/datasets/hk_tech_ai_metrics_2025.csv" in dropdown["choices"]
    assert {"company", "metric", "value"} <= set(table.columns)
    assert metric["value"] == "2025年股价涨幅"
    assert dict(zip(chart["value"]["company"], chart["value"]["value"])) == {"阿里巴巴": 80, "腾讯": 46, "小米": 13, "商汤": 80}


def test_corpus_view_lists_the_shipped_sources(page):
    frame, dropdown, summary = page.corpus_view()
    assert list(frame.columns) == ["title", "date", "type", "chunks", "source"]
    assert "corpus/datasets/hk_tech_ai_metrics_2025.csv" in dropdown["choices"]
    assert "sources" in summary


# --- errors, notices and the LLM fallback ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (QuestionError("the question is empty; type a question"), "Cannot ask this: the question is empty"),
        (IndexUnavailable("index unavailable: cannot use /x: OSError"), "The index is not available right now"),
        (RuntimeError(f"boom {HOSTILE}"), "Something went wrong while answering (RuntimeError)"),
    ],
)
def test_errors_become_a_chat_message_not_a_traceback(settings_factory, error, expected):
    page = ui.Page(StubAssistant(settings_factory(), error=error))
    outputs = run(page, "anything")
    final = last_message(outputs)
    assert 'class="ra-error"' in final and expected in final
    assert "Traceback" not in final and "<script" not in final and "<img" not in final
    assert all(is_skip(o[2]) for o in outputs), "a failed question does not enter the history"


def test_malformed_filter_date_is_reported_in_the_chat(settings_factory):
    page = ui.Page(StubAssistant(settings_factory()))
    final = last_message(run(page, "收入?", filters=(ui.ALL_COMPANIES, "", "last year", "", "all")))
    assert "is not a date" in final


def test_reset_discards_streamed_text_and_shows_the_notice(settings_factory):
    answer = Answer(
        question="q",
        standalone_question="q",
        text="Fallback says 34% [1].",
        refused=False,
        language="en",
        sources=[
            {
                "marker": 1,
                "source": "s.md",
                "title": "T",
                "date": "2025-01-01",
                "type": "article",
                "section": "",
                "page": None,
                "row": None,
                "text": "Revenue grew 34%.",
                "score": 1.0,
                "similarity": 0.9,
            }
        ],
        citations=[Citation(1, "s.md", "T", "2025-01-01", None, None, "", "Fallback says 34% [1].", "Revenue grew 34%.", True)],
        notices=["The LLM failed (ConnectError); answering with the offline extractive model."],
    )
    script = [("token", "LLM partial "), ("reset", answer.notices[0]), ("token", "Fallback says 34% [1]."), ("answer", answer)]
    outputs = run(ui.Page(StubAssistant(settings_factory(), script)), "q")
    shown = [o[1][-1]["content"] for o in outputs if not is_skip(o[1])]
    after_reset = shown[shown.index(next(s for s in shown if "ConnectError" in s)) :]
    assert all("LLM partial" not in s for s in after_reset)
    assert 'class="ra-notice"' in shown[-1] and "ConnectError" in shown[-1] and "LLM partial" not in shown[-1]


# --- pure helpers ----------------------------------------------------------------------------------------------------
def hostile_answer() -> dict:
    return {
        "answer": f"Revenue rose 34% {HOSTILE} [1]. Margin was 9% [2].",
        "refused": False,
        "notices": [f"question cut {HOSTILE}"],
        "citations": [
            {"marker": 1, "supported": True, "sentence": "Revenue rose 34%", "quote": f"Revenue rose 34% {HOSTILE}", "reason": ""},
            {"marker": 2, "supported": False, "sentence": f"Margin was 9% {HOSTILE}", "quote": "", "reason": f"9 not in {HOSTILE}"},
        ],
        "uncited": [{"sentence": f"Profit was 5 {HOSTILE}", "reason": "no citation"}],
        "sources": [
            {
                "marker": 1,
                "title": f"Title {HOSTILE}",
                "date": "2025-12-26",
                "source": f"upload:{HOSTILE}.md",
                "type": "article",
                "page": 3,
                "row": None,
                "text": f"Intro. Revenue rose 34% {HOSTILE}. End.",
            },
            {
                "marker": 2,
                "title": "Data",
                "date": "",
                "source": "d.csv",
                "type": "dataset",
                "page": None,
                "row": 7,
                "text": "company: A; metric: m; value: 1。",
            },
            {"marker": 3, "title": "Other", "date": "", "source": "o.md", "type": "article", "page": None, "row": None, "text": "x"},
        ],
        "timing": {"retrieval_ms": 10.0, "generation_ms": 20.0, "total_ms": 30.0},
        "model": "offline",
    }


def test_render_answer_escapes_everything_from_documents():
    out = ui.render_answer(hostile_answer(), anchor="a1")
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert '<sup class="ra-cite"><a href="#a1-1"' in out and 'id="a1-1"' in out
    assert "<mark>" in out and "p. 3" in out and "row 7" in out and "2025-12-26" in out
    assert "⚠ not supported: [2]" in out and "ra-cite ra-bad" in out, "failed citations are shown, not hidden"
    assert "figure without a citation" in out
    assert 'class="ra-notice"' in out
    assert "Other retrieved passages (1)" in out


def test_render_refusal_is_distinct():
    data = {**hostile_answer(), "refused": True, "answer": "根据现有资料无法回答这个问题。", "citations": [], "uncited": []}
    out = ui.render_answer(data, anchor="r")
    assert out.count('class="ra-refusal"') == 1 and "No answer in the sources" in out
    assert "Nearest sources (3)" in out and "<script" not in out and out.count("<li>") == 3


def test_streaming_text_is_escaped():
    out = ui.render_streaming(f"partial {HOSTILE}", [f"note {HOSTILE}"])
    assert "<script" not in out and "<img" not in out and out.endswith("▌")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/abs/x.md", "x.md"),
        ("C:\\x\\y.txt", "y.txt"),
        ("..", "upload"),
        ("", "upload"),
        (".bashrc", "bashrc"),
        ("报告 2025.pdf", "报告 2025.pdf"),
        ("a<script>b.md", "a_script_b.md"),
        ("x/..\\..//", "upload"),
        ("name\x00.txt", "name_.txt"),
    ],
)
def test_safe_upload_name(given, expected):
    assert ui.safe_upload_name(given) == expected


def test_safe_upload_name_never_leaves_a_directory():
    for name in ["../../etc/passwd", "/abs/x.md", "C:\\x\\y.txt", "....//....//x", "~/.ssh/id_rsa", "a/../../b.txt"]:
        safe = ui.safe_upload_name(name)
        assert "/" not in safe and "\\" not in safe and ".." not in safe and not safe.startswith(".")
    assert len(ui.safe_upload_name("x" * 500 + ".md")) <= 110


def test_parse_auth_inline_and_file(tmp_path):
    assert ui.parse_auth(None) is None and ui.parse_auth("  ") is None
    assert ui.parse_auth("ann:pw1, bob:p:w:2") == [("ann", "pw1"), ("bob", "p:w:2")]
    path = tmp_path / "users.txt"
    path.write_text("# analysts\nann:pw1\n\ncarl:secret,dee:x\n", encoding="utf-8")
    assert ui.parse_auth(str(path)) == [("ann", "pw1"), ("carl", "secret"), ("dee", "x")]


@pytest.mark.parametrize("value", ["ann", "ann:", ":pw", "ann:pw,bob", "/no/such/auth-file"])
def test_parse_auth_rejects_malformed_without_echoing_secrets(value):
    with pytest.raises(ValueError) as info:
        ui.parse_auth(value)
    assert value not in str(info.value) and "pw" not in str(info.value)


def dataset_source(marker: int, company: str, metric: str, value: str, unit: str = "%") -> dict:
    text = f"company: {company}; ticker: X; metric: {metric}; value: {value}; unit: {unit}; period: 2025; source: s。"
    return {"marker": marker, "type": "dataset", "text": text, "row": marker + 1}


def test_parse_row_reads_the_index_row_format():
    row = ui.parse_row("company: 阿里巴巴; ticker: 9988.HK; metric: 2025年股价涨幅; value: 80; unit: %; period: 2025; source: 中金。")
    assert row == {
        "company": "阿里巴巴",
        "ticker": "9988.HK",
        "metric": "2025年股价涨幅",
        "value": "80",
        "unit": "%",
        "period": "2025",
        "source": "中金",
    }


def test_chart_data_from_sources():
    sources = [
        {"marker": 1, "type": "article", "text": "company: Z; metric: 2025年股价涨幅; value: 999。"},
        dataset_source(2, "阿里巴巴", "2025年股价涨幅", "80"),
        dataset_source(3, "腾讯", "2025年股价涨幅", "46"),
        dataset_source(4, "腾讯", "AI相关收入占比", "18"),
        dataset_source(5, "小米", "2025年股价涨幅", "13"),
        dataset_source(6, "小米", "全球月活用户", "n/a"),
    ]
    metric, unit, frame = ui.chart_data(sources, answer_text="阿里巴巴2025年股价涨幅超80% [1]。")
    assert (metric, unit) == ("2025年股价涨幅", "%")
    assert isinstance(frame, pd.DataFrame) and dict(zip(frame["company"], frame["value"])) == {"阿里巴巴": 80, "腾讯": 46, "小米": 13}
    assert ui.chart_data(sources, cited={3}) is not None, "a cited row of the metric is enough"
    assert ui.chart_data(sources, answer_text="Zorblax revenue was 7亿元 [1]。") is None, "not beside an unrelated answer"
    assert ui.chart_data(sources[:3], answer_text="x", cited={2}) is not None
    assert ui.chart_data([dataset_source(1, "A", "m", "1")], cited={1}) is None, "one company is not a comparison"
    assert ui.chart_data([], answer_text="anything") is None


def test_metric_frame_and_chartable_metrics():
    frames = {
        "a.csv": pd.DataFrame({"company": ["A", "B", "C"], "metric": ["m", "m", "n"], "value": ["1", "2.5", "x"], "unit": ["%", "%", ""]}),
        "b.csv": pd.DataFrame({"name": ["no chart columns"]}),
    }
    unit, frame = ui.metric_frame(frames, "m")
    assert unit == "%" and list(frame["company"]) == ["A", "B"] and list(frame["value"]) == [1.0, 2.5]
    assert ui.chartable_metrics(frames) == ["m"]


def test_make_filters():
    f = ui.make_filters(ui.ALL_COMPANIES, " ", "2025", "2025-12-31", "all")
    assert f.active() == {"date_from": "2025", "date_to": "2025-12-31"}
    assert ui.make_filters("小米", "1810.hk", "", "", "article").active() == {"company": "小米", "ticker": "1810.HK", "type": "article"}
    with pytest.raises(QuestionError):
        ui.make_filters(None, None, "2025/01/01", None, None)


def test_export_markdown_writes_an_escaped_file(tmp_path):
    data = hostile_answer()
    path = ui.export_markdown([{"question": f"Q {HOSTILE}", "answer": data["answer"], "data": data}], "_settings_", tmp_path)
    assert path.parent == tmp_path and path.suffix == ".md"
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "### Sources" in text and "[1]" in text and "not supported: [2]" in text and "cited: «" in text
    default = ui.export_markdown([{"question": "q", "answer": "a", "data": {}}])
    assert default.exists() and Path(default).parent != tmp_path


def test_plain_messages_accepts_gradio6_content_parts():
    chat = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": "yo"}]
    assert ui.plain_messages(chat) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]


# --- uploads, ingest and removal (a fresh index) ---------------------------------------------------------------------
def test_store_uploads_keeps_files_inside_the_uploads_folder(settings_factory, tmp_path):
    page = ui.Page(StubAssistant(settings_factory(max_file_mb=0.001)))
    given = tmp_path / "given"
    given.mkdir()
    (given / "a;rm -rf ~.md").write_text("# A\n\nsmall", encoding="utf-8")
    (given / "notes.exe").write_bytes(b"MZ")
    (given / "big.txt").write_text("x" * 5000, encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    (other / "a;rm -rf ~.md").write_text("# A2\n\nsame name, other folder", encoding="utf-8")
    stored, names, refused = page.store_uploads(
        [str(p) for p in (given / "a;rm -rf ~.md", other / "a;rm -rf ~.md", given / "notes.exe", given / "big.txt")]
    )
    root = (page.uploads_dir / ".incoming").resolve()  # staged until they index
    assert [Path(p).parent for p in stored] == [root, root]
    assert list(names.values()) == ["upload:a_rm -rf _.md", "upload:a_rm -rf _-2.md"]
    assert [r[0] for r in refused] == ["upload:notes.exe", "upload:big.txt"]
    assert "unsupported type" in refused[0][1] and "MB limit" in refused[1][1]


def test_ingest_list_and_remove_with_confirmation(assistant_factory, tmp_path):
    assistant = assistant_factory()
    page = ui.Page(assistant)
    doc = tmp_path / "zorblax<b>.md"
    doc.write_text("# Zorblax <img src=x onerror=alert(1)>\n\nZorblax公司2025年收入为7亿元。", encoding="utf-8")
    bad = tmp_path / "empty.txt"
    bad.write_text("   ", encoding="utf-8")
    summary, frame, dropdown, count, cleared = page.ingest_files([str(doc), str(bad)])
    assert "added 1" in summary and "upload:zorblax_b_.md" in summary
    assert "✗ failed" in summary and "upload:empty.txt" in summary and "empty" in summary
    assert "<img" not in summary and cleared is None
    assert "upload:zorblax_b_.md" in dropdown["choices"] and "upload:empty.txt" not in dropdown["choices"]
    assert not (page.uploads_dir / "empty.txt").exists(), "a file that failed to index is not kept"
    assert (page.uploads_dir / "zorblax_b_.md").exists()

    box, text, pending = page.ask_remove("upload:zorblax_b_.md")
    assert box["visible"] is True and pending == "upload:zorblax_b_.md" and "<img" not in text and "&lt;img" in text
    box, status, pending = page.cancel_remove()
    assert box["visible"] is False and pending is None and "Nothing was removed" in status
    assert assistant.index.document("upload:zorblax_b_.md") is not None, "cancel removes nothing"

    box, status, pending, frame, dropdown, count = page.confirm_remove("upload:zorblax_b_.md")
    assert box["visible"] is False and "Removed upload:zorblax_b_.md" in status and pending is None
    assert "upload:zorblax_b_.md" not in dropdown["choices"]
    assert not (page.uploads_dir / "zorblax_b_.md").exists()
    assert "not indexed" in page.confirm_remove("upload:zorblax_b_.md")[1]
    assert page.ask_remove(None)[0]["visible"] is False


def test_a_failed_re_upload_keeps_the_stored_copy_of_the_indexed_version(assistant_factory, tmp_path):
    page = ui.Page(assistant_factory())
    good, broken = tmp_path / "v1", tmp_path / "v2"
    good.mkdir()
    broken.mkdir()
    (good / "peers.md").write_text("# Peers\n\n美团2025年AI收入占比为5%。", encoding="utf-8")
    (broken / "peers.md").write_text("   ", encoding="utf-8")  # the same name, but empty: it fails to index
    assert "added 1" in page.ingest_files([str(good / "peers.md")])[0]
    summary = page.ingest_files([str(broken / "peers.md")])[0]
    assert "✗ failed" in summary
    assert "美团" in (page.uploads_dir / "peers.md").read_text(encoding="utf-8"), "the indexed version's file survives"
    assert not list((page.uploads_dir / ".incoming").iterdir())


def test_uploaded_csv_joins_the_datasets_tab(assistant_factory, tmp_path):
    page = ui.Page(assistant_factory())
    csv = tmp_path / "peers.csv"
    csv.write_text("company,metric,value,unit\n美团,2025年股价涨幅,-20,%\n快手,2025年股价涨幅,30,%\n", encoding="utf-8")
    summary = page.ingest_files([str(csv)])[0]
    assert "added 1" in summary
    dropdown, _table, metric, chart = page.datasets_view()
    assert "upload:peers.csv" in dropdown["choices"]
    assert {"美团": -20, "快手": 30}.items() <= dict(zip(chart["value"]["company"], chart["value"]["value"])).items()
