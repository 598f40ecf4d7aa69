"""The package's layers: its import graph has no cycle (function-level imports
counted), the command line is on top, the pipeline under it, and only the
checkpoints import the development package (the command line loads it by name for
`cdp generate` and `cdp score`)."""

from __future__ import annotations

import ast
from pathlib import Path

from cdp.project import project_dir

PACKAGE = project_dir() / "scripts" / "cdp"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Per module of cdp, the modules of cdp and cdp_dev it imports, anywhere in it."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = ([f"{node.module}.{alias.name}" for alias in node.names]
                         if node.module == "cdp" else [node.module])
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {name for name in names if name.split(".")[0] in ("cdp", "cdp_dev")}
        graph[module_name(path)] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle found by a depth-first walk, as the modules along it."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(path: list[str]) -> None:
        for imported in sorted(graph[path[-1]] & graph.keys()):
            if imported in path:
                found.append([*path[path.index(imported):], imported])
            elif imported not in done:
                visit([*path, imported])
        done.add(path[-1])

    for module in sorted(graph):
        if module not in done:
            visit([module])
    return found


def test_the_import_graph_has_no_cycle_and_the_command_line_is_on_top():
    graph = imports()

    assert len(graph) > 30
    assert cycles(graph) == []
    assert [m for m, imported in graph.items() if "cdp.cli" in imported] == []
    assert [m for m, imported in graph.items() if "cdp.pipeline" in imported] == ["cdp.cli"]
    assert {m for m, imported in graph.items()
            if any(name.startswith("cdp_dev") for name in imported)} == {"cdp.faults"}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) != []
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
