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
from pathlib import Path

from machine import wait_until_quiet

PROBE = r"""
import json, os, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, sys.argv[4])  # the bench folder
from probes import peak_rss_mb
import netkit.data.imagefolder as imagefolder
from netkit.data.decoded import DecodedCache
from netkit.data.idxset import match_folder, read_dataset
from netkit.plugins.datasets import PngFolder
kind, target, extra = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
start = time.perf_counter()  # imports done: only the load is timed
if kind in ("mnist-cold", "mnist-cached"):
    cache = DecodedCache(Path(extra)) if kind == "mnist-cached" else None
    arrays = read_dataset(match_folder(target), cache)
    count = len(arrays[0]) + len(arrays[2])
else:
    preprocess, workers, cache = extra.split(",")
    if workers != "auto":
        real = imagefolder.decode
        imagefolder.decode = lambda files, center, _=None: real(files, center, int(workers))
    dataset = PngFolder(path=str(target), preprocess=preprocess, cache=cache == "cache").load()
    count = len(dataset.train_images) + len(dataset.test_images)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "count": count, "peak_mb": peak_rss_mb()}))
"""


def probe(kind: str, target: Path, extra: str, cache_home: Path) -> dict[str, float]:
    environment = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, kind, str(target), extra, str(Path(__file__).resolve().parent)],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def report(label: str, runs: list[dict[str, float]]) -> None:
    seconds = [run["seconds"] for run in runs]
    peak = max(run["peak_mb"] for run in runs)
    print(
        f"{label:<44} {statistics.median(seconds):7.3f} s median {min(seconds):7.3f} s best "
        f"{int(runs[0]['count']):>6} images  peak RSS {peak:5.0f} MB"
    )


def write_png_folder(mnist: Path, folder: Path, count: int) -> None:
    if (folder / "done").exists():
        return
    from PIL import Image

    from netkit.data.idx import read_idx

    images = read_idx(mnist / "train-images-idx3-ubyte.gz", expected_ndim=3)[:count]
    labels = read_idx(mnist / "train-labels-idx1-ubyte.gz", expected_ndim=1)[:count]
    for index, (pixels, label) in enumerate(zip(images, labels, strict=True)):
        target = folder / str(int(label))
        target.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(target / f"{index:05d}.png")
    (folder / "done").write_text(str(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("NETKIT_DATA", "../shared/data")))
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "netkit-bench-data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--png-count", type=int, default=20000)
    parser.add_argument("--wait-quiet", type=float, default=0, help="wait up to this many seconds for idle CPUs")
    arguments = parser.parse_args()
    mnist, work, repeats = arguments.data_dir / "mnist", arguments.work, arguments.repeats
    work.mkdir(parents=True, exist_ok=True)
    cache_home = Path(tempfile.mkdtemp(prefix="cache-", dir=work))

    wait_until_quiet(arguments.wait_quiet)  # for half a second of other processes under a quarter of a core
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    report("MNIST 70k from gzip, cold", [probe("mnist-cold", mnist, "", cache_home) for _ in range(repeats)])
    probe("mnist-cached", mnist, str(cache_home / "idx"), cache_home)  # fill the decoded cache
    cached = [probe("mnist-cached", mnist, str(cache_home / "idx"), cache_home) for _ in range(repeats)]
    report("MNIST 70k, decoded cache (memory-mapped)", cached)

    folder = work / f"mnist-png-{arguments.png_count}"
    write_png_folder(mnist, folder, arguments.png_count)
    for preprocess in ("resize", "mnist"):
        for workers in ("1", "auto"):
            runs = [probe("png", folder, f"{preprocess},{workers},none", cache_home) for _ in range(repeats)]
            report(f"PNG folder, {preprocess}, cold, workers={workers}", runs)
        probe("png", folder, f"{preprocess},auto,cache", cache_home)  # fill the decoded cache
        runs = [probe("png", folder, f"{preprocess},auto,cache", cache_home) for _ in range(repeats)]
        report(f"PNG folder, {preprocess}, decoded cache", runs)
    seed = arguments.data_dir / "seed-digits"
    runs = [probe("png", seed, "mnist,auto,none", cache_home) for _ in range(repeats)]
    report("seed-digits (1,000 RGBA PNGs), mnist, cold", runs)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
