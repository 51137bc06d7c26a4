"""The five dataset plugins: registered, documented, configs that round-trip, bad options echoed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netkit.errors import DatasetError
from netkit.plugins.datasets import CsvFile, FashionMnist, IdxFolder, Mnist, PngFolder
from netkit.protocols import DatasetLoader
from netkit.registry import default_registry

EXAMPLES: dict[str, dict[str, Any]] = {
    "mnist": {"cache": True},
    "fashion-mnist": {},
    "idx": {"path": "/data/kmnist", "class_names": ["o", "ki", "su"], "cache": False},
    "png-folder": {"path": "digits", "preprocess": "resize", "test_fraction": 0.1, "seed": 7, "cache": False},
    "csv": {"path": "train.csv", "test_path": "test.csv", "test_fraction": 0.5, "seed": 3},
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_registered_by_name_documented_and_config_round_trips_through_json(name: str) -> None:
    cls = default_registry().get("datasets", name)
    assert cls.__doc__ and len(cls.__doc__.split()) > 8
    loader = default_registry().create("datasets", {"type": name, **EXAMPLES[name]})
    assert isinstance(loader, DatasetLoader)
    config = json.loads(json.dumps(loader.get_config()))
    rebuilt = cls.from_config(config)  # type: ignore[attr-defined]
    assert rebuilt == loader and rebuilt.get_config() == config
    for key, value in EXAMPLES[name].items():
        assert config[key] == value


@pytest.mark.parametrize(
    ("build", "echo"),
    [
        (lambda: PngFolder(preprocess="center"), "Received: preprocess='center'"),
        (lambda: PngFolder(test_fraction=1.0), "Received: test_fraction=1.0"),
        (lambda: CsvFile(test_fraction=0), "Received: test_fraction=0"),
        (lambda: CsvFile(seed=-1), "Received: seed=-1"),
        (lambda: Mnist(cache="yes"), "Received: cache='yes'"),  # type: ignore[arg-type]
        (lambda: IdxFolder(path=""), "Received: path=''"),
        (lambda: IdxFolder(class_names=[]), "Received: class_names=[]"),
        (lambda: FashionMnist.from_config({"cache": False, "mirror": "x"}), "unknown option(s) mirror"),
    ],
)
def test_bad_options_raise_dataset_errors_echoing_the_value(build: Any, echo: str) -> None:
    with pytest.raises(DatasetError) as caught:
        build()
    assert echo in str(caught.value)


def test_registry_spec_string_builds_a_configured_loader() -> None:
    loader = default_registry().create("datasets", "png-folder:preprocess=resize,test_fraction=0.25")
    assert loader == PngFolder(preprocess="resize", test_fraction=0.25)
