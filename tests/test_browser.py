"""The real page in headless Chromium: `python ui.py` on a fresh index, driven the way an analyst would use it.

Run with `pytest -m browser tests/test_browser.py`. Screenshots of each step go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SHARED_ARTICLE, free_port, stop_process, wait_for_http

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARTICLE = SHARED_ARTICLE
ARTICLE_SOURCE = "upload:hk-tech-ai-valuation-2025.txt"
# Only the original article says this (its platform disclaimer); the corpus notes do not (checked with grep).
ARTICLE_ONLY_QUESTION = "财经号声明提醒网友不要做什么?"
ARTICLE_ONLY_FACT = "私下汇款"
REFUSAL = "根据现有资料无法回答这个问题。"

# Collects text of the last answer while it changes, so a test can see the streaming cursor.
WATCH_JS = """() => {
  window.__sawCursor = false;
  if (window.__watcher) window.__watcher.disconnect();
  window.__watcher = new MutationObserver(() => {
    const bots = document.querySelectorAll('#chatbot [data-testid=bot]');
    const last = bots[bots.length - 1];
    if (last && last.textContent.includes('▌')) window.__sawCursor = true;
  });
  window.__watcher.observe(document.querySelector('#chatbot'), {subtree: true, childList: true, characterData: true});
}"""
# Draws a Chinese character and a code point no font has, in the chat's own font stack: with no CJK font installed
# both come out as the same missing-glyph box.
GLYPHS_JS = """() => {
  const family = getComputedStyle(document.querySelector('#chatbot')).fontFamily;
  const draw = ch => {
    const canvas = document.createElement('canvas');
    canvas.width = 48; canvas.height = 48;
    const g = canvas.getContext('2d');
    g.font = '32px ' + family;
    g.fillText(ch, 4, 38);
    return canvas.toDataURL();
  };
  return {family, han: draw('\u6e2f'), missing: draw('\\u{10FFFD}'), blank: draw(' ')};
}"""
DONE_JS = """n => {
  const bots = document.querySelectorAll('#chatbot [data-testid=bot]');
  return bots.length > n && bots[bots.length - 1].querySelector('.ra-timing, .ra-error') !== null;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`assistant serve` on a free port over a fresh index (it indexes the shipped corpus at start)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    work = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(work / "index"),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_HOST": "127.0.0.1",
        "ASSISTANT_AUTH": "",
        "ASSISTANT_LLM": "extractive",
        "ASSISTANT_CHROMA_URL": "",
        "ASSISTANT_CHROMA_HOST": "",
    }
    log_path = work / "server.log"
    log = log_path.open("wb")
    # The README run command ends in `assistant serve`: start the page the same way.
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, proc, log_path, 600, "assistant serve")  # indexes the corpus and warms up first
        yield {"url": url, "proc": proc, "log": log_path, "work": work}
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        tab.dialogs = []  # type: ignore[attr-defined]
        tab.outside = []  # type: ignore[attr-defined]
        tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
        tab.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else tab.outside.append(r.url))
        tab.goto(server["url"], wait_until="domcontentloaded")
        tab.locator("#question textarea").wait_for()
        yield tab
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str, timeout_ms: int = 90_000) -> str:
    """Send a question on the chat tab and return the text of the finished answer."""
    page.get_by_role("tab", name="Chat · 问答").click()
    before = page.locator("#chatbot [data-testid=bot]").count()
    page.evaluate(WATCH_JS)
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(DONE_JS, arg=before, timeout=timeout_ms)
    return page.locator("#chatbot [data-testid=bot]").last.inner_text()


def new_conversation(page) -> None:
    page.get_by_role("tab", name="Chat · 问答").click()
    page.locator("#new").click()
    page.wait_for_function("() => document.querySelectorAll('#chatbot [data-testid=bot]').length === 0")


def choose(page, dropdown_id: str, text: str) -> None:
    page.locator(f"#{dropdown_id} input").click()
    page.locator("ul[role=listbox] li", has_text=text).first.click()


def remove_source(page, source_text: str) -> str:
    page.get_by_role("tab", name="Corpus · 资料库").click()
    choose(page, "remove-source", source_text)
    page.locator("#remove").click()
    page.locator("#confirm-remove").wait_for(state="visible")
    return source_text


