"""The dependency direction of DESIGN.md section 2: cli -> netkit, plugins -> netkit, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


CORE = sorted((ROOT / "netkit").rglob("*.py"))


@pytest.mark.parametrize("path", CORE, ids=[str(p.relative_to(ROOT)) for p in CORE])
def test_the_core_imports_no_ui_and_no_plugin_by_name(path: Path) -> None:
    forbidden = {
        name
        for name in _imported_modules(path)
        if name.split(".")[0] in {"click", "rich"} or name.startswith(("netkit.plugins", "netkit.cli"))
    }
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


PLUGINS = sorted((ROOT / "plugins").rglob("*.py"))


@pytest.mark.parametrize("path", PLUGINS, ids=[str(p.relative_to(ROOT)) for p in PLUGINS])
def test_plugins_do_not_import_the_cli(path: Path) -> None:
    imported = _imported_modules(path)
    forbidden = {n for n in imported if n.split(".")[0] in {"click", "rich"} or n.startswith("netkit.cli")}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {sorted(forbidden)}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_level_imports(path: Path) -> set[str]:
    """netkit modules imported when ``path`` is imported: top-level statements, not TYPE_CHECKING blocks."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("netkit")}


def _core_import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in CORE}
    return {
        name: {target for target in _module_level_imports(path) if target in modules} for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()
    for start in sorted(graph):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for target in sorted(graph[node]):
                if target == start:
                    return [*trail, start]
                if target not in trail and target not in done:
                    stack.append((target, [*trail, target]))
        done.add(start)
    return None


def test_the_core_has_no_import_cycle() -> None:
    cycle = _cycle(_core_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
