"""The ``netkit`` command group and its entry point: exit codes and one-line errors live here.

Exit codes: 0 success; 1 a netkit error (bad file, missing data, diverged training), printed as one line
``netkit: error: ...`` on stderr; 2 a usage error (click's own); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import IO, Any, TextIO

import click

import netkit
from netkit.errors import NetkitError

from .data import data
from .evaluate import evaluate
from .export import export
from .finetune import finetune
from .inspect_model import inspect
from .plot import plot
from .plugin_list import plugins
from .predict import predict
from .serve import serve
from .trace import trace
from .train import train

INTERRUPTED = 130


class NetkitCommandError(click.ClickException):
    """A :class:`NetkitError` on its way out: one line on stderr, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"netkit: error: {self.format_message()}", file=file or sys.stderr)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    click.echo(f"netkit: warning: {message}", err=True)


class NetkitGroup(click.Group):
    """Turns netkit errors into exit code 1 and Ctrl-C into 130 for every subcommand.

    Done here rather than in :func:`main` so that click's test runner sees the same behaviour as a shell.
    """

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            # NumPy's floating-point warnings say nothing a user can act on; a diverging loss is caught by
            # the training loop and reported as an error instead.
            warnings.filterwarnings("ignore", r"(overflow|invalid value|divide by zero) encountered", RuntimeWarning)
            try:
                return super().invoke(ctx)
            except NetkitError as exc:
                raise NetkitCommandError(str(exc)) from exc
            except MemoryError:  # sizes are checked before allocating; this is what no check could foresee
                raise NetkitCommandError(
                    "out of memory: this machine cannot hold what was asked (a smaller network or dataset would fit)"
                ) from None
            except KeyboardInterrupt:
                click.echo("netkit: interrupted", err=True)
                raise click.exceptions.Exit(INTERRUPTED) from None


@click.group(
    name="netkit",
    cls=NetkitGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(netkit.__version__, "-V", "--version", prog_name="netkit", message="%(prog)s %(version)s")
def cli() -> None:
    """netkit: compose a neural network, watch it learn, see what it learned.

    \b
    Quick start:
      netkit train --layers 16,16 --epochs 10       # MNIST; downloads it when missing
      netkit predict my-digit.png                   # with the shipped pre-trained model

    Exit codes: 0 success, 1 netkit error (one line on stderr), 2 usage error, 130 interrupted.
    """


for command in (train, evaluate, predict, inspect, trace, finetune, export, plugins, data, plot, serve):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: run the group and exit with its code."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="netkit", standalone_mode=False)
    except click.exceptions.Abort:  # Ctrl-C while click itself was parsing
        click.echo("netkit: interrupted", err=True)
        sys.exit(INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:  # `netkit plugins | head -3`: the reader left; say nothing more
        # Point stdout at /dev/null so that Python's final flush does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
