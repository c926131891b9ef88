"""Uploads: sanitised names, the size limit, staging, and one remove for the page and the CLI that also deletes the
stored copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import cli
from assistant.uploads import UploadStore, safe_upload_name


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
    assert safe_upload_name(given) == expected


def test_safe_upload_name_never_leaves_a_directory():
    for name in ["../../etc/passwd", "/abs/x.md", "C:\\x\\y.txt", "....//....//x", "~/.ssh/id_rsa", "a/../../b.txt"]:
        safe = safe_upload_name(name)
        assert "/" not in safe and "\\" not in safe and ".." not in safe and not safe.startswith(".")
    assert len(safe_upload_name("x" * 500 + ".md")) <= 110


def test_staging_keeps_files_inside_the_uploads_folder_and_refuses_type_and_size(settings_factory, tmp_path):
    store = UploadStore(settings_factory(max_file_mb=0.001))
    given, other = tmp_path / "given", tmp_path / "other"
    given.mkdir()
    other.mkdir()
    (given / "a;rm -rf ~.md").write_text("# A\n\nsmall", encoding="utf-8")
    (given / "notes.exe").write_bytes(b"MZ")
    (given / "big.txt").write_text("x" * 5000, encoding="utf-8")
    (other / "a;rm -rf ~.md").write_text("# A2\n\nsame name, other folder", encoding="utf-8")
    staged = store.stage([str(p) for p in (given / "a;rm -rf ~.md", other / "a;rm -rf ~.md", given / "notes.exe", given / "big.txt")])
    root = (store.folder / ".incoming").resolve()  # staged until they index
    assert [Path(p).parent for p in staged.paths] == [root, root]
    assert list(staged.names.values()) == ["upload:a_rm -rf _.md", "upload:a_rm -rf _-2.md"]
    assert [r[0] for r in staged.refused] == ["upload:notes.exe", "upload:big.txt"]
    assert "unsupported type" in staged.refused[0][1] and "MB limit" in staged.refused[1][1]
    store.keep(staged, failed={"upload:a_rm -rf _-2.md"})
    assert sorted(p.name for p in store.folder.iterdir()) == [".incoming", "a_rm -rf _.md"]
    assert not list(root.iterdir())
    assert store.stored_copy("corpus/articles/x.md") is None and store.stored_copy("upload:../../x.md") == store.folder / "x.md"


def test_the_page_and_the_cli_share_one_remove_that_deletes_the_stored_upload(assistant_factory, tmp_path, monkeypatch, capsys):
    assistant = assistant_factory()
    for name in ("first.md", "second.md"):
        (tmp_path / name).write_text(f"# {name}\n\nZorblax公司2025年收入为7亿元。", encoding="utf-8")
    report = assistant.upload([str(tmp_path / "first.md"), str(tmp_path / "second.md")])
    assert report.added == ["upload:first.md", "upload:second.md"]
    folder = assistant.uploads.folder
    assert (folder / "first.md").exists() and (folder / "second.md").exists()

    assert assistant.remove("upload:first.md") >= 1
    assert not (folder / "first.md").exists() and assistant.index.document("upload:first.md") is None

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(assistant.settings.index_dir))
    assert cli.main(["remove", "upload:second.md"]) == 0
    assert "removed upload:second.md" in capsys.readouterr().out
    assert not (folder / "second.md").exists(), "`assistant remove` deletes the stored copy as the page does"
    assert cli.main(["remove", "upload:second.md"]) == 1
