"""The machine the figures come from: its facts, NumPy's own matmul speed, and how busy other processes kept it.

Stdlib and ``/proc`` only (no psutil): ``os.getloadavg`` for the header, one ``/proc/stat`` reader for the
"others busy" figure that says whether a figure measured on a shared machine can be trusted.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

MATMUL_SIZE = 2048
NOISY_CORES = 0.25  # other processes' average core use above which a figure is flagged as noisy
TICK = os.sysconf("SC_CLK_TCK")
# Children that run alongside the benchmark (the PyTorch worker): their CPU time is the benchmark's own.
# A child leaves this list only after it has been waited for, when os.times() starts counting it.
LIVE_CHILDREN: list[int] = []


def _git(*arguments: str, cwd: Path) -> str:
    return subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def machine_facts(repository: Path) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")]
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})  # type: ignore[union-attr]
    runtime = next((info for info in threadpool_info() if info.get("user_api") == "blas"), {})
    try:
        torch: str | None = importlib.metadata.version("torch")  # found without importing torch here
    except importlib.metadata.PackageNotFoundError:
        torch = None
    try:
        revision = _git("rev-parse", "--short", "HEAD", cwd=repository)
        if _git("status", "--porcelain", "--untracked-files=no", cwd=repository):
            revision += " + uncommitted changes"
    except (OSError, subprocess.CalledProcessError):
        revision = "unknown"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": models[0] if models else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": {
            "name": blas.get("name", "unknown"),
            "version": blas.get("version", "unknown"),
            "threads": runtime.get("num_threads"),
            "architecture": runtime.get("architecture"),
            "threading_layer": runtime.get("threading_layer"),
        },
        "torch": torch,
        "netkit_revision": revision,
    }


def matmul_gflops(repeats: int, threads: int | None = None) -> float:
    """Best-of-``repeats`` GFLOP/s of a float32 2048x2048 @ 2048x2048 ``np.dot`` (optionally on ``threads``)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)
    b = rng.standard_normal((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32)
    out = np.empty_like(a)
    best = float("inf")
    with threadpool_limits(limits=threads, user_api="blas"):
        np.dot(a, b, out=out)  # warm up: thread start, page faults
        for _ in range(repeats):
            started = time.perf_counter()
            np.dot(a, b, out=out)
            best = min(best, time.perf_counter() - started)
    return 2 * MATMUL_SIZE**3 / best / 1e9


def _busy_seconds() -> float | None:
    """CPU seconds all processes have spent busy since boot (``/proc/stat``'s first line minus idle, iowait)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / TICK


def _own_seconds() -> float:
    """CPU seconds of this process, its waited-for children and its live ones (``/proc/PID/stat``)."""
    times = os.times()
    own = times.user + times.system + times.children_user + times.children_system
    for pid in LIVE_CHILDREN:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            own += (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        except (OSError, IndexError):
            pass
    return own


class OthersBusy:
    """How many cores other processes kept busy over the stretches between ``start()`` and ``stop()``.

    On a small shared machine this is the first thing to look at when figures jump between runs.
    """

    def __init__(self, start: bool = True) -> None:
        self.other, self.wall, self.known = 0.0, 0.0, True
        self._mark: tuple[float | None, float, float] | None = None
        if start:
            self.start()

    def start(self) -> OthersBusy:
        self._mark = (_busy_seconds(), _own_seconds(), time.perf_counter())
        return self

    def stop(self) -> OthersBusy:
        assert self._mark is not None
        (busy_before, own_before, started), busy = self._mark, _busy_seconds()
        if busy is None or busy_before is None:
            self.known = False
        else:
            self.other += max(0.0, (busy - busy_before) - (_own_seconds() - own_before))
        self.wall += time.perf_counter() - started
        return self

    def cores(self) -> float | None:
        return self.other / self.wall if self.known and self.wall > 0 else None


class QuietWaiter:
    """``--wait-quiet``: before each measurement, wait for a half-second in which other processes use under a
    quarter of a core, so measurements stay out of other people's busy spells. ``budget_seconds`` bounds the
    waiting of the whole run; one wait takes at most ``max_one`` of it."""

    def __init__(self, budget_seconds: float, report: Callable[[str], None] | None = None, max_one: float = 20.0):
        self.budget_seconds, self.total, self.report, self.max_one = budget_seconds, 0.0, report, max_one

    def wait(self) -> None:
        waited, limit = 0.0, min(self.max_one, self.budget_seconds - self.total)
        while waited < limit:
            stretch = OthersBusy()
            time.sleep(0.5)
            waited += 0.5
            if (stretch.stop().cores() or 0.0) < NOISY_CORES:
                break
        self.total += waited
        if waited > 1.0 and self.report is not None:
            self.report(f"  (waited {waited:.0f} s for a quiet CPU)")
