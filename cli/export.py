"""``netkit export``: copy a model file into the other format (chosen by the destination's extension)."""

from __future__ import annotations

from pathlib import Path

import click

from netkit.bridges.export import ONNX_OPSET, save_npz, save_onnx
from netkit.errors import ModelFileError
from netkit.io import model_format, save_model
from netkit.training.trainer import History

from .models import open_model, resolve_model

# Formats for other tools: the model's weights and config only, never its training run.
OUTSIDE_FORMATS = {".onnx": save_onnx, ".npz": save_npz}


@click.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite DESTINATION if it exists.")
@click.option(
    "--slim",
    is_flag=True,
    help="Keep weights, config and per-epoch history only: a file of tens of kB that cannot --resume.",
)
def export(source: Path, destination: Path, force: bool, slim: bool) -> None:
    """Convert SOURCE to DESTINATION; the format follows DESTINATION's extension.

    \b
    .h5 / .hdf5      HDF5 (readable with plain h5py)
    .pkl / .pickle   restricted pickle (numpy arrays and builtins only)
    .onnx            ONNX graph for onnxruntime and other tools (needs: pip install 'netkit-nn[onnx]')
    .npz             NumPy arrays, one per parameter, and the config as JSON

    Everything is kept: weights, history, optimizer state and training options, so training can resume
    from either file. --slim drops the loss of every iteration, the optimizer state and the batch order
    (the bulk of a file from a long run), as for the pre-trained model that ships with netkit.
    """
    suffix = destination.suffix.lower()
    file_format = suffix[1:] if suffix in OUTSIDE_FORMATS else model_format(destination)
    if destination.exists() and not force:
        raise ModelFileError(f"{destination} exists; use --force to overwrite it")
    source_path = resolve_model(source)  # a file, or a shipped model's name
    if destination.exists() and destination.resolve() == source_path.resolve():
        raise ModelFileError(f"{source} and {destination} are the same file")
    _, model_file = open_model(source_path)
    if suffix in OUTSIDE_FORMATS:
        written = OUTSIDE_FORMATS[suffix](model_file.model, destination)
        detail = f"onnx, opset {ONNX_OPSET}" if suffix == ".onnx" else "npz: arrays and config JSON"
        click.echo(f"{source} ({model_format(source_path)}) -> {written} ({detail}) · {model_file.model}")
        return
    if slim:
        model_file.history = History(model_file.history.epochs, [])
        model_file.optimizer, model_file.optimizer_state, model_file.rng_state = None, {}, None
    written = save_model(model_file, destination, format=file_format)
    click.echo(f"{source} ({model_format(source_path)}) -> {written} ({file_format}) · {model_file.model}")
