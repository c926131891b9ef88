"""The project installed as a wheel serves the page on its own: ui.py, the prompts and the shipped corpus travel in
the package, and `assistant serve` runs from a folder that is not the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import free_port, stop_process, wait_for_http

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ["pyproject.toml", "README.md", "ui.py", "assistant", "corpus", "prompts"]


def test_an_installed_wheel_serves_the_page_outside_the_checkout(corpus_assistant, tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(site), str(source)]
    built = subprocess.run(pip, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (site / "ui.py").exists() and (site / "assistant" / "shipped" / "prompts" / "system.md").exists()

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    # The session's corpus index: its sources are named corpus/... as the installed package names them too.
    env.update(PYTHONPATH=str(site), ASSISTANT_INDEX_DIR=str(corpus_assistant.settings.index_dir), ASSISTANT_PORT=str(port))
    where = subprocess.run(
        [sys.executable, "-c", "import assistant, ui; from assistant.settings import Settings; s = Settings(); "
         "print(assistant.__file__, ui.__file__, s.prompts_dir, s.corpus_dir, s.lexicon_path, sep='\\n')"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )
    assert where.returncode == 0, where.stderr[-3000:]
    paths = [Path(line) for line in where.stdout.split()]
    assert all(p.is_relative_to(site) for p in paths), paths
    assert all(p.exists() for p in paths[2:]), "the installed package finds its prompts, corpus and lexicon"

    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_for_http(url, proc, log_path, 300, "installed assistant serve")
            config = httpx.get(url + "config", timeout=10)
            assert config.status_code == 200 and "HK Tech AI Research Assistant" in config.text
        finally:
            stop_process(proc)
    text = log_path.read_text(errors="replace")
    assert "warmed up in" in text and "Traceback" not in text, text[-3000:]
