"""Model files from strangers: sizes are checked against the data and a ceiling before anything is allocated."""

from __future__ import annotations

import json
import pickle
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from netkit.cli.main import cli
from netkit.errors import ModelFileError
from netkit.io import ModelFile, load_model, save_model
from netkit.model.network import Network

MAX_PARAMETERS_ENV = "NETKIT_MAX_PARAMETERS"  # the documented name: a user-facing contract


def small_model_file(path: Path) -> Path:
    model = Network(784, ["dense:units=16", "dense:units=10,activation=softmax"], rng=np.random.default_rng(1))
    return save_model(ModelFile(model), path)


def set_units_h5(path: Path, units: int) -> None:
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["config"])
        config["layers"][0]["units"] = units
        file.attrs["config"] = json.dumps(config)


def set_units_pkl(path: Path, units: int) -> None:
    payload = pickle.loads(path.read_bytes())
    payload["config"]["layers"][0]["units"] = units
    path.write_bytes(pickle.dumps(payload, protocol=4))


CRAFT: dict[str, Callable[[Path, int], None]] = {".h5": set_units_h5, ".pkl": set_units_pkl}


def load_error_and_peak(path: Path) -> tuple[str, int]:
    """The one-line error loading ``path`` gives, and the most memory the attempt held at once."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as raised:
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"cannot load {path}: ")
    return message, peak


@pytest.mark.parametrize("extension", CRAFT)
def test_a_billion_units_in_a_small_file_is_refused_before_allocating(tmp_path: Path, extension: str) -> None:
    path = small_model_file(tmp_path / f"m{extension}")
    CRAFT[extension](path, 1_000_000_000)
    message, peak = load_error_and_peak(path)
    assert "layer 0 (dense 1000000000 (sigmoid)) 'weight' has shape (784, 16) but its config needs" in message
    assert peak < 50 * 2**20  # the file's own arrays and nothing like the 2.9 TiB the config asks for


@pytest.mark.parametrize("extension", CRAFT)
def test_the_cli_gives_one_line_for_a_crafted_file(tmp_path: Path, extension: str) -> None:
    path = small_model_file(tmp_path / f"m{extension}")
    CRAFT[extension](path, 1_000_000_000)
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("netkit: error: cannot load")


@pytest.mark.parametrize("extension", CRAFT)
def test_the_ceiling_names_itself_and_the_variable_that_raises_it(
    tmp_path: Path, extension: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_model_file(tmp_path / f"m{extension}")  # 784*16 + 16 + 16*10 + 10 = 12,730 parameters
    monkeypatch.setenv(MAX_PARAMETERS_ENV, "10000")
    message, _ = load_error_and_peak(path)
    assert "12,730 parameters, more than netkit's ceiling of 10,000; set NETKIT_MAX_PARAMETERS to raise it" in message
    monkeypatch.setenv(MAX_PARAMETERS_ENV, "20000")
    assert load_model(path).model.parameter_count == 12_730


def test_an_hdf5_dataset_that_declares_more_than_the_ceiling_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = small_model_file(tmp_path / "m.h5")
    with h5py.File(path, "r+") as file:  # 40 MB declared, a few bytes stored: HDF5 allocates storage lazily
        file["history"].create_dataset("padding", shape=(10_000_000,), dtype="f4", chunks=(1000,), fillvalue=1.0)
    monkeypatch.setenv(MAX_PARAMETERS_ENV, "100000")
    message, peak = load_error_and_peak(path)
    assert "its datasets declare more than 400,000 values (at /history/padding)" in message
    assert peak < 10 * 2**20


def test_a_pickle_too_big_for_the_ceiling_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = Network(784, ["dense:units=400", "dense:units=10,activation=softmax"])
    path = save_model(ModelFile(model), tmp_path / "m.pkl")  # 1.3 MB
    monkeypatch.setenv(MAX_PARAMETERS_ENV, "1000")
    message, peak = load_error_and_peak(path)
    assert (
        f"it is {path.stat().st_size:,} bytes, more than a model within netkit's ceiling of 1,000 parameters" in message
    )
    assert peak < path.stat().st_size  # refused by its size, before it is read


def test_a_bad_ceiling_variable_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = small_model_file(tmp_path / "m.h5")
    monkeypatch.setenv(MAX_PARAMETERS_ENV, "lots")
    result = CliRunner().invoke(cli, ["inspect", str(path)])
    assert result.exit_code == 1
    assert "NETKIT_MAX_PARAMETERS='lots' should be a positive whole number" in result.stderr


def _unhashable_dtype(payload: dict[str, Any]) -> None:
    payload["layers"][0]["weight"]["dtype"] = ["<f4"]


def _too_many_axes(payload: dict[str, Any]) -> None:
    payload["layers"][0]["bias"] = {"dtype": "<f4", "shape": (0,) * 100, "data": b""}


@pytest.mark.parametrize("damage", [_unhashable_dtype, _too_many_axes])
def test_odd_pickle_array_entries_are_netkit_errors(tmp_path: Path, damage: Callable[[dict[str, Any]], None]) -> None:
    path = small_model_file(tmp_path / "m.pkl")
    payload = pickle.loads(path.read_bytes())
    damage(payload)
    path.write_bytes(pickle.dumps(payload, protocol=4))
    message, _ = load_error_and_peak(path)
    assert "layer 0" in message


def test_an_hdf5_member_that_links_to_another_file_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as file:
        file.create_dataset("weight", data=np.zeros((784, 16), dtype=np.float32))
    path = small_model_file(tmp_path / "m.h5")
    with h5py.File(path, "r+") as file:
        del file["layers/0/weight"]
        file["layers/0/weight"] = h5py.ExternalLink(str(other), "/weight")
    message, _ = load_error_and_peak(path)
    assert "/layers/0/weight links to another file; a model file must hold its own data" in message
