"""Atomic saves: a crash, a kill or a full disk never leaves a half-written file (or folder) at the target.

This is the one temporary-then-rename helper of the project: model files (:mod:`netkit.io.storage`),
downloads (:mod:`netkit.data.download`) and the decoded-data cache (:mod:`netkit.data.decoded`) all use it.

The writer fills a temporary file beside the target, named ``.{target name}.tmp-{pid}-{random}`` so that it
is recognisable (and hidden on POSIX). It is flushed to disk and then renamed onto the target with
``os.replace``, which is atomic within a POSIX file system (Windows replaces in place as well, with weaker
guarantees); the folder is then synced so the rename itself survives a power cut. Readers see the old file
or the new one, never a mixture. A folder (``folder=True``) is built the same way and swapped in with two
renames: the old one is moved aside first, because a rename cannot replace a folder that has contents.

A process killed mid-save leaves its temporary behind. Each save removes the leftover temporaries of its
target whose writing process no longer runs (POSIX only: the pid is in the name) or that are older than
``STALE_AFTER_SECONDS`` (everywhere). Temporaries of a save that is still running are left alone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

TEMPORARY_MARK = ".tmp-"
# No save takes an hour: a temporary this old belongs to a dead process even where pids cannot be checked.
STALE_AFTER_SECONDS = 3600.0
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def temporary_prefix(target: Path) -> str:
    return f".{target.name}{TEMPORARY_MARK}"


def temporary_beside(target: Path) -> Path:
    """A fresh temporary name beside ``target`` (nothing is created)."""
    return target.parent / f"{temporary_prefix(target)}{os.getpid()}-{secrets.token_hex(6)}"


def atomic_write(target: Path, write: Callable[[Path], None], *, folder: bool = False) -> None:
    """Run ``write(temporary)``, then put the result at ``target`` in one rename.

    ``temporary`` is an empty file (or, with ``folder``, an empty folder) beside the target. On any failure
    (including KeyboardInterrupt, and a ``write`` that rejects what it wrote) the temporary is removed,
    ``target`` is untouched and the exception propagates unchanged.
    """
    remove_stale_temporaries(target)
    temporary = temporary_beside(target)
    if folder:
        os.mkdir(temporary)
    else:
        # O_EXCL: never write through a file (or symlink) that someone else placed there. Mode 0o666 lets
        # the umask decide the permissions, as for any newly created file.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666))
    try:
        write(temporary)
        if folder:
            _replace_folder(temporary, target)
        else:
            # The writer closed its handle; fsync through any handle flushes the file's data.
            _fsync(temporary, os.O_RDWR | _BINARY)
            if target.exists():  # a replaced file keeps its permissions
                os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
            os.replace(temporary, target)
    except BaseException:
        _remove(temporary)
        raise
    # Windows cannot open a folder to sync it (NTFS journals the rename itself); some POSIX file systems
    # refuse a directory fsync too: both are best effort.
    if os.name == "posix":
        with contextlib.suppress(OSError):
            _fsync(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def check_writable(target: Path) -> None:
    """Raise the ``OSError`` a save to ``target`` would meet from its folder or from the file, now.

    A temporary is created and removed beside the target (a read-only folder or file system, no such
    folder). An existing target of one's own is touched with its own timestamps: the immutable and
    append-only flags refuse even that, and they would refuse the rename too. (A file of another user is not
    probed: changing its times needs ownership, replacing it only needs the folder.)
    """
    probe = temporary_beside(target)
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600))
    os.unlink(probe)
    if os.name == "posix" and os.path.isfile(target):
        status = os.stat(target)
        if os.geteuid() in (0, status.st_uid):
            os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))


def write_bytes_atomically(target: Path, data: bytes) -> None:
    """Put ``data`` at ``target`` atomically; a full disk is an ``OSError`` (ENOSPC) and leaves no trace."""
    atomic_write(target, lambda temporary: _write_all(temporary, data))


def _write_all(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_TRUNC | _BINARY)
    try:
        view = memoryview(data)
        while view:  # os.write may write less than asked (a signal, a pipe): go on until all is written
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _replace_folder(temporary: Path, target: Path) -> None:
    if not os.path.lexists(target):
        os.rename(temporary, target)
        return
    aside = temporary_beside(target)
    os.rename(target, aside)
    try:
        os.rename(temporary, target)
    except OSError:
        os.rename(aside, target)  # put the old folder back; the caller removes the new one
        raise
    _remove(aside)


def _remove(path: Path) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _fsync(path: Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except (OverflowError, ValueError):  # not a pid this system can have
        return False
    except OSError:  # it exists but belongs to someone else (EPERM)
        return True
    return True


def _is_stale(name: str, prefix: str, modified: float) -> bool:
    owner = name[len(prefix) :].split("-", 1)[0]
    # Only POSIX: on Windows os.kill(pid, 0) would terminate the process instead of probing it.
    if os.name == "posix" and owner.isdigit() and not _process_running(int(owner)):
        return True
    return time.time() - modified > STALE_AFTER_SECONDS


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete leftover temporaries of ``target`` from saves that died; return what was removed."""
    prefix = temporary_prefix(target)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed  # the save itself will report the folder's problem
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        with contextlib.suppress(OSError):
            is_file_or_folder = entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)
            if is_file_or_folder and _is_stale(entry.name, prefix, entry.stat(follow_symlinks=False).st_mtime):
                _remove(Path(entry.path))
                removed.append(Path(entry.path))
    return removed


_deferring = threading.local()  # set while a block holds Ctrl-C, so that nested blocks leave it to the outer one


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) until the block ends, then raise it.

    A KeyboardInterrupt raised inside h5py can leave its library lock held, and the cleanup that follows then
    waits on that lock for ever: a save is short, so it finishes first and the interrupt takes effect right
    after it. Blocks nest: an inner block (a save) inside an outer one (a save and the note of what it saved)
    holds the interrupt until the outer block ends, so no interrupt lands between the two. Only the main
    thread can install signal handlers; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or getattr(_deferring, "active", False):
        yield
        return
    received: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGINT, remember)
    _deferring.active = True
    try:
        yield
    finally:
        _deferring.active = False
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
