"""The IDX parser: round trips, and every kind of broken file gives a one-line DatasetError naming it."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from netkit.data.idx import encode_idx, iter_content, read_idx, read_images, read_labels, read_pair, write_idx
from netkit.errors import DatasetError

fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _images(n: int = 3, rows: int = 4, cols: int = 5) -> np.ndarray:
    return np.arange(n * rows * cols, dtype=np.uint8).reshape(n, rows, cols)


@pytest.mark.parametrize("compress", [False, True])
def test_images_round_trip_through_raw_and_gzip_files(tmp_path: Path, compress: bool) -> None:
    pixels = _images()
    path = tmp_path / "images.idx"
    write_idx(path, pixels, compress=compress)
    images = read_images(path)
    assert images.dtype == np.float32 and images.shape == (3, 4, 5)
    np.testing.assert_array_equal(images, pixels / np.float32(255))


def test_gzip_is_recognised_by_magic_bytes_not_by_name(tmp_path: Path) -> None:
    labels = np.array([3, 1, 4], dtype=np.uint8)
    compressed_without_suffix = tmp_path / "labels"
    compressed_without_suffix.write_bytes(gzip.compress(encode_idx(labels)))
    raw_with_gz_suffix = tmp_path / "labels.gz"
    raw_with_gz_suffix.write_bytes(encode_idx(labels))
    for path in (compressed_without_suffix, raw_with_gz_suffix):
        np.testing.assert_array_equal(read_labels(path), [3, 1, 4])
        assert read_labels(path).dtype == np.int64


def test_concatenated_gzip_members_are_one_stream(tmp_path: Path) -> None:
    data = encode_idx(np.arange(200, dtype=np.uint8))
    path = tmp_path / "two-members.gz"
    path.write_bytes(gzip.compress(data[:50]) + gzip.compress(data[50:]))
    np.testing.assert_array_equal(read_idx(path), np.arange(200))


def test_large_images_file_streams_in_pieces_into_one_array(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(3000, 28, 28), dtype=np.uint8)  # 2.4 MB: many decompressed pieces
    path = tmp_path / "many.gz"
    write_idx(path, pixels, compress=True)
    np.testing.assert_array_equal(read_images(path), pixels / np.float32(255))


def test_pixel_255_is_exactly_one(tmp_path: Path) -> None:
    path = tmp_path / "white"
    write_idx(path, np.full((1, 2, 2), 255, dtype=np.uint8))
    assert read_images(path).max() == 1.0


def test_images_and_labels_counts_must_match(tmp_path: Path) -> None:
    write_idx(tmp_path / "images", _images(n=3))
    write_idx(tmp_path / "labels", np.zeros(4, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"holds 3 images but .*labels.* holds 4 labels"):
        read_pair(tmp_path / "images", tmp_path / "labels")


def test_labels_file_given_as_images_names_the_expected_magic(tmp_path: Path) -> None:
    path = tmp_path / "train-labels"
    write_idx(path, np.zeros(4, dtype=np.uint8))
    with pytest.raises(DatasetError, match=r"train-labels.*00000803"):
        read_images(path)


def test_missing_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"cannot open .*nothing-here"):
        read_labels(tmp_path / "nothing-here")


def test_header_declaring_terabytes_fails_before_allocating(tmp_path: Path) -> None:
    path = tmp_path / "huge.gz"
    header = bytes([0, 0, 8, 3]) + (2**31).to_bytes(4, "big") + (2**15).to_bytes(4, "big") * 2
    path.write_bytes(gzip.compress(header + b"\x00" * 100))
    with pytest.raises(DatasetError, match=r"huge.gz: truncated"):
        read_images(path)


def test_labels_file_inflating_far_beyond_its_header_stops_early(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(encode_idx(np.zeros(1, dtype=np.uint8)) + bytes(20_000_000)))
    with pytest.raises(DatasetError, match=r"bomb.gz: too long: header declares shape \(1,\)"):
        read_labels(path)


def _assert_one_line_error_naming(path: Path, error: DatasetError) -> None:
    message = str(error)
    assert str(path) in message and "\n" not in message


def _read_all_ways(path: Path) -> None:
    """Each reader must raise DatasetError; anything else (or success) fails the test."""
    for reader in (read_images, read_labels, read_idx):
        with pytest.raises(DatasetError) as caught:
            reader(path)
        _assert_one_line_error_naming(path, caught.value)


valid_files = st.tuples(
    st.sampled_from([1, 3]),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(1, 5),
    st.booleans(),
)


def _valid_bytes(ndim: int, n: int, rows: int, cols: int) -> bytes:
    shape = (n,) if ndim == 1 else (n, rows, cols)
    return encode_idx(np.arange(np.prod(shape), dtype=np.uint8).reshape(shape))


@fuzz
@given(spec=valid_files, cut=st.floats(0, 1, exclude_max=True))
def test_every_truncation_is_a_dataset_error(tmp_path: Path, spec: tuple[int, int, int, int, bool], cut: float) -> None:
    ndim, n, rows, cols, compress = spec
    data = _valid_bytes(ndim, n, rows, cols)
    stored = gzip.compress(data) if compress else data
    path = tmp_path / "cut"
    path.write_bytes(stored[: int(len(stored) * cut)])
    _read_all_ways(path)


@fuzz
@given(spec=valid_files, extra=st.binary(min_size=1, max_size=20))
def test_trailing_bytes_are_a_dataset_error(
    tmp_path: Path, spec: tuple[int, int, int, int, bool], extra: bytes
) -> None:
    ndim, n, rows, cols, compress = spec
    data = _valid_bytes(ndim, n, rows, cols) + extra
    path = tmp_path / "long"
    path.write_bytes(gzip.compress(data) if compress else data)
    _read_all_ways(path)


@fuzz
@given(spec=valid_files, magic=st.binary(min_size=4, max_size=4))
def test_wrong_magic_is_a_dataset_error(tmp_path: Path, spec: tuple[int, int, int, int, bool], magic: bytes) -> None:
    ndim, n, rows, cols, _ = spec
    data = _valid_bytes(ndim, n, rows, cols)
    assume(magic[:3] != data[:3])  # keep the type and dims bytes wrong or inconsistent
    path = tmp_path / "magic"
    path.write_bytes(magic + data[4:])
    _read_all_ways(path)


@fuzz
@given(spec=valid_files, dims=st.lists(st.integers(0, 2**32 - 1), min_size=3, max_size=3))
def test_wrong_dimensions_are_a_dataset_error(
    tmp_path: Path, spec: tuple[int, int, int, int, bool], dims: list[int]
) -> None:
    ndim, n, rows, cols, compress = spec
    true_dims = [n] if ndim == 1 else [n, rows, cols]
    lying = dims[:ndim]
    assume(math.prod(lying) != math.prod(true_dims))
    data = _valid_bytes(ndim, n, rows, cols)
    forged = data[:4] + b"".join(size.to_bytes(4, "big") for size in lying) + data[4 + 4 * ndim :]
    path = tmp_path / "dims"
    path.write_bytes(gzip.compress(forged) if compress else forged)
    _read_all_ways(path)


@fuzz
@given(garbage=st.binary(max_size=300))
def test_garbage_bytes_are_a_dataset_error(tmp_path: Path, garbage: bytes) -> None:
    assume(garbage[:3] != b"\x00\x00\x08" and garbage[:2] != b"\x1f\x8b")
    path = tmp_path / "garbage"
    path.write_bytes(garbage)
    _read_all_ways(path)


@fuzz
@given(spec=valid_files, position=st.floats(0, 1, exclude_max=True), value=st.integers(1, 255))
def test_corrupted_gzip_is_a_dataset_error(
    tmp_path: Path, spec: tuple[int, int, int, int, bool], position: float, value: int
) -> None:
    ndim, n, rows, cols, _ = spec
    stored = bytearray(gzip.compress(_valid_bytes(ndim, n, rows, cols)))
    index = 10 + int((len(stored) - 10) * position)  # past the header: deflate data or the CRC/size trailer
    stored[index] ^= value
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(stored))
    try:
        content = b"".join(iter_content(path))
    except DatasetError as error:
        _assert_one_line_error_naming(path, error)
        return
    # A flip that zlib cannot notice would have to leave the CRC-checked content intact.
    assert content == _valid_bytes(ndim, n, rows, cols)


@fuzz
@given(garbage=st.binary(max_size=200))
def test_gzip_magic_followed_by_garbage_is_a_dataset_error(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "fake.gz"
    path.write_bytes(b"\x1f\x8b" + garbage)
    _read_all_ways(path)


def test_zlib_error_text_is_kept_in_the_message(tmp_path: Path) -> None:
    stored = bytearray(gzip.compress(_valid_bytes(3, 2, 3, 3)))
    stored[-8] ^= 0xFF  # the CRC32 of the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(stored))
    with pytest.raises(DatasetError, match=r"crc.gz: corrupt gzip data \(.*\)"):
        read_images(path)
