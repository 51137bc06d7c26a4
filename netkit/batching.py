"""Shuffled batches for the training loop, gathered a few thousand rows at a time, ahead on a second thread.

Gathering a batch's rows from a 188 MB training set waits on memory, and at small batch sizes that wait is
a sixth of a step. ``np.take`` releases the GIL, so a helper thread can gather the next few thousand
shuffled rows into one buffer while the training loop works through the previous buffer, whose batches
are plain slices (views, no copy). The batches and their order are exactly those of gathering one batch
at a time, with or without the helper. Targets are one-hot rows made from the gathered labels, piece by
piece: the whole training set is never encoded.

This is the one place where a per-batch transform (data augmentation) would sit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .data.dataset import one_hot
from .types import FloatArray, LabelArray

# Rows gathered per hand-off to the helper thread: large enough that the hand-off cost vanishes, small enough
# that two buffers stay in the CPU's cache (2,048 MNIST rows are 6.4 MB).
CHUNK_ROWS = 2048
# The first piece of an epoch is only a few batches, so that the first step waits for 100 kB, not 6 MB.
FIRST_PIECE_BATCHES = 4

Batch = tuple[FloatArray, FloatArray, FloatArray]
Piece = tuple[FloatArray, FloatArray]


class BatchSource:
    """Yields (images, one-hot targets, a gradient buffer) per step of an epoch; arrays are reused.

    ``labels`` must be integers in [0, classes) (``Trainer.fit`` checks them).
    """

    def __init__(self, images: FloatArray, labels: LabelArray, classes: int, batch_size: int) -> None:
        self.images, self.labels, self.classes, self.batch_size = images, labels, classes, batch_size
        n = images.shape[0]
        # One gradient buffer per batch size that occurs: the full one and the epoch's last, smaller one.
        self._gradients = {
            rows: np.empty((rows, classes), dtype=images.dtype) for rows in {batch_size, n % batch_size or batch_size}
        }
        self._class_numbers = np.arange(classes, dtype=labels.dtype)
        self._all_targets: FloatArray | None = None
        self._chunk_rows = min(n, max(1, CHUNK_ROWS // batch_size) * batch_size)
        self._first_rows = min(self._chunk_rows, FIRST_PIECE_BATCHES * batch_size)
        self._buffers = [
            (
                np.empty((self._chunk_rows, images.shape[1]), dtype=images.dtype),
                np.empty((self._chunk_rows, 1), dtype=labels.dtype),
                np.empty((self._chunk_rows, classes), dtype=images.dtype),
            )
            for _ in range(2 if batch_size < n else 0)
        ]

    @property
    def steps_per_epoch(self) -> int:
        return int(-(-self.images.shape[0] // self.batch_size))

    def _gather(self, rows: np.ndarray, slot: int) -> Piece:
        image_buffer, label_buffer, target_buffer = self._buffers[slot]
        count = rows.shape[0]
        images, labels, targets = image_buffer[:count], label_buffer[:count], target_buffer[:count]
        # mode="clip" skips a bounds check per call; the rows come from a permutation, so all are valid.
        self.images.take(rows, 0, images, "clip")
        self.labels.take(rows, None, labels.reshape(-1), "clip")
        np.equal(labels, self._class_numbers, targets)  # one-hot: a column per class, 1.0 where it matches
        return images, targets

    def epoch(self, rng: np.random.Generator, helper: ThreadPoolExecutor | None = None) -> Iterator[Batch]:
        """The batches of one epoch in the order ``rng`` shuffles; ``helper``, if given, gathers ahead."""
        n, size = self.images.shape[0], self.batch_size
        if size >= n:  # full batch: the order does not change the gradient, so skip the gather
            if self._all_targets is None:
                self._all_targets = one_hot(self.labels, self.classes)
            yield self.images, self._all_targets, self._gradients[n]
            return
        order = rng.permutation(n)
        bounds = [0, *range(self._first_rows, n, self._chunk_rows), n]
        pieces = [order[start:stop] for start, stop in itertools.pairwise(bounds)]
        gathered = self._gathered_ahead(pieces, helper) if helper is not None else self._gathered(pieces)
        for images, targets in gathered:
            gradient = self._gradients[size]
            for offset in range(0, images.shape[0], size):
                batch_images = images[offset : offset + size]
                if batch_images.shape[0] != size:  # the epoch's last, short batch
                    gradient = self._gradients[batch_images.shape[0]]
                yield batch_images, targets[offset : offset + size], gradient

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
