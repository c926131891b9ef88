"""The shape of the code: the page talks only to the facade, the assistant package has no import loop, and no module
reaches into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "assistant"
# What the page may import besides the facade: the standard library pieces it lays out with, gradio and pandas.
PAGE_IMPORTS = {"__future__", "html", "logging", "uuid", "collections.abc", "dataclasses", "typing", "gradio", "pandas"}


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in a file, at any depth (an import inside a function still makes a loop)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_the_page_imports_nothing_from_assistant_but_the_facade():
    modules = {module for module, _ in imports_of(ROOT / "ui.py")}
    assert {m for m in modules if m.startswith("assistant")} == {"assistant.research"}
    assert modules - {"assistant.research"} <= PAGE_IMPORTS, "the page holds no parsing or file handling"


def test_the_assistant_package_has_no_import_loop():
    graph = {
        path.stem: {module.split(".")[1] for module, _ in imports_of(path) if module.startswith("assistant.")}
        | {name for module, names in imports_of(path) if module == "assistant" for name in names}
        for path in PACKAGE.glob("*.py")
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        assert node not in visiting, "import loop: " + " -> ".join([*visiting[visiting.index(node) :], node])
        if node in done or node not in graph:
            return
        visiting.append(node)
        for nxt in sorted(graph[node]):
            visit(nxt)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def test_no_module_imports_another_modules_private_names():
    for path in [*PACKAGE.glob("*.py"), ROOT / "ui.py"]:
        for module, names in imports_of(path):
            if module.startswith("assistant"):
                private = [n for n in names if n.startswith("_")]
                assert not private, f"{path.name} imports {private} from {module}"


def test_evaluation_parts_import_one_way():
    order = ["questions", "scoring", "judge", "report", "evaluate"]
    for i, name in enumerate(order):
        later = set(order[i + 1 :])
        used = {m.split(".")[1] for m, _ in imports_of(PACKAGE / f"{name}.py") if m.startswith("assistant.")}
        assert not used & later, f"{name} imports {used & later}, which come after it"
