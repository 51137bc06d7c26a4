"""The issue's performance targets, checked against the measured figures (min of the repeats throughout)."""

from __future__ import annotations

from typing import Any

from common import Case
from machine import NOISY_CORES
from report import gflops_of, matmul_reference, netkit_epoch_min, torch_epoch_min

# (case key, largest allowed netkit/PyTorch s/epoch ratio)
RATIO_TARGETS = (
    ("seed-b32", 0.2),
    ("seed-b10", 0.2),
    ("seed-b256", 0.6),
    ("relu-128-64-b64", 0.7),
)
MATMUL_SHARE = 0.60
PREDICT_MS = 5.0
COLD_LOAD_SECONDS = 0.3
CACHED_LOAD_SECONDS = 0.05
PEAK_RSS_MB = 600.0


def _verdict(passed: bool | None, others_busy: float | None) -> str:
    if passed is None:
        return "n/a"
    verdict = "PASS" if passed else "FAIL"
    return verdict + " (noisy)" if others_busy is not None and others_busy > NOISY_CORES else verdict


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per target: name, goal, measured (text), value, passed (None when not measurable)."""
    checks: list[dict[str, Any]] = []

    def add(
        name: str, goal: str, measured: str, value: float | None, passed: bool | None, busy: float | None = None
    ) -> None:
        checks.append(
            {"target": name, "goal": goal, "measured": measured, "value": value, "passed": passed, "others_busy": busy}
        )

    for key, limit in RATIO_TARGETS:
        if key not in results["cases"]:
            continue
        entry = results["cases"][key]
        name = f"{Case.from_dict(entry['case']).label}, s/epoch"
        torch_min = torch_epoch_min(results, key)
        if torch_min is None:
            add(name, f"<= {limit} x PyTorch", "no PyTorch figure", None, None)
            continue
        ratio = netkit_epoch_min(results, key) / torch_min
        busy = entry.get("other_processes_cores")
        add(name, f"<= {limit} x PyTorch", f"{ratio:.2f} x PyTorch", ratio, ratio <= limit, busy)

    if "relu-800-800-b128" in results["cases"]:
        share = gflops_of(results, "relu-800-800-b128") / matmul_reference(results)
        add(
            "784-800-800-10 relu, batch 128, GFLOP/s",
            f">= {MATMUL_SHARE:.0%} of NumPy matmul",
            f"{share:.0%} ({gflops_of(results, 'relu-800-800-b128'):.1f} GFLOP/s)",
            share,
            share >= MATMUL_SHARE,
            results["cases"]["relu-800-800-b128"].get("other_processes_cores"),
        )

    predict_ms = results["predict"]["netkit_seconds"]["min"] * 1000
    add(
        "predict 10,000 test images (seed net)",
        f"<= {PREDICT_MS:g} ms",
        f"{predict_ms:.2f} ms",
        predict_ms,
        predict_ms <= PREDICT_MS,
        results["predict"].get("other_processes_cores"),
    )

    cold = [probe["seconds"] for probe in results["load"]["cold"] if "seconds" in probe]
    if cold:
        add(
            "load MNIST from gzip, cold",
            f"<= {COLD_LOAD_SECONDS} s",
            f"{min(cold):.3f} s",
            min(cold),
            min(cold) <= COLD_LOAD_SECONDS,
        )
    else:
        add("load MNIST from gzip, cold", f"<= {COLD_LOAD_SECONDS} s", "failed", None, False)
    name, goal = "load MNIST from the decoded cache", f"<= {CACHED_LOAD_SECONDS} s"
    cached = results["load"].get("cached_and_read")
    if "cached" not in results["load"]:
        add(name, goal, "no cache exists", None, None)
    elif not cached:
        add(name, goal, "failed", None, False)
    else:
        all_hits = all(hit.get("cache_hit") for hit in results["load"]["cache_hits"])
        measured = f"{cached['min']:.4f} s incl. first read" + ("" if all_hits else " (cache missed)")
        add(name, goal, measured, cached["min"], all_hits and cached["min"] <= CACHED_LOAD_SECONDS)

    memory = results["peak_memory"].get("peak_rss_mb")
    add(
        "peak RSS, training the seed net on MNIST",
        f"<= {PEAK_RSS_MB:g} MB",
        f"{memory:.0f} MB" if memory is not None else "failed",
        memory,
        memory is not None and memory <= PEAK_RSS_MB,
    )
    return checks


def target_rows(checks: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            check["target"],
            check["goal"],
            check["measured"],
            _verdict(check["passed"], check["others_busy"]),
            "" if check["others_busy"] is None else f"{check['others_busy']:.2f}",
        ]
        for check in checks
    ]
