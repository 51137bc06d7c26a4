"""A save that fails or is killed half-way leaves the previous model file intact, and no debris behind."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from netkit.errors import ModelFileError
from netkit.io import ModelFile, load_model, save_model
from netkit.io.atomic import STALE_AFTER_SECONDS, remove_stale_temporaries
from netkit.model.network import Network

FORMATS = {".h5": "hdf5", ".pkl": "pickle"}


def model_file(seed: int) -> ModelFile:
    model = Network(784, ["dense:units=16", "dense:units=10,activation=softmax"], rng=np.random.default_rng(seed))
    return ModelFile(model, training={"seed": seed})


def assert_holds(path: Path, expected: ModelFile) -> None:
    loaded = load_model(path)
    assert np.array_equal(loaded.model.parameters, expected.model.parameters)
    assert loaded.training == expected.training


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".tmp-" in name)


def test_a_save_writes_a_hidden_temporary_beside_the_target_and_renames_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[tuple[Path, Path]] = []
    fsynced: list[str] = []
    real_replace, real_fsync = os.replace, os.fsync

    def spy_replace(source: Any, destination: Any) -> None:
        renamed.append((Path(source), Path(destination)))
        assert not (tmp_path / "model.h5").exists()  # nothing is at the target until the rename
        assert Path(source).read_bytes().startswith(b"\x89HDF")  # and the temporary is complete by then
        real_replace(source, destination)

    def spy_fsync(descriptor: int) -> None:
        fsynced.append("folder" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "replace", spy_replace)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    save_model(model_file(0), tmp_path / "model.h5")
    [(temporary, destination)] = renamed
    assert temporary.parent == tmp_path and destination == tmp_path / "model.h5"
    assert re.fullmatch(rf"\.model\.h5\.tmp-{os.getpid()}-[0-9a-f]{{12}}", temporary.name)
    assert fsynced == ["file", "folder"]  # the data before the rename, the rename after it
    assert os.listdir(tmp_path) == ["model.h5"]
    assert_holds(tmp_path / "model.h5", model_file(0))


@pytest.mark.parametrize("extension", FORMATS)
def test_an_error_mid_write_keeps_the_previous_file_and_names_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extension: str
) -> None:
    target = save_model(model_file(0), tmp_path / f"model{extension}")
    real_write = os.write

    def disk_full(descriptor: int, data: Any) -> int:
        real_write(descriptor, bytes(data[:100]))  # the first part of the file goes in, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / f".model{extension}.tmp-1-2"))

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(ModelFileError) as raised:
        save_model(model_file(1), target)
    monkeypatch.undo()
    assert re.fullmatch(
        rf"cannot save {re.escape(str(target))}: no space left on device \(\d+ kB needed\)", str(raised.value)
    )
    assert_holds(target, model_file(0))
    assert temporaries(tmp_path) == []


def test_an_interrupt_mid_write_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = save_model(model_file(0), tmp_path / "model.h5")
    real_write = os.write

    def interrupted(descriptor: int, data: Any) -> int:
        real_write(descriptor, bytes(data[:4]))
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not a file error: the CLI's Ctrl-C handling must still see it
        save_model(model_file(1), target)
    monkeypatch.undo()
    assert_holds(target, model_file(0))
    assert temporaries(tmp_path) == []


def _can_create_files_in(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` read-only; as root, whom permissions do not stop, with the immutable flag as well."""
    folder.chmod(0o555)
    immutable = False
    try:
        if _can_create_files_in(folder) and shutil.which("chattr"):
            immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        if _can_create_files_in(folder):
            pytest.skip("cannot make a folder read-only here (root without chattr support)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_read_only_folder_is_reported_and_the_previous_file_survives(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    target = save_model(model_file(0), folder / "model.h5")
    with read_only(folder):
        with pytest.raises(ModelFileError, match=rf"cannot save {re.escape(str(target))}: .*(denied|not permitted)"):
            save_model(model_file(1), target)
        assert_holds(target, model_file(0))
        assert temporaries(folder) == []


def test_a_missing_folder_or_a_folder_in_the_way_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"cannot save .*: no such file or directory$"):
        save_model(model_file(0), tmp_path / "no-such-folder" / "model.h5")
    (tmp_path / "model.h5").mkdir()
    with pytest.raises(ModelFileError, match=r"cannot save .*model\.h5: "):
        save_model(model_file(0), tmp_path / "model.h5")
    assert temporaries(tmp_path) == []


