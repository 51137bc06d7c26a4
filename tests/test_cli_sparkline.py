"""Sparklines: numbers in, block characters out."""

from __future__ import annotations

import math

from netkit.cli.sparkline import BLOCKS, bounds, downsample, sparkline


def test_lowest_and_highest_values_get_the_end_blocks() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁" + BLOCKS[4] + "█"  # round(0.5 * 7) = 4


def test_a_falling_loss_draws_a_falling_line() -> None:
    line = sparkline([5.0, 4.0, 3.0, 2.0, 1.0])
    assert [BLOCKS.index(c) for c in line] == sorted((BLOCKS.index(c) for c in line), reverse=True)


def test_flat_series_sits_on_the_lowest_block() -> None:
    assert sparkline([2.0, 2.0, 2.0]) == "▁▁▁"


def test_missing_values_are_gaps() -> None:
    assert sparkline([1.0, None, math.nan, 2.0]) == "▁  █"
    assert sparkline([None, None]) == "  "


def test_shared_bounds_make_two_series_comparable() -> None:
    train, validation = [1.0, 0.5], [0.9, 0.8]
    low, high = bounds(train, validation)
    assert (low, high) == (0.5, 1.0)
    assert sparkline(validation, None, low, high)[0] != "█"  # only the overall maximum reaches the top


def test_values_outside_the_bounds_are_clipped() -> None:
    assert sparkline([-10.0, 10.0], None, 0.0, 1.0) == "▁█"


def test_width_downsamples_by_bucket_means() -> None:
    values = [float(i % 2) for i in range(1000)]  # noise around 0.5
    assert downsample(values, 10) == [0.5] * 10
    assert len(sparkline(list(range(1000)), 40)) == 40


def test_short_series_are_not_stretched_by_width() -> None:
    assert downsample([1.0, 2.0], 10) == [1.0, 2.0]
    assert downsample([1.0, 2.0], 0) == []


def test_downsample_skips_missing_values_inside_a_bucket() -> None:
    assert downsample([1.0, None, 3.0, math.nan], 2) == [1.0, 3.0]


def test_log_scale_keeps_small_late_improvements_visible() -> None:
    losses = [1.0, 0.1, 0.01, 0.001]
    assert sparkline(losses) == "█▂▁▁"
    assert sparkline(losses, log=True) == "█▆▃▁"


def test_repeat_widens_each_point() -> None:
    assert sparkline([0.0, 1.0], repeat=3) == "▁▁▁███"


def test_bounds_of_nothing_is_none() -> None:
    assert bounds([], [None]) == (None, None)
