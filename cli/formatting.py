"""Number formats shared by the live view, the plain epoch lines and the summaries."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from netkit.training.trainer import EpochRecord


def loss(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.4f}"


def percent(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2%}"


def rate(per_second: float) -> str:
    """``390k``, ``1.2M``: samples per second at a glance."""
    if not math.isfinite(per_second):
        return "—"
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= threshold:
            scaled = per_second / threshold
            return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{scaled:.0f}{suffix}"
    return f"{per_second:.0f}"


def seconds(value: float) -> str:
    """``0.15s``, ``12.3s``, ``4m05s``."""
    if value < 10:
        return f"{value:.2f}s"
    if value < 60:
        return f"{value:.1f}s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes}m{rest:02d}s"


def epoch_line(record: EpochRecord, total_epochs: int) -> str:
    """The plain one-line form of an epoch, for logs and pipes."""
    return (
        f"epoch {record.epoch:>{len(str(total_epochs))}}/{total_epochs}  train_loss {loss(record.train_loss)}  "
        f"train_acc {percent(record.train_accuracy)}  "
        f"val_loss {loss(record.val_loss)}  val_acc {percent(record.val_accuracy)}  "
        f"{seconds(record.seconds)}  {rate(record.samples_per_second)} samples/s"
    )


def best_epoch(records: list[EpochRecord]) -> EpochRecord | None:
    """The epoch with the highest validation accuracy (the earliest on ties); ``None`` without validation."""
    scored = [record for record in records if record.val_accuracy is not None]
    return max(scored, key=lambda record: (record.val_accuracy, -record.epoch)) if scored else None


def spec_text(spec: Mapping[str, Any]) -> str:
    """``mini-batch lr=0.5 batch-size=32``: a saved plugin spec as a person reads it."""
    options = " ".join(
        f"{'lr' if key == 'learning_rate' else key.replace('_', '-')}={value}"
        for key, value in spec.items()
        if key != "type"
    )
    return f"{spec.get('type', '?')} {options}".strip()


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def axis_number(value: float) -> str:
    """A chart's axis label in at most 7 characters: ``0.2937``, ``12.345``, ``1.2e-05``."""
    if not math.isfinite(value):
        return "—"
    if 0.001 <= abs(value) < 10:
        return f"{value:.4f}"
    if 10 <= abs(value) < 100:
        return f"{value:.3f}"
    return "0" if value == 0 else f"{value:.1e}"
