"""Model files keep everything exactly: weights, history, optimiser state, the shuffling generator."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import attrs
import h5py
import numpy as np
import pytest

from netkit.errors import ModelFileError
from netkit.io import (
    MODEL_EXTENSIONS,
    ModelFile,
    load,
    load_model,
    model_format,
    save,
    save_model,
)
from netkit.model.network import Network
from netkit.plugins import layers
from netkit.registry import default_registry
from netkit.training.trainer import History, Trainer

LAYERS = [
    "dense:units=16,activation=sigmoid",
    "dense:units=16,activation=sigmoid",
    "dense:units=10,activation=softmax",
]
OPTIMIZERS = {
    "mini-batch": "mini-batch:learning_rate=0.5,batch_size=32",
    "momentum": "momentum:learning_rate=0.05,batch_size=32",
    "adam": "adam:learning_rate=0.01,batch_size=32",
}
TIMING_FIELDS = ("seconds", "samples_per_second")


def synthetic_data(rows: int = 500) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Random MNIST-shaped rows: 784 features in [0, 1), 10 classes."""
    rng = np.random.default_rng(42)
    return rng.random((rows, 784), dtype=np.float32), rng.integers(0, 10, rows)


def new_trainer(optimizer: str = "adam", seed: int = 1) -> Trainer:
    model = Network(784, LAYERS, "cross-entropy", np.random.default_rng(0))
    return Trainer(model, default_registry().create("optimizers", OPTIMIZERS[optimizer]), np.random.default_rng(seed))


def trained_model_file(optimizer: str = "adam", epochs: int = 2) -> ModelFile:
    images, labels = synthetic_data()
    trainer = new_trainer(optimizer)
    trainer.fit(images, labels, epochs, validation=(images[:100], labels[:100]))
    return ModelFile.from_trainer(trainer, {"dataset": "synthetic", "seed": 1, "validation_split": 0.2})


def assert_same_model_file(actual: ModelFile, expected: ModelFile) -> None:
    images, _ = synthetic_data(50)
    assert actual.model.get_config() == expected.model.get_config()
    assert actual.model.parameters.dtype == np.float32
    assert np.array_equal(actual.model.parameters, expected.model.parameters)
    assert np.array_equal(actual.model.predict_proba(images), expected.model.predict_proba(images))
    assert actual.history == expected.history
    registry = default_registry()
    assert registry.spec_of("optimizers", actual.optimizer) == registry.spec_of("optimizers", expected.optimizer)
    assert actual.optimizer_state.keys() == expected.optimizer_state.keys()
    for key, value in expected.optimizer_state.items():
        assert np.array_equal(actual.optimizer_state[key], value), key
        assert type(actual.optimizer_state[key]) is type(value), key
    assert actual.rng_state == expected.rng_state
    assert actual.training == expected.training


def untimed(history: History) -> list[dict[str, Any]]:
    """The epoch records without the wall-clock fields, which differ from run to run."""
    records = [attrs.asdict(record) for record in history.epochs]
    return [{key: value for key, value in record.items() if key not in TIMING_FIELDS} for record in records]


def next_permutation(model_file: ModelFile) -> np.ndarray[Any, Any]:
    return model_file.to_trainer().rng.permutation(500)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("extension", MODEL_EXTENSIONS)
def test_every_format_round_trips_exactly(tmp_path: Path, extension: str, optimizer: str) -> None:
    original = trained_model_file(optimizer)
    loaded = load_model(save_model(original, tmp_path / f"model{extension}"))
    assert_same_model_file(loaded, original)
    assert np.array_equal(next_permutation(loaded), next_permutation(original))
    assert (loaded.format_name, loaded.format_version) == ("netkit-model", 2)


def test_optimizer_state_survives_for_adam_and_momentum(tmp_path: Path) -> None:
    adam = load_model(save_model(trained_model_file("adam"), tmp_path / "adam.h5"))
    assert adam.optimizer_state["steps"] == 2 * 16  # 500 rows in batches of 32, two epochs
    assert adam.optimizer_state["first_moment"].dtype == np.float32
    assert np.any(adam.optimizer_state["second_moment"] > 0)
    momentum = load_model(save_model(trained_model_file("momentum"), tmp_path / "momentum.pkl"))
    assert momentum.optimizer_state["velocity"].shape == (momentum.model.parameter_count,)
    assert np.any(momentum.optimizer_state["velocity"] != 0)


def test_formats_convert_into_each_other_without_loss(tmp_path: Path) -> None:
    original = trained_model_file()
    from_hdf5 = load_model(save_model(original, tmp_path / "a.h5"))
    as_pickle = load_model(save_model(from_hdf5, tmp_path / "b.pkl"))
    back_to_hdf5 = load_model(save_model(as_pickle, tmp_path / "c.hdf5"))
    assert_same_model_file(as_pickle, from_hdf5)
    assert_same_model_file(back_to_hdf5, original)


