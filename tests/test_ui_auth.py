"""With ASSISTANT_AUTH set, the page and its API refuse unauthenticated requests (checked over real HTTP)."""

from __future__ import annotations

import httpx
import pytest

import ui
from assistant.auth import parse_auth
from assistant.research import ResearchAssistant
from tests.conftest import free_port

# Every route that returns data or acts: config (holds the page's content), API description, queue, direct calls,
# uploads, files, monitoring.
PROTECTED = [
    ("GET", "/config"),
    ("GET", "/gradio_api/info"),
    ("GET", "/gradio_api/openapi.json"),
    ("POST", "/gradio_api/queue/join"),
    ("POST", "/gradio_api/call/respond"),
    ("POST", "/gradio_api/run/respond"),
    ("POST", "/gradio_api/upload"),
    ("GET", "/gradio_api/file=README.md"),
    ("GET", "/monitoring"),
]


@pytest.fixture(scope="module")
def guarded_page(corpus_assistant):
    settings = corpus_assistant.settings.model_copy(update={"auth": "ann:pw-1", "port": free_port()})
    guarded = ResearchAssistant(settings, embedder=corpus_assistant.embedder)  # the same index, with sign-in
    demo = ui.build_app(guarded)
    ui.launch(demo, guarded, prevent_thread_lock=True)
    yield f"http://127.0.0.1:{settings.port}"
    demo.close()


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_an_unauthenticated_request_is_refused(guarded_page, method: str, path: str) -> None:
    response = httpx.request(method, guarded_page + path, timeout=10, json={} if method == "POST" else None)
    assert response.status_code == 401, (path, response.status_code, response.text[:200])


def test_the_login_page_itself_reveals_nothing_from_the_corpus(guarded_page, corpus_assistant) -> None:
    html = httpx.get(guarded_page + "/", timeout=10).text
    for record in corpus_assistant.sources():
        assert record.title not in html and record.source not in html


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_api(guarded_page) -> None:
    with httpx.Client(timeout=10) as client:
        bad = client.post(guarded_page + "/login", data={"username": "ann", "password": "wrong"})
        assert bad.status_code in (400, 401)
        assert client.get(guarded_page + "/config").status_code == 401
        good = client.post(guarded_page + "/login", data={"username": "ann", "password": "pw-1"})
        assert good.status_code == 200
        assert client.get(guarded_page + "/config").status_code == 200
        assert client.get(guarded_page + "/gradio_api/info").status_code == 200


def test_parse_auth_inline_and_file(tmp_path):
    assert parse_auth(None) is None and parse_auth("  ") is None
    assert parse_auth("ann:pw1, bob:p:w:2") == [("ann", "pw1"), ("bob", "p:w:2")]
    path = tmp_path / "users.txt"
    path.write_text("# analysts\nann:pw1\n\ncarl:secret,dee:x\n", encoding="utf-8")
    assert parse_auth(str(path)) == [("ann", "pw1"), ("carl", "secret"), ("dee", "x")]


@pytest.mark.parametrize("value", ["ann", "ann:", ":pw", "ann:pw,bob", "/no/such/auth-file"])
def test_parse_auth_rejects_malformed_without_echoing_secrets(value):
    with pytest.raises(ValueError) as info:
        parse_auth(value)
    assert value not in str(info.value) and "pw" not in str(info.value)
