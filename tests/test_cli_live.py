"""The live training view, driven by a real Trainer and drawn into a fake terminal."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text

from netkit.cli.live import LiveView, summary_panel
from netkit.model import Sequential
from netkit.registry import default_registry
from netkit.training import Trainer
from netkit.types import FloatArray, LabelArray


def _trainer(rows: int = 640, batch_size: int = 8) -> tuple[Trainer, FloatArray, LabelArray]:
    rng = np.random.default_rng(0)
    images = rng.random((rows, 12), dtype=np.float32)
    labels = (images[:, 0] > 0.5).astype(np.int64)
    layers = [
        {"type": "dense", "units": 4, "activation": "sigmoid"},
        {"type": "dense", "units": 2, "activation": "softmax"},
    ]
    model = Sequential(12, layers, "cross-entropy", np.random.default_rng(1))
    optimizer = default_registry().create("optimizers", {"type": "mini-batch", "batch_size": batch_size})
    return Trainer(model, optimizer, np.random.default_rng(2)), images, labels


def _terminal(width: int = 100) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, height=40, color_system="truecolor")


def test_live_view_draws_the_table_sparklines_and_summary() -> None:
    trainer, images, labels = _trainer()
    console = _terminal()
    with LiveView(console, title=Text("training")) as view:
        trainer.fit(images, labels, 3, (images[:64], labels[:64]), [view])
        view.finish(summary_panel([("test accuracy", "99.00%")], title="trained"))
    assert isinstance(console.file, io.StringIO)
    output = console.file.getvalue()
    for header in ("epoch", "train loss", "val loss", "val acc", "time", "samples/s"):
        assert header in output
    assert "3/3" in output and "loss/iteration" in output and "val loss/epoch" in output
    assert any(block in output for block in "▁▂▃▄▅▆▇█")
    assert "test accuracy" in output and "99.00%" in output
    assert view.live is None  # stopped: the terminal is back to normal


def test_refreshes_are_throttled_not_per_batch() -> None:
    trainer, images, labels = _trainer(rows=4000, batch_size=1)  # 4,000 tiny steps an epoch
    view = LiveView(_terminal(), title=Text("t"), refresh_per_second=4)
    with view:
        trainer.fit(images, labels, 2, None, [view])
    # Begin and end of each epoch, plus a few timed refreshes: nowhere near one per batch.
    assert view.refreshes < 50
    assert view.stride > 1


def test_batch_hook_does_nothing_until_a_refresh_is_due() -> None:
    trainer, _, _ = _trainer()
    view = LiveView(_terminal(), title=Text("t"))
    view.on_train_begin(trainer, 1, 10)
    view.next_refresh = 100
    before = view.refreshes
    for iteration in range(1, 100):
        view.on_batch_end(trainer, iteration, 0.5)
    assert view.refreshes == before
    view.close()


def test_interrupted_view_gives_the_terminal_back() -> None:
    trainer, images, labels = _trainer()
    view = LiveView(_terminal(), title=Text("t"))

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    view.on_epoch_end = stop
    with pytest.raises(KeyboardInterrupt), view:
        trainer.fit(images, labels, 2, None, [view])
    assert view.live is None
