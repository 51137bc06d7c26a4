"""Measurements that need a fresh process: loading MNIST cold, and the peak memory of a training run.

Usage (the benchmark calls it): ``python bench/probes.py load|load-cached|train DATA_DIR`` prints one JSON
object. ``load-cached`` loads with the plugin's ``cache=true``; the benchmark points ``XDG_CACHE_HOME`` at a
temporary folder for it, so the user's own cache is neither used nor filled.
A fresh process means nothing decoded earlier is still in memory and the benchmark's own arrays do not
count towards the peak. (The files themselves may still be in the operating system's page cache.)
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import CASES, SEED, as_mnist, build_model, load_mnist, mnist_loader

from netkit.registry import default_registry
from netkit.training import Trainer


def _status_mb(field: str) -> float | None:
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # reported in KiB
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux's ``VmHWM`` belongs to the address space this process built after ``exec``. ``ru_maxrss`` does not
    suit: Linux carries into it the high-water mark of the address space the process had before ``exec``,
    the benchmark's own (it reported the benchmark's ~450-600 MB, not the ~270 MB of this run).
    """
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    current = _status_mb("VmRSS")
    return current if current is not None else float("nan")


def probe_load(data_dir: Path, cache: bool) -> dict[str, Any]:
    """Seconds of one ``load`` call; with the cache, also of reading every page of the arrays it returns."""
    started = time.perf_counter()
    loader = mnist_loader(cache)  # plugin discovery and import: not part of loading the data
    lookup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    data = as_mnist(loader.load(data_dir, download=False))
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"seconds": seconds, "plugin_lookup_seconds": lookup_seconds}
    if cache:
        # A cache hit hands out read-only memory maps: pages are read when first used, so say what that costs.
        result["cache_hit"] = not data.train_images.flags.writeable
        started = time.perf_counter()
        for array in (data.train_images, data.train_labels, data.test_images, data.test_labels):
            float(array.sum(dtype=np.float64))
        result["touch_seconds"] = time.perf_counter() - started
    return result


def probe_train(data_dir: Path) -> dict[str, Any]:
    """Load MNIST and train the seed network for one epoch through ``Trainer``, as ``netkit train`` does."""
    seed_case = next(case for case in CASES if case.key == "seed-b32")
    after_imports = current_rss_mb()
    data = load_mnist(data_dir)
    after_load = current_rss_mb()
    model = build_model(seed_case)
    optimizer = default_registry().create(
        "optimizers", f"mini-batch:learning_rate={seed_case.learning_rate},batch_size={seed_case.batch_size}"
    )
    Trainer(model, optimizer, np.random.default_rng(SEED)).fit(data.train_images, data.train_labels, 1)
    return {
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_imports_mb": after_imports,
        "rss_after_load_mb": after_load,
        "rss_after_training_mb": current_rss_mb(),
    }


def main(mode: str, data_dir: str) -> None:
    directory = Path(data_dir)
    result = probe_train(directory) if mode == "train" else probe_load(directory, cache=mode == "load-cached")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
