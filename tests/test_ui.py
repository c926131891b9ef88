"""The Gradio page without a browser: the app builds over the real corpus, the callbacks stream and render real answers
through the facade, and the renderers escape what they are given."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

import ui
from assistant.research import ANY_COMPANY, ANY_TYPE, ResearchAssistant
from tests.conftest import free_port
from tests.fake_llm_server import FakeLLMServer

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
NO_FILTERS = (ANY_COMPANY, "", "", "", ANY_TYPE)


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


class FailingAssistant(ResearchAssistant):
    """The real facade with a fault injected into its answer chain: an error no real input is known to cause."""

    def ask_streaming(self, question, history=None, filters=None, mode=None):
        raise RuntimeError(f"boom {HOSTILE}")


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


def test_a_rewritten_follow_up_shows_the_question_it_was_understood_as(page):
    first = run(page, "阿里巴巴2025年股价涨了多少?")
    history, turns = first[-1][2], first[-1][3]
    second = run(page, "那腾讯呢?", history, turns)
    resolved = second[-1][3][-1]["data"]["standalone_question"]
    assert resolved != "那腾讯呢?" and "腾讯" in resolved
    assert f'<div class="ra-resolved">↳ Understood as · 理解为: {resolved}</div>' in last_message(second)
    assert 'class="ra-resolved"' not in last_message(first), "a question asked as typed shows no rewrite"


def test_refusal_is_marked_and_lists_nearest_sources(page):
    outputs = run(page, "美团2025年的营收是多少?")
    final = last_message(outputs)
    assert 'class="ra-refusal"' in final and "根据现有资料无法回答这个问题。" in final
    assert "Nearest sources" in final
    assert outputs[-1][4]["visible"] is False, "no chart beside a refusal"


def test_the_filters_reach_the_answer_and_the_settings_panel(page):
    outputs = run(page, "AI相关收入占比?", filters=("腾讯", "0700.hk", "", "", "dataset"))
    data = outputs[-1][3][-1]["data"]
    assert data["filters"] == {"company": "腾讯", "ticker": "0700.HK", "type": "dataset"}
    assert data["sources"] and all(s["type"] == "dataset" and "company: 腾讯;" in s["text"] for s in data["sources"])
    assert "company=腾讯" in outputs[-1][5] and "type=dataset" in outputs[-1][5]


def test_datasets_tab_reads_the_index_and_charts_the_metric_with_most_companies(page):
    dropdown, table, metric, chart = page.datasets_view()
    assert dropdown["choices"] == ["corpus/datasets/hk_tech_ai_metrics_2025.csv"]
    assert {"company", "metric", "value"} <= set(table.columns) and len(table) == 37
    assert metric["value"] == "2025年股价涨幅", "the only metric of the shipped dataset with four companies"
    assert dict(zip(chart["value"]["company"], chart["value"]["value"])) == {"阿里巴巴": 80, "腾讯": 46, "小米": 13, "商汤": 80}


def test_corpus_view_lists_the_shipped_sources(page):
    frame, dropdown, summary = page.corpus_view()
    assert list(frame.columns) == ["title", "date", "type", "chunks", "source"]
    assert "corpus/datasets/hk_tech_ai_metrics_2025.csv" in dropdown["choices"]
    assert "sources" in summary


# --- errors, notices and the LLM fallback ----------------------------------------------------------------------------
def assert_error_message(outputs: list[tuple], expected: str) -> None:
    final = last_message(outputs)
    assert 'class="ra-error"' in final and expected in final, final
    assert "Traceback" not in final and "<script" not in final and "<img" not in final
    assert all(is_skip(o[2]) for o in outputs), "a failed question does not enter the history"


def test_a_malformed_filter_date_is_reported_in_the_chat(page):
    outputs = run(page, "收入?", filters=("", "", "last year", "", ""))
    assert_error_message(outputs, "Cannot ask this: the filter date &#x27;last year&#x27; is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")


def test_an_unreachable_index_is_reported_in_the_chat(settings_factory, embedder):
    dead = ResearchAssistant(settings_factory(chroma_url=f"http://127.0.0.1:{free_port()}"), embedder=embedder)
    assert_error_message(run(ui.Page(dead), "收入?"), "The index is not available right now")


def test_an_unexpected_error_is_a_chat_message_without_its_text(settings_factory):
    outputs = run(ui.Page(FailingAssistant(settings_factory())), "anything")
    assert_error_message(outputs, "Something went wrong while answering (RuntimeError)")
    assert "boom" not in last_message(outputs)


def test_a_cut_llm_stream_is_replaced_by_the_offline_answer_with_a_notice(corpus_assistant, embedder):
    with FakeLLMServer() as server:
        server.mode = "drop"
        llm = {"llm": "openai", "llm_base_url": server.openai_base_url, "llm_model": "fake", "llm_timeout_s": 5.0, "llm_max_retries": 0}
        settings = corpus_assistant.settings.model_copy(update=llm)
        outputs = run(ui.Page(ResearchAssistant(settings, embedder=embedder)), "阿里云2025年第三季度收入增长多少?")
    shown = [o[1][-1]["content"] for o in outputs if not is_skip(o[1])]
    streamed = server.replies[0]
    reset = next(i for i, text in enumerate(shown) if 'class="ra-notice"' in text)
    assert any(text.endswith("▌") and text != "… ▌" for text in shown[:reset]), "the model's answer had begun to stream"
    assert all(streamed[:20] not in text for text in shown[reset:]), "none of the cut answer is kept"
    assert "ASSISTANT_LLM_BASE_URL" in shown[-1] and "34%" in shown[-1]


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


def test_export_writes_an_escaped_markdown_file(corpus_assistant, tmp_path):
    data = {**hostile_answer(), "question": "Q", "standalone_question": f"Q about {HOSTILE}"}
    path = corpus_assistant.export_conversation([{"question": f"Q {HOSTILE}", "answer": data["answer"], "data": data}], tmp_path)
    assert path.parent == tmp_path and path.suffix == ".md"
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "&lt;script&gt;" in text
    assert "### Sources" in text and "[1]" in text and "not supported: [2]" in text and "cited: «" in text
    assert "_Understood as: Q about &lt;script&gt;" in text
    assert "offline extractive answerer" in text, "the export names the model that answered"
    default = corpus_assistant.export_conversation([{"question": "q", "answer": "a", "data": {}}])
    assert default.exists() and Path(default).parent != tmp_path


def test_plain_messages_accepts_gradio6_content_parts():
    chat = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": "yo"}]
    assert ui.plain_messages(chat) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]


# --- uploads, ingest and removal (a fresh index) ---------------------------------------------------------------------
def test_refused_uploads_are_listed_with_their_reason(assistant_factory, tmp_path):
    page = ui.Page(assistant_factory(max_file_mb=0.001))
    (tmp_path / "notes.exe").write_bytes(b"MZ")
    (tmp_path / "big.txt").write_text("x" * 5000, encoding="utf-8")
    summary = page.ingest_files([str(tmp_path / "notes.exe"), str(tmp_path / "big.txt")])[0]
    assert "failed 2" in summary and "upload:notes.exe — unsupported type" in summary and "MB limit" in summary
    assert not page.assistant.uploads.folder.joinpath("big.txt").exists()


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
    assert not (page.assistant.uploads.folder / "empty.txt").exists(), "a file that failed to index is not kept"
    assert (page.assistant.uploads.folder / "zorblax_b_.md").exists()

    box, text, pending = page.ask_remove("upload:zorblax_b_.md")
    assert box["visible"] is True and pending == "upload:zorblax_b_.md" and "<img" not in text and "&lt;img" in text
    box, status, pending = page.cancel_remove()
    assert box["visible"] is False and pending is None and "Nothing was removed" in status
    assert assistant.index.document("upload:zorblax_b_.md") is not None, "cancel removes nothing"

    box, status, pending, frame, dropdown, count = page.confirm_remove("upload:zorblax_b_.md")
    assert box["visible"] is False and "Removed upload:zorblax_b_.md" in status and pending is None
    assert "upload:zorblax_b_.md" not in dropdown["choices"]
    assert not (page.assistant.uploads.folder / "zorblax_b_.md").exists()
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
    assert "美团" in (page.assistant.uploads.folder / "peers.md").read_text(encoding="utf-8"), "the indexed version's file survives"
    assert not list((page.assistant.uploads.folder / ".incoming").iterdir())


def test_uploaded_csv_joins_the_datasets_tab(assistant_factory, tmp_path):
    page = ui.Page(assistant_factory())
    csv = tmp_path / "peers.csv"
    csv.write_text("company,metric,value,unit\n美团,2025年股价涨幅,-20,%\n快手,2025年股价涨幅,30,%\n", encoding="utf-8")
    summary = page.ingest_files([str(csv)])[0]
    assert "added 1" in summary
    dropdown, _table, metric, chart = page.datasets_view()
    assert dropdown["choices"] == ["upload:peers.csv"] and metric["value"] == "2025年股价涨幅"
    assert dict(zip(chart["value"]["company"], chart["value"]["value"])) == {"美团": -20, "快手": 30}
    table = page.show_dataset("upload:peers.csv")
    assert table.to_dict("records") == [
        {"company": "美团", "metric": "2025年股价涨幅", "value": "-20", "unit": "%"},
        {"company": "快手", "metric": "2025年股价涨幅", "value": "30", "unit": "%"},
    ]
