"""Writing picture files from the commands: the output path's checks, the save, and the one-line report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from PIL import Image

from netkit.errors import NetkitError
from netkit.pictures.canvas import save_png

F = TypeVar("F", bound=Callable[..., Any])


def picture_option(flag: str, destination: str, help: str) -> Callable[[F], F]:
    """An optional ``--flag PNG`` naming a picture file to write."""
    return click.option(flag, destination, type=click.Path(path_type=Path), default=None, metavar="PNG", help=help)


class PictureError(NetkitError):
    """A picture could not be written (no such folder, no permission, a full disk)."""


def check_picture_path(path: Path, option: str, suffixes: Sequence[str] = (".png",)) -> None:
    """Fail before any work: a usage error for a wrong extension, a netkit error for a missing folder."""
    if path.suffix.lower() not in suffixes:
        raise click.BadParameter(f"{path} must end in {' or '.join(suffixes)}", param_hint=option)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PictureError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise PictureError(f"cannot write {path}: it is a directory")


def write_picture(path: Path, save: Callable[[Path], None]) -> None:
    try:
        save(path)
    except OSError as exc:
        raise PictureError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path} ({path.stat().st_size / 1000:.0f} kB)")


def write_png(path: Path, image: Image.Image, palette: bool = False) -> None:
    write_picture(path, lambda target: save_png(image, target, palette=palette))
