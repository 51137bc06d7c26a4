"""IDX files, the format MNIST ships in: read (gzip or raw), validate, decode; and write.

An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then
the items. netkit reads unsigned bytes (type ``0x08``): labels have ``ndim`` 1 (magic ``0x00000801``),
images ``ndim`` 3 (magic ``0x00000803``). Compression is recognised by the gzip magic bytes ``1f 8b``, not
by the file name. Every way a file can be wrong raises :class:`~netkit.errors.DatasetError` naming it.
"""

from __future__ import annotations

import gzip
import itertools
import math
import mmap
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from netkit.data.pixels import to_unit_interval
from netkit.errors import DatasetError
from netkit.types import FloatArray, LabelArray

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803
UNSIGNED_BYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"

_READ_SIZE = 1 << 18  # compressed bytes fed to zlib at a time
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data more than this


def _read(file: BinaryIO, path: Path, size: int = _READ_SIZE) -> bytes:
    try:
        return file.read(size)
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None


def _gunzip(file: BinaryIO, data: bytes, path: Path) -> Iterator[bytes]:
    """Decompress one or more concatenated gzip members, checking each member's CRC and length."""
    decompressor = zlib.decompressobj(wbits=31)
    while True:
        if not data:
            data = _read(file, path)
            if not data:
                raise DatasetError(f"{path}: the gzip stream ends early (truncated file or download?)")
        try:
            out = decompressor.decompress(data)
        except zlib.error as exc:
            raise DatasetError(f"{path}: corrupt gzip data ({exc})") from None
        if out:
            yield out
        data = b""
        if decompressor.eof:
            rest = decompressor.unused_data or _read(file, path)
            if not rest:
                return
            if rest[:2] != GZIP_MAGIC[: len(rest)]:
                raise DatasetError(f"{path}: unexpected bytes after the gzip data")
            decompressor, data = zlib.decompressobj(wbits=31), rest


