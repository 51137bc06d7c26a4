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
