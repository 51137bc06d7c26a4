"""How long the dataset layer takes to load: MNIST from gzip, a folder of 20,000 PNGs, the seed digits.

Run from the repository root: ``NETKIT_DATA=../shared/data .venv/bin/python bench/bench_data.py``.
Each figure is measured in a fresh Python process (so no allocator or page-cache state of an earlier run
helps it) and printed as the median and the fastest of ``--repeats`` runs. "cold" decodes the files (the
files themselves are in the OS page cache, as on any second use of a machine); "cached" reads netkit's
decoded ``.npy`` cache. The PNG folder is written once under ``--work`` from MNIST's training digits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import memory_mb, table
from machine import QuietWaiter


def probe(kind: str, target: Path, extra: str) -> dict[str, float]:
    """One load in this (fresh) process: imports done first, only the load is timed."""
    import netkit.data.imagefolder as imagefolder
    from netkit.data.decoded import DecodedCache
    from netkit.data.idxset import match_folder, read_dataset
    from netkit.plugins.datasets import PngFolder  # type: ignore[import-not-found]

    start = time.perf_counter()
    if kind in ("mnist-cold", "mnist-cached"):
        arrays = read_dataset(match_folder(target), DecodedCache(Path(extra)) if kind == "mnist-cached" else None)
        count = len(arrays[0]) + len(arrays[2])
    else:
        preprocess, workers, cache = extra.split(",")
        if workers != "auto":
            real = imagefolder.decode
            imagefolder.decode = lambda files, center, _=None: real(files, center, int(workers))  # type: ignore[assignment]
        dataset = PngFolder(path=str(target), preprocess=preprocess, cache=cache == "cache").load()
        count = len(dataset.train_images) + len(dataset.test_images)
    return {"seconds": time.perf_counter() - start, "count": count, "peak_mb": memory_mb()}


def fresh(kind: str, target: Path, extra: str, cache_home: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--probe", kind, str(target), extra]
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    result = subprocess.run(command, check=True, capture_output=True, text=True, env=environment)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def write_png_folder(mnist: Path, folder: Path, count: int) -> None:
    if (folder / "done").exists():
        return
    from PIL import Image

    from netkit.data.idx import read_idx

    images = read_idx(mnist / "train-images-idx3-ubyte.gz", expected_ndim=3)[:count]
    labels = read_idx(mnist / "train-labels-idx1-ubyte.gz", expected_ndim=1)[:count]
    for index, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        (folder / str(int(label))).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / str(int(label)) / f"{index:05d}.png")
    (folder / "done").write_text(str(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("NETKIT_DATA", "../shared/data")))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "netkit-bench-data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--png-count", type=int, default=20000)
    parser.add_argument("--wait-quiet", type=float, default=0, help="wait up to this many seconds for idle CPUs")
    parser.add_argument("--probe", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.probe:
        kind, target, extra = arguments.probe
        print(json.dumps(probe(kind, Path(target), extra)))
        return
    mnist, work, repeats = arguments.data_dir / "mnist", arguments.work, arguments.repeats
    work.mkdir(parents=True, exist_ok=True)
    cache_home, rows = Path(tempfile.mkdtemp(prefix="cache-", dir=work)), []

    def report(label: str, kind: str, target: Path, extra: str, fill: bool = False) -> None:
        if fill:  # fill the decoded cache first
            fresh(kind, target, extra, cache_home)
        runs = [fresh(kind, target, extra, cache_home) for _ in range(repeats)]
        seconds = [run["seconds"] for run in runs]
        peak = max(run["peak_mb"] for run in runs)
        rows.append(
            [label, f"{statistics.median(seconds):.3f}", f"{min(seconds):.3f}", runs[0]["count"], f"{peak:.0f}"]
        )

    QuietWaiter(arguments.wait_quiet, max_one=arguments.wait_quiet).wait()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    report("MNIST 70k from gzip, cold", "mnist-cold", mnist, "")
    report("MNIST 70k, decoded cache (memory-mapped)", "mnist-cached", mnist, str(cache_home / "idx"), fill=True)
    folder = work / f"mnist-png-{arguments.png_count}"
    write_png_folder(mnist, folder, arguments.png_count)
    for preprocess in ("resize", "mnist"):
        for workers in ("1", "auto"):
            report(f"PNG folder, {preprocess}, cold, workers={workers}", "png", folder, f"{preprocess},{workers},none")
        report(f"PNG folder, {preprocess}, decoded cache", "png", folder, f"{preprocess},auto,cache", fill=True)
    report("seed-digits (1,000 RGBA PNGs), mnist, cold", "png", arguments.data_dir / "seed-digits", "mnist,auto,none")
    print(table(["load", "median s", "best s", "images", "peak RSS MB"], rows))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
