"""A pickle from a stranger never runs code: netkit pickles are plain data; the unpickler refuses globals."""

from __future__ import annotations

import builtins
import os
import pickle
import pickletools
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from netkit.errors import ModelFileError
from netkit.io import ModelFile, load_model, save_model
from netkit.io.safepickle import ALLOWED_DTYPES, pack_array, unpack_array
from netkit.model.network import Network

# Opcodes through which a pickle reaches a global or calls something.
CODE_OPCODES = {
    "GLOBAL",
    "STACK_GLOBAL",
    "INST",
    "OBJ",
    "REDUCE",
    "NEWOBJ",
    "NEWOBJ_EX",
    "EXT1",
    "EXT2",
    "EXT4",
}


class Payload:
    """Pickles as ``function(*arguments)``: what an attacker's pickle does on load."""

    def __init__(self, function: Any, *arguments: Any) -> None:
        self.function, self.arguments = function, arguments

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.function, self.arguments


class OriginalNetwork:
    """The original program pickled its network object as it was: an arbitrary object graph."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.sizes = [784, 16, 10]
        self.weights = [rng.standard_normal((16, 784)), rng.standard_normal((10, 16))]


def attacks(marker: Path) -> dict[str, bytes]:
    """Pickles that would create ``marker`` if they were ever loaded with the plain unpickler."""
    command = f"touch {marker}"
    return {
        "os.system, hand-written": b"cos\nsystem\n(S'" + command.encode() + b"'\ntR.",
        "posix.system": pickle.dumps(Payload(os.system, command)),
        "builtins.open": pickle.dumps(Payload(builtins.open, str(marker), "w")),
        "builtins.eval": pickle.dumps(Payload(eval, f"open({str(marker)!r}, 'w')")),
        "builtins.exec": pickle.dumps(Payload(exec, f"open({str(marker)!r}, 'w')")),
        "subprocess.Popen": pickle.dumps(Payload(subprocess.Popen, ["touch", str(marker)])),
        # The attack hidden inside an otherwise well-formed netkit record.
        "inside a model record": pickle.dumps(
            {"format": "netkit-model", "format_version": 1, "config": Payload(os.system, command)}
        ),
    }


def test_the_attack_pickles_really_would_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "proof"
    pickle.loads(attacks(marker)["builtins.open"]).close()  # the plain unpickler obeys
    assert marker.exists()


@pytest.mark.parametrize("attack", list(attacks(Path("marker"))))
def test_loading_a_malicious_pickle_fails_without_running_it(tmp_path: Path, attack: str) -> None:
    marker = tmp_path / "created-by-the-payload"
    path = tmp_path / "model.pkl"
    path.write_bytes(attacks(marker)[attack])
    with pytest.raises(ModelFileError, match=r"refusing to load it: the pickle references .*which could run code"):
        load_model(path)
    assert not marker.exists()


def test_the_message_names_the_refused_global(tmp_path: Path) -> None:
    path = tmp_path / "model.pickle"
    path.write_bytes(attacks(tmp_path / "x")["os.system, hand-written"])
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    assert message.startswith(f"cannot load {path}: refusing to load it: the pickle references os.system,")
    assert "\n" not in message


def test_the_original_programs_pickles_fail_cleanly(tmp_path: Path) -> None:
    for name, data in {
        "object.pkl": pickle.dumps(OriginalNetwork()),
        "arrays.pkl": pickle.dumps(OriginalNetwork().weights),
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ModelFileError, match="refusing to load it: the pickle references"):
            load_model(tmp_path / name)


def test_persistent_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"(P0\ntp1\n.")
    with pytest.raises(ModelFileError, match="persistent ids"):
        load_model(tmp_path / "model.pkl")


def test_a_netkit_pickle_references_no_global_at_all(tmp_path: Path) -> None:
    path = save_model(
        ModelFile(Network(784, ["dense:units=16", "dense:units=10,activation=softmax"])),
        tmp_path / "m.pkl",
    )
    opcodes = {opcode.name for opcode, _, _ in pickletools.genops(path.read_bytes())}
    assert not opcodes & CODE_OPCODES


@pytest.mark.parametrize("dtype", sorted(ALLOWED_DTYPES))
def test_arrays_round_trip_through_plain_data(dtype: str) -> None:
    array = np.arange(12).reshape(3, 4).astype(dtype)
    restored = unpack_array(pickle.loads(pickle.dumps(pack_array(array))), "test array")
    assert restored.dtype == array.dtype and np.array_equal(restored, array) and restored.flags.writeable


def test_big_endian_arrays_are_stored_little_endian() -> None:
    array = np.arange(5, dtype=">f4")
    entry = pack_array(array)
    assert entry["dtype"] == "<f4" and np.array_equal(unpack_array(entry, "x"), array)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"dtype": "|O", "shape": (1,), "data": b"\0" * 8}, "has dtype '|O'"),
        ({"dtype": "<f4", "shape": (2,), "data": b"\0" * 4}, "holds 4 bytes but dtype <f4 and shape"),
        ({"dtype": "<f4", "shape": (-1,), "data": b""}, "invalid shape"),
        ({"dtype": "<f4", "shape": "2", "data": b"\0" * 8}, "invalid shape"),
        ({"dtype": "<f4", "shape": (2,), "data": "text"}, "data should be bytes"),
        ([1.0, 2.0], "should be an array entry"),
    ],
)
def test_malformed_array_entries_are_refused(entry: Any, message: str) -> None:
    with pytest.raises(ModelFileError, match=message):
        unpack_array(entry, "layer 0 'weight'")


def test_object_arrays_are_not_saved(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="only numbers"):
        pack_array(np.array([object()]))
