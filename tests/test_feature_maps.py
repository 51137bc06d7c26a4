"""``netkit inspect MODEL --maps PNG --image IMAGE``: what each convolution and pooling layer makes of a digit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import netkit as nk
from netkit.cli.main import cli
from netkit.data.images import load_image
from netkit.pictures.maps import feature_map_rows


@pytest.fixture
def seven(tmp_path: Path) -> Path:
    """A thick 7 drawn dark on light paper, as a user would photograph one."""
    pixels = np.full((56, 56), 255, dtype=np.uint8)
    pixels[8:14, 10:46] = 0  # the bar
    for row in range(14, 50):  # the stem, leaning left as it falls
        column = 44 - (row - 14) // 2
        pixels[row, column - 3 : column + 3] = 0
    path = tmp_path / "seven.png"
    Image.fromarray(pixels, mode="L").save(path)
    return path


def test_the_rows_are_the_conv_and_pool_layers_outputs_for_the_image(seven: Path) -> None:
    model = nk.Sequential(
        ["conv2d:filters=3,kernel=3,padding=same", "maxpool2d:size=2", nk.Dense(10, "softmax")],
        input_shape=(1, 28, 28),
        seed=0,
    )
    pixels = load_image(seven)
    rows = feature_map_rows(model, pixels)
    outputs = model.activations(pixels)
    assert [row.maps.shape for row in rows] == [(3, 28, 28), (3, 14, 14)]
    assert [row.name.split(":")[0] for row in rows] == ["layer 1", "layer 2"]
    np.testing.assert_array_equal(rows[0].maps, outputs[0][0])
    np.testing.assert_array_equal(rows[1].maps, outputs[1][0])


def test_a_dense_network_has_no_feature_maps(seven: Path) -> None:
    model = nk.Sequential([nk.Dense(16, "sigmoid"), nk.Dense(10, "softmax")], input_shape=(1, 28, 28), seed=0)
    assert feature_map_rows(model, load_image(seven)) == []


def test_netkit_inspect_draws_the_shipped_cnns_maps(seven: Path, tmp_path: Path) -> None:
    out = tmp_path / "maps.png"
    result = CliRunner().invoke(cli, ["inspect", "cnn", "--maps", str(out), "--image", str(seven)])
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(out).convert("RGB")).astype(int)
    red, green, blue = picture[..., 0], picture[..., 1], picture[..., 2]
    orange = np.count_nonzero((red > 200) & (blue < 120) & (green < 190))  # active map pixels
    assert orange > 500
    # Four rows of maps (two convolutions, two poolings) below the input: taller than one row of tiles.
    assert picture.shape[0] > 4 * 84


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["mlp", "--maps", "{out}", "--image", "{image}"], 1, "has none"),
        (["cnn", "--maps", "{out}"], 2, "--maps and --image go together"),
        (["cnn", "--image", "{image}"], 2, "--maps and --image go together"),
        (["cnn", "--maps", "{out}", "--image", "{image}", "--weights", "{out}"], 2, "choose one"),
        (["cnn", "--maps", "{folder}/no/such/maps.png", "--image", "{image}"], 1, "does not exist"),
    ],
)
def test_bad_maps_requests_are_one_line_errors(
    arguments: list[str], code: int, message: str, seven: Path, tmp_path: Path
) -> None:
    values = {"out": str(tmp_path / "maps.png"), "image": str(seven), "folder": str(tmp_path)}
    result = CliRunner().invoke(cli, ["inspect", *(argument.format(**values) for argument in arguments)])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "maps.png").exists()
