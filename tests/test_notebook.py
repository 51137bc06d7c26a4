"""``examples/notebooks/first-network.ipynb`` runs headlessly from top to bottom, so it never goes stale."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "notebooks" / "first-network.ipynb"


def test_the_first_network_notebook_runs_and_shows_its_training(data_root: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:  # run from scratch, not from the outputs stored for readers
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    streams = "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "epoch 2/2 [========================] 1688/1688" in streams  # the progress bar was drawn
    assert "test accuracy" in streams and "dense_1 {'weight': (784, 16), 'bias': (16,)}" in streams
    displayed = [
        output["data"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "execute_result"
    ]
    assert any("text/html" in data and "13,002" in data["text/html"] for data in displayed)  # summary()
    assert sum("image/png" in data for data in displayed) == 3  # the loss plot, the weights, the digit
    assert "finite differences agree: True" in streams and "written-out sum equals z: True" in streams
    assert any("text/html" in data and "netkit-trace" in data["text/html"] for data in displayed)  # model.trace
    assert (tmp_path / "first-network.h5").is_file()


def test_the_notebook_uses_only_the_public_api() -> None:
    """What a learner copies out of the notebook must keep working: no private names, no internals."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    for internal in ("model.trainer", "parameter_views", "netkit.pictures.", "._"):
        assert internal not in code, internal
