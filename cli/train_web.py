"""``netkit train --web``: serve the page while the run trains, then hand it the trained model."""

from __future__ import annotations

import click

from netkit.io import ModelFile
from netkit.training.run import Run
from netkit.training.trainer import Trainer
from netkit.web.live import TrainingProgress
from netkit.web.routes import App
from netkit.web.server import NetkitServer, bind, serve_in_background

from .serve import model_view, serve_until_interrupted


class WebWatch:
    """The server of one training run: bound before the data loads, so a busy port fails at once."""

    def __init__(self, host: str, port: int) -> None:
        self.progress = TrainingProgress("loading the data")
        self.app = App(live=self.progress)
        self.server: NetkitServer = bind(self.app, host, port)
        serve_in_background(self.server)
        click.echo(f"netkit: watch the training at {self.server.url}", err=True)

    def describe(self, text: str) -> None:
        self.progress.description = text

    def failed(self, message: str) -> None:
        self.progress.fail(message)

    def finish(self, run: Run, trainer: Trainer, source: str) -> None:
        """Switch the page to drawing with the trained model, and serve until Ctrl-C."""
        model_file = ModelFile.from_trainer(trainer, run.training)
        dataset_name = str(run.training.get("dataset", "mnist"))
        self.app.view = model_view(model_file, source, run.dataset, dataset_name)
        click.echo(
            f"netkit: training done; draw with the trained model at {self.server.url} · Ctrl-C to stop", err=True
        )
        serve_until_interrupted(self.server, in_background=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