def iter_content(path: Path) -> Iterator[bytes]:
    """The file's bytes in pieces, decompressed when the file starts with the gzip magic."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise DatasetError(f"cannot open {path}: {exc.strerror or exc}") from None
    with file:
        data = _read(file, path)
        if data[:2] == GZIP_MAGIC:
            yield from _gunzip(file, data, path)
            return
        while data:
            yield data
            data = _read(file, path, 1 << 22)


def content_limit(path: Path) -> int:
    """An upper bound on the decoded size, so a lying header cannot make us allocate terabytes."""
    try:
        with path.open("rb") as file:
            compressed = file.read(2) == GZIP_MAGIC
        size = path.stat().st_size
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    return size * _MAX_DEFLATE_RATIO if compressed else size


def parse_header(prefix: bytes, path: Path, expected_ndim: int | None = None) -> tuple[tuple[int, ...], int]:
    """Validate the magic number and return ``(dims, header_length)`` from the file's first bytes."""
    what = {1: "labels", 3: "images"}.get(expected_ndim or 0, "IDX data")
    if len(prefix) < 4:
        raise DatasetError(f"{path}: too short for an IDX file ({len(prefix)} bytes)")
    zero, data_type, ndim = int.from_bytes(prefix[:2], "big"), prefix[2], prefix[3]
    if zero != 0 or ndim == 0:
        expected = {1: "00000801", 3: "00000803"}.get(expected_ndim or 0, "000008xx")
        raise DatasetError(f"{path}: not an IDX {what} file (starts {prefix[:4].hex()}, expected {expected})")
    if data_type != UNSIGNED_BYTE:
        raise DatasetError(f"{path}: IDX data type 0x{data_type:02x} is not unsigned byte (0x08)")
    if expected_ndim is not None and ndim != expected_ndim:
        raise DatasetError(
            f"{path}: IDX magic {prefix[:4].hex()} has {ndim} dimension(s); {what} need 0000080{expected_ndim}"
        )
    header_length = 4 + 4 * ndim
    if len(prefix) < header_length:
        raise DatasetError(f"{path}: the IDX header is cut short ({len(prefix)} of {header_length} bytes)")
    dims = tuple(int.from_bytes(prefix[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 0 in dims:
        raise DatasetError(f"{path}: the IDX header declares an empty array of shape {dims}")
    return dims, header_length


def _length_error(path: Path, dims: tuple[int, ...], expected: int, got: int) -> DatasetError:
    if got < expected:
        return DatasetError(
            f"{path}: truncated: header declares shape {dims} ({expected} bytes of data) but the file holds {got}"
        )
    return DatasetError(f"{path}: too long: header declares shape {dims} ({expected} bytes of data) but more follow")


def _split_header(chunks: Iterator[bytes], path: Path, expected_ndim: int | None) -> tuple[tuple[int, ...], int, bytes]:
    """Read pieces until the header is complete: ``(dims, header_length, the data bytes after it)``."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= 4 and len(head) >= 4 + 4 * head[3]:
            break
    dims, header_length = parse_header(head, path, expected_ndim)
    return dims, header_length, head[header_length:]


def read_idx(path: Path, expected_ndim: int | None = None) -> npt.NDArray[np.uint8]:
    """The whole array of an IDX file, shape as declared by its header."""
    chunks = iter_content(path)
    dims, _, first = _split_header(chunks, path, expected_ndim)
    expected = math.prod(dims)
    pieces, size = [first], len(first)
    for chunk in chunks:
        size += len(chunk)
        if size > expected:  # stop early: a lying file could inflate without end
            break
        pieces.append(chunk)
    if size != expected:
        raise _length_error(path, dims, expected, size)
    return np.frombuffer(b"".join(pieces), dtype=np.uint8).reshape(dims)


def read_labels(path: Path) -> LabelArray:
    """Class ids from an IDX labels file (magic ``0x00000801``) as int64."""
    return read_idx(path, expected_ndim=1).astype(np.int64)


def read_images(path: Path) -> FloatArray:
    """Images from an IDX images file (magic ``0x00000803``) as float32 in [0, 1], shape (n, rows, cols).

    Decompression and the conversion to float32 overlap: while zlib inflates the next piece (it releases
    the GIL), a second thread scales the previous one straight into the result, so no full-size uint8 copy
    of the data is ever held.
    """
    chunks = iter_content(path)
    dims, header_length, first = _split_header(chunks, path, expected_ndim=3)
    expected = math.prod(dims)
    if header_length + expected > content_limit(path):
        raise DatasetError(f"{path}: truncated: header declares shape {dims}, more than the file can hold")
    try:
        images = _allocate_float32(dims)
    except MemoryError:
        raise DatasetError(f"{path}: header declares shape {dims}, too large for memory") from None
    flat = images.reshape(-1)
    done = 0
    pending: list[Future[FloatArray]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="netkit-idx") as converter:
        try:
            for chunk in itertools.chain([first], chunks):
                end = done + len(chunk)
                if end > expected:
                    raise _length_error(path, dims, expected, end)
                pixels = np.frombuffer(chunk, dtype=np.uint8)
                pending.append(converter.submit(to_unit_interval, pixels, flat[done:end]))
                done = end
        finally:
            for future in pending:
                future.result()
    if done != expected:
        raise _length_error(path, dims, expected, done)
    return images


def _allocate_float32(shape: tuple[int, ...]) -> FloatArray:
    """An uninitialised float32 array in its own anonymous memory map.

    NumPy asks the kernel for transparent huge pages on large arrays; on a machine whose memory is
    fragmented the first touch then stalls while the kernel compacts memory (measured here: 0.03 s to 0.4 s
    for the 188 MB MNIST training set, at random). Ordinary pages cost a steady 0.08 s.
    """
    count = math.prod(shape)
    return np.frombuffer(mmap.mmap(-1, max(1, 4 * count)), dtype=np.float32, count=count).reshape(shape)


def read_pair(images_path: Path, labels_path: Path) -> tuple[FloatArray, LabelArray]:
    """Images and labels that belong together; their counts must agree."""
    labels = read_labels(labels_path)
    images = read_images(images_path)
    if images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds {labels.shape[0]} labels"
        )
    return images, labels


def encode_idx(array: npt.NDArray[np.uint8]) -> bytes:
    """The IDX bytes of a uint8 array (header + items): the inverse of :func:`read_idx`."""
    if array.dtype != np.uint8 or array.ndim == 0 or array.ndim > 255:
        raise DatasetError(f"IDX holds uint8 arrays of 1 to 255 dimensions, got {array.dtype} {array.shape}")
    header = bytes([0, 0, UNSIGNED_BYTE, array.ndim]) + b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def write_idx(path: Path, array: npt.NDArray[np.uint8], compress: bool = False) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``compress`` is true."""
    data = encode_idx(array)
    try:
        path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0) if compress else data)
    except OSError as exc:
        raise DatasetError(f"cannot write {path}: {exc.strerror or exc}") from None
