"""Augmentation: the transforms do what they say, chains resample once, and only training batches change."""

from __future__ import annotations

import numpy as np
import pytest

from netkit.errors import ConfigError
from netkit.model.network import Network
from netkit.plugins.augmentations import Elastic, Rotate, Scale, Shift, Thicken
from netkit.registry import default_registry
from netkit.training.augmentation import Augmenter, identity_matrices, parse_chain, resample
from netkit.training.batching import BatchSource
from netkit.training.recipe import augmentation_specs
from netkit.training.trainer import Trainer


def _digit_like(count: int = 5, side: int = 28) -> np.ndarray:
    rng = np.random.default_rng(3)
    images = np.zeros((count, side, side), dtype=np.float32)
    images[:, 6:-6, 6:-6] = rng.uniform(0, 1, (count, side - 12, side - 12))
    return images


def test_chain_syntax_splits_plugins_and_keeps_their_options_together() -> None:
    assert parse_chain("shift:pixels=2,rotate:degrees=10,scale") == ["shift:pixels=2", "rotate:degrees=10", "scale"]
    assert parse_chain("elastic:pixels=1,grid=5,shift") == ["elastic:pixels=1,grid=5", "shift"]
    assert parse_chain("shift,pixels=3") == ["shift:pixels=3"]
    with pytest.raises(ConfigError, match="starts with an option"):
        parse_chain("pixels=2,shift")
    with pytest.raises(ConfigError, match="empty item"):
        parse_chain("shift,,rotate")


def test_chain_specs_are_canonical_with_defaults() -> None:
    assert augmentation_specs("shift,rotate:degrees=5") == [
        {"type": "shift", "pixels": 2.0},
        {"type": "rotate", "degrees": 5.0},
    ]


def test_identity_mapping_returns_the_images_unchanged() -> None:
    images = _digit_like()
    flat = images.reshape(len(images), -1)
    for plugin in (Shift(pixels=0), Rotate(degrees=0), Scale(amount=0), Elastic(pixels=0), Thicken(amount=0)):
        result = Augmenter([plugin])(flat, np.random.default_rng(0))
        np.testing.assert_allclose(result, flat, atol=1e-6, err_msg=type(plugin).__name__)


def test_a_whole_pixel_shift_moves_the_picture_exactly() -> None:
    images = _digit_like(2)
    matrices = identity_matrices(2)
    matrices[:, 0, 2], matrices[:, 1, 2] = 3.0, -2.0  # read from 3 rows down and 2 columns left
    rows, cols = np.meshgrid(np.arange(28) - 13.5, np.arange(28) - 13.5, indexing="ij")
    shape = (2, 784)
    source_rows = np.broadcast_to(rows.reshape(1, -1), shape) + 3.0
    source_cols = np.broadcast_to(cols.reshape(1, -1), shape) - 2.0
    moved = resample(images, source_rows.astype(np.float32), source_cols.astype(np.float32))
    expected = np.zeros_like(images)
    expected[:, :-3, 2:] = images[:, 3:, :-2]
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_a_quarter_turn_is_exact_and_keeps_the_ink() -> None:
    images = _digit_like(3)
    turned = Augmenter([Rotate(degrees=90)])  # a random angle; check one drawn as exactly 90 below
    result = turned(images.reshape(3, -1), np.random.default_rng(0)).reshape(images.shape)
    assert result.shape == images.shape
    # 90 degrees exactly: the resample equals numpy's own rotation.
    matrices = identity_matrices(3)
    matrices[:, 0, 0], matrices[:, 0, 1], matrices[:, 1, 0], matrices[:, 1, 1] = 0, -1, 1, 0
    rows, cols = np.meshgrid(np.arange(28) - 13.5, np.arange(28) - 13.5, indexing="ij")
    rows, cols = rows.reshape(1, -1).astype(np.float32), cols.reshape(1, -1).astype(np.float32)
    quarter = resample(images, np.broadcast_to(-cols, (3, 784)), np.broadcast_to(rows, (3, 784)))
    np.testing.assert_allclose(quarter, np.rot90(images, k=-1, axes=(1, 2)), atol=1e-5)


