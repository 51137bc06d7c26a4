"""Drawing dataset downloads: a rich progress bar per file on a terminal, a line per file otherwise.

The core reports progress through a plain ``(filename, bytes_done, bytes_total)`` callback
(:data:`netkit.data.download.ProgressCallback`); this turns it into something to look at, on stderr so
that ``--json`` output stays clean.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from netkit.data import Dataset
from netkit.registry import default_registry


class DownloadProgress:
    """A progress callback; use as a context manager so the bars are closed on any exit."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.files: list[str] = []

    def __enter__(self) -> DownloadProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __call__(self, filename: str, done: int, total: int | None) -> None:
        if filename not in self.files:
            self.files.append(filename)
            if not self.console.is_terminal:
                click.echo(f"netkit: downloading {filename}", err=True)
        if not self.console.is_terminal:
            return
        if self.progress is None:  # started on the first byte: nothing is drawn when nothing downloads
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.progress.start()
        if filename not in self.tasks:
            self.tasks[filename] = self.progress.add_task(filename, total=total)
        self.progress.update(self.tasks[filename], completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def load_dataset(spec: str, data_dir: Path | None, download: bool) -> Dataset:
    """Load a dataset through its plugin, drawing any download it makes on the way."""
    loader: Any = default_registry().create("datasets", spec)
    if "progress" not in inspect.signature(loader.load).parameters:
        dataset: Dataset = loader.load(data_dir, download)
        return dataset
    with DownloadProgress() as progress:
        dataset = loader.load(data_dir, download, progress=progress)
    return dataset
