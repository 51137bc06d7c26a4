"""The live training view, driven by a real Trainer and drawn into a fake terminal."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text

from netkit.cli import formatting as fmt
from netkit.cli.epoch_table import epoch_columns, fit_columns
from netkit.cli.live import BUDGET, LiveView, summary_panel
from netkit.model.network import Network
from netkit.registry import default_registry
from netkit.training.trainer import Callback, EpochRecord, Trainer
from netkit.types import FloatArray, LabelArray


def _trainer(rows: int = 640, batch_size: int = 8) -> tuple[Trainer, FloatArray, LabelArray]:
    rng = np.random.default_rng(0)
    images = rng.random((rows, 12), dtype=np.float32)
    labels = (images[:, 0] > 0.5).astype(np.int64)
    layers = [
        {"type": "dense", "units": 4, "activation": "sigmoid"},
        {"type": "dense", "units": 2, "activation": "softmax"},
    ]
    model = Network(12, layers, "cross-entropy", np.random.default_rng(1))
    optimizer = default_registry().create("optimizers", {"type": "mini-batch", "batch_size": batch_size})
    return Trainer(model, optimizer, np.random.default_rng(2)), images, labels


def _terminal(width: int = 100, height: int = 40) -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=width, height=height, color_system="truecolor")


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _screen_text(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    # Each "erase line" starts a fresh line, so lines printed over the live region come out whole.
    output = console.file.getvalue().replace("\x1b[2K", "\n")
    return ANSI.sub("", output).replace("\r", "")


def test_live_view_draws_the_table_charts_and_summary() -> None:
    trainer, images, labels = _trainer()
    console = _terminal()
    with LiveView(console, title=Text("training")) as view:
        trainer.fit(images, labels, 3, (images[:64], labels[:64]), [view])
        view.finish(summary_panel([("test accuracy", "99.00%")], title="trained"))
    output = _screen_text(console)
    for header in ("epoch", "train loss", "val loss", "val acc", "time", "samples/s"):
        assert header in output
    assert "3/3" in output and "loss per iteration" in output and "loss per epoch" in output
    assert "▲ best" in output and any("⠁" <= character <= "⣿" for character in output)
    assert "test accuracy" in output and "99.00%" in output
    assert view.live is None  # stopped: the terminal is back to normal


def test_every_epoch_keeps_its_row_in_a_long_run_on_a_short_terminal() -> None:
    trainer, images, labels = _trainer(rows=80)
    console = _terminal(height=20)
    with LiveView(console, title=Text("training")) as view:
        trainer.fit(images, labels, 30, (images[:16], labels[:16]), [view])
        view.finish(Text("done"))
    output = _screen_text(console)
    for record in trainer.history.epochs:
        line = next(line for line in output.splitlines() if line.lstrip().startswith(f"{record.epoch}/30 "))
        assert fmt.loss(record.train_loss) in line and fmt.loss(record.val_loss) in line


def test_at_60_columns_nothing_is_cut_mid_number() -> None:
    trainer, images, labels = _trainer()
    console = _terminal(width=60)
    with LiveView(console, title=Text("training")) as view:
        trainer.fit(images, labels, 12, (images[:64], labels[:64]), [view])
        trainer.history.epochs.append(  # the widest values a row can hold
            EpochRecord(13, 12.3456, 0.2937, 1.0, 725.0, 69_000.0)
        )
        view.total_epochs = 13
        view.on_epoch_end(trainer, trainer.history.epochs[-1])
        view.finish(Text("done"))
    output = _screen_text(console)
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= 60
    for record in trainer.history.epochs:
        row = next(line for line in lines if line.lstrip().startswith(f"{record.epoch}/"))
        cells = row.split()
        for value in (fmt.loss(record.train_loss), fmt.loss(record.val_loss), fmt.percent(record.val_accuracy)):
            assert value in cells, (value, row)
    assert "12m05s" in output and "69k" in output  # the widest time and rate, whole


def test_narrow_terminals_drop_columns_in_the_stated_order() -> None:
    columns = epoch_columns(100, lambda record: False)
    assert [c.header for c in fit_columns(columns, 80)[0]] == [c.header for c in columns]
    assert fit_columns(columns, 66)[1][:4] == ["ep", "train", "t.acc", "val"]  # shortened, all kept
    assert len(fit_columns(columns, 66)[0]) == len(columns)
    assert "train acc" in [c.header for c in fit_columns(columns, 50)[0]]  # samples/s and time went first
    assert [c.header for c in fit_columns(columns, 40)[0]] == ["epoch", "train loss", "val loss", "val acc", "best"]
    assert [c.header for c in fit_columns(columns, 30)[0]] == ["epoch", "train loss", "val loss", "best"]


def test_the_lowest_validation_loss_so_far_is_marked() -> None:
    trainer, images, labels = _trainer()
    console = _terminal()
    with LiveView(console, title=Text("t")) as view:
        trainer.fit(images, labels, 4, (images[:64], labels[:64]), [view])
        view.finish(Text("done"))
    lines = _screen_text(console).splitlines()
    rows = {
        record.epoch: next(line for line in lines if line.lstrip().startswith(f"{record.epoch}/4 "))
        for record in trainer.history.epochs
    }
    best_so_far = float("inf")
    for record in trainer.history.epochs:
        assert record.val_loss is not None
        assert rows[record.epoch].rstrip().endswith("▲") == (record.val_loss <= best_so_far)
        best_so_far = min(best_so_far, record.val_loss)


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


def test_slow_frames_space_themselves_out_to_stay_within_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    trainer, images, labels = _trainer()
    view = LiveView(_terminal(), title=Text("t"))
    slow_render = view.render

    def render(*args: object, **kwargs: object) -> object:
        time.sleep(0.02)  # a frame that costs at least 20 ms
        return slow_render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(view, "render", render)
    with view:
        trainer.fit(images, labels, 1, None, [view])
    assert view.interval >= 0.02 / BUDGET  # the next frame waits 1/BUDGET times a frame's cost


def test_an_interrupted_run_still_prints_every_finished_epoch() -> None:
    trainer, images, labels = _trainer()
    console = _terminal()
    view = LiveView(console, title=Text("t"), refresh_per_second=0.01)  # frames rarely due: lines wait

    class StopAtThirdEpoch(Callback):
        def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
            if epoch == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), view:
        trainer.fit(images, labels, 5, (images[:64], labels[:64]), [view, StopAtThirdEpoch()])
    lines = _screen_text(console).splitlines()
    assert any(line.lstrip().startswith("1/5 ") for line in lines)
    assert any(line.lstrip().startswith("2/5 ") for line in lines)
