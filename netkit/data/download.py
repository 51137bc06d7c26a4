"""Fetch a file from a list of mirrors into a folder, verified before it is put in place.

A download goes to a hidden temporary file beside its target (through :func:`netkit.io.atomic.atomic_write`,
the project's one temporary-then-rename helper); only when the caller's check accepts the bytes is it
renamed into place, so an interrupted, failed or corrupt download never leaves a partial file behind.
Progress is reported through a plain callback so that the CLI can draw it (with rich) while the library
stays UI-free.
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from netkit.errors import DatasetError
from netkit.io.atomic import atomic_write

ProgressCallback = Callable[[str, int, int | None], None]
"""``(filename, bytes_done, bytes_total)``; ``bytes_total`` is ``None`` when the server does not say."""

Verifier = Callable[[Path], str | None]
"""Returns ``None`` when the downloaded file is good, else the reason it is not."""

_BLOCK = 1 << 16


class _Rejected(Exception):
    """The downloaded bytes failed the caller's check (the message says why)."""


def mirror_variable(dataset: str) -> str:
    """The environment variable that overrides a dataset's mirrors: ``NETKIT_<NAME>_MIRROR``."""
    return "NETKIT_" + re.sub(r"[^A-Z0-9]", "_", dataset.upper()) + "_MIRROR"


def mirrors_for(dataset: str, defaults: Sequence[str]) -> tuple[str, ...]:
    """The base URLs to try, in order.

    When ``NETKIT_<NAME>_MIRROR`` is set (one base URL, or several separated by spaces or commas) its
    URLs are used *instead of* the public mirrors: an offline site or a test never reaches the internet.
    """
    configured = os.environ.get(mirror_variable(dataset), "")
    chosen = [url for url in re.split(r"[\s,]+", configured) if url] or list(defaults)
    return tuple(url if url.endswith("/") else url + "/" for url in chosen)


def _copy_response(
    url: str, destination: Path, filename: str, progress: ProgressCallback | None, timeout: float
) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, destination.open("wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        if progress is not None:
            progress(filename, done, total)
        while block := response.read(_BLOCK):
            out.write(block)
            done += len(block)
            if progress is not None:
                progress(filename, done, total)
        if total is not None and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def fetch(
    filename: str,
    mirrors: Sequence[str],
    target_dir: Path,
    verify: Verifier,
    progress: ProgressCallback | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``filename`` from the first mirror that serves good bytes; return its final path."""
    created = not target_dir.exists()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"cannot create {target_dir}: {exc.strerror or exc}") from None
    target = target_dir / filename
    failures: list[str] = []
    for base in mirrors:
        url = base + filename

        def download_and_check(temporary: Path, url: str = url) -> None:
            _copy_response(url, temporary, filename, progress, timeout)
            problem = verify(temporary)
            if problem is not None:  # raised so that the helper removes the bytes instead of renaming them
                raise _Rejected(problem)

        try:
            atomic_write(target, download_and_check)
            return target
        except _Rejected as rejected:
            failures.append(f"{url}: {rejected}")
        except (OSError, ValueError, DatasetError) as exc:  # URLError and timeouts are OSErrors
            failures.append(f"{url}: {_reason(exc)}")
    if created:
        with contextlib.suppress(OSError):
            target_dir.rmdir()  # only if still empty: leave no trace of a download that never happened
    tried = "; ".join(failures) or "no mirror configured"
    raise DatasetError(f"could not download {filename} into {target_dir} ({tried})")
