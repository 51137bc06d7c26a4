"""Every ``python`` block of the Python guide (docs/python.md) runs, in order, on the real MNIST, and does what
the page says (the site's build runs them too; this checks their results)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python[^\n]*\n(.*?)^```", PAGE, flags=re.M | re.S)


def test_the_section_has_its_blocks() -> None:
    assert len(BLOCKS) == 4
    assert "import netkit as nk" in BLOCKS[0] and "nk.pictures" in BLOCKS[2] and "MLPClassifier" in BLOCKS[3]


def test_every_python_block_runs(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the blocks save model.h5 in the working folder
    # The site's build puts its picture helper (docs/hooks.py) in reach of the blocks; here a stand-in that
    # checks the picture was written.
    helper = types.ModuleType("netkit_docs")
    helper.picture = lambda path, alt: f"<img alt='{alt}' src='{Path(path).stat().st_size} bytes'>"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "netkit_docs", helper)
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(BLOCKS, start=1):
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
    model = namespace["model"]
    assert len(model.history) == 6  # type: ignore[attr-defined]
    assert (tmp_path / "model.h5").is_file()
    assert (tmp_path / "weights.png").is_file()  # nk.pictures drew the first layer
    assert "13,002" in printed.getvalue()
