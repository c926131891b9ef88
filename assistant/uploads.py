"""Files added from the web page: sanitised names, the size limit, staging, and the stored copy of each upload.

An upload is indexed under the source name `upload:NAME` and its file is kept as ASSISTANT_INDEX_DIR/uploads/NAME.
It is staged in uploads/.incoming first and replaces the stored copy only once it has indexed, so a failed
re-upload never overwrites the file of the version that is still in the index.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from assistant.loaders import SUPPORTED
from assistant.settings import Settings

UPLOAD_PREFIX = "upload:"


def safe_upload_name(name: str) -> str:
    """A plain file name for an upload, whatever the browser claimed: no directories, no `..`, no drive letters,
    no hidden files, no characters a shell or HTML would treat specially."""
    base = unicodedata.normalize("NFKC", str(name or "")).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\-+()\[\] ]", "_", base)  # \w keeps CJK letters
    base = re.sub(r"\.{2,}", ".", base).strip(" ._")
    if not base:
        return "upload"
    stem, dot, suffix = base.rpartition(".")
    if dot and stem and len(suffix) <= 10:
        return f"{stem[:100].rstrip(' .')}.{suffix}"
    return base[:110]


@dataclass
class Staged:
    """Uploads copied to the staging folder: their paths, the source name of each, and the ones refused."""

    paths: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # staged path -> source name
    refused: list[tuple[str, str]] = field(default_factory=list)  # (source name, reason)


class UploadStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.folder = Path(settings.index_dir) / "uploads"

    def stage(self, files: list[str]) -> Staged:
        """Copy uploads to uploads/.incoming under sanitised, distinct names; refuse unsupported and oversized files."""
        incoming = (self.folder / ".incoming").resolve()
        incoming.mkdir(parents=True, exist_ok=True)
        staged = Staged()
        used: set[str] = set()
        limit = self.settings.max_file_mb * 1_000_000  # the same MB as the ingest limit
        for item in files or []:
            src = Path(item if isinstance(item, str) else getattr(item, "name", str(item)))
            name = safe_upload_name(src.name)
            stem, dot, suffix = name.rpartition(".")
            n = 2
            while name in used:
                name = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
                n += 1
            used.add(name)
            source = UPLOAD_PREFIX + name
            if Path(name).suffix.lower() not in SUPPORTED:
                staged.refused.append((source, f"unsupported type; supported: {', '.join(sorted(SUPPORTED))}"))
                continue
            if src.stat().st_size > limit:
                staged.refused.append((source, f"is over the {self.settings.max_file_mb:g} MB limit (ASSISTANT_MAX_FILE_MB)"))
                continue
            target = (incoming / name).resolve()
            if target.parent != incoming:  # cannot happen with a sanitised name; refuse rather than trust it
                staged.refused.append((source, "unsafe file name"))
                continue
            shutil.copyfile(src, target)
            staged.paths.append(str(target))
            staged.names[str(target)] = source
        return staged

    def keep(self, staged: Staged, failed: set[str]) -> None:
        """Uploads that indexed replace their stored copy; a file that did not index is not kept."""
        for path, source in staged.names.items():
            file = Path(path)
            if source in failed:
                file.unlink(missing_ok=True)
            elif file.exists():
                os.replace(file, self.folder / file.name)

    def stored_copy(self, source: str) -> Path | None:
        """The kept file of an `upload:` source (None for any other source, or a name that would leave the folder)."""
        if not source.startswith(UPLOAD_PREFIX):
            return None
        path = self.folder / safe_upload_name(source[len(UPLOAD_PREFIX) :])
        return path if path.resolve().parent == self.folder.resolve() else None

    def delete(self, source: str) -> bool:
        """Delete the kept file of an upload; True when there was one."""
        path = self.stored_copy(source)
        if path is None or not path.exists():
            return False
        path.unlink()
        return True