def test_streamed_answer_with_cited_sources(page):
    text = ask(page, "阿里云2025年第三季度收入增长多少?")
    assert "34%" in text
    assert page.evaluate("() => window.__sawCursor"), "the answer should stream (cursor seen while tokens arrive)"
    last = page.locator("#chatbot [data-testid=bot]").last
    assert last.locator("sup.ra-cite a").count() >= 1, "inline [n] markers render as citation badges"
    assert last.locator(".ra-src mark").count() >= 1, "the cited sentence is highlighted in its source"
    assert "阿里巴巴:AI+云驱动的估值兑现" in text, "a source title is shown under the answer"
    assert "corpus/articles/alibaba-ai-cloud.md" in text
    shot(page, "01-chat-cited-answer")
    last.screenshot(path=str(SHOTS / "01b-chinese-answer-close-up.png"))  # look at it: characters, not boxes


def test_chinese_is_drawn_with_a_cjk_font_not_boxes(page):
    glyphs = page.evaluate(GLYPHS_JS)
    family = glyphs["family"]
    for name in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"):
        assert name in family, family
    assert family.index("Noto Sans CJK SC") < family.index("sans-serif"), "CJK fonts come before the generic family"
    assert glyphs["han"] != glyphs["blank"], "the character draws something"
    assert glyphs["han"] != glyphs["missing"], "a Chinese character is drawn as the missing-glyph box: install fonts-noto-cjk"


def test_follow_up_uses_the_conversation(page):
    new_conversation(page)
    first = ask(page, "阿里巴巴2025年股价涨了多少?")
    assert "80" in first
    follow = ask(page, "那腾讯呢?")
    assert "46" in follow
    assert "Understood as" in follow, "the page shows the question the follow-up was resolved to"
    shot(page, "02-chat-follow-up")
    compare = ask(page, "港股科技公司2025年股价涨幅对比")
    assert "46" in compare and "80" in compare
    # Its sources hold the 2025年股价涨幅 rows of several companies: they are charted beside the answer.
    page.locator("#answer-chart canvas, #answer-chart svg").first.wait_for()
    time.sleep(0.5)  # let vega finish drawing before the screenshot
    shot(page, "03-chat-answer-with-chart")


def test_upload_ask_remove(page, server, tmp_path):
    new_conversation(page)
    before = ask(page, ARTICLE_ONLY_QUESTION)
    assert ARTICLE_ONLY_FACT not in before, "the fact must come from the upload, not from the shipped corpus"

    hostile = tmp_path / "evil<img src=x onerror=alert(1)>.md"
    hostile.write_text(
        '# Zorblax <img src=x onerror="window.__pwned=1"> 报告\n\n'
        "Zorblax公司是一家虚构的测试公司<script>window.__pwned=2</script>。Zorblax公司2025年收入为7亿元,同比增长12%。\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Corpus · 资料库").click()
    page.locator("#uploads input[type=file]").set_input_files([str(ARTICLE), str(hostile)])
    page.locator("#uploads", has_text=ARTICLE.name).wait_for()
    page.locator("#add").click()
    page.wait_for_function("() => document.querySelector('#ingest-summary').innerText.includes('added')", timeout=300_000)
    summary = page.locator("#ingest-summary").inner_text()
    assert "added 2" in summary and ARTICLE_SOURCE in summary, summary
    page.locator("#sources-table", has_text=ARTICLE_SOURCE).wait_for()
    stored = list((server["work"] / "index" / "uploads").iterdir())
    assert ARTICLE.name in {p.name for p in stored} and all("<" not in p.name and "/" not in p.name for p in stored)
    shot(page, "04-corpus-after-upload")

    answer = ask(page, ARTICLE_ONLY_QUESTION)
    assert ARTICLE_ONLY_FACT in answer and ARTICLE_SOURCE in answer
    shot(page, "05-chat-answer-from-upload")

    hostile_answer = ask(page, "Zorblax公司2025年收入是多少?")
    assert "7亿元" in hostile_answer and "<img src=x" in hostile_answer, "hostile markup is shown as text"
    assert page.evaluate("() => window.__pwned") is None and page.locator("img[src=x]").count() == 0
    assert page.dialogs == []
    shot(page, "06-chat-hostile-document-escaped")

    remove_source(page, ARTICLE_SOURCE)
    confirm = page.locator("#confirm-text").inner_text()
    assert "2025港科股" in confirm and ARTICLE_SOURCE in confirm, confirm
    assert ARTICLE_SOURCE in page.locator("#sources-table").inner_text(), "nothing is removed before the confirmation"
    shot(page, "07-corpus-remove-confirmation")
    page.locator("#confirm-remove").click()
    page.wait_for_function("() => document.querySelector('#remove-status').innerText.includes('Removed')")
    assert ARTICLE_SOURCE not in page.locator("#sources-table").inner_text()
    assert not (server["work"] / "index" / "uploads" / ARTICLE.name).exists()
    shot(page, "08-corpus-after-remove")

    after = ask(page, ARTICLE_ONLY_QUESTION)
    assert ARTICLE_ONLY_FACT not in after and ARTICLE_SOURCE not in after

    remove_source(page, "upload:evil")
    page.locator("#confirm-remove").click()
    page.wait_for_function("() => document.querySelector('#remove-status').innerText.includes('Removed')")


