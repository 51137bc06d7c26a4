"""Saves that cannot crash or mislead: a full disk, Ctrl-C in every window of a checkpoint, an unwritable --out."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from netkit.cli.main import cli
from netkit.io import ModelFile, load_model, save_model, storage
from netkit.model.network import Network
from netkit.training import run as training_run

TMPFS_SIZE = "300k"


def write_digits_csv(path: Path, rows: int = 120, seed: int = 0) -> Path:
    """A small label-first CSV of 784-pixel rows: a dataset that trains in a blink."""
    rng = np.random.default_rng(seed)
    labels = np.arange(rows) % 10
    pixels = rng.integers(0, 256, size=(rows, 784))
    table = np.column_stack([labels, pixels])
    np.savetxt(path, table, fmt="%d", delimiter=",")
    return path


def netkit(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """netkit in a process of its own: a crash at exit (a segfault) shows only there, as a negative code."""
    command = [sys.executable, "-m", "netkit.cli.main", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".tmp-" in name)


@contextlib.contextmanager
def small_tmpfs(folder: Path) -> Iterator[Path]:
    """A real 300 kB file system at ``folder``; skipped where this process may not mount one."""
    folder.mkdir()
    if not shutil.which("mount") or os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8); this test needs a disk that really fills up")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'mount failed'}), e.g. in a container")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill_leaving(folder: Path, free_bytes: int) -> None:
    """Fill the file system of ``folder`` until about ``free_bytes`` remain."""
    status = os.statvfs(folder)
    available = status.f_bavail * status.f_frsize
    (folder / "filler").write_bytes(bytes(max(0, available - free_bytes)))


@pytest.fixture
def digits_csv(tmp_path: Path) -> Path:
    return write_digits_csv(tmp_path / "digits.csv")


FULL_DISK = re.compile(r"netkit: error: cannot save (\S+): no space left on device \((\d+) kB needed\)")


@pytest.mark.parametrize("extension", [".h5", ".pkl"])
def test_a_full_disk_gives_one_line_and_keeps_the_previous_file(
    tmp_path: Path, digits_csv: Path, extension: str
) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        model = disk / f"m{extension}"
        first = netkit("train", "--dataset", "csv", "--data-dir", digits_csv, "--epochs", "1", "--out", model, "-q")
        assert first.returncode == 0, first.stderr
        before = model.read_bytes()
        fill_leaving(disk, 40_000)
        for args in (
            ("train", "--resume", "--epochs", "1", "--data-dir", digits_csv, "--out", model),
            ("export", model, disk / f"e{extension}"),
        ):
            result = netkit(*args)
            assert result.returncode == 1, (args, result.returncode, result.stderr[-2000:])
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and FULL_DISK.fullmatch(lines[0]), result.stderr[-2000:]
            match = FULL_DISK.fullmatch(lines[0])
            assert match is not None and match[1] == str(args[-1])
            assert int(match[2]) >= len(before) // 1000  # at least the size of the file it replaces
            assert model.read_bytes() == before
            assert not (disk / f"e{extension}").exists()
            assert temporaries(disk) == []
        assert load_model(model).history.epochs[-1].epoch == 1


def test_a_save_too_big_for_the_disk_reports_what_it_needed(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk") as disk:
        big = Network(784, ["dense:units=200", "dense:units=10,activation=softmax"])
        with pytest.raises(Exception, match=r"no space left on device \((\d{3}) kB needed\)") as raised:
            save_model(ModelFile(big), disk / "big.h5")
        needed = int(re.search(r"\((\d+) kB", str(raised.value))[1])  # type: ignore[index]
        assert needed * 1000 >= big.parameter_count * 4  # float32 weights alone
        assert os.listdir(disk) == []


# --- Ctrl-C: the message names the epoch the file really holds -------------------------------------------


def _interrupt_in(monkeypatch: pytest.MonkeyPatch, window: str, on_save: int) -> None:
    """Send SIGINT to this process in one window of the ``on_save``-th checkpoint."""
    saves = {"count": 0}
    real_encoder, real_save = storage._ENCODERS["hdf5"], training_run.save_model

    def encoder(record: Any) -> bytes:
        saves["count"] += 1
        if window == "while writing" and saves["count"] == on_save:
            signal.raise_signal(signal.SIGINT)
        return real_encoder(record)

    def save(*args: Any, **kwargs: Any) -> Path:
        path = real_save(*args, **kwargs)
        if window == "after the rename" and saves["count"] == on_save:
            signal.raise_signal(signal.SIGINT)
        return path

    monkeypatch.setitem(storage._ENCODERS, "hdf5", encoder)
    monkeypatch.setattr(training_run, "save_model", save)


@pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal")
@pytest.mark.parametrize("window", ["while writing", "after the rename"])
def test_ctrl_c_during_a_checkpoint_names_the_epoch_the_file_holds(
    tmp_path: Path, digits_csv: Path, monkeypatch: pytest.MonkeyPatch, window: str
) -> None:
    out = tmp_path / "m.h5"
    common = ("--dataset", "csv", "--data-dir", digits_csv, "--out", out, "-q")
    assert run("train", "--epochs", "1", *common).exit_code == 0
    _interrupt_in(monkeypatch, window, on_save=1)
    result = run("train", "--resume", "--epochs", "3", "--data-dir", digits_csv, "--out", out, "-q")
    monkeypatch.undo()
    held = load_model(out).history.epochs[-1].epoch
    assert held == 2  # the save that was interrupted completed
    assert result.exit_code == 130
    assert f"{out} holds epoch {held}" in result.stderr, result.stderr


@pytest.mark.skipif(not hasattr(signal, "raise_signal"), reason="needs signal.raise_signal")
def test_ctrl_c_during_the_first_checkpoint_does_not_say_nothing_was_saved(
    tmp_path: Path, digits_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "m.h5"
    _interrupt_in(monkeypatch, "while writing", on_save=1)
    result = run("train", "--epochs", "3", "--dataset", "csv", "--data-dir", digits_csv, "--out", out, "-q")
    monkeypatch.undo()
    assert result.exit_code == 130
    assert load_model(out).history.epochs[-1].epoch == 1
    assert f"{out} holds epoch 1" in result.stderr and "nothing was saved" not in result.stderr


# --- --out is checked before any training ------------------------------------------------------------------


def _chattr(flag: str, path: Path) -> bool:
    if not shutil.which("chattr"):
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    if not _chattr("+i", path):
        pytest.skip("this file system does not support the immutable flag (chattr +i)")
    try:
        yield
    finally:
        _chattr("-i", path)


def test_an_immutable_out_is_refused_before_the_first_epoch(tmp_path: Path, digits_csv: Path) -> None:
    out = tmp_path / "m.h5"
    common = ("--dataset", "csv", "--data-dir", digits_csv, "--out", out)
    assert run("train", "--epochs", "1", "-q", *common).exit_code == 0
    before = out.read_bytes()
    with immutable(out):
        result = run("train", "--reset", "--epochs", "1", *common)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"netkit: error: cannot save {out}: operation not permitted"
    assert "epoch" not in result.stdout  # nothing was trained
    assert out.read_bytes() == before


def test_a_read_only_folder_is_refused_before_the_first_epoch(tmp_path: Path, digits_csv: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    folder.chmod(0o555)
    flagged = False
    try:
        if os.geteuid() == 0:  # permissions do not stop root: the immutable flag does
            flagged = _chattr("+i", folder)
            if not flagged:
                pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
        result = run("train", "--epochs", "1", "--dataset", "csv", "--data-dir", digits_csv, "--out", folder / "m.h5")
    finally:
        if flagged:
            _chattr("-i", folder)
        folder.chmod(0o755)
    assert result.exit_code == 1
    assert re.fullmatch(
        rf"netkit: error: cannot save {re.escape(str(folder / 'm.h5'))}: (permission denied|operation not permitted)",
        result.stderr.strip(),
    )
    assert "epoch" not in result.stdout
    assert os.listdir(folder) == []


def test_save_errors_name_the_target_not_the_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.pkl"
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if ".tmp-" in os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    with pytest.raises(Exception) as raised:
        save_model(ModelFile(Network(4, ["dense:units=2"])), target)
    assert str(raised.value) == f"cannot save {target}: permission denied"


# --- sizes: a usage error for --layers too big, one line for any MemoryError --------------------------------


def test_layers_too_big_for_memory_are_a_usage_error_before_allocating(
    tmp_path: Path, digits_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_allocation(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the network was built")

    monkeypatch.setattr(training_run.Network, "__init__", no_allocation)
    args = ("train", "--dataset", "csv", "--data-dir", digits_csv, "--out", tmp_path / "m.h5")
    result = run(*args, "--layers", "1000000000")
    assert result.exit_code == 2
    assert "a 784-1000000000-10 network has 795,000,000,010 parameters and needs at least" in result.stderr
    assert "GiB to train; this machine has" in result.stderr
    result = run(*args, "--layers", "10000,10000")
    assert result.exit_code == 2
    assert "more than netkit's ceiling of 50,000,000; set NETKIT_MAX_PARAMETERS to raise it" in result.stderr


def test_a_memory_error_anywhere_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = save_model(ModelFile(Network(784, ["dense:units=10,activation=softmax"])), tmp_path / "m.h5")

    def exhausted(*args: Any, **kwargs: Any) -> None:
        raise MemoryError

    monkeypatch.setattr("netkit.cli.models.load_model", exhausted)
    result = run("inspect", model)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("netkit: error: out of memory")
    assert "Traceback" not in result.output
