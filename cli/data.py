"""``netkit data``: where datasets are looked for, what is present, and fetching what is missing.

Only dataset plugins with a fixed set of files (MNIST, Fashion-MNIST) have a ``status``/``download``;
the others read whatever folder or file they are given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from netkit.errors import DatasetError
from netkit.pictures.grids import class_rows
from netkit.registry import default_registry

from .downloads import DownloadProgress, load_dataset
from .options import PluginSpec, data_dir_option, no_download_option
from .pictures import check_picture_path, write_png


def _loaders(name: str | None) -> list[tuple[str, Any]]:
    registry = default_registry()
    names = [name] if name is not None else registry.names("datasets")
    return [(spec, registry.create("datasets", spec)) for spec in names]


@click.group()
def data() -> None:
    """Dataset files: where they are looked for, what is present, downloads.

    \b
    Search order: --data-dir, then $NETKIT_DATA/<name>/, then the user cache
    ($XDG_CACHE_HOME/netkit/<name>/, by default ~/.cache/netkit/<name>/).
    """


@data.command()
@click.argument("name", required=False, type=PluginSpec("datasets"))
@data_dir_option
@click.option("--verify/--no-verify", default=True, show_default=True, help="Check each file's SHA-256.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def info(name: str | None, data_dir: Path | None, verify: bool, as_json: bool) -> None:
    """Show where each file of dataset NAME (default: every dataset) was looked for and found."""
    report: list[dict[str, Any]] = []
    for spec, loader in _loaders(name):
        status = getattr(loader, "status", None)
        entry: dict[str, Any] = {"dataset": spec, "files": None}
        if status is not None:
            entry["files"] = [
                {
                    "file": item.filename,
                    "found": None if item.found is None else str(item.found),
                    "checksum_ok": item.checksum_ok,
                    "problem": item.problem,
                    "searched": [str(folder) for folder in item.searched],
                }
                for item in status(data_dir, verify)
            ]
        report.append(entry)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    console = Console(highlight=False)
    for entry in report:
        if entry["files"] is not None:
            console.print(_dataset_view(entry), soft_wrap=True)  # paths stay whole in logs
    loose = [entry["dataset"] for entry in report if entry["files"] is None]
    if loose:
        console.print(
            Text(f"{', '.join(loose)}: ", style="bold cyan").append(
                "no fixed files; they read the folder or file you give them (path option or --data-dir)",
                style="default",
            ),
            soft_wrap=True,
        )


def _dataset_view(entry: dict[str, Any]) -> Group:
    files = entry["files"]
    problems = [item for item in files if item["found"] is None or item["checksum_ok"] is False]
    heading = Text(entry["dataset"], style="bold cyan")
    if problems:
        heading.append(f"  {len(problems)} of {len(files)} files missing or bad", style="bold red")
    else:
        checked = all(item["checksum_ok"] for item in files)
        heading.append(f"  all {len(files)} files present" + (", checksums ok" if checked else ""), style="green")
    table = Table(box=None, padding=(0, 1), show_header=False, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for item in files:
        found = None if item["found"] is None else Path(item["found"])
        if found is None:
            mark = Text("✗ missing", style="bold red")
        elif item["checksum_ok"] is False:
            mark = Text("✗ bad checksum", style="bold red")
        else:
            mark = Text("✓ ok" if item["checksum_ok"] else "✓ found", style="green")
        where = "" if found is None else f"in {found.parent}" + (" (gzip)" if found.suffix == ".gz" else "")
        table.add_row("  " + item["file"], mark, where)
    lines: list[Text | Table] = [heading, table]
    lines.append(Text("  searched in order: " + ", ".join(files[0]["searched"]), style="bright_black"))
    if problems:
        lines.append(Text(f"  fetch with: netkit data download {entry['dataset']}", style="yellow"))
    lines.append(Text(""))
    return Group(*lines)


@data.command()
@click.argument("name", required=False, default="mnist", type=PluginSpec("datasets"))
@data_dir_option
def download(name: str, data_dir: Path | None) -> None:
    """Download the files of dataset NAME (default: mnist) that are found nowhere, into the user cache.

    Downloads are checked against their SHA-256 before they are put in place; the mirrors can be
    replaced with NETKIT_<NAME>_MIRROR (e.g. NETKIT_MNIST_MIRROR=https://example.org/mnist/).
    """
    _, loader = _loaders(name)[0]
    fetch = getattr(loader, "download", None)
    if fetch is None:
        raise DatasetError(f"dataset {name!r} has nothing to download: it reads the files you point it at")
    with DownloadProgress() as progress:
        folder = fetch(progress=progress, data_dir=data_dir)
    fetched = len(progress.files)
    status = loader.status(data_dir, False)
    where = sorted({str(item.found.parent) for item in status if item.found is not None})
    summary = f"downloaded {fetched} file(s) into {folder}" if fetched else "nothing to download"
    click.echo(f"{name}: {summary}; all {len(status)} files present in {', '.join(where)}")


@data.command()
@click.argument("name", required=False, default="mnist", type=PluginSpec("datasets"))
@click.option(
    "-o", "--out", type=click.Path(path_type=Path), default=Path("digits.png"), show_default=True, help="PNG to write."
)
@click.option("--per-class", type=click.IntRange(1, 50), default=12, show_default=True, help="Images in each row.")
@click.option(
    "--split", type=click.Choice(["train", "test"]), default="train", show_default=True, help="Which part to draw from."
)
@data_dir_option
@no_download_option
def show(name: str, out: Path, per_class: int, split: str, data_dir: Path | None, no_download: bool) -> None:
    """Draw the first images of each class of dataset NAME (default: mnist) as a PNG, a row per class.

    \b
    Examples:
      netkit data show -o digits.png
      netkit data show fashion-mnist --per-class 8 -o fashion.png
    """
    check_picture_path(out, "--out")
    dataset = load_dataset(name, data_dir, not no_download)
    images, labels = (
        (dataset.train_images, dataset.train_labels) if split == "train" else (dataset.test_images, dataset.test_labels)
    )
    if images.shape[1] != dataset.image_shape[0] * dataset.image_shape[1]:
        raise DatasetError(f"dataset {name!r} rows hold {images.shape[1]} values, not {dataset.image_shape} images")
    title = f"{name}: the first {per_class} {split}ing images of each class"
    picture = class_rows(images, labels, list(dataset.class_names), per_class, title, dataset.image_shape)
    picture = picture.convert("L")  # grey only: one byte a pixel
    write_png(out, picture)
