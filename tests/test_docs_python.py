"""Every ``python`` block of the Python guide (docs/python.md) runs, in order, on the real MNIST, and does what
the page says (the site's build runs them too; this checks their results)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python[^\n]*\n(.*?)^```", PAGE, flags=re.M | re.S)


def test_the_section_has_its_blocks() -> None:
    assert len(BLOCKS) == 3
    assert "import netkit as nk" in BLOCKS[0] and "MLPClassifier" in BLOCKS[2]


def test_every_python_block_runs(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the blocks save model.h5 in the working folder
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(BLOCKS, start=1):
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
    model = namespace["model"]
    assert len(model.history) == 6  # type: ignore[attr-defined]
    assert (tmp_path / "model.h5").is_file()
    assert "13,002" in printed.getvalue()
