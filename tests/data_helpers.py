"""Helpers shared by the tests: of the dataset layer (``tests/test_data_*.py``), and small learnable data."""

from __future__ import annotations

import contextlib
import functools
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from netkit.data.idx import read_idx

MNIST_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@functools.lru_cache(maxsize=1)
def mnist_test_pixels(folder: Path) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """MNIST's test images as uint8 (10000, 28, 28) and their labels, straight from the IDX files."""
    images = read_idx(folder / "t10k-images-idx3-ubyte.gz", expected_ndim=3)
    labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz", expected_ndim=1)
    return images, labels


def write_png_tree(root: Path, images: npt.NDArray[np.uint8], labels: npt.NDArray[Any], start: int = 0) -> None:
    """Write ``images`` as grayscale PNGs ``root/<label>/<index>.png`` (index from ``start``, zero-padded)."""
    for offset, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / f"{start + offset:05d}.png")


@pytest.fixture
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user cache (XDG_CACHE_HOME), no NETKIT_DATA and no mirror override: nothing leaks in."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("NETKIT_DATA", raising=False)
    for name in ("NETKIT_MNIST_MIRROR", "NETKIT_FASHION_MNIST_MIRROR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return cache / "netkit"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 at a random port, in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def halves(rows: int = 400, features: int = 4, seed: int = 0) -> tuple[npt.NDArray[np.float32], npt.NDArray[Any]]:
    """Two classes told apart by which half of the features is bright: learnable in an epoch or two."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % 2
    images = rng.uniform(0, 0.2, (rows, features)).astype(np.float32)
    images[labels == 0, : features // 2] += 0.8
    images[labels == 1, features // 2 :] += 0.8
    return images, labels
