"""Downloads, for real, from an HTTP server on 127.0.0.1 serving the MNIST files (never the internet)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import attrs
import numpy as np
import pytest

from netkit.data.download import fetch, mirror_variable, mirrors_for
from netkit.data.idx import encode_idx, iter_content
from netkit.errors import DatasetError
from netkit.plugins.datasets import FASHION_MNIST, FashionMnist, Mnist
from tests.data_helpers import MNIST_STEMS, closed_port_url, isolated_cache, serve_folder

__all__ = ["isolated_cache"]  # a fixture, used by name


def _mirror_folder(mnist_dir: Path, folder: Path) -> Path:
    folder.mkdir()
    for stem in MNIST_STEMS:
        os.symlink(mnist_dir / f"{stem}.gz", folder / f"{stem}.gz")
    return folder


def _leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".") or path.suffix == ".part")


def test_mirror_variable_replaces_the_public_mirrors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mirror_variable("fashion-mnist") == "NETKIT_FASHION_MNIST_MIRROR"
    monkeypatch.delenv("NETKIT_MNIST_MIRROR", raising=False)
    assert Mnist().mirrors() == (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    )
    monkeypatch.setenv("NETKIT_MNIST_MIRROR", "http://a.example/x, http://b.example/y/")
    assert mirrors_for("mnist", ["https://public.example/"]) == ("http://a.example/x/", "http://b.example/y/")


def test_load_downloads_missing_files_into_the_cache_and_verifies_them(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    progress: list[tuple[str, int, int | None]] = []
    with serve_folder(_mirror_folder(mnist_dir, tmp_path / "served")) as url:
        monkeypatch.setenv("NETKIT_MNIST_MIRROR", url)
        dataset = Mnist().load(progress=lambda name, done, total: progress.append((name, done, total)))
    cache = isolated_cache / "mnist"
    assert sorted(path.name for path in cache.iterdir()) == sorted(f"{stem}.gz" for stem in MNIST_STEMS)
    assert dataset.train_images.shape == (60000, 784)
    assert all(entry.checksum_ok for entry in Mnist().status())
    finished = {name: (done, total) for name, done, total in progress}
    size = (mnist_dir / "train-images-idx3-ubyte.gz").stat().st_size
    assert finished["train-images-idx3-ubyte.gz"] == (size, size)
    assert progress[0][1] == 0  # the callback hears of each file before its first byte


def test_download_fetches_only_what_is_missing(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    os.symlink(mnist_dir / "t10k-labels-idx1-ubyte.gz", served / "t10k-labels-idx1-ubyte.gz")
    have = tmp_path / "have"
    have.mkdir()
    for stem in MNIST_STEMS[:3]:
        os.symlink(mnist_dir / f"{stem}.gz", have / f"{stem}.gz")
    fetched: list[str] = []
    with serve_folder(served) as url:
        monkeypatch.setenv("NETKIT_MNIST_MIRROR", url)
        target = Mnist().download(progress=lambda name, done, total: fetched.append(name), data_dir=have)
    assert target == isolated_cache / "mnist"
    assert set(fetched) == {"t10k-labels-idx1-ubyte.gz"}
    assert [path.name for path in target.iterdir()] == ["t10k-labels-idx1-ubyte.gz"]


def test_corrupt_download_is_rejected_and_leaves_the_cache_clean(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _mirror_folder(mnist_dir, tmp_path / "served")
    bad = served / "t10k-labels-idx1-ubyte.gz"
    bad.unlink()
    labels = np.zeros(10000, dtype=np.uint8)  # a well-formed IDX file with the wrong content
    bad.write_bytes(gzip.compress(encode_idx(labels)))
    with serve_folder(served) as url:
        monkeypatch.setenv("NETKIT_MNIST_MIRROR", url)
        with pytest.raises(DatasetError) as caught:
            Mnist().load()
    message = str(caught.value)
    assert "\n" not in message and "t10k-labels-idx1-ubyte.gz" in message and "SHA-256" in message
    cache = isolated_cache / "mnist"
    assert not (cache / "t10k-labels-idx1-ubyte.gz").exists()
    assert _leftovers(cache) == []


def test_truncated_download_is_rejected_and_leaves_no_partial_file(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    data = (mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(data[:-100])
    target = tmp_path / "target"
    with serve_folder(served) as url, pytest.raises(DatasetError, match="gzip stream ends early"):
        fetch("t10k-labels-idx1-ubyte.gz", [url], target, _check_gzip_content)
    assert not target.exists()  # neither the partial file nor the folder made for it


def _check_gzip_content(path: Path) -> str | None:
    try:
        b"".join(iter_content(path))
    except DatasetError as error:
        return str(error)
    return None


def test_dead_mirror_is_skipped_for_the_next_one(
    mnist_dir: Path, tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = closed_port_url()
    with serve_folder(_mirror_folder(mnist_dir, tmp_path / "served")) as url:
        missing = f"{url}nothing-here/"  # answers 404
        monkeypatch.setenv("NETKIT_MNIST_MIRROR", f"{dead} {missing} {url}")
        target = Mnist().download()
    assert sorted(path.name for path in target.iterdir()) == sorted(f"{stem}.gz" for stem in MNIST_STEMS)


def test_all_mirrors_failing_names_each_reason(
    tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = closed_port_url()
    with serve_folder(tmp_path) as url:
        monkeypatch.setenv("NETKIT_MNIST_MIRROR", f"{dead},{url}")
        with pytest.raises(DatasetError) as caught:
            Mnist().load()
    message = str(caught.value)
    assert "\n" not in message
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert f"{dead}train-images-idx3-ubyte.gz: " in message and "HTTP 404" in message
    assert not (isolated_cache / "mnist").exists()  # not even an empty folder


def test_download_false_never_touches_the_network(
    tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETKIT_MNIST_MIRROR", closed_port_url())
    with pytest.raises(DatasetError, match="not found in"):
        Mnist().load(download=False)
    assert not (isolated_cache / "mnist").exists()


def test_fashion_mnist_mirror_variable_points_downloads_at_a_local_server(
    tmp_path: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not the Debian folder: on a machine with dataset-fashion-mnist installed nothing would be downloaded.
    monkeypatch.setattr(FashionMnist, "spec", attrs.evolve(FASHION_MNIST, system_dirs=()))
    served = tmp_path / "served"
    served.mkdir()
    fake = gzip.compress(encode_idx(np.zeros((2, 28, 28), dtype=np.uint8)))
    (served / "train-images-idx3-ubyte.gz").write_bytes(fake)
    with serve_folder(served) as url:
        monkeypatch.setenv("NETKIT_FASHION_MNIST_MIRROR", url)
        assert FashionMnist().mirrors() == (url,)
        with pytest.raises(DatasetError) as caught:
            FashionMnist().load()
    message = str(caught.value)
    assert f"{url}train-images-idx3-ubyte.gz: SHA-256 of the content is" in message
    assert not (isolated_cache / "fashion-mnist").exists()
