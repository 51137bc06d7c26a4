"""Build hooks: every executed code block of the docs runs in a scratch folder, with netkit's command on PATH.

The pages run netkit for real (markdown-exec): Python blocks in the build's process, console blocks in a shell.
Files they write (models, pictures) go to a temporary folder, never into the repository; pictures reach the
page as data URIs (see :func:`picture`).
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from markdown_exec._internal.formatters import console

_SCRATCH: tempfile.TemporaryDirectory[str] | None = None


def on_config(config: Any) -> Any:
    global _SCRATCH
    data = os.environ.get("NETKIT_DATA")
    if data:  # relative to where the build started, which is about to change
        os.environ["NETKIT_DATA"] = str(Path(data).resolve())
    bin_folder = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_folder + os.pathsep + os.environ.get("PATH", "")
    os.environ.setdefault("COLUMNS", "80")
    os.environ["NO_COLOR"] = "1"
    _SCRATCH = tempfile.TemporaryDirectory(prefix="netkit-docs-")
    os.chdir(_SCRATCH.name)
    sys.modules["netkit_docs"] = sys.modules[__name__]  # so a hidden block can `from netkit_docs import picture`
    return config


def on_post_build(config: Any) -> None:
    os.chdir(Path(config.config_file_path).parent)
    if _SCRATCH is not None:
        _SCRATCH.cleanup()


def _strict_console_transform(code: str) -> tuple[str, str]:
    # markdown-exec runs a console block's commands as one script and checks only the last exit code:
    # stop at the first failing command, so a broken command anywhere in a block fails the build.
    run, shown = _plain_console_transform(code)
    return "set -e\n" + run, shown


_plain_console_transform = console._transform_source
console._transform_source = _strict_console_transform


def picture(path: str, alt: str) -> str:
    """A picture that a block above wrote, as an ``<img>`` with a data URI: ``print(picture(...))`` in a block
    with ``html="1"`` (markdown-exec captures the block's own ``print`` only)."""
    data = Path(path).read_bytes()
    kind = "svg+xml" if path.endswith(".svg") else "png"
    encoded = base64.b64encode(data).decode("ascii")
    return f'<p><img alt="{alt}" src="data:image/{kind};base64,{encoded}" /></p>'
