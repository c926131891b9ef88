"""A small, real HTTP chat server on 127.0.0.1 that speaks the OpenAI chat-completions API (plain and SSE streaming)
and Ollama's /api/chat (plain and NDJSON streaming). It records every request it gets, so tests can check what the
assistant actually sent, and answers with a canned reply built from the passages in the prompt.

Modes (set `server.mode`):
  "cite"    one sentence citing [1] with a figure that passage 1 really contains (the citation check passes)
  "wrong"   one sentence citing [1] with a figure that passage 1 does not contain (the citation check flags it)
  "fixed"   `server.reply` as given
  "hang"    wait `server.hang_s` seconds before answering (a backend slower than the client's timeout)
  "error"   HTTP 500 with an OpenAI-style error body
  "drop"    stream the first chunks of a "cite" answer, then cut the connection mid-body (chunked encoding, no end)

A request that carries the condense prompt (follow-up rewrite, prompts/condense.md) is answered with
`server.condense_reply` whatever the mode.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PASSAGE_ONE = re.compile(r'<passage n="1"[^>]*>\n?(.*?)\n?</passage>', re.S)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PERCENT = re.compile(r"(\d+(?:[.,]\d+)*)\s*%")
CONDENSE_MARK = "Standalone question:"


@dataclass
class Recorded:
    """One request the server got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float  # time.monotonic() when the request line arrived

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))

    def text(self) -> str:
        """Every message's content, joined: what the model was shown."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


def passage_one(prompt: str) -> str:
    match = _PASSAGE_ONE.search(prompt)
    return match.group(1) if match else ""


def figure_in(text: str) -> str | None:
    """A figure the passage text really contains: its first percentage, else its longest number."""
    percent = _PERCENT.search(text)
    if percent:
        return percent.group(1).replace(",", "") + "%"
    numbers = [n.replace(",", "") for n in _NUMBER.findall(text)]
    return max(numbers, key=len) if numbers else None


def figure_not_in(text: str) -> str:
    present = {n.replace(",", "") for n in _NUMBER.findall(text)}
    for candidate in ("987.65", "4321.9", "86420.13"):
        if candidate not in present and candidate not in text:
            return candidate
    raise AssertionError("every candidate figure is in the passage")


@dataclass
class FakeLLMServer:
    mode: str = "cite"
    reply: str = "Fixed reply [1]."
    condense_reply: str = ""
    hang_s: float = 10.0
    chunk_chars: int = 3  # characters per streamed chunk, so a short answer arrives as many tokens
    chunk_delay_s: float = 0.0  # pause between streamed chunks
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.replies: list[str] = []  # every reply text it sent, in order

    # --- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> FakeLLMServer:
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # cuts a hanging answer short
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    # --- behaviour ----------------------------------------------------------------------------------------------
    def record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def answer_requests(self) -> list[Recorded]:
        """The requests that asked for an answer (not a follow-up rewrite)."""
        return [r for r in self.requests if CONDENSE_MARK not in r.text()]

    def condense_requests(self) -> list[Recorded]:
        return [r for r in self.requests if CONDENSE_MARK in r.text()]

    def compose(self, request: Recorded) -> str:
        prompt = request.text()
        if CONDENSE_MARK in prompt:
            text = self.condense_reply
        elif self.mode == "fixed":
            text = self.reply
        else:
            passage = passage_one(prompt)
            figure = figure_not_in(passage) if self.mode == "wrong" else figure_in(passage)
            if figure is None:
                text = self.reply
            else:
                text = f"According to passage one, the figure is {figure} [1]."
        with self._lock:
            self.replies.append(text)
        return text

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)


class _Dropped(Exception):
    """Raised inside a handler to cut a stream short."""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout, dropped stream) leaves a broken pipe behind: expected here


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # keep test output quiet

    def _read(self) -> Recorded:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"raw": raw.decode("utf-8", "replace")}
        return Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _start_stream(self, content_type: str) -> None:
        """Chunked transfer encoding: the client can tell a finished stream from a cut one."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self._sent_chunks = 0

    def _write(self, data: str) -> None:
        raw = data.encode("utf-8")
        self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
        self.wfile.flush()
        self._sent_chunks += 1
        if self.fake.mode == "drop" and self._sent_chunks >= 4:
            raise _Dropped
        if self.fake.chunk_delay_s:
            time.sleep(self.fake.chunk_delay_s)

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") in ("/v1/models", "/api/tags"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}], "models": []}).encode(),
                       "application/json")
            return
        self._send(404, b'{"error": "not found"}', "application/json")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        request = self._read()
        fake = self.fake
        fake.record(request)
        if fake.mode == "hang":
            fake.wait(fake.hang_s)
        if fake.mode == "error":
            body = {"error": {"message": "the fake backend failed on purpose", "type": "server_error", "code": None}}
            self._send(500, json.dumps(body).encode(), "application/json")
            return
        try:
            if request.path.rstrip("/") == "/v1/chat/completions":
                self._openai(request)
            elif request.path.rstrip("/") == "/api/chat":
                self._ollama(request)
            else:
                self._send(404, json.dumps({"error": f"no route {request.path}"}).encode(), "application/json")
        except _Dropped:
            self.close_connection = True  # the body never ends: the client sees a cut stream

    # --- OpenAI chat completions ----------------------------------------------------------------------------------
    def _openai(self, request: Recorded) -> None:
        text = self.fake.compose(request)
        model = str(request.body.get("model", "fake"))
        created = int(time.time())
        if not request.streamed:
            body = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10 + len(text)},
            }
            self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")
            return

        def chunk(delta: dict, finish: str | None = None) -> str:
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

        self._start_stream("text/event-stream")
        self._write(chunk({"role": "assistant", "content": ""}))
        size = self.fake.chunk_chars
        for i in range(0, len(text), size):
            self._write(chunk({"content": text[i : i + size]}))
        self._write(chunk({}, "stop"))
        if (request.body.get("stream_options") or {}).get("include_usage"):
            usage = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model, "choices": [],
                     "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10 + len(text)}}
            self._write(f"data: {json.dumps(usage)}\n\n")
        self._write("data: [DONE]\n\n")
        self._end_stream()

    # --- Ollama /api/chat -----------------------------------------------------------------------------------------
    def _ollama(self, request: Recorded) -> None:
        text = self.fake.compose(request)
        model = str(request.body.get("model", "fake"))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        final = {
            "model": model,
            "created_at": stamp,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "load_duration": 1000,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 1000,
            "eval_count": len(text),
            "eval_duration": 1000,
        }
        if request.body.get("stream") is False:
            final["message"]["content"] = text
            self._send(200, json.dumps(final, ensure_ascii=False).encode("utf-8"), "application/json")
            return
        self._start_stream("application/x-ndjson")
        size = self.fake.chunk_chars
        for i in range(0, len(text), size):
            line = {"model": model, "created_at": stamp, "message": {"role": "assistant", "content": text[i : i + size]}, "done": False}
            self._write(json.dumps(line, ensure_ascii=False) + "\n")
        self._write(json.dumps(final, ensure_ascii=False) + "\n")
        self._end_stream()
