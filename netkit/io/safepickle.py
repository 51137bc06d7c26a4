"""Pickle model files that cannot run code when loaded, even when a stranger wrote them.

Unpickling runs code through *globals*: a pickle names any importable callable (``os.system``,
``builtins.eval``) and calls it. So a netkit pickle holds builtins only (dict, list, tuple, str, bytes,
int, float, bool, None) and the unpickler below refuses every global, with no exception.

Arrays are therefore stored as ``{"dtype": "<f4", "shape": (784, 16), "data": <raw little-endian bytes>}``
instead of pickled numpy arrays. Allowing numpy's own pickle support instead would mean allowing
``numpy._core.multiarray._reconstruct``, ``numpy._core.numeric._frombuffer``, ``numpy.dtype`` and
``numpy._core.multiarray.scalar``: private names that moved between numpy 1.x and 2.x (``numpy.core`` became
``numpy._core``), each callable with whatever arguments the file chooses, and able to build object arrays
whose contents are again arbitrary pickled objects. An empty allow-list has nothing to audit; the dtype of
each array is checked against a short list of numeric types before numpy sees it. A side benefit: plain
``pickle.load`` reads the file without numpy installed.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from netkit.errors import ModelFileError
from netkit.io.limits import MAX_PARAMETERS_ENV, element_budget, max_parameters
from netkit.io.record import check_header, expect_list, expect_mapping, one_line

# Protocol 4 (Python 3.4+): framing and 8-byte lengths for large arrays; nothing protocol 5 adds is needed.
PROTOCOL = 4
# Little-endian booleans, integers and floats: the only element types an array entry may have.
# Model arrays have one or two axes; numpy itself stops at 64.
MAX_DIMENSIONS = 8
ALLOWED_DTYPES = frozenset({"|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8"})


class RestrictedUnpickler(pickle.Unpickler):
    """Builds builtin containers and scalars only; any reference to a global or persistent id is refused."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise ModelFileError(
            f"refusing to load it: the pickle references {module}.{name}, which could run code "
            "(netkit pickles hold plain data only)"
        )

    def persistent_load(self, pid: Any) -> NoReturn:
        raise ModelFileError("refusing to load it: the pickle uses persistent ids, which netkit pickles never do")


def pack_array(array: np.ndarray[Any, Any]) -> dict[str, Any]:
    """An array as plain data: dtype string, shape and raw little-endian bytes."""
    little_endian = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    if little_endian.dtype.str not in ALLOWED_DTYPES:
        raise ModelFileError(f"cannot pickle an array of dtype {array.dtype}: only numbers are stored")
    return {
        "dtype": little_endian.dtype.str,
        "shape": tuple(little_endian.shape),
        "data": little_endian.tobytes(),
    }


def unpack_array(entry: Any, what: str) -> np.ndarray[Any, Any]:
    """The array an untrusted :func:`pack_array` entry describes (native byte order), or a ModelFileError."""
    if not isinstance(entry, Mapping) or set(entry) != {"dtype", "shape", "data"}:
        raise ModelFileError(f"{what} should be an array entry with 'dtype', 'shape' and 'data'")
    dtype, shape, data = entry["dtype"], entry["shape"], entry["data"]
    # Checked before numpy parses it: np.dtype accepts far more than numbers.
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ModelFileError(f"{what} has dtype {dtype!r}; allowed: {', '.join(sorted(ALLOWED_DTYPES))}")
    if (
        not isinstance(shape, tuple | list)
        or len(shape) > MAX_DIMENSIONS
        or not all(isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape)
    ):
        raise ModelFileError(f"{what} has an invalid shape {shape!r}")
    if not isinstance(data, bytes | bytearray):
        raise ModelFileError(f"{what} data should be bytes, got {type(data).__name__}")
    element = np.dtype(dtype)
    needed = math.prod(shape) * element.itemsize
    if len(data) != needed:
        raise ModelFileError(f"{what} holds {len(data)} bytes but dtype {dtype} and shape {tuple(shape)} need {needed}")
    return np.frombuffer(data, dtype=element).reshape(shape).astype(element.newbyteorder("="))


def pickle_bytes(record: Mapping[str, Any]) -> bytes:
    """The pickle of ``record`` (see :mod:`netkit.io.record`), builtins only."""
    history, optimizer = record["history"], record["optimizer"]
    payload = {
        **record,
        "layers": [{name: pack_array(array) for name, array in layer.items()} for layer in record["layers"]],
        "history": {"iteration_loss": pack_array(history["iteration_loss"]), "epochs": history["epochs"]},
        "optimizer": None
        if optimizer is None
        else {
            **optimizer,
            "arrays": {name: pack_array(array) for name, array in optimizer["arrays"].items()},
        },
    }
    return pickle.dumps(payload, protocol=PROTOCOL)


def largest_pickle() -> int:
    """The largest pickle file netkit reads: the array budget at 8 bytes a value, plus room for the rest."""
    return element_budget() * 8 + (1 << 20)


def read_pickle(path: Path) -> dict[str, Any]:
    """The record in a netkit pickle, with arrays unpacked; checked for shape, not yet for meaning."""
    size = path.stat().st_size
    if size > largest_pickle():
        raise ModelFileError(
            f"it is {size:,} bytes, more than a model within netkit's ceiling of {max_parameters():,} parameters "
            f"needs; set {MAX_PARAMETERS_ENV} to raise it if you trust the file"
        )
    # Unpickled from memory: every length the pickle declares is then checked against the bytes that are
    # really there, where reading from a file would first allocate whatever length the file claims.
    data = path.read_bytes()
    try:
        payload = RestrictedUnpickler(io.BytesIO(data)).load()
    except ModelFileError:
        raise
    except Exception as exc:  # untrusted bytes make the unpickler raise almost anything; all mean "damaged"
        raise ModelFileError(f"not a pickle, or a damaged one ({type(exc).__name__}: {one_line(exc)})") from None
    del data
    payload = expect_mapping(payload, "the pickled object")
    check_header(payload.get("format"), payload.get("format_version"), kind="pickle", entry="key")
    history = expect_mapping(payload.get("history"), "history")
    optimizer = payload.get("optimizer")
    if optimizer is not None:
        optimizer = expect_mapping(optimizer, "optimizer")
        arrays = expect_mapping(optimizer.get("arrays", {}), "optimizer state arrays")
        optimizer = {
            **optimizer,
            "arrays": {name: unpack_array(entry, f"optimizer state {name!r}") for name, entry in arrays.items()},
        }
    layers = []
    for index, layer in enumerate(expect_list(payload.get("layers"), "layers")):
        parameters = expect_mapping(layer, f"layer {index} parameters")
        layers.append({name: unpack_array(entry, f"layer {index} {name!r}") for name, entry in parameters.items()})
    return {
        **payload,
        "layers": layers,
        "history": {
            "iteration_loss": unpack_array(history.get("iteration_loss"), "history iteration_loss"),
            "epochs": history.get("epochs"),
        },
        "optimizer": optimizer,
    }