def test_a_diverged_model_is_not_saved_over_the_previous_file(tmp_path: Path) -> None:
    target = save_model(model_file(0), tmp_path / "model.h5")
    diverged = model_file(1)
    diverged.model.parameter_views[1]["bias"][3] = np.nan
    with pytest.raises(ModelFileError, match="parameters contain NaN or infinite values"):
        save_model(diverged, target)
    assert_holds(target, model_file(0))


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = save_model(model_file(0), tmp_path / "model.pkl")
    target.chmod(0o640)
    save_model(model_file(1), target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


STALLED_SAVE = """
import sys, time
from pathlib import Path
from netkit.io.atomic import atomic_write

def stalled_writer(path):
    with open(path, "wb") as file:
        file.write(b"\\x89HDF\\r\\n\\x1a\\n" + bytes(10_000))  # half a file...
        file.flush()
    print("writing", flush=True)
    time.sleep(60)  # ...and then the process is killed

atomic_write(Path(sys.argv[1]), stalled_writer)
"""

SAVE_FOREVER = """
import sys
import numpy as np
from netkit.io import ModelFile, save_model
from netkit.model.network import Network

model = Network(784, ["dense:units=256", "dense:units=10,activation=softmax"], rng=np.random.default_rng(7))
for round in range(1_000_000):
    save_model(ModelFile(model, training={"round": round}), sys.argv[1])
    if round == 0:
        print("saved", flush=True)
"""


def start_child(script: str, target: Path, ready: str) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == ready
    return child


def kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)  # reaped: its pid no longer names a running process
    assert child.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_process_killed_mid_save_leaves_the_previous_file_and_the_next_save_cleans_up(tmp_path: Path) -> None:
    target = save_model(model_file(0), tmp_path / "model.h5")
    kill(start_child(STALLED_SAVE, target, ready="writing"))
    assert len(temporaries(tmp_path)) == 1  # the half-written temporary of the dead process
    assert_holds(target, model_file(0))
    save_model(model_file(1), target)
    assert temporaries(tmp_path) == []
    assert_holds(target, model_file(1))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("extension", FORMATS)
def test_a_process_killed_while_saving_in_a_loop_never_leaves_a_broken_file(tmp_path: Path, extension: str) -> None:
    target = tmp_path / f"model{extension}"
    child = start_child(SAVE_FOREVER, target, ready="saved")
    time.sleep(0.3)  # some dozens of saves: the kill lands at an arbitrary point of one
    kill(child)
    loaded = load_model(target)
    assert isinstance(loaded.training["round"], int) and loaded.training["round"] >= 0
    reference = Network(784, ["dense:units=256", "dense:units=10,activation=softmax"], rng=np.random.default_rng(7))
    assert np.array_equal(loaded.model.parameters, reference.parameters)
    save_model(loaded, target)
    assert temporaries(tmp_path) == []


def test_only_temporaries_of_dead_processes_or_old_ones_are_removed(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, alive_pid = int(finished.stdout), os.getpid()
    names = {
        "dead": f".model.h5.tmp-{dead_pid}-0a0a0a0a0a0a",
        "alive": f".model.h5.tmp-{alive_pid}-0b0b0b0b0b0b",
        "alive but old": f".model.h5.tmp-{alive_pid}-0c0c0c0c0c0c",
        "no pid": ".model.h5.tmp-unknown",
        "no pid, old": ".model.h5.tmp-unknown-old",
        "another target": f".other.h5.tmp-{dead_pid}-0d0d0d0d0d0d",
        "not a temporary": "model.h5.bak",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    long_ago = time.time() - STALE_AFTER_SECONDS - 60
    for key in ("alive but old", "no pid, old"):
        os.utime(tmp_path / names[key], (long_ago, long_ago))
    removed = remove_stale_temporaries(tmp_path / "model.h5")
    assert sorted(path.name for path in removed) == sorted(
        names[key] for key in ("dead", "alive but old", "no pid, old")
    )
    assert sorted(os.listdir(tmp_path)) == sorted(
        names[key] for key in ("alive", "no pid", "another target", "not a temporary")
    )


def test_ctrl_c_during_a_save_waits_for_the_save_to_finish(tmp_path: Path) -> None:
    """An interrupt that arrives mid-save is held until the file is complete, then raised."""
    import os
    import signal

    from netkit.io.atomic import interrupts_deferred

    finished = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        finished.append("the save went on")
    assert finished == ["the save went on"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path: Path) -> None:
    """The decoded-data cache writes folders through the same helper: old contents go, or stay, together."""
    from netkit.io.atomic import atomic_write

    target = tmp_path / "entry"
    target.mkdir()
    (target / "old.npy").write_bytes(b"old")

    def fill(folder: Path) -> None:
        (folder / "new.npy").write_bytes(b"new")

    def fail_half_way(folder: Path) -> None:
        (folder / "half.npy").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, fail_half_way, folder=True)
    assert os.listdir(target) == ["old.npy"] and temporaries(tmp_path) == []
    atomic_write(target, fill, folder=True)
    assert os.listdir(target) == ["new.npy"] and os.listdir(tmp_path) == ["entry"]


def test_a_dead_process_s_temporary_folder_is_removed_by_the_next_write(tmp_path: Path) -> None:
    from netkit.io.atomic import atomic_write

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".entry.tmp-{int(finished.stdout)}-0a0a0a0a0a0a"
    leftover.mkdir()
    (leftover / "half.npy").write_bytes(b"half")
    atomic_write(tmp_path / "entry", lambda folder: (folder / "a.npy").write_bytes(b"a"), folder=True)
    assert os.listdir(tmp_path) == ["entry"]
