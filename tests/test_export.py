"""Export for other tools: ONNX run by onnxruntime gives netkit's probabilities; ``.npz`` round-trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import onnx
import onnxruntime
import pytest
from click.testing import CliRunner

from netkit.bridges.export import ONNX_OPSET, load_npz, save_npz, save_onnx
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.errors import ModelFileError
from netkit.io import load_model
from netkit.model.layer import OnnxOperator
from netkit.model.network import Network
from netkit.pretrained import pretrained_model_path
from netkit.protocols import WithoutOptions
from netkit.registry import Registry
from netkit.testing import check_activation


def _onnx_probabilities(path: Path, images: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    result: np.ndarray = session.run(["probabilities"], {"images": images.astype(np.float32)})[0]
    return result


def test_onnx_export_of_the_shipped_model_agrees_on_the_mnist_test_set(mnist: Dataset, tmp_path: Path) -> None:
    target = tmp_path / "mnist.onnx"
    result = CliRunner().invoke(cli, ["export", str(pretrained_model_path()), str(target)])
    assert result.exit_code == 0, result.output
    assert f"onnx, opset {ONNX_OPSET}" in result.stdout
    model = load_model(pretrained_model_path()).model
    expected = model.predict_proba(mnist.test_images)
    found = _onnx_probabilities(target, mnist.test_images)
    assert found.shape == (10_000, 10)
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(found.argmax(axis=1), expected.argmax(axis=1))
    assert onnx.load(str(target)).opset_import[0].version == ONNX_OPSET


@pytest.mark.parametrize(
    ("layers", "loss"),
    [
        (["dense:units=700,activation=relu", "dense:units=4,activation=softmax"], "cross-entropy"),
        (["dense:units=9,activation=tanh", "dense:units=6,activation=leaky-relu:slope=0.2"], "mse"),
        (["dense:units=5,activation=identity", "dense:units=3,activation=sigmoid"], "mse"),
    ],
)
def test_every_built_in_activation_exports(layers: list[str], loss: str, tmp_path: Path) -> None:
    """Including a layer wide enough that netkit keeps its weight transposed in memory."""
    model = Network(12, layers, loss, np.random.default_rng(0))
    model.parameters[:] = np.random.default_rng(1).normal(0, 0.5, model.parameter_count)
    x = np.random.default_rng(2).normal(0, 1, (33, 12)).astype(np.float32)
    save_onnx(model, tmp_path / "m.onnx")
    np.testing.assert_allclose(_onnx_probabilities(tmp_path / "m.onnx", x), model.predict_proba(x), atol=1e-5)


class SoftplusMaths(WithoutOptions):
    """A third party's activation: a = log(1 + e^z); da/dz = sigmoid(z)."""

    init: ClassVar[str] = "xavier"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.logaddexp(0, z).astype(z.dtype)

    def backward(self, z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return grad * (0.5 * np.tanh(0.5 * z) + 0.5)


class Softplus(SoftplusMaths):
    """The same activation, naming its ONNX operator."""

    def onnx_operator(self) -> OnnxOperator:
        return OnnxOperator("Softplus")


def test_an_activation_without_an_onnx_operator_is_refused_by_name(tmp_path: Path) -> None:
    registry = Registry({"activations": {"custom": SoftplusMaths}})
    model = Network(3, ["dense:units=2,activation=custom"], "mse", registry=registry)
    with pytest.raises(
        ModelFileError, match=r"cannot export activation 'custom' of dense_1 to ONNX.*onnx_operator\(\)"
    ):
        save_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_an_activation_plugin_that_names_its_operator_exports_and_runs_in_onnxruntime(tmp_path: Path) -> None:
    print(check_activation(Softplus()))  # a plugin that passes netkit's own checks
    registry = Registry({"activations": {"softplus": Softplus}})
    layers = ["dense:units=8,activation=softplus", "dense:units=4,activation=softmax"]
    model = Network(12, layers, "cross-entropy", np.random.default_rng(0), registry=registry)
    model.parameters[:] = np.random.default_rng(1).normal(0, 0.5, model.parameter_count)
    x = np.random.default_rng(2).normal(0, 1, (33, 12)).astype(np.float32)
    save_onnx(model, tmp_path / "m.onnx")
    operators = [node.op_type for node in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert operators == ["Gemm", "Softplus", "Gemm", "Softmax"]
    np.testing.assert_allclose(_onnx_probabilities(tmp_path / "m.onnx", x), model.predict_proba(x), atol=1e-5)


def test_npz_holds_plain_arrays_and_the_config_and_round_trips(tmp_path: Path) -> None:
    model = Network(10, ["dense:units=600,activation=tanh", "dense:units=3,activation=softmax"])
    path = save_npz(model, tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as stored:
        assert sorted(stored.files) == ["config", "dense_1.bias", "dense_1.weight", "dense_2.bias", "dense_2.weight"]
        assert stored["dense_1.weight"].shape == (10, 600)
        np.testing.assert_array_equal(stored["dense_1.weight"], model.parameter_views[0]["weight"])
        assert json.loads(str(stored["config"])) == model.get_config()
    again = load_npz(path)
    assert again.get_config() == model.get_config()
    np.testing.assert_array_equal(again.parameters, model.parameters)


def test_netkit_export_writes_npz(tmp_path: Path) -> None:
    target = tmp_path / "shipped.npz"
    result = CliRunner().invoke(cli, ["export", str(pretrained_model_path()), str(target)])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(load_npz(target).parameters, load_model(pretrained_model_path()).model.parameters)


def test_a_broken_npz_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, config=np.array(json.dumps({"input_size": 2, "layers": ["dense:units=3"]})))
    with pytest.raises(ModelFileError, match=r"bad.npz: it lacks 'dense_1.weight'"):
        load_npz(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="cannot load") as caught:
        load_npz(path)
    assert "\n" not in str(caught.value)
