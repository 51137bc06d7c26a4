"""Every broken, foreign or tampered model file gives one ModelFileError line that names the path."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from netkit.errors import ModelFileError
from netkit.io import ModelFile, load_model, save_model
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.trainer import Trainer


def saved_model(tmp_path: Path, extension: str) -> Path:
    """A small adam-trained model with history and optimiser state, saved to ``model{extension}``."""
    rng = np.random.default_rng(0)
    model = Network(
        784,
        ["dense:units=16,activation=sigmoid", "dense:units=16,activation=sigmoid", "dense:units=10,activation=softmax"],
        "cross-entropy",
        rng,
    )
    trainer = Trainer(model, default_registry().create("optimizers", "adam:batch_size=32"), rng)
    trainer.fit(rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64), 1)
    return save_model(ModelFile.from_trainer(trainer), tmp_path / f"model{extension}")


def load_error(path: Path) -> str:
    """The message of the ModelFileError that loading ``path`` raises, checked to be one line with the path."""
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    message = str(caught.value)
    assert message.startswith(f"cannot load {path}: ")
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("extension", "not_this_format"),
    [(".h5", "not an HDF5 file, or a damaged one"), (".pkl", "not a pickle, or a damaged one")],
)
def test_missing_folder_empty_random_and_truncated_files(tmp_path: Path, extension: str, not_this_format: str) -> None:
    assert "no such file" in load_error(tmp_path / f"missing{extension}")

    (tmp_path / f"folder{extension}").mkdir()
    assert "it is a folder" in load_error(tmp_path / f"folder{extension}")

    (tmp_path / f"empty{extension}").write_bytes(b"")
    assert "the file is empty" in load_error(tmp_path / f"empty{extension}")

    (tmp_path / f"random{extension}").write_bytes(np.random.default_rng(0).bytes(4096))
    assert not_this_format in load_error(tmp_path / f"random{extension}")

    valid = saved_model(tmp_path, extension).read_bytes()
    for fraction in (0.9, 0.5, 0.1):
        truncated = tmp_path / f"truncated{extension}"
        truncated.write_bytes(valid[: int(len(valid) * fraction)])
        assert not_this_format in load_error(truncated)


def test_a_file_in_the_other_format_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "actually-pickle.h5").write_bytes(saved_model(tmp_path, ".pkl").read_bytes())
    assert load_error(tmp_path / "actually-pickle.h5").endswith("(it looks like a pickle: name it .pkl)")
    (tmp_path / "actually-hdf5.pkl").write_bytes(saved_model(tmp_path, ".h5").read_bytes())
    assert load_error(tmp_path / "actually-hdf5.pkl").endswith("(it is an HDF5 file: name it .h5)")


def test_a_valid_hdf5_file_that_is_not_a_model(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file.create_dataset("images", data=np.zeros((3, 3)))
    assert "not a netkit model: this HDF5 file has no 'format' attribute" in load_error(tmp_path / "data.h5")


def _set_attribute(name: str, value: Any, node: str = "/") -> Callable[[Any], None]:
    def change(file: Any) -> None:
        file[node].attrs[name] = value

    return change


def _delete_attribute(name: str, node: str = "/") -> Callable[[Any], None]:
    def change(file: Any) -> None:
        del file[node].attrs[name]

    return change


def _replace_dataset(name: str, data: Any) -> Callable[[Any], None]:
    def change(file: Any) -> None:
        if name in file:
            del file[name]
        file.create_dataset(name, data=data)

    return change


def _change_config(change_config: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    def change(file: Any) -> None:
        config = json.loads(file.attrs["config"])
        change_config(config)
        file.attrs["config"] = json.dumps(config)

    return change


def _swish(config: dict[str, Any]) -> None:
    config["layers"][1]["activation"] = {"type": "swish"}


def _delete(name: str) -> Callable[[Any], None]:
    def change(file: Any) -> None:
        del file[name]

    return change


def _move(source: str, destination: str) -> Callable[[Any], None]:
    def change(file: Any) -> None:
        file.move(source, destination)

    return change


HDF5_DAMAGE: dict[str, tuple[Callable[[Any], None], str]] = {
    "other format": (_set_attribute("format", "keras"), "this HDF5 file has format 'keras', not 'netkit-model'"),
    "newer version": (_set_attribute("format_version", 3), "format version 3 is newer than this netkit"),
    "version as text": (_set_attribute("format_version", "1"), "format_version should be a whole number"),
    "no format": (_delete_attribute("format"), "not a netkit model: this HDF5 file has no 'format' attribute"),
    "no config": (_delete_attribute("config"), "the file lacks the 'config' attribute"),
    "config not JSON": (_set_attribute("config", "{not json"), "attribute 'config' of the file is not valid JSON"),
    "config not text": (_set_attribute("config", 3), "attribute 'config' of the file should be a string"),
    "optimizer config missing": (
        _delete_attribute("config", node="optimizer"),
        "/optimizer lacks the 'config' attribute",
    ),
    "missing layer dataset": (_delete("layers/1/bias"), "layer 1 (dense 16 (sigmoid)) lacks its parameter(s) 'bias'"),
    "extra layer dataset": (
        _replace_dataset("layers/0/scale", np.ones(16, dtype=np.float32)),
        "layer 0 (dense 16 (sigmoid)) has unexpected parameter(s) 'scale'",
    ),
    "missing layer group": (_delete("layers/2"), "the file holds parameters for 2 layers but its config describes 3"),
    "misnumbered layer group": (_move("layers/2", "layers/7"), "layer groups should be named layers/0, layers/1"),
    "no layers group": (_delete("layers"), "/layers is missing"),
    "layer is a dataset": (_replace_dataset("layers/1", np.zeros(3)), "/layers/1 should be an HDF5 group"),
    "weight shape": (
        _replace_dataset("layers/0/weight", np.zeros((784, 17), dtype=np.float32)),
        "layer 0 (dense 16 (sigmoid)) 'weight' has shape (784, 17) but its config needs (784, 16)",
    ),
    "bias shape": (
        _replace_dataset("layers/2/bias", np.zeros(11, dtype=np.float32)),
        "layer 2 (dense 10 (softmax)) 'bias' has shape (11,) but its config needs (10,)",
    ),
    "integer weights": (
        _replace_dataset("layers/0/weight", np.zeros((784, 16), dtype=np.int32)),
        "'weight' has dtype int32, expected a float type",
    ),
    "text weights": (
        _replace_dataset("layers/0/bias", b"sixteen"),
        "/layers/0/bias holds text; netkit model files hold numbers only",
    ),
    "NaN weights": (
        _replace_dataset("layers/1/weight", np.full((16, 16), np.nan, dtype=np.float32)),
        "layer 1 (dense 16 (sigmoid)) 'weight' contains NaN or infinite values",
    ),
    "unknown plugin": (_change_config(_swish), "its model config cannot be built: unknown activation 'swish'"),
    "config without layers": (
        _change_config(lambda config: config.pop("layers")),
        "its model config cannot be built: model config lacks 'layers'",
    ),
    "unknown optimizer": (
        _set_attribute("config", json.dumps({"type": "lion"}), node="optimizer"),
        "its optimizer cannot be built: unknown optimizer 'lion'",
    ),
    "bad optimizer option": (
        _set_attribute("config", json.dumps({"type": "adam", "learning_rate": -1}), node="optimizer"),
        "its optimizer cannot be built: bad options for optimizer 'adam': "
        "learning_rate must be a positive number. Received: learning_rate=-1.0",
    ),
    "bad activation option": (
        _change_config(lambda config: config["layers"][0].update(activation={"type": "sigmoid", "slope": 2})),
        "its model config cannot be built",
    ),
    "optimizer state shape": (
        _replace_dataset("optimizer/state/first_moment", np.zeros(5, dtype=np.float32)),
        "optimizer state 'first_moment' has shape (5,) but this model needs (13002,)",
    ),
    "optimizer state missing": (
        _set_attribute("state", "{}", node="optimizer"),
        "its adam optimizer state lacks 'steps'",
    ),
    "optimizer state wrong type": (
        _set_attribute("state", json.dumps({"steps": "many"}), node="optimizer"),
        "its adam optimizer state cannot be loaded",
    ),
    "unknown bit generator": (
        _set_attribute("rng_state", json.dumps({"bit_generator": "os.system"})),
        "rng_state names an unknown bit generator 'os.system'",
    ),
    "bad generator state": (
        _set_attribute("rng_state", json.dumps({"bit_generator": "PCG64", "state": 5})),
        "rng_state is not a valid PCG64 state",
    ),
    "history lengths": (
        _replace_dataset("history/epochs/seconds", np.zeros(3)),
        "the history/epochs columns should be one-dimensional and equally long",
    ),
    "history column missing": (_delete("history/epochs/train_loss"), "history epoch record 1 lacks 'train_loss'"),
}


@pytest.mark.parametrize("damage", list(HDF5_DAMAGE))
def test_damaged_hdf5_content_is_named_precisely(tmp_path: Path, damage: str) -> None:
    path = saved_model(tmp_path, ".h5")
    change, expected = HDF5_DAMAGE[damage]
    with h5py.File(path, "r+") as file:
        change(file)
    assert expected in load_error(path)


def _layer(index: int) -> Callable[[dict[str, Any]], Any]:
    return lambda data: data["layers"][index]


PICKLE_DAMAGE: dict[str, tuple[Callable[[Any], Any], str]] = {
    "a list": (lambda data: [data], "the pickled object should be a mapping, got list"),
    "no format": (lambda data: {**data, "format": None}, "this pickle has no 'format' key"),
    "newer version": (lambda data: {**data, "format_version": 9}, "format version 9 is newer"),
    "no layers": (lambda data: {**data, "layers": None}, "layers should be a list, got NoneType"),
    "layer not a mapping": (lambda data: {**data, "layers": [1, 2, 3]}, "layer 0 parameters should be a mapping"),
    "raw list weight": (
        lambda data: {**data, "layers": [{**data["layers"][0], "weight": [[0.0]]}, *data["layers"][1:]]},
        "layer 0 'weight' should be an array entry",
    ),
    "no history": (lambda data: {**data, "history": "none"}, "history should be a mapping, got str"),
    "epoch record garbage": (
        lambda data: {**data, "history": {**data["history"], "epochs": [{"epoch": "one"}]}},
        "history epoch record 1",
    ),
    "no netkit_version": (lambda data: {**data, "netkit_version": 1}, "netkit_version should be a string"),
    "training not a mapping": (lambda data: {**data, "training": [1]}, "training options should be a mapping"),
    "optimizer arrays": (
        lambda data: {**data, "optimizer": {**data["optimizer"], "arrays": []}},
        "optimizer state arrays should be a mapping",
    ),
}


@pytest.mark.parametrize("damage", list(PICKLE_DAMAGE))
def test_a_pickle_with_the_wrong_structure_is_refused(tmp_path: Path, damage: str) -> None:
    path = saved_model(tmp_path, ".pkl")
    change, expected = PICKLE_DAMAGE[damage]
    data = pickle.loads(path.read_bytes())  # our own file: the plain unpickler is safe here
    path.write_bytes(pickle.dumps(change(data)))
    assert expected in load_error(path)


def test_an_unknown_extension_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"model\.npz: unknown model file extension '\.npz'"):
        load_model(tmp_path / "model.npz")
