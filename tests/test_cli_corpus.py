"""The `assistant` corpus commands, run as a user runs them: a real process with ASSISTANT_* in its environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.ingest import source_name
from tests.conftest import free_port

NOTE = "# 小米\n小米的估值仍然滞后于基本面。玄戒O1芯片已经量产。\n## 生态\n人车家生态形成闭环。\n"


def run_cli(*args: str, index_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_INDEX_DIR": str(index_dir), "PYTHONIOENCODING": "utf-8", **(extra_env or {})})
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def test_cli_ingest_prints_a_summary_with_added_unchanged_and_failed_counts(tmp_path: Path) -> None:
    note = tmp_path / "xiaomi.md"
    note.write_text(NOTE, encoding="utf-8")
    missing = tmp_path / "missing.md"
    index = tmp_path / "index"

    first = run_cli("ingest", str(note), str(missing), index_dir=index, cwd=tmp_path)
    second = run_cli("ingest", str(note), index_dir=index, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "added 1, updated 0, unchanged 0, failed 1 (2 chunks written, 2 embedded)" in first.stdout
    assert f"failed: {missing}: no such file or folder" in first.stdout
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[0] == "added 0, updated 0, unchanged 1, failed 0 (0 chunks written, 0 embedded)"


def test_cli_sources_lists_an_ingested_file_and_remove_deletes_it(tmp_path: Path) -> None:
    note = tmp_path / "xiaomi.md"
    note.write_text(NOTE, encoding="utf-8")
    index = tmp_path / "index"
    source = source_name(note)
    assert run_cli("ingest", str(note), index_dir=index, cwd=tmp_path).returncode == 0

    listed = run_cli("sources", index_dir=index, cwd=tmp_path)
    removed = run_cli("remove", source, "never-indexed.md", index_dir=index, cwd=tmp_path)
    after = run_cli("sources", "--json", index_dir=index, cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "xiaomi.md" in line)
    assert "小米" in row and row.rstrip().endswith("2")
    assert listed.stdout.rstrip().endswith("1 sources, 2 chunks")
    assert f"removed {source} (2 chunks)" in removed.stdout
    assert removed.returncode == 1, "one of the two sources was not indexed"
    assert "never-indexed.md is not indexed" in removed.stderr
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == []


def test_cli_ingest_of_only_a_missing_path_reports_it_as_failed_and_exits_nonzero(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "report.pdf"

    result = run_cli("ingest", str(missing), index_dir=tmp_path / "index", cwd=tmp_path)

    assert result.returncode == 1
    assert "added 0, updated 0, unchanged 0, failed 1" in result.stdout
    assert f"failed: {missing}: no such file or folder" in result.stdout


def test_cli_reports_an_unreachable_chroma_server_by_its_setting(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_cli("sources", index_dir=tmp_path / "index", cwd=tmp_path, extra_env={"ASSISTANT_CHROMA_URL": url})

    assert result.returncode == 2
    assert result.stderr.startswith("error: index unavailable")
    assert "ASSISTANT_CHROMA_URL" in result.stderr and url in result.stderr
    assert "Traceback" not in result.stderr
