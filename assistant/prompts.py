"""Prompt templates live in prompts/ as plain files; this loads them by name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=64)
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


class Prompts:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def get(self, name: str) -> str:
        """`get("system")` reads prompts/system.md (or .txt)."""
        for suffix in (".md", ".txt", ""):
            path = self.directory / f"{name}{suffix}"
            if path.exists():
                return _read(path)
        raise FileNotFoundError(f"prompt {name!r} not found in {self.directory} (ASSISTANT_PROMPTS_DIR)")

    def refusal(self, language: str, subject: str = "", attribute: str = "") -> str:
        """The fixed refusal (scored exactly); with a subject, a line before it names what was asked about, so a
        reader sees that a follow-up ("它的估值呢?") was understood even when the sources do not answer it."""
        code = "zh" if language == "zh" else "en"
        fixed = self.get(f"refusal_{code}")
        if not subject:
            return fixed
        return self.get(f"refusal_about_{code}").format(subject=subject, attribute=attribute or "?") + ("" if code == "zh" else " ") + fixed
