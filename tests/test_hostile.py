"""Hostile input: fuzzed files and questions, script-bearing uploads, path-traversal names, files lying about their
type, and an API key that must never leak. Real loaders, a real index, the real page helpers; no mocks."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

import ui
from assistant.answer import QuestionError
from assistant.loaders import LoadError, load_bytes
from assistant.research import ResearchAssistant
from assistant.uploads import UPLOAD_PREFIX, safe_upload_name
from tests.conftest import docx_bytes, free_port, pdf_bytes

LIMIT = 2_000_000
KINDS = {"x.txt": "text", "x.md": "markdown", "x.html": "html", "x.csv": "csv", "x.pdf": "pdf", "x.docx": "docx"}
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def only_load_errors(raw: bytes, name: str) -> None:
    try:
        docs = load_bytes(raw, name, KINDS[name], LIMIT)
    except LoadError as exc:
        assert exc.source == name and exc.reason
        return
    assert docs and all(d.page_content.strip() for d in docs)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


raw_bytes = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=2048).map(lambda b: b"%PDF-1.4\n" + b),
    st.binary(max_size=2048).map(lambda b: b"PK\x03\x04" + b),
    st.dictionaries(
        st.sampled_from(["word/document.xml", "[Content_Types].xml", "_rels/.rels", "x"]), st.binary(max_size=512), max_size=3
    ).map(_zip),
)
unicode_text = st.one_of(
    st.text(max_size=3000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=3000),
    st.text(alphabet="<>/=\"',;|#-*\n\t 阿里巴巴腾讯%0123456789abc", max_size=2000),
)


@pytest.mark.parametrize("name", list(KINDS))
@FUZZ
@given(raw=raw_bytes)
def test_random_bytes_make_the_loaders_raise_nothing_but_load_error(name, raw):
    only_load_errors(raw, name)


@pytest.mark.parametrize("name", list(KINDS))
@FUZZ
@given(text=unicode_text, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_random_unicode_text_makes_the_loaders_raise_nothing_but_load_error(name, text, encoding):
    only_load_errors(text.encode(encoding, errors="replace"), name)


@pytest.mark.parametrize(
    "name, raw",
    [
        ("report.pdf", _zip({"word/document.xml": b"<w:document/>"})),
        ("report.pdf", docx_bytes("Heading", ["a paragraph"])),
        ("letter.docx", pdf_bytes(["A real PDF page about Tencent."])),
        ("letter.docx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
    ],
)
def test_a_file_whose_content_contradicts_its_extension_gets_a_clear_load_error(name, raw):
    kind = KINDS["x" + Path(name).suffix]
    with pytest.raises(LoadError) as caught:
        load_bytes(raw, name, kind, LIMIT)
    reason = caught.value.reason
    assert name in str(caught.value)
    expected = "not a PDF" if kind == "pdf" else "not a valid Office file"
    assert expected in reason, reason


# --- questions ---------------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(question=st.one_of(st.text(max_size=3000), st.text(alphabet="阿里腾讯小米收入增长？?[]{}<>() \n\t\u200b\u3000", max_size=3000)))
def test_random_questions_raise_only_question_error_and_lose_no_sources(corpus_assistant, question):
    before = [(r.source, r.doc_hash, r.chunks) for r in corpus_assistant.sources()]
    try:
        answer = corpus_assistant.ask(question)
    except QuestionError:
        assert not question.strip() or not "".join(ch for ch in question if ch.isprintable() and not ch.isspace())
    else:
        assert isinstance(answer.text, str) and answer.text
        json.dumps(answer.to_dict(), ensure_ascii=False)
    assert [(r.source, r.doc_hash, r.chunks) for r in corpus_assistant.sources()] == before


# --- script in an uploaded file ---------------------------------------------------------------------------------------
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs


def assert_inert(html_text: str) -> None:
    parser = TagCollector()
    parser.feed(html_text)
    parser.close()
    assert not {"script", "img", "iframe", "object"} & set(parser.tags), parser.tags
    assert not [a for a in parser.attrs if a[0].lower().startswith("on")], parser.attrs
    assert "<script" not in html_text.lower() and "<img" not in html_text.lower()


def test_script_in_an_uploaded_file_and_its_name_is_indexed_as_text_and_rendered_escaped(tmp_path, assistant_factory):
    path = tmp_path / "hostile.md"
    path.write_text(
        f"# 星辰智算 {SCRIPT} 研究笔记\n\n星辰智算公司的人工智能收入在2025年增长了42%，{SCRIPT}{IMG} 主要来自大模型推理服务。\n",
        encoding="utf-8",
    )
    name = f"upload:{IMG}.md"
    assistant: ResearchAssistant = assistant_factory()
    report = assistant.ingest([str(path)], show_progress=False, names={str(path): name})
    assert report.added == [name], report.summary()
    assert [r.source for r in assistant.sources()] == [name]

    answer = assistant.ask("星辰智算公司的人工智能收入增长了多少？")
    assert answer.sources and answer.sources[0]["source"] == name
    data = answer.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data  # plain data, nothing executable
    assert any(SCRIPT in s["text"] or IMG in s["text"] for s in data["sources"])

    rendered = ui.render_answer(answer, anchor="ra-test")
    assert_inert(rendered)
    assert "&lt;script&gt;" in rendered or "&lt;img" in rendered
    for s in data["sources"]:
        assert_inert(ui.source_card(s, "ra-test", [SCRIPT, IMG], "ok"))
        assert_inert(ui.source_card(s, "ra-test", [], "bad", reason=IMG))
        assert_inert(ui.nearest_line(s))
    assert_inert(ui.render_streaming(answer.text + SCRIPT + IMG, [IMG]))
    assert_inert(ui.render_error(f"{SCRIPT} {IMG}"))
    assert_inert(ui.render_answer({**data, "refused": True, "answer": SCRIPT, "notices": [IMG]}))


# --- upload names -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "claimed, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\Windows\\system.ini", "system.ini"),
        ("reports/../../../.ssh/authorized_keys", "authorized_keys"),
        ("..", "upload"),
    ],
)
def test_path_traversal_upload_names_become_a_plain_basename_inside_the_uploads_dir(tmp_path, claimed, expected):
    name = safe_upload_name(claimed)
    assert name == expected
    root = (tmp_path / "uploads").resolve()
    assert (root / name).resolve().parent == root


@settings(max_examples=200, deadline=None)
@given(claimed=st.text(alphabet=st.sampled_from(list("./\\:~ .a阿b$<>|\x00\n")), max_size=40) | st.text(max_size=60))
def test_any_claimed_upload_name_is_sanitised_to_a_visible_basename(claimed):
    name = safe_upload_name(claimed)
    assert name and "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".") and ".." not in name
    root = Path("/srv/index/uploads")
    assert (root / name).parent == root


def test_uploads_with_traversal_names_are_copied_inside_the_uploads_dir(tmp_path, assistant_factory):
    assistant = assistant_factory()
    src_dir = tmp_path / "browser"
    src_dir.mkdir()
    files = []
    for claimed in ("..passwd.md", "....win.ini.txt", f"{IMG}.md"):
        path = src_dir / claimed
        path.write_text("腾讯云业务收入增长。\n", encoding="utf-8")
        files.append(str(path))
    staged = assistant.uploads.stage(files)
    stored, names = staged.paths, staged.names
    root = (assistant.uploads.folder / ".incoming").resolve()  # staged until they index
    assert len(stored) == 3 and not staged.refused
    for target in stored:
        assert Path(target).parent == root and Path(target).is_file()
        assert names[target].startswith(UPLOAD_PREFIX) and "<" not in names[target] and "/" not in names[target][7:]


def exported_conversation(page, answer) -> str:
    """The Markdown file the page's export button writes for a one-turn conversation."""
    update = page.export([{"question": answer.question, "answer": answer.text, "data": answer.to_dict()}])
    return Path(update["value"]).read_text(encoding="utf-8")