def test_a_chain_of_warps_is_one_resample_equal_to_the_composed_transform() -> None:
    images = _digit_like(4)
    flat = images.reshape(4, -1)
    chained = Augmenter([Shift(pixels=2), Rotate(degrees=10), Scale(amount=0.1)])(flat, np.random.default_rng(9))
    # Draw the same matrices by hand and apply them one after the other to the coordinates.
    rng = np.random.default_rng(9)
    shift, rotate, scale = (warp.matrices(4, rng) for warp in (Shift(pixels=2), Rotate(degrees=10), Scale(amount=0.1)))
    rows, cols = np.meshgrid(np.arange(28) - 13.5, np.arange(28) - 13.5, indexing="ij")
    points = np.stack([np.broadcast_to(rows.ravel(), (4, 784)), np.broadcast_to(cols.ravel(), (4, 784))], axis=1)
    for matrices in (scale, rotate, shift):  # the last transform's mapping first
        points = np.einsum("nij,njp->nip", matrices[:, :, :2], points) + matrices[:, :, 2:]
    by_hand = resample(images, points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)).reshape(4, -1)
    np.testing.assert_allclose(chained, by_hand, atol=1e-4)


def test_each_sample_gets_its_own_draw_and_a_seed_repeats_it() -> None:
    flat = np.repeat(_digit_like(1).reshape(1, -1), 6, axis=0)
    augmenter = Augmenter([Shift(), Rotate()])
    first = augmenter(flat, np.random.default_rng(1))
    assert len({row.tobytes() for row in first}) == 6  # six copies of one image, six different results
    np.testing.assert_array_equal(first, augmenter(flat, np.random.default_rng(1)))
    assert not np.array_equal(first, augmenter(flat, np.random.default_rng(2)))


def test_thicken_grows_or_shrinks_strokes() -> None:
    stroke = np.zeros((1, 28, 28), dtype=np.float32)
    stroke[0, 10:18, 13:15] = 1.0
    ink = float(stroke.sum())
    results = [Thicken(amount=0.9).apply(np.repeat(stroke, 40, axis=0), np.random.default_rng(s)) for s in range(2)]
    sums = np.concatenate([result.sum(axis=(1, 2)) for result in results])
    assert sums.max() > ink * 1.5 and sums.min() < ink * 0.6  # both directions occur


def test_non_square_images_are_refused_with_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="square images"):
        Augmenter([Shift()])(np.zeros((2, 10), dtype=np.float32), np.random.default_rng(0))


def test_unknown_augmentation_lists_the_available_ones() -> None:
    with pytest.raises(Exception, match="available: elastic, rotate, scale, shift, thicken"):
        augmentation_specs("squash")


def test_batches_are_augmented_but_the_training_set_is_not() -> None:
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (100, 784)).astype(np.float32)
    original = images.copy()
    labels = rng.integers(0, 10, 100)
    plain = BatchSource(images, labels, 10, 10)
    augmented = BatchSource(images, labels, 10, 10, augment=Augmenter([Shift(pixels=3)]))
    plain_batches = [batch[0].copy() for batch in plain.epoch(np.random.default_rng(5))]
    augmented_batches = [batch[0].copy() for batch in augmented.epoch(np.random.default_rng(5))]
    np.testing.assert_array_equal(images, original)
    assert len(plain_batches) == len(augmented_batches) == 10
    assert all(not np.array_equal(a, p) for a, p in zip(augmented_batches, plain_batches, strict=True))


def test_a_resumed_augmented_run_equals_an_uninterrupted_one() -> None:
    rng = np.random.default_rng(0)
    images, labels = rng.uniform(0, 1, (300, 784)).astype(np.float32), rng.integers(0, 10, 300)
    registry = default_registry()

    def trainer(state: dict | None = None) -> Trainer:
        model = Network(784, ["dense:units=8", "dense:units=10,activation=softmax"], rng=np.random.default_rng(1))
        made = Trainer(model, registry.create("optimizers", "mini-batch"), np.random.default_rng(2))
        made.augment = Augmenter([Shift(), Rotate(), Elastic()])
        return made

    whole = trainer()
    whole.fit(images, labels, 2)
    first = trainer()
    first.fit(images, labels, 1)
    second = trainer()
    second.model.parameters[...] = first.model.parameters
    second.rng.bit_generator.state = first.rng.bit_generator.state
    second.fit(images, labels, 1)
    np.testing.assert_array_equal(second.model.parameters, whole.model.parameters)