def test_refusal_when_the_sources_do_not_say(page):
    new_conversation(page)
    text = ask(page, "美团2025年的营收是多少?")
    assert REFUSAL in text
    last = page.locator("#chatbot [data-testid=bot]").last
    assert last.locator(".ra-refusal").count() == 1 and "Nearest sources" in text
    assert not page.locator("#answer-chart").is_visible()
    shot(page, "09-chat-refusal")


def test_export_conversation_as_markdown(page):
    page.get_by_role("tab", name="Chat · 问答").click()
    page.locator("#export").click()
    link = page.locator("#export-file a[href]").first
    link.wait_for()
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    text = response.body().decode("utf-8")
    assert "美团2025年的营收是多少?" in text and "Nearest sources" in text


def test_datasets_tab_chart(page):
    page.get_by_role("tab", name="Datasets · 数据").click()
    page.locator("#dataset-table", has_text="阿里云收入同比增长").wait_for()
    page.locator("#metric input").wait_for()
    assert page.locator("#metric input").input_value() == "2025年股价涨幅"
    page.locator("#metric-chart canvas, #metric-chart svg").first.wait_for()
    time.sleep(0.5)  # let vega finish drawing before the screenshot
    shot(page, "10-datasets-chart")


def test_sessions_keep_their_own_history(page, server):
    """Two browsers ask at the same time; each one's export holds only its own conversation."""
    new_conversation(page)
    other_context = page.context.browser.new_context(viewport={"width": 1400, "height": 1000})
    other = other_context.new_page()
    try:
        other.goto(server["url"], wait_until="domcontentloaded")
        other.locator("#question textarea").wait_for()
        counts = [p.locator("#chatbot [data-testid=bot]").count() for p in (page, other)]
        for tab, question in ((page, "腾讯AI相关收入占比是多少?"), (other, "小米MiMo-V2-Flash的推理速度是多少?")):
            tab.locator("#question textarea").fill(question)
        page.locator("#question textarea").press("Enter")
        other.locator("#question textarea").press("Enter")
        for tab, count in zip((page, other), counts):
            tab.wait_for_function(DONE_JS, arg=count, timeout=90_000)
        assert "18%" in page.locator("#chatbot [data-testid=bot]").last.inner_text()
        assert "150" in other.locator("#chatbot [data-testid=bot]").last.inner_text()
        other.locator("#export").click()
        link = other.locator("#export-file a[href]").first
        link.wait_for()
        text = other.request.get(link.get_attribute("href")).body().decode("utf-8")
        assert "小米MiMo-V2-Flash的推理速度是多少?" in text and "腾讯AI相关收入占比" not in text and "美团" not in text
    finally:
        other_context.close()


def test_page_stayed_offline_and_quiet(page, server):
    assert page.outside == [], f"the page requested outside resources: {page.outside[:5]}"
    assert page.dialogs == []
    log = server["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
