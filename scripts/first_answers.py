"""The first answers after `serve`: start the chat page, ask N different questions one after another, time each.

    python scripts/first_answers.py                      # the page over ASSISTANT_INDEX_DIR (default .index)
    python scripts/first_answers.py --questions 10 --port 7870

Starts `assistant serve` on a free port of 127.0.0.1 (the page warms its models at start), waits until the page
answers, then asks the first N questions of tests/data/gold.jsonl that need no history, each in a new chat, through
gradio_client as a browser would, and prints the wall time of each from submit to the finished answer: the first
question against the tenth (the issue's "first question after serve within 1.5x of the tenth"). The server is
stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from load import ALL_COMPANIES, text_of  # scripts/load.py: the page's filter value and its message shapes

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gold_questions(n: int) -> list[str]:
    lines = (ROOT / "tests" / "data" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    items = [json.loads(line) for line in lines if line.strip()]
    return [q["question"] for q in items if not q.get("history")][:n]


def wait_for_page(url: str, server: subprocess.Popen, timeout_s: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if server.poll() is not None:
            raise SystemExit(f"`assistant serve` exited with code {server.returncode}; see its output above")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the page at {url} did not answer within {timeout_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10, help="questions asked one after another (at least 2)")
    parser.add_argument("--port", type=int, default=0, help="port for the page (default: a free one)")
    parser.add_argument("--start-timeout-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.questions < 2:
        parser.error("--questions needs at least 2")

    from gradio_client import Client

    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASSISTANT_HOST": "127.0.0.1", "ASSISTANT_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=ROOT, env=env)
    try:
        ready_s = wait_for_page(url, server, args.start_timeout_s)
        print(f"page ready {ready_s:.1f} s after `serve` started", flush=True)
        client = Client(url, verbose=False, download_files=False)
        times = []
        for n, question in enumerate(gold_questions(args.questions), start=1):
            began = time.monotonic()
            outputs = client.predict(question, [], ALL_COMPANIES, "", "", "", "all", api_name="/respond")
            times.append(time.monotonic() - began)
            answer = re.sub(r"<[^>]+>|\s+", " ", text_of((outputs[1] or [{}])[-1])).strip()
            print(f"{n:2d}. {times[-1]:6.2f} s  {question} -> {answer[:60]}", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    rest = statistics.median(times[1:])
    print(f"first {times[0]:.2f} s, last ({len(times)}th) {times[-1]:.2f} s, median of the others {rest:.2f} s; "
          f"first / last {times[0] / times[-1]:.2f}, first / median of the others {times[0] / rest:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
