"""The README and the docs stay true: quick start, CI's test command, and a row for every built-in plugin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netkit.registry import default_registry

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PLUGINS_PAGE = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
FILES_PAGE = (ROOT / "docs" / "files.md").read_text(encoding="utf-8")


def _ci_test_command() -> str:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    marker = next(i for i, line in enumerate(lines) if "README-TEST-COMMAND" in line)
    return lines[marker + 1].strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _ci_test_command()
    assert "pytest" in command
    assert command in README, f"the README must show CI's test command verbatim: {command}"


def test_quick_start_has_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```(?:bash|sh)\n(.*?)\n```", section, flags=re.M | re.S)
    assert len(commands) == 2, commands
    assert "netkit train" in commands[0] and "pip install" in commands[0]
    assert commands[1] == _ci_test_command()


BUILTINS = [info for info in default_registry().describe() if info.distribution == "netkit-nn"]


@pytest.mark.parametrize("info", BUILTINS, ids=[f"{i.group}:{i.name}" for i in BUILTINS])
def test_every_builtin_plugin_has_a_row_in_the_docs_plugin_table(info: object) -> None:
    group, name = info.group, info.name  # type: ignore[attr-defined]
    assert re.search(rf"^\| `{group}` \| `{re.escape(name)}` \|", PLUGINS_PAGE, flags=re.M), (
        f"the plugin table of docs/plugins.md lacks a row for {group} {name!r}"
    )


def test_no_builtin_plugin_fails_to_load() -> None:
    broken = [f"{i.group}:{i.name}: {i.error}" for i in BUILTINS if not i.loaded]
    assert not broken, broken


def test_the_docs_h5py_recipe_reads_a_real_model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from netkit.io import ModelFile, save_model
    from netkit.model.network import Network
    from netkit.training.trainer import Trainer

    from .conftest import SEED_ARCHITECTURE

    recipe = FILES_PAGE.split("Reading a model with nothing but h5py and NumPy", 1)[1]
    code = re.search(r'```python exec="on" source="above"[^\n]*\n(.*?)```', recipe, flags=re.S)
    assert code is not None
    rng = np.random.default_rng(0)
    model = Network(784, SEED_ARCHITECTURE)
    trainer = Trainer(model, default_registry().create("optimizers", "mini-batch"))
    trainer.fit(rng.uniform(0, 1, (64, 784)).astype(np.float32), rng.integers(0, 10, 64), 1)
    save_model(ModelFile.from_trainer(trainer), tmp_path / "model.h5")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "docs/files.md recipe", "exec"), namespace)
    expected = model.predict_proba(namespace["inputs"])  # type: ignore[arg-type]
    np.testing.assert_allclose(namespace["x"], expected, rtol=1e-4, atol=1e-6)  # type: ignore[arg-type]