def test_plain_h5py_reads_the_weights_and_reproduces_the_predictions(tmp_path: Path) -> None:
    model_file = trained_model_file()
    save_model(model_file, tmp_path / "model.h5")
    images, _ = synthetic_data(200)

    # Only h5py, json and numpy from here on, as a user without netkit would do it.
    with h5py.File(tmp_path / "model.h5", "r") as file:
        assert file.attrs["format"] == "netkit-model"
        assert file.attrs["format_version"] == 2
        config = json.loads(file.attrs["config"])
        layers = [
            (
                file[f"layers/{i}/weight"][()],
                file[f"layers/{i}/bias"][()],
                json.loads(file[f"layers/{i}"].attrs["spec"]),
            )
            for i in range(len(file["layers"]))
        ]
        epochs = file["history/epochs/epoch"][()]
        iteration_loss = file["history/iteration_loss"][()]
    assert [spec for _, _, spec in layers] == config["layers"]
    outputs = images
    for weight, bias, spec in layers:
        assert weight.dtype == np.float32 and weight.shape == (outputs.shape[1], spec["units"])
        z = outputs @ weight + bias
        if spec["activation"]["type"] == "sigmoid":
            outputs = 1 / (1 + np.exp(-z))
        else:  # softmax
            exponentials = np.exp(z - z.max(axis=1, keepdims=True))
            outputs = exponentials / exponentials.sum(axis=1, keepdims=True)
    expected = model_file.model.predict_proba(images)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)
    assert np.array_equal(outputs.argmax(axis=1), expected.argmax(axis=1))
    assert list(epochs) == [1, 2]
    assert list(iteration_loss) == model_file.history.iteration_loss


def test_plain_pickle_reads_the_weights_without_numpy_globals(tmp_path: Path) -> None:
    model_file = trained_model_file()
    save_model(model_file, tmp_path / "model.pkl")
    with open(tmp_path / "model.pkl", "rb") as file:
        data = pickle.load(file)  # our own file: trusted, so the plain unpickler is fine here
    entry = data["layers"][0]["weight"]
    weight = np.frombuffer(entry["data"], dtype=entry["dtype"]).reshape(entry["shape"])
    assert np.array_equal(weight, model_file.model.parameter_views[0]["weight"])
    assert data["config"] == model_file.model.get_config()
    assert data["history"]["epochs"] == [attrs.asdict(record) for record in model_file.history.epochs]


@pytest.mark.parametrize("weights", ["row-major", "transposed"])
def test_resume_equals_uninterrupted_run(tmp_path: Path, weights: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if weights == "transposed":  # as wide layers keep their weights in memory
        monkeypatch.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 16)
    images, labels = synthetic_data()
    validation = (images[:100], labels[:100])
    for optimizer in OPTIMIZERS:
        for extension in (".h5", ".pkl"):
            uninterrupted = new_trainer(optimizer, seed=7)
            uninterrupted.fit(images, labels, 3, validation=validation)

            first_part = new_trainer(optimizer, seed=7)
            first_part.fit(images, labels, 2, validation=validation)
            path = save_model(ModelFile.from_trainer(first_part), tmp_path / f"{optimizer}{extension}")
            resumed = load_model(path).to_trainer()
            resumed.fit(images, labels, 1, validation=validation)

            label = f"{optimizer} via {extension}"
            assert np.array_equal(resumed.model.parameters, uninterrupted.model.parameters), label
            assert resumed.history.iteration_loss == uninterrupted.history.iteration_loss, label
            assert untimed(resumed.history) == untimed(uninterrupted.history), label
            assert [record.epoch for record in resumed.history.epochs] == [1, 2, 3], label


