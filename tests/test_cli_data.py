"""``netkit data info`` and ``netkit data download``, downloading from a local mirror (no network)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from netkit.cli.main import cli


def _run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


@pytest.fixture
def empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $NETKIT_DATA and a fresh user cache: MNIST is nowhere."""
    monkeypatch.delenv("NETKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "netkit" / "mnist"


def test_info_shows_where_mnist_was_found(mnist_dir: Path) -> None:
    result = _run("data", "info", "mnist")
    assert result.exit_code == 0, result.output
    assert "all 4 files present, checksums ok" in result.stdout
    assert "train-images-idx3-ubyte" in result.stdout and str(mnist_dir) in result.stdout


def test_info_json_lists_every_dataset(mnist_dir: Path) -> None:
    result = _run("data", "info", "--json", "--no-verify")
    assert result.exit_code == 0, result.output
    report = {entry["dataset"]: entry["files"] for entry in json.loads(result.stdout)}
    assert {"mnist", "fashion-mnist", "png-folder"} <= set(report)
    assert report["png-folder"] is None  # reads what it is pointed at: no fixed files
    mnist = {item["file"]: item for item in report["mnist"]}
    found = mnist["t10k-labels-idx1-ubyte"]["found"]
    assert found is not None and Path(found).parent == mnist_dir
    assert mnist["t10k-labels-idx1-ubyte"]["checksum_ok"] is None  # --no-verify


def test_info_reports_missing_files_and_how_to_fetch_them(empty_cache: Path) -> None:
    result = _run("data", "info", "mnist")
    assert result.exit_code == 0
    assert "4 of 4 files missing" in result.stdout and "netkit data download mnist" in result.stdout
    assert str(empty_cache) in result.stdout


def test_download_fetches_into_the_cache(empty_cache: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETKIT_MNIST_MIRROR", mnist_dir.as_uri())
    result = _run("data", "download")  # mnist by default
    assert result.exit_code == 0, result.output
    assert f"downloaded 4 file(s) into {empty_cache}" in result.stdout
    assert result.stderr.count("netkit: downloading") == 4  # no terminal: one line per file
    assert sorted(path.name for path in empty_cache.iterdir()) == sorted(path.name for path in mnist_dir.glob("*.gz"))
    again = _run("data", "download", "mnist")
    assert again.exit_code == 0 and "nothing to download" in again.stdout


def test_download_from_a_bad_mirror_is_a_one_line_error(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NETKIT_MNIST_MIRROR", (tmp_path / "nowhere").as_uri())
    result = _run("data", "download", "mnist")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("netkit: error: could not download")


def test_download_of_a_dataset_without_files_is_refused() -> None:
    result = _run("data", "download", "csv")
    assert result.exit_code == 1 and "nothing to download" in result.stderr


def test_unknown_dataset_is_a_usage_error() -> None:
    result = _run("data", "info", "cifar")
    assert result.exit_code == 2 and "mnist" in result.stderr
