"""Shuffled batches for the training loop, gathered a few thousand rows at a time, ahead on a second thread.

Gathering a batch's rows from a 188 MB training set waits on memory, and at small batch sizes that wait is
a sixth of a step. ``np.take`` releases the GIL, so a helper thread can gather the next few thousand
shuffled rows into one buffer while the training loop works through the previous buffer, whose batches
are plain slices (views, no copy). The batches and their order are exactly those of gathering one batch
at a time, with or without the helper.

This is the one place where a per-batch transform (data augmentation) would sit.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .types import FloatArray

# Rows gathered per hand-off to the helper thread: large enough that the hand-off cost vanishes, small enough
# that two buffers stay in the CPU's cache (2,048 MNIST rows are 6.4 MB).
CHUNK_ROWS = 2048

Batch = tuple[FloatArray, FloatArray, FloatArray]


class BatchSource:
    """Yields (images, one-hot targets, a gradient buffer) per step of an epoch; arrays are reused."""

    def __init__(self, images: FloatArray, targets: FloatArray, batch_size: int) -> None:
        self.images, self.targets, self.batch_size = images, targets, batch_size
        n = images.shape[0]
        # One gradient buffer per batch size that occurs: the full one and the epoch's last, smaller one.
        self._gradients = {
            rows: np.empty((rows, targets.shape[1]), dtype=targets.dtype)
            for rows in {batch_size, n % batch_size or batch_size}
        }
        batches_per_chunk = max(1, CHUNK_ROWS // batch_size)
        self._chunk_rows = min(n, batches_per_chunk * batch_size)
        self._buffers = (
            [
                (
                    np.empty((self._chunk_rows, images.shape[1]), dtype=images.dtype),
                    np.empty((self._chunk_rows, targets.shape[1]), dtype=targets.dtype),
                )
                for _ in range(2)
            ]
            if batch_size < n
            else []
        )

    @property
    def steps_per_epoch(self) -> int:
        return int(-(-self.images.shape[0] // self.batch_size))

    def _gather(self, rows: np.ndarray, slot: int) -> tuple[FloatArray, FloatArray]:
        image_buffer, target_buffer = self._buffers[slot]
        count = rows.shape[0]
        # mode="clip" skips a bounds check per call; the rows come from a permutation, so all are valid.
        self.images.take(rows, 0, image_buffer[:count], "clip")
        self.targets.take(rows, 0, target_buffer[:count], "clip")
        return image_buffer[:count], target_buffer[:count]

    def epoch(self, rng: np.random.Generator, helper: ThreadPoolExecutor | None = None) -> Iterator[Batch]:
        """The batches of one epoch in the order ``rng`` shuffles; ``helper``, if given, gathers ahead."""
        n, size = self.images.shape[0], self.batch_size
        if size >= n:  # full batch: the order does not change the gradient, so skip the gather
            yield self.images, self.targets, self._gradients[n]
            return
        order = rng.permutation(n)
        chunks = self._gathered_ahead(order, helper) if helper is not None else self._gathered(order)
        for images, targets in chunks:
            gradient = self._gradients[size]
            for offset in range(0, images.shape[0], size):
                batch_images = images[offset : offset + size]
                if batch_images.shape[0] != size:  # the epoch's last, short batch
                    gradient = self._gradients[batch_images.shape[0]]
                yield batch_images, targets[offset : offset + size], gradient

    def _gathered(self, order: np.ndarray) -> Iterator[tuple[FloatArray, FloatArray]]:
        for start in range(0, order.shape[0], self._chunk_rows):
            yield self._gather(order[start : start + self._chunk_rows], 0)

    def _gathered_ahead(self, order: np.ndarray, helper: ThreadPoolExecutor) -> Iterator[tuple[FloatArray, FloatArray]]:
        n, chunk = order.shape[0], self._chunk_rows
        pending: Future[tuple[FloatArray, FloatArray]] = helper.submit(self._gather, order[:chunk], 0)
        for number, start in enumerate(range(0, n, chunk)):
            chunk_arrays = pending.result()
            if start + chunk < n:  # fill the other buffer while this one is consumed
                pending = helper.submit(self._gather, order[start + chunk : start + 2 * chunk], (number + 1) % 2)
            yield chunk_arrays