@pytest.mark.parametrize("extension", MODEL_EXTENSIONS)
def test_files_do_not_depend_on_how_weights_sit_in_memory(
    tmp_path: Path, extension: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Weights and parameter-shaped optimizer state are stored in one order, whatever the memory layout."""
    monkeypatch.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 16)
    images, _ = synthetic_data()
    for optimizer in ("momentum", "adam"):
        written = trained_model_file(optimizer)
        path = save_model(written, tmp_path / f"{optimizer}{extension}")
        with monkeypatch.context() as rows_first:
            rows_first.setattr(layers, "TRANSPOSED_WEIGHT_FROM_UNITS", 10**9)
            read = load_model(path)
        np.testing.assert_array_equal(read.model.predict_proba(images), written.model.predict_proba(images))
        for key, state in written.optimizer_state.items():
            if isinstance(state, np.ndarray):
                ours, theirs = written.model.to_file_order(state), read.model.to_file_order(read.optimizer_state[key])
                assert np.array_equal(ours, theirs), f"{optimizer} {key}"
        assert np.array_equal(read.model.parameters, written.model.to_file_order(written.model.parameters))
        # The same numbers; only BLAS's summation order may differ between the layouts.
        images = synthetic_data(20)[0]
        np.testing.assert_allclose(read.model.predict_proba(images), written.model.predict_proba(images), rtol=1e-5)


def test_from_trainer_is_a_snapshot(tmp_path: Path) -> None:
    images, labels = synthetic_data(100)
    trainer = new_trainer("momentum")
    trainer.fit(images, labels, 1)
    snapshot = ModelFile.from_trainer(trainer)
    velocity, rng_state = snapshot.optimizer_state["velocity"].copy(), dict(snapshot.rng_state or {})
    trainer.fit(images, labels, 1)
    assert len(snapshot.history.epochs) == 1
    assert np.array_equal(snapshot.optimizer_state["velocity"], velocity)
    assert snapshot.rng_state == rng_state
    assert snapshot.optimizer is not trainer.optimizer


def test_a_file_without_optimizer_cannot_resume_but_still_predicts(tmp_path: Path) -> None:
    model = Network(784, LAYERS, "cross-entropy", np.random.default_rng(3))
    path = save(model, tmp_path / "bare.h5")
    loaded = load(path)
    assert np.array_equal(loaded.parameters, model.parameters)
    bare = load_model(path)
    assert bare.optimizer is None and bare.optimizer_state == {} and bare.rng_state is None
    with pytest.raises(ModelFileError, match="no optimizer"):
        bare.to_trainer()


def test_training_options_are_stored_as_json(tmp_path: Path) -> None:
    model_file = ModelFile(Network(784, LAYERS), training={"seed": np.int64(3), "layers": (16, 16)})
    assert load_model(save_model(model_file, tmp_path / "m.h5")).training == {"seed": 3, "layers": [16, 16]}
    model_file.training = {"callback": print}
    with pytest.raises(ModelFileError, match="training options must be JSON values"):
        save_model(model_file, tmp_path / "bad.pkl")
    assert not (tmp_path / "bad.pkl").exists()


def test_other_bit_generators_round_trip(tmp_path: Path) -> None:
    trainer = Trainer(Network(784, LAYERS), default_registry().create("optimizers", "mini-batch"))
    trainer.rng = np.random.Generator(np.random.MT19937(11))
    model_file = ModelFile.from_trainer(trainer)
    for extension in (".h5", ".pkl"):
        loaded = load_model(save_model(model_file, tmp_path / f"mt{extension}"))
        assert np.array_equal(next_permutation(loaded), next_permutation(model_file))


def test_format_follows_the_extension_unless_given(tmp_path: Path) -> None:
    assert [model_format(f"m{extension}") for extension in MODEL_EXTENSIONS] == [
        "hdf5",
        "hdf5",
        "pickle",
        "pickle",
    ]
    assert model_format(Path("MODEL.H5")) == "hdf5"
    with pytest.raises(ModelFileError, match=r"unknown model file extension '\.txt'"):
        model_format("model.txt")
    model_file = ModelFile(Network(784, LAYERS))
    with pytest.raises(ModelFileError, match="unknown model file extension"):
        save_model(model_file, tmp_path / "model.json")
    with pytest.raises(ModelFileError, match="unknown model file format 'json'"):
        save_model(model_file, tmp_path / "model.h5", format="json")
    save_model(model_file, tmp_path / "model.bin", format="pickle")
    assert (tmp_path / "model.bin").read_bytes()[:1] == b"\x80"


def test_a_minimal_hdf5_file_written_by_another_tool_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    weight, bias = rng.standard_normal((784, 10)).astype(np.float32), rng.standard_normal(10).astype(np.float32)
    config = {"input_size": 784, "layers": [{"type": "dense", "units": 10, "activation": {"type": "softmax"}}]}
    with h5py.File(tmp_path / "minimal.h5", "w") as file:  # only what the README lists as required
        file.attrs["format"], file.attrs["format_version"] = "netkit-model", 1
        file.attrs["config"] = json.dumps(config)
        file["layers/0/weight"], file["layers/0/bias"] = weight, bias
    loaded = load_model(tmp_path / "minimal.h5")
    assert np.array_equal(loaded.model.parameter_views[0]["weight"], weight)
    assert loaded.history.epochs == [] and loaded.optimizer is None and loaded.training == {}
    assert loaded.netkit_version == "unknown"
