"""Batches: the shuffled order of one-at-a-time gathering, whether a helper thread gathers ahead or not."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from netkit.training.batching import CHUNK_ROWS, BatchSource

ROWS = 2 * CHUNK_ROWS + 904  # three chunks, the last one short, and a short last batch (5,000 % 32 = 8)


def _source(batch_size: int) -> BatchSource:
    images = np.repeat(np.arange(ROWS, dtype=np.float32)[:, None], 3, axis=1)  # each row holds its number
    return BatchSource(images, np.arange(ROWS, dtype=np.int64) % 10, 10, batch_size)


def _expected_rows(seed: int, batch_size: int) -> list[list[int]]:
    order = np.random.default_rng(seed).permutation(ROWS)
    return [order[start : start + batch_size].tolist() for start in range(0, ROWS, batch_size)]


@pytest.mark.parametrize("ahead", [True, False], ids=["helper-gathers-ahead", "gathered-inline"])
def test_batches_follow_one_permutation_per_epoch(ahead: bool) -> None:
    source = _source(32)
    with ThreadPoolExecutor(max_workers=1) as helper:
        batches = [
            (images[:, 0].astype(int).tolist(), targets.argmax(axis=1).tolist(), gradient.shape)
            for images, targets, gradient in source.epoch(np.random.default_rng(5), helper if ahead else None)
        ]
    expected = _expected_rows(5, 32)
    assert [rows for rows, _, _ in batches] == expected
    assert [labels for _, labels, _ in batches] == [[row % 10 for row in rows] for rows in expected]
    assert all(targets.dtype == np.float32 for _, targets, _ in source.epoch(np.random.default_rng(5)))
    assert [shape for _, _, shape in batches] == [(32, 10)] * (len(expected) - 1) + [(ROWS % 32, 10)]
    assert source.steps_per_epoch == len(expected)


def test_full_batch_hands_out_the_data_itself() -> None:
    source = _source(ROWS)
    ((images, targets, gradient),) = list(source.epoch(np.random.default_rng(0)))
    assert images is source.images
    assert np.array_equal(targets, np.eye(10, dtype=np.float32)[np.arange(ROWS) % 10])
    assert gradient.shape == (ROWS, 10)


def _rows_of(source: BatchSource, seed: int) -> list[list[int]]:
    return [images[:, 0].astype(int).tolist() for images, _, _ in source.epoch(np.random.default_rng(seed))]


def test_a_source_takes_over_the_buffers_of_one_on_same_shaped_data() -> None:
    first = _source(32)
    _rows_of(first, 1)
    second = BatchSource(first.images + ROWS, first.labels, 10, 32, recycle=first.buffers)
    assert second.buffers is first.buffers  # no fresh pages to fault in
    assert _rows_of(second, 7) == [[row + ROWS for row in rows] for rows in _expected_rows(7, 32)]


@pytest.mark.parametrize(
    ("rows", "columns", "batch_size"),
    [(ROWS - 1, 3, 32), (ROWS, 4, 32), (ROWS, 3, 16)],
    ids=["rows", "columns", "batch"],
)
def test_a_source_makes_its_own_buffers_when_the_shapes_differ(rows: int, columns: int, batch_size: int) -> None:
    first = _source(32)
    images = np.repeat(np.arange(rows, dtype=np.float32)[:, None], columns, axis=1)
    second = BatchSource(images, np.arange(rows, dtype=np.int64) % 10, 10, batch_size, recycle=first.buffers)
    order = np.random.default_rng(3).permutation(rows)
    assert _rows_of(second, 3) == [order[s : s + batch_size].tolist() for s in range(0, rows, batch_size)]
