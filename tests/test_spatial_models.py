"""Conv nets as whole models: they learn digits, save/load/resume exactly, take weight decay and max-norm on
their kernels, export to ONNX, and show their shapes and kernels in summary() and netkit inspect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from click.testing import CliRunner
from PIL import Image

import netkit as nk
from netkit.bridges.export import save_onnx
from netkit.cli.main import cli
from netkit.data import Dataset
from netkit.model.network import Network
from netkit.training.regularisation import weight_pairs

SMALL_CONV_NET = [
    "conv2d:filters=6,kernel=5,padding=same",
    "maxpool2d:size=2",
    "conv2d:filters=8,kernel=3,stride=2",
    "dense:units=32,activation=relu",
    "dense:units=10,activation=softmax",
]


def _conv_net(seed: int = 0) -> nk.Sequential:
    return nk.Sequential(SMALL_CONV_NET, input_shape=(1, 28, 28), seed=seed)


def test_a_small_conv_net_learns_digits(mnist: Dataset) -> None:
    model = _conv_net()
    images, labels = mnist.train_images[:8000], mnist.train_labels[:8000]
    model.fit(images, labels, epochs=3, optimizer="momentum:batch_size=32,lr=0.02", progress=False)
    scores = model.evaluate(mnist.test_images[:2000], mnist.test_labels[:2000])
    assert scores.accuracy > 0.93, scores.accuracy


@pytest.mark.parametrize("suffix", [".h5", ".pkl"])
def test_a_conv_net_resumes_exactly_like_an_uninterrupted_fit(suffix: str, mnist: Dataset, tmp_path: Path) -> None:
    images, labels = mnist.train_images[:600], mnist.train_labels[:600]
    options = {"optimizer": "momentum:batch_size=50", "validation": 0.2, "progress": False}
    straight = _conv_net(seed=3)
    straight.fit(images, labels, epochs=2, **options)  # type: ignore[arg-type]
    stopped = _conv_net(seed=3)
    stopped.fit(images, labels, epochs=1, **options)  # type: ignore[arg-type]
    nk.save(stopped, tmp_path / f"conv{suffix}")
    resumed = nk.load(tmp_path / f"conv{suffix}")
    assert resumed.input_shape == (1, 28, 28) and resumed.get_config() == straight.get_config()
    np.testing.assert_array_equal(resumed.predict_proba(images[:50]), stopped.predict_proba(images[:50]))
    resumed.fit(images, labels, epochs=1, progress=False)
    np.testing.assert_array_equal(resumed.parameters, straight.parameters)
    np.testing.assert_array_equal(resumed.history.iteration_loss, straight.history.iteration_loss)


def _tiny() -> nk.Sequential:
    return nk.Sequential(["conv2d:filters=4,kernel=3", "dense:units=3,activation=softmax"], input_shape=(2, 8, 8))


def test_weight_decay_and_max_norm_act_on_kernels_not_biases(rng: np.random.Generator) -> None:
    model = _tiny()
    assert weight_pairs(model.layers)[0][0] is model.parameter_views[0]["kernel"]
    images, labels = rng.uniform(0, 1, (64, 2, 8, 8)), rng.integers(0, 3, 64)
    norms = {}
    for limit in ("", "max_norm=0.3,"):
        trained = _tiny()
        trained.fit(images, labels, 3, optimizer=f"momentum:{limit}batch_size=16,lr=0.5", validation=0, progress=False)
        kernel = trained.parameter_views[0]["kernel"]
        norms[limit] = np.sqrt((kernel.reshape(-1, 4) ** 2).sum(axis=0))  # each filter's incoming weights
    assert norms[""].max() > 0.3 and norms["max_norm=0.3,"].max() <= 0.3 + 1e-6

    decayed, plain, start = _tiny(), _tiny(), _tiny()
    decayed.fit(images, labels, 1, optimizer="mini-batch:weight_decay=0.1,batch_size=64,lr=1", validation=0)
    plain.fit(images, labels, 1, optimizer="mini-batch:batch_size=64,lr=1", validation=0)
    # One full-batch step: decay takes lr x lambda x W more off the kernel, nothing off the bias.
    shrink = plain.parameter_views[0]["kernel"] - decayed.parameter_views[0]["kernel"]
    np.testing.assert_allclose(shrink, 0.1 * start.parameter_views[0]["kernel"], atol=1e-6)
    np.testing.assert_array_equal(plain.parameter_views[0]["bias"], decayed.parameter_views[0]["bias"])


def test_a_conv_net_exports_to_onnx_with_equal_probabilities(mnist: Dataset, tmp_path: Path) -> None:
    specs = [*SMALL_CONV_NET[:2], "dropout:rate=0.2", "avgpool2d:size=3,stride=2", *SMALL_CONV_NET[3:]]
    model = Network((1, 28, 28), specs)
    model.parameters[:] = np.random.default_rng(1).normal(0, 0.3, model.parameter_count)
    save_onnx(model, tmp_path / "conv.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "conv.onnx"), providers=["CPUExecutionProvider"])
    images = mnist.test_images[:2000]
    found = session.run(["probabilities"], {"images": images})[0]
    np.testing.assert_allclose(found, model.predict_proba(images), rtol=0, atol=1e-5)
    graph = [node.op_type for node in onnx.load(str(tmp_path / "conv.onnx")).graph.node]
    flow = ["Reshape", "Conv", "Relu", "MaxPool", "Identity", "AveragePool", "Flatten", "Gemm", "Relu", "Gemm"]
    assert graph == [*flow, "Softmax"]


def test_summary_and_inspect_show_shapes_and_draw_kernels(tmp_path: Path) -> None:
    model = _conv_net()
    text = str(model.summary())
    for row in ("1x28x28 → 6x28x28", "6x28x28 → 6x14x14", "6x14x14 → 8x6x6", "8x6x6 → 288", "288 → 32"):
        assert row in text, text
    assert "kernel 5x5x1x6 · bias 6" in text and "156" in text
    path = tmp_path / "conv.h5"
    nk.save(model, path)
    result = CliRunner().invoke(cli, ["inspect", str(path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "6x28x28 → 6x14x14" in result.output and "conv2d 8@3x3/2 valid (relu)" in result.output
    picture = tmp_path / "kernels.png"
    result = CliRunner().invoke(cli, ["inspect", str(path), "--weights", str(picture)])
    assert result.exit_code == 0, result.output
    with Image.open(picture) as image:
        assert image.width >= 480 and image.height > 200


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        (["conv2d:filters=2,kernel=30"], "layer 1 (conv2d 2@30x30 valid (relu)) on input (1, 28, 28): kernel 30x30"),
        (["conv2d:filters=2,kernel=3,stride=0"], "stride must be at least 1. Received: stride=0"),
        (["dense:units=5", "conv2d:filters=2,kernel=3"], "layer 3 (conv2d 2@3x3 valid (relu)) on input (5,)"),
    ],
)
def test_netkit_train_refuses_a_bad_conv_spec_in_one_line(layers: list[str], message: str, mnist_dir: Path) -> None:
    arguments = [part for spec in layers for part in ("--layer", spec)]
    result = CliRunner().invoke(cli, ["train", *arguments, "--data-dir", str(mnist_dir), "--out", "unused.h5"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
