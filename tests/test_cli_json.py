"""Compact ``--json``: flat arrays on one line, nested objects indented, and standard JSON throughout."""

from __future__ import annotations

import json
import math

from netkit.cli.json_output import dumps


def test_a_long_history_stays_a_few_lines() -> None:
    document = {
        "history": {
            "epochs": [{"epoch": e, "train_loss": 0.5 / e, "val_loss": None} for e in range(1, 81)],
            "iteration_loss": [0.1 * k for k in range(16_880)],
        },
        "test_accuracy": 0.9376,
    }
    text = dumps(document)
    assert json.loads(text) == document
    assert len(text.splitlines()) < 100  # 80 epoch lines and a few more, not 16,880
    loss_line = next(line for line in text.splitlines() if '"iteration_loss"' in line)
    assert loss_line.count(",") == 16_879  # every loss on that one line


def test_nested_lists_put_each_row_on_its_own_line() -> None:
    text = dumps({"confusion": [[8, 2], [0, 10]], "n": 20})
    assert text.splitlines() == ["{", '  "confusion": [', "    [8, 2],", "    [0, 10]", "  ],", '  "n": 20', "}"]


def test_non_finite_numbers_become_null_so_any_json_reader_accepts_them() -> None:
    text = dumps({"precision": [1.0, math.nan], "x": math.inf})
    assert json.loads(text) == {"precision": [1.0, None], "x": None}
    assert "NaN" not in text and "Infinity" not in text


def test_empty_containers_and_strings_survive() -> None:
    document = {"a": [], "b": {}, "c": 'naïve "quoted"', "d": [{"e": []}]}
    assert json.loads(dumps(document)) == document
