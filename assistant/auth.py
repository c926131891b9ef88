"""ASSISTANT_AUTH: who may sign in to the web page."""

from __future__ import annotations

from pathlib import Path


def parse_auth(value: str | None) -> list[tuple[str, str]] | None:
    """None, `user:pass,user2:pass2`, or a path to a file of such entries (one or more per line, blank lines and
    # comments ignored). Passwords may contain ':' (only the first one splits). Messages never echo an entry."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    path = Path(text).expanduser()
    origin = "ASSISTANT_AUTH"
    if path.is_file():
        origin = f"auth file {path}"
        text = path.read_text(encoding="utf-8-sig")
    elif ":" not in text:
        raise ValueError("ASSISTANT_AUTH is neither user:password pairs nor the path of an existing file")
    pairs: list[tuple[str, str]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for item in line.split(","):
            item = item.strip()
            if not item:
                continue
            user, sep, password = item.partition(":")
            if not sep or not user.strip() or not password:
                # never echo the entry: it may hold a password
                raise ValueError(f"{origin}, line {line_no}: every entry must be user:password (one is malformed)")
            pairs.append((user.strip(), password))
    if not pairs:
        raise ValueError(f"{origin} holds no user:password entries")
    return pairs
