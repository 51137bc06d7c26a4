"""Shuffled batches for the training loop, gathered a few thousand rows at a time, ahead on a second thread.

Gathering a batch's rows from a 188 MB training set waits on memory, and at small batch sizes that wait is
a sixth of a step. ``np.take`` releases the GIL, so a helper thread can gather the next few thousand
shuffled rows into one buffer while the training loop works through the previous buffer, whose batches
are plain slices (views, no copy). The batches and their order are exactly those of gathering one batch
at a time, with or without the helper. Targets are one-hot rows made from the gathered labels, piece by
piece: the whole training set is never encoded.

Data augmentation sits here too: with an ``augment`` function, each gathered piece of rows is transformed
just before its batches are handed out (on the training loop's thread), each sample with its own random
draw. A piece holds several batches, so the transform's NumPy calls are paid per piece, not per batch.
Its random numbers come from a generator seeded from the run's generator at the start of each epoch, so a
resumed run draws the same transforms. Only training batches come from here: validation and test images
are never augmented.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import attrs
import numpy as np

from netkit.data.dataset import one_hot
from netkit.types import FloatArray, LabelArray, TargetArray

# Rows gathered per hand-off to the helper thread: large enough that the hand-off cost vanishes, small enough
# that two buffers stay in the CPU's cache (2,048 MNIST rows are 6.4 MB).
CHUNK_ROWS = 2048
# The first piece of an epoch is only a few batches, so that the first step waits for 100 kB, not 6 MB; the
# pieces after it double in size up to a chunk.
FIRST_PIECE_BATCHES = 4

Batch = tuple[FloatArray, FloatArray, FloatArray]
Piece = tuple[int, int]  # a gathered piece: its buffer slot and its row count
# Transforms rows of images with a generator, writing into ``out`` (see netkit.training.augmentation.Augmenter).
Augment = Callable[[FloatArray, np.random.Generator, FloatArray], FloatArray]


@attrs.frozen
class BatchBuffers:
    """What a source gathers into; a later source on same-shaped data may take them over (``recycle``)."""

    layout: tuple[Any, ...]  # what must match for a reuse: rows, sample shape, dtypes, classes, batch and chunk sizes
    gradients: dict[int, FloatArray]  # one per batch size that occurs: the full one and the epoch's last
    slots: list[tuple[FloatArray, LabelArray, FloatArray]]  # two chunks of (images, labels, one-hot targets)
    batches: list[list[Batch]]  # each slot's full batches as views, made once rather than sliced every step


class BatchSource:
    """Yields (images, one-hot targets, a gradient buffer) per step of an epoch; arrays are reused.

    ``labels`` must be integers in [0, classes) (``Trainer.fit`` checks them), or float rows of ``classes``
    values each, for regression.
    """

    def __init__(
        self,
        images: FloatArray,
        labels: TargetArray,
        classes: int,
        batch_size: int,
        recycle: BatchBuffers | None = None,
        augment: Augment | None = None,
    ) -> None:
        """``recycle``: another source's ``buffers``, taken over if they fit (see ``Trainer.fit``);
        ``augment``: a transform for every training image (none by default)."""
        self.images, self.labels, self.classes, self.batch_size = images, labels, classes, batch_size
        self.augment = augment
        n = images.shape[0]
        # Float labels are rows of values to regress onto (one per output), used as the targets unchanged.
        self._values = labels.dtype.kind == "f"
        self._class_numbers = np.arange(classes, dtype=labels.dtype)
        self._all_targets: FloatArray | None = None
        self._order: np.ndarray[Any, np.dtype[np.intp]] | None = None  # the last epoch's rows; None: as given
        self._chunk_rows = min(n, max(1, CHUNK_ROWS // batch_size) * batch_size)
        self._first_rows = min(self._chunk_rows, FIRST_PIECE_BATCHES * batch_size)
        layout = (n, images.shape[1:], images.dtype, labels.dtype, classes, batch_size, self._chunk_rows)
        # Fresh buffers cost page faults and zeroing on first touch, every time when ``fit`` is called one
        # epoch at a time (bench/README.md).
        self.buffers = recycle if recycle is not None and recycle.layout == layout else self._new_buffers(layout)

    def _new_buffers(self, layout: tuple[Any, ...]) -> BatchBuffers:
        images, size, rows = self.images, self.batch_size, self._chunk_rows
        n = images.shape[0]
        gradients = {count: np.empty((count, self.classes), images.dtype) for count in {size, n % size or size}}
        slots = [
            (
                np.empty((rows, *images.shape[1:]), dtype=images.dtype),
                np.empty((rows, 1), dtype=np.int64),
                np.empty((rows, self.classes), dtype=images.dtype),
            )
            for _ in range(2 if size < n else 0)
        ]
        batches = [
            [
                (slot_images[start : start + size], targets[start : start + size], gradients[size])
                for start in range(0, rows - size + 1, size)
            ]
            for slot_images, _, targets in slots
        ]
        return BatchBuffers(layout, gradients, slots, batches)

    @property
    def steps_per_epoch(self) -> int:
        return int(-(-self.images.shape[0] // self.batch_size))

    def _gather(self, rows: np.ndarray, slot: int) -> Piece:
        image_buffer, label_buffer, target_buffer = self.buffers.slots[slot]
        count = rows.shape[0]
        labels = label_buffer[:count]
        # mode="clip" skips a bounds check per call; the rows come from a permutation, so all are valid.
        self.images.take(rows, 0, image_buffer[:count], "clip")
        if self._values:  # regression: the targets are the rows of values themselves
            self.labels.take(rows, 0, target_buffer[:count], "clip")
            return slot, count
        self.labels.take(rows, None, labels.reshape(-1), "clip")
        np.equal(labels, self._class_numbers, target_buffer[:count])  # one-hot: 1.0 in the label's column
        return slot, count

    def epoch(self, rng: np.random.Generator, helper: ThreadPoolExecutor | None = None) -> Iterator[Batch]:
        """The batches of one epoch in the order ``rng`` shuffles; ``helper``, if given, gathers ahead."""
        n, size = self.images.shape[0], self.batch_size
        if size >= n:  # full batch: the order does not change the gradient, so skip the gather
            targets = self._all_targets
            if targets is None:
                labels = self.labels
                targets = self._all_targets = (
                    cast(FloatArray, labels) if self._values else one_hot(cast(LabelArray, labels), self.classes)
                )
            images = self.images
            if self.augment is not None:  # transforms take rows of pixels, whatever the samples' shape
                rows = self.images.reshape(n, -1)
                changed = self.augment(rows, _augmentation_generator(rng), np.empty_like(rows))
                images = changed.reshape(self.images.shape)
            self._order = None
            yield images, targets, self.buffers.gradients[n]
            return
        order = self._order = rng.permutation(n)
        augment_rng = _augmentation_generator(rng) if self.augment is not None else rng
        pieces = [order[start:stop] for start, stop in itertools.pairwise(self._piece_bounds())]
        gathered = self._gathered_ahead(pieces, helper) if helper is not None else self._gathered(pieces)
        for slot, count in gathered:
            if self.augment is not None:
                # On this thread, not the helper's: the transforms are many NumPy calls on small blocks, which
                # hold the GIL, and two threads trading it every few microseconds stall the training loop.
                pixels = self.buffers.slots[slot][0][:count].reshape(count, -1)  # a view: the rows are whole
                self.augment(pixels, augment_rng, pixels)
            full = count // size
            yield from itertools.islice(self.buffers.batches[slot], full)
            if full * size < count:  # the epoch's last, short batch
                images, _, targets = self.buffers.slots[slot]
                start = full * size
                yield images[start:count], targets[start:count], self.buffers.gradients[count - start]

    def labels_served(self) -> TargetArray:
        """The labels of the last epoch's rows in the order its batches served them."""
        return self.labels if self._order is None else self.labels.take(self._order)

    def _piece_bounds(self) -> list[int]:
        """Where the epoch's pieces start and end: a few batches first, then each piece twice the last, up to
        a chunk. A step consumes rows several times slower than the helper gathers them, so every piece is
        ready before it is needed; a first full chunk would keep the second step waiting for 6 MB."""
        n, rows, bounds = self.images.shape[0], self._first_rows, [0]
        while bounds[-1] < n:
            bounds.append(min(n, bounds[-1] + rows))
            rows = min(2 * rows, self._chunk_rows)
        return bounds

    def _gathered(self, pieces: list[np.ndarray]) -> Iterator[Piece]:
        for piece in pieces:
            yield self._gather(piece, 0)

    def _gathered_ahead(self, pieces: list[np.ndarray], helper: ThreadPoolExecutor) -> Iterator[Piece]:
        pending: Future[Piece] = helper.submit(self._gather, pieces[0], 0)
        for number in range(len(pieces)):
            piece = pending.result()
            if number + 1 < len(pieces):  # fill the other buffer while this one is consumed
                pending = helper.submit(self._gather, pieces[number + 1], (number + 1) % 2)
            yield piece


def _augmentation_generator(rng: np.random.Generator) -> np.random.Generator:
    """A generator for one epoch's transforms, seeded from the run's: its own stream, drawn piece by piece
    between steps, so that the transforms do not depend on what else draws from the run's generator."""
    return np.random.default_rng(rng.integers(2**63))