# --- the API key --------------------------------------------------------------------------------------------------
def test_the_api_key_appears_in_no_answer_notice_log_or_stderr_when_the_llm_is_unreachable(corpus_assistant, embedder, caplog, capsys):
    secret = "sk-test-SECRET-123"
    dead = f"http://127.0.0.1:{free_port()}/v1"
    settings_ = corpus_assistant.settings.model_copy(
        update={"llm": "openai", "llm_base_url": dead, "llm_api_key": SecretStr(secret), "llm_timeout_s": 1, "llm_max_retries": 0}
    )
    assistant = ResearchAssistant(settings_, embedder=embedder)
    with caplog.at_level(logging.DEBUG):
        answer = assistant.ask("阿里云2025年第三季度收入增长多少？")
        streamed = list(assistant.ask_streaming("腾讯混元大模型有什么进展？"))
    captured = capsys.readouterr()
    assert answer.notices, "an unreachable model should leave a fallback notice"
    texts = [
        json.dumps(answer.to_dict(), ensure_ascii=False),
        *answer.notices,
        json.dumps([str(v) if k != "answer" else v.to_dict() for k, v in streamed], ensure_ascii=False),
        caplog.text,
        "\n".join(str(r.args) for r in caplog.records),
        captured.out,
        captured.err,
        repr(settings_),
        str(settings_.model_dump()),
        ui.render_answer(answer),
        ui.Page(assistant).settings_html(),
        exported_conversation(ui.Page(assistant), answer),
    ]
    for text in texts:
        assert "SECRET-123" not in text
