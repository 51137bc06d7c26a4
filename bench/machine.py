"""Facts about the machine and the software the figures were measured with, and NumPy's own matmul speed."""

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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_description() -> dict[str, Any]:
    config: Any = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {})
    loaded = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    runtime = loaded[0] if loaded else {}
    return {
        "name": blas.get("name", "unknown"),
        "version": blas.get("version", "unknown"),
        "configuration": blas.get("openblas configuration", ""),
        "threads": runtime.get("num_threads"),
        "architecture": runtime.get("architecture"),
        "threading_layer": runtime.get("threading_layer"),
    }


def torch_version() -> str | None:
    """The installed torch's version, found without importing it (this process never imports torch)."""
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return None


def git_revision(repository: Path) -> str:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repository, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repository,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return revision + (" + uncommitted changes" if dirty else "")


def machine_facts(repository: Path) -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "torch": torch_version(),
        "netkit_revision": git_revision(repository),
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


# Other processes' average core use above which a figure is flagged as measured on a busy machine.
NOISY_CORES = 0.25

# Children that run alongside the benchmark (the PyTorch worker): their CPU time is the benchmark's own.
# A child leaves this list only after it has been waited for, when os.times() starts counting it.
LIVE_CHILDREN: list[int] = []


def _process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class CpuContention:
    """How much CPU other processes used during a stretch of the run: ``/proc/stat`` minus our own CPU time.

    On a small shared machine this is the first thing to look at when figures jump between runs.
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.busy, self.own = self._busy_seconds(), self._own_seconds()

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_seconds() -> float:
        times = os.times()
        own = times.user + times.system + times.children_user + times.children_system
        return own + sum(_process_cpu_seconds(pid) for pid in LIVE_CHILDREN)

    def other_seconds(self) -> tuple[float, float] | None:
        """(CPU seconds used by other processes, wall seconds) since construction."""
        busy = self._busy_seconds()
        if busy is None or self.busy is None:
            return None
        elapsed = time.perf_counter() - self.started
        return max(0.0, (busy - self.busy) - (self._own_seconds() - self.own)), elapsed

    def other_cores(self) -> float | None:
        """Average number of cores busy with other processes since construction."""
        seconds = self.other_seconds()
        return None if seconds is None else seconds[0] / seconds[1]


class ContentionTally:
    """Other processes' average core use over several separate stretches (e.g. only the timed epochs)."""

    def __init__(self) -> None:
        self.other, self.elapsed, self.known = 0.0, 0.0, True

    def add(self, stretch: CpuContention) -> None:
        seconds = stretch.other_seconds()
        if seconds is None:
            self.known = False
        else:
            self.other += seconds[0]
            self.elapsed += seconds[1]

    def cores(self) -> float | None:
        return self.other / self.elapsed if self.known and self.elapsed > 0 else None


def wait_until_quiet(limit_seconds: float, threshold: float = NOISY_CORES, window: float = 0.5) -> float:
    """Wait (at most ``limit_seconds``) for a ``window`` in which other processes use under ``threshold`` cores.

    Returns the seconds waited. On a shared machine this keeps measurements out of other people's busy spells.
    """
    waited = 0.0
    while waited < limit_seconds:
        contention = CpuContention()
        time.sleep(window)
        waited += window
        other = contention.other_cores()
        if other is None or other < threshold:
            break
    return waited


class QuietWaiter:
    """``--wait-quiet``: before each measurement, wait for other processes to leave the CPU alone.

    ``budget_seconds`` bounds the waiting of the whole run; one wait takes at most ``MAX_ONE_WAIT`` of it.
    """

    MAX_ONE_WAIT = 20.0

    def __init__(self, budget_seconds: float, report: Callable[[str], None] | None = None) -> None:
        self.budget_seconds, self.total, self.report = budget_seconds, 0.0, report

    def wait(self) -> None:
        limit = min(self.MAX_ONE_WAIT, self.budget_seconds - self.total)
        if limit > 0:
            waited = wait_until_quiet(limit)
            self.total += waited
            if waited > 1.0 and self.report is not None:
                self.report(f"  (waited {waited:.0f} s for a quiet CPU)")
