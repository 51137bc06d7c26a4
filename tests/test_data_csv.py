"""The csv dataset: label-first rows, optional header, 0..255 or 0..1 pixels, errors with line numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from netkit.errors import DatasetError
from netkit.plugins.datasets import CsvFile


def _write(path: Path, rows: list[list[float]], header: bool = False) -> Path:
    lines = []
    if header:
        lines.append(",".join(["label"] + [f"pixel{i}" for i in range(len(rows[0]) - 1)]))
    lines += [",".join(f"{value:g}" for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _rows(n: int = 10, width: int = 784, top: float = 255) -> list[list[float]]:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (n, width)) * (top / 255)
    pixels[0, 0] = top  # the brightest value occurs
    return [[label % 10, *row] for label, row in enumerate(pixels.tolist())]


@pytest.mark.parametrize("header", [False, True])
def test_kaggle_layout_with_or_without_header(tmp_path: Path, header: bool) -> None:
    path = _write(tmp_path / "train.csv", _rows(), header=header)
    dataset = CsvFile(path=str(path), test_fraction=0.3).load()
    assert dataset.train_images.shape == (7, 784) and dataset.test_images.shape == (3, 784)
    assert dataset.image_shape == (28, 28) and dataset.train_images.dtype == np.float32
    assert dataset.train_labels.dtype == np.int64
    assert sorted(np.concatenate([dataset.train_labels, dataset.test_labels]).tolist()) == list(range(10))
    assert float(max(dataset.train_images.max(), dataset.test_images.max())) == 1.0


def test_pixels_already_in_unit_range_are_kept(tmp_path: Path) -> None:
    rows = [[1, 0.0, 0.5, 1.0, 0.25], [0, 1.0, 0.0, 0.0, 0.75]]
    dataset = CsvFile(
        path=str(_write(tmp_path / "unit.csv", rows)), test_path=str(_write(tmp_path / "t.csv", rows))
    ).load()
    np.testing.assert_array_equal(dataset.train_images, np.array([row[1:] for row in rows], dtype=np.float32))
    assert dataset.image_shape == (2, 2)


def test_byte_pixels_match_the_idx_scaling(tmp_path: Path) -> None:
    rows = [[2, 0, 1, 128, 255]]
    dataset = CsvFile(
        path=str(_write(tmp_path / "a.csv", rows)), test_path=str(_write(tmp_path / "b.csv", rows))
    ).load()
    np.testing.assert_array_equal(dataset.test_images[0], np.array([0, 1, 128, 255], dtype=np.uint8) / np.float32(255))
    assert dataset.class_names == ("0", "1", "2")


def test_data_dir_folder_holds_the_named_files(tmp_path: Path) -> None:
    _write(tmp_path / "train.csv", _rows(6))
    _write(tmp_path / "holdout.csv", _rows(2))
    dataset = CsvFile(test_path="elsewhere/holdout.csv").load(data_dir=tmp_path)
    assert len(dataset.train_images) == 6 and len(dataset.test_images) == 2
    single = CsvFile(path="ignored.csv").load(data_dir=tmp_path / "train.csv")
    assert len(single.train_images) + len(single.test_images) == 6


def test_ragged_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("label,p0,p1,p2\n1,0,0,0\n2,0,0\n3,0,0,0\n")
    with pytest.raises(DatasetError, match=r"ragged.csv:3: 3 values where the earlier rows have 4") as caught:
        CsvFile(path=str(path)).load()
    assert "\n" not in str(caught.value)


def test_non_numeric_cell_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "text.csv"
    path.write_text("1,0,0,0\n2,0,oops,0\n")
    with pytest.raises(DatasetError, match=r"text.csv:2: column 3 is not a number: 'oops'"):
        CsvFile(path=str(path)).load()


def test_kaggle_test_file_without_labels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "test.csv"
    path.write_text("pixel0,pixel1\n0,0\n")
    with pytest.raises(DatasetError, match="has no label column"):
        CsvFile(path=str(path)).load()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("label,p0\n", "holds no data rows"),
        ("1\n2\n", "has 1 column"),
        ("1,300\n2,0\n", r"pixel values must lie in 0..255 \(or 0..1\), found 0..300"),
        ("1,-1\n2,0\n", "found -1..0"),
        ("1.5,0\n2,0\n", "labels must be whole numbers >= 0, found 1.5"),
        ("-1,0\n2,0\n", "found -1"),
        ("1,nan\n2,0\n", "data row 1 holds a value that is not finite"),
    ],
)
def test_bad_content_is_a_one_line_dataset_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message) as caught:
        CsvFile(path=str(path)).load()
    assert "\n" not in str(caught.value) and "bad.csv" in str(caught.value)


def test_missing_file_and_mismatched_test_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"CSV file not found: .*absent.csv"):
        CsvFile(path=str(tmp_path / "absent.csv")).load()
    _write(tmp_path / "wide.csv", _rows(3, width=4))
    _write(tmp_path / "narrow.csv", _rows(3, width=3))
    with pytest.raises(DatasetError, match=r"narrow.csv has 3 pixels per row but .*wide.csv has 4"):
        CsvFile(path=str(tmp_path / "wide.csv"), test_path=str(tmp_path / "narrow.csv")).load()
