"""Saving and loading model files, with the format chosen by extension: the boundary where every problem
with a file becomes one :class:`ModelFileError` line that names the path."""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from netkit.errors import ModelFileError
from netkit.io.atomic import interrupts_deferred, write_bytes_atomically
from netkit.io.hdf5 import hdf5_bytes, read_hdf5
from netkit.io.modelfile import ModelFile
from netkit.io.record import decode, encode, one_line
from netkit.io.safepickle import pickle_bytes, read_pickle
from netkit.model.network import Network

MODEL_EXTENSIONS: tuple[str, ...] = (".h5", ".hdf5", ".pkl", ".pickle")
_FORMAT_OF_EXTENSION = {".h5": "hdf5", ".hdf5": "hdf5", ".pkl": "pickle", ".pickle": "pickle"}
# Each format's whole file as bytes, built in memory: the disk sees one plain write (see netkit.io.hdf5).
_ENCODERS: dict[str, Callable[[Mapping[str, Any]], bytes]] = {"hdf5": hdf5_bytes, "pickle": pickle_bytes}
_DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
_READERS: dict[str, Callable[[Path], dict[str, Any]]] = {"hdf5": read_hdf5, "pickle": read_pickle}
# How each format's files begin: used only to explain a file whose extension names the other format.
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_PICKLE_OPCODE_PROTO = b"\x80"


def model_format(path: str | os.PathLike[str]) -> str:
    """``"hdf5"`` or ``"pickle"``, from the extension (``.h5``/``.hdf5``, ``.pkl``/``.pickle``)."""
    suffix = Path(path).suffix.lower()
    try:
        return _FORMAT_OF_EXTENSION[suffix]
    except KeyError:
        raise ModelFileError(
            f"{os.fspath(path)}: unknown model file extension {suffix or '(none)'!r}; "
            "use .h5 or .hdf5 (HDF5) or .pkl or .pickle (pickle)"
        ) from None


def save_model(model_file: ModelFile, path: str | os.PathLike[str], *, format: str | None = None) -> Path:
    """Write ``model_file`` to ``path`` atomically; ``format`` ("hdf5"/"pickle") overrides the extension."""
    target = Path(path)
    if format is None:
        format = model_format(target)
    elif format not in _ENCODERS:
        raise ModelFileError(f"unknown model file format {format!r}; use one of {', '.join(_ENCODERS)}")
    encoder = _ENCODERS[format]
    data = b""
    try:
        record = encode(model_file)
        with interrupts_deferred():
            data = encoder(record)
            write_bytes_atomically(target, data)
    except ModelFileError as exc:
        raise ModelFileError(f"cannot save {target}: {exc}") from None
    except OSError as exc:  # read-only folder, full disk, missing folder, target is a folder...
        raise ModelFileError(f"cannot save {target}: {save_problem(exc, len(data))}") from None
    except MemoryError:
        raise ModelFileError(f"cannot save {target}: out of memory while building the file") from None
    return target


def save_problem(exc: OSError, size: int | None = None) -> str:
    """What went wrong with a save, without the temporary's name (the user only knows the target's)."""
    if exc.errno in _DISK_FULL:
        needed = f" ({math.ceil(size / 1000):,} kB needed)" if size else ""
        return f"no space left on device{needed}"
    reason = exc.strerror or one_line(exc)
    return reason[:1].lower() + reason[1:]


def load_model(path: str | os.PathLike[str]) -> ModelFile:
    """Read and validate the model file at ``path``; any problem is a one-line :class:`ModelFileError`."""
    source = Path(path)
    format = model_format(source)
    try:
        _check_regular_file(source)
        return decode(_READERS[format](source))
    except ModelFileError as exc:
        raise ModelFileError(f"cannot load {source}: {exc}{_format_hint(source, format)}") from None
    except OSError as exc:  # unreadable (permissions), vanished between the checks and the read...
        raise ModelFileError(f"cannot load {source}: {one_line(exc)}") from None
    except MemoryError:  # the checks bound what a file can ask for; this machine had less than that
        raise ModelFileError(f"cannot load {source}: out of memory (the model is too large for this machine)") from None


def save(model: Network, path: str | os.PathLike[str], *, format: str | None = None) -> Path:
    """Save a model alone: no history, optimiser or training options."""
    return save_model(ModelFile(model), path, format=format)


def load(path: str | os.PathLike[str]) -> Network:
    """Load the model of a model file, ignoring its training context."""
    return load_model(path).model


def _check_regular_file(source: Path) -> None:
    if not source.exists():
        raise ModelFileError("no such file")
    if source.is_dir():
        raise ModelFileError("it is a folder, not a model file")
    if source.stat().st_size == 0:
        raise ModelFileError("the file is empty")


def _format_hint(source: Path, format: str) -> str:
    try:
        with open(source, "rb") as file:
            start = file.read(len(_HDF5_SIGNATURE))
    except OSError:
        return ""
    if format == "pickle" and start == _HDF5_SIGNATURE:
        return " (it is an HDF5 file: name it .h5)"
    if format == "hdf5" and start.startswith(_PICKLE_OPCODE_PROTO):
        return " (it looks like a pickle: name it .pkl)"
    return ""
