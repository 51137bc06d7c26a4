"""The HDF5 model file: a documented layout that plain h5py can read (see the README, "Model files").

JSON goes into string attributes (configs, options, the generator state); arrays go into datasets. Large
things never go into attributes: HDF5 caps an attribute at 64 KiB, so the history is stored as datasets.

A file is built in memory and only then written to disk (by :mod:`netkit.io.atomic`). HDF5 writing to a
disk that fills up fails half-way through closing the file; the objects it could not close stay in the
library's tables, and HDF5's clean-up at process exit then crashes on them (a segmentation fault in
``H5D_close`` called from ``H5_term_library``). In memory no write can fail that way, and a full disk is an
ordinary ``OSError`` from writing plain bytes.

Reading is the other boundary: every dataset's declared size and type are checked against
:mod:`netkit.io.limits` before a byte of it is read, since a small file can declare (or compress) any size.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from netkit.errors import ModelFileError
from netkit.io.limits import MAX_PARAMETERS_ENV, element_budget, max_parameters
from netkit.io.record import ARRAY_KINDS, EPOCH_FIELDS, check_header, one_line

# Exceptions h5py, numpy and json raise on damaged or unexpected content; each becomes a ModelFileError.
# MemoryError: a dataset can declare any shape, and reading it allocates that much.
READ_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError, IndexError, MemoryError)


def hdf5_bytes(record: Mapping[str, Any]) -> bytes:
    """The complete HDF5 file of ``record`` (see :mod:`netkit.io.record`), built in memory."""
    # A file object rather than the core driver's image of a still-open file: closing first means the
    # bytes are exactly those HDF5 writes to a disk file, superblock and all.
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        file.attrs["format"] = record["format"]
        file.attrs["format_version"] = record["format_version"]
        file.attrs["netkit_version"] = record["netkit_version"]
        for name in ("config", "training", "rng_state"):
            file.attrs[name] = json.dumps(record[name])
        layers = file.create_group("layers")
        for index, (parameters, spec) in enumerate(zip(record["layers"], record["config"]["layers"], strict=True)):
            group = layers.create_group(str(index))
            group.attrs["spec"] = json.dumps(spec)
            for name, array in parameters.items():
                group.create_dataset(name, data=array)
        _write_history(file.create_group("history"), record["history"])
        optimizer = record["optimizer"]
        if optimizer is not None:
            group = file.create_group("optimizer")
            group.attrs["config"] = json.dumps(optimizer["config"])
            group.attrs["state"] = json.dumps(optimizer["values"])
            arrays = group.create_group("state")
            for name, array in optimizer["arrays"].items():
                arrays.create_dataset(name, data=array)
    return buffer.getvalue()


def _write_history(group: Any, history: Mapping[str, Any]) -> None:
    group.create_dataset("iteration_loss", data=history["iteration_loss"])
    epochs = group.create_group("epochs")
    for name, annotation in EPOCH_FIELDS.items():
        column = [record[name] for record in history["epochs"]]
        if annotation == "int":
            epochs.create_dataset(name, data=np.asarray(column, dtype=np.int64))
        else:  # NaN marks a value that was not measured (no validation set)
            values = [np.nan if value is None else value for value in column]
            epochs.create_dataset(name, data=np.asarray(values, dtype=np.float64))


def read_hdf5(path: Path) -> dict[str, Any]:
    """The record stored in ``path``: checked for shape here, for meaning by ``record.decode``."""
    try:
        file = h5py.File(path, "r")
    except READ_ERRORS as exc:
        raise ModelFileError(f"not an HDF5 file, or a damaged one ({one_line(exc)})") from None
    try:
        with file:
            return _read(file)
    except READ_ERRORS as exc:
        raise ModelFileError(f"damaged or unexpected HDF5 content ({one_line(exc)})") from None


def _text(value: Any, what: str) -> str:
    if isinstance(value, bytes | np.bytes_):  # fixed-length strings written by other tools
        return bytes(value).decode("utf-8")
    if not isinstance(value, str):
        raise ModelFileError(f"{what} should be a string, got {type(value).__name__}")
    return value


def _where(node: Any) -> str:
    return "the file" if node.name == "/" else str(node.name)


def _json_attribute(node: Any, name: str, default: Any = None, required: bool = False) -> Any:
    if name not in node.attrs:
        if required:
            raise ModelFileError(f"{_where(node)} lacks the {name!r} attribute")
        return default
    text = _text(node.attrs[name], f"attribute {name!r} of {_where(node)}")
    try:
        return json.loads(text)
    except ValueError:
        raise ModelFileError(f"attribute {name!r} of {_where(node)} is not valid JSON") from None


def _member(node: Any, name: str, kind: type, required: bool = True) -> Any:
    # An external link would make h5py open another file, whose sizes were never checked: refused.
    if isinstance(node.get(name, getlink=True), h5py.ExternalLink):
        raise ModelFileError(
            f"{node.name.rstrip('/')}/{name} links to another file; a model file must hold its own data"
        )
    if name not in node:
        if required:
            raise ModelFileError(f"{node.name.rstrip('/')}/{name} is missing")
        return None
    member = node[name]
    if not isinstance(member, kind):
        raise ModelFileError(f"{member.name} should be an HDF5 {kind.__name__.lower()}")
    return member


def _datasets(group: Any) -> dict[str, np.ndarray[Any, Any]]:
    arrays = {}
    for name in group:
        arrays[name] = np.asarray(_member(group, name, h5py.Dataset)[()])
    return arrays


def _check_declared_sizes(file: Any) -> None:
    """Refuse datasets that are not numbers, or that declare more values than a model file may hold."""
    budget = element_budget()
    declared = 0

    def visit(name: str, node: Any) -> None:
        nonlocal declared
        if not isinstance(node, h5py.Dataset):
            return
        if node.dtype.kind not in ARRAY_KINDS:
            kind = "text" if h5py.check_string_dtype(node.dtype) is not None else f"dtype {node.dtype}"
            raise ModelFileError(f"{node.name} holds {kind}; netkit model files hold numbers only")
        declared += math.prod(node.shape or ())  # math.prod: numpy's product would overflow on a crafted shape
        if declared > budget:
            raise ModelFileError(
                f"its datasets declare more than {budget:,} values (at {node.name}), beyond netkit's ceiling "
                f"of {max_parameters():,} parameters; set {MAX_PARAMETERS_ENV} to raise it if you trust the file"
            )

    file.visititems(visit)


def _read(file: Any) -> dict[str, Any]:
    attributes = file.attrs
    format_name = attributes.get("format")
    if format_name is not None:
        format_name = _text(format_name, "attribute 'format'")
    check_header(format_name, attributes.get("format_version"), kind="HDF5 file", entry="attribute")
    _check_declared_sizes(file)
    return {
        "format": format_name,
        "format_version": int(attributes["format_version"]),
        "netkit_version": _text(attributes.get("netkit_version", "unknown"), "attribute 'netkit_version'"),
        "config": _json_attribute(file, "config", required=True),
        "training": _json_attribute(file, "training", default={}),
        "rng_state": _json_attribute(file, "rng_state"),
        "layers": _read_layers(_member(file, "layers", h5py.Group)),
        "history": _read_history(_member(file, "history", h5py.Group, required=False)),
        "optimizer": _read_optimizer(_member(file, "optimizer", h5py.Group, required=False)),
    }


def _read_layers(layers: Any) -> list[dict[str, np.ndarray[Any, Any]]]:
    names = set(layers)
    expected = [str(index) for index in range(len(names))]
    if names != set(expected):
        raise ModelFileError(f"its layer groups should be named layers/0, layers/1, ...; found {sorted(names)}")
    return [_datasets(_member(layers, name, h5py.Group)) for name in expected]


def _read_history(history: Any) -> dict[str, Any]:
    if history is None:
        return {"iteration_loss": np.zeros(0), "epochs": []}
    losses = _member(history, "iteration_loss", h5py.Dataset, required=False)
    epochs = _member(history, "epochs", h5py.Group, required=False)
    columns = _datasets(epochs) if epochs is not None else {}
    shapes = {name: column.shape for name, column in columns.items()}
    if len(set(shapes.values())) > 1 or any(len(shape) != 1 for shape in shapes.values()):
        raise ModelFileError(f"the history/epochs columns should be one-dimensional and equally long: {shapes}")
    rows = next(iter(shapes.values()))[0] if shapes else 0
    return {
        "iteration_loss": np.zeros(0) if losses is None else np.asarray(losses[()]),
        "epochs": [{name: column[row].item() for name, column in columns.items()} for row in range(rows)],
    }


def _read_optimizer(optimizer: Any) -> dict[str, Any] | None:
    if optimizer is None:
        return None
    arrays = _member(optimizer, "state", h5py.Group, required=False)
    return {
        "config": _json_attribute(optimizer, "config", required=True),
        "values": _json_attribute(optimizer, "state", default={}),
        "arrays": _datasets(arrays) if arrays is not None else {},
    }
