"""The benchmark's printed report and its performance targets (checked on the min of the repeats throughout)."""

from __future__ import annotations

import statistics
from typing import Any

from harness import TRAIN_ROWS, Case, table
from machine import NOISY_CORES

MISSING = "—"
# (case key, largest allowed netkit/PyTorch s/epoch ratio)
RATIO_TARGETS = (("seed-b32", 0.2), ("seed-b10", 0.2), ("seed-b256", 0.6), ("relu-128-64-b64", 0.7))
# predict: at most PyTorch's time in the same run; without PyTorch, at most PREDICT_MS.
MATMUL_SHARE, PREDICT_MS, COLD_LOAD_SECONDS, CACHED_LOAD_SECONDS, PEAK_RSS_MB = 0.60, 5.0, 0.3, 0.05, 600.0
BIG = "relu-800-800-b128"
LEGEND = """\
per-sample: one image per step (forward, backward, update), timed on a few thousand consecutive samples and \
EXTRAPOLATED to 60,000; its accuracy is after the (n) samples it was trained on, with a learning rate small enough \
for one-sample steps (0.1 sigmoid, 0.01 relu).
netkit/PyTorch compares min with min, against PyTorch on its default threads (the target ratio); 'vs 1 thr' against \
PyTorch on one thread. 'others busy': cores other processes kept busy meanwhile.
netkit thr: the BLAS threads netkit's Trainer chose for the case (it decides per model and batch).
"""


def _cores(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def _pair(timing: dict[str, Any] | None, scale: float = 1.0, digits: int = 3) -> str:
    return f"{timing['min'] * scale:.{digits}f} / {timing['median'] * scale:.{digits}f}" if timing else MISSING


def epoch_min(results: dict[str, Any], key: str, side: str = "netkit") -> float | None:
    """The min s/epoch of ``side`` (netkit, or torch on its default threads), scaled to 60,000 rows."""
    entry = results["cases"][key].get(side)
    entry = (entry or [None])[0] if side == "torch" else entry
    return entry["epoch_seconds"]["min"] * TRAIN_ROWS / results["cases"][key]["case"]["rows"] if entry else None


def gflops(results: dict[str, Any], key: str, side: str = "netkit") -> float | None:
    seconds = epoch_min(results, key, side)
    return Case(**results["cases"][key]["case"]).flops_per_row * TRAIN_ROWS / seconds / 1e9 if seconds else None


def matmul_reference(results: dict[str, Any]) -> float:
    """NumPy's best large-matmul GFLOP/s in this run, whichever thread setting gave it."""
    return float(max(results["matmul_gflops"].values()))


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict per target: name, goal, measured (text), value, passed (None when not measurable)."""
    checks: list[dict[str, Any]] = []

    def add(name: str, goal: str, measured: str, value: Any, passed: bool | None, busy: Any = None) -> None:
        checks.append(dict(target=name, goal=goal, measured=measured, value=value, passed=passed, others_busy=busy))

    cases, load = results["cases"], results["load"]
    for key, limit in (target for target in RATIO_TARGETS if target[0] in cases):
        name, goal, torch = (
            f"{Case(**cases[key]['case']).label}, s/epoch",
            f"<= {limit} x PyTorch",
            epoch_min(results, key, "torch"),
        )
        ratio = (epoch_min(results, key) or 0.0) / torch if torch else None
        if ratio is None:
            add(name, goal, "no PyTorch figure", None, None)
        else:
            add(name, goal, f"{ratio:.2f} x PyTorch", ratio, ratio <= limit, cases[key]["other_processes_cores"])
    if BIG in cases:
        netkit = gflops(results, BIG) or 0.0
        share, goal = netkit / matmul_reference(results), f">= {MATMUL_SHARE:.0%} of NumPy matmul"
        measured, busy = f"{share:.0%} ({netkit:.1f} GFLOP/s)", cases[BIG]["other_processes_cores"]
        add("784-800-800-10 relu, batch 128, GFLOP/s", goal, measured, share, share >= MATMUL_SHARE, busy)
    predict, name = results["predict"], "predict 10,000 test images (seed net)"
    predict_ms, busy = predict["netkit_seconds"]["min"] * 1000, predict["other_processes_cores"]
    if "torch_seconds" in predict:
        ratio = predict_ms / (predict["torch_seconds"]["min"] * 1000)
        add(name, "<= 1.0 x PyTorch", f"{predict_ms:.2f} ms = {ratio:.2f} x PyTorch", ratio, ratio <= 1.0, busy)
    else:
        add(name, f"<= {PREDICT_MS:g} ms", f"{predict_ms:.2f} ms", predict_ms, predict_ms <= PREDICT_MS, busy)
    cold = min((run["seconds"] for run in load["cold"] if "seconds" in run), default=None)
    name, goal = "load MNIST from gzip, cold", f"<= {COLD_LOAD_SECONDS} s"
    add(name, goal, f"{cold:.3f} s" if cold else "failed", cold, cold is not None and cold <= COLD_LOAD_SECONDS)
    cached, hits = load["cached_and_read"], all(hit.get("cache_hit") for hit in load["cache_hits"])
    measured = f"{cached['min']:.4f} s incl. first read" + ("" if hits else " (cache missed)") if cached else "failed"
    passed = bool(cached) and hits and cached["min"] <= CACHED_LOAD_SECONDS
    add("load MNIST from the decoded cache", f"<= {CACHED_LOAD_SECONDS} s", measured, cached and cached["min"], passed)
    memory = results["peak_memory"].get("peak_rss_mb")
    measured, passed = f"{memory:.0f} MB" if memory else "failed", memory is not None and memory <= PEAK_RSS_MB
    add("peak RSS, training the seed net on MNIST", f"<= {PEAK_RSS_MB:g} MB", measured, memory, passed)
    return checks


def _verdict(check: dict[str, Any]) -> str:
    if check["passed"] is None:
        return "n/a"
    noisy = check["others_busy"] is not None and check["others_busy"] > NOISY_CORES
    return ("PASS" if check["passed"] else "FAIL") + (" (noisy)" if noisy else "")


def _header(results: dict[str, Any]) -> list[str]:
    machine, torch, matmul = results["machine"], results["torch"], results["matmul_gflops"]
    blas, other = machine["blas"], results["other_processes_cores"]
    before, after = results["load_average_before"], results["load_average_after"]
    matmul_busy = ", ".join(_cores(run["other_processes_cores"]) for run in results["matmul_runs"])
    usable = f"{machine['usable_cores']} cores busy on average during the run"
    lines = [
        f"netkit benchmark ({results['mode']} run), {machine['date']}, netkit {machine['netkit_revision']}",
        f"CPU: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable); "
        f"Python {machine['python']}",
        f"NumPy {machine['numpy']}, BLAS {blas['name']} {blas['version']} "
        f"({blas['architecture']} kernels, {blas['threading_layer']}, {blas['threads']} threads)",
        f"PyTorch {torch['version']}, torch.get_num_threads() = {torch['default_threads']} "
        "(its default; the ratios use it)"
        if torch
        else "torch not installed — PyTorch column skipped",
        f"NumPy large matmul (float32 2048x2048 @ 2048x2048 np.dot, best of several): "
        f"{matmul['default_threads']:.1f} GFLOP/s ({blas['threads']} threads), {matmul['one_thread']:.1f} GFLOP/s "
        "(1 thread); the better one is the reference (measured before and after the training cases, best of each; "
        f"others busy: {matmul_busy} cores)",
        f"MNIST: netkit's mnist dataset plugin, files in {results['load']['data_dir']}",
        f"machine load: 1-min load average {before[0]:.2f} before, {after[0]:.2f} after; other processes kept "
        + (f"{other:.2f} of {usable}" if other is not None else "an unknown share of the cores busy"),
    ]
    if results["waited_for_quiet_seconds"]:
        waited = results["waited_for_quiet_seconds"]
        lines.append(f"--wait-quiet: waited {waited:.0f} s in all for quiet spells before measurements")
    if other is not None and other > NOISY_CORES:
        lines.append("WARNING: other processes competed for the CPU during this run; expect noisy figures.")
    return lines


def _training(results: dict[str, Any]) -> list[str]:
    threads = (results["torch"] or {}).get("default_threads", "default")
    times, rates, notes = [], [], []
    for key, entry in results["cases"].items():
        case, netkit, runs = Case(**entry["case"]), entry["netkit"], entry.get("torch", [])
        scale, single = TRAIN_ROWS / case.rows, next((run for run in runs[1:] if run["threads"] == 1), None)
        per_sample, torch = entry["per_sample"], epoch_min(results, key, "torch")
        fastest = netkit["epoch_seconds"]["min"]
        per_sample_scale = TRAIN_ROWS / per_sample["rows_timed"]
        times.append([
            case.label,
            f"{case.epochs} epoch(s)" if scale == 1 else f"{case.epochs} x {case.rows:,} rows*",
            netkit["blas_threads"] or MISSING,
            _pair(netkit["epoch_seconds"], scale),
            _pair(runs[0]["epoch_seconds"], scale) if runs else MISSING,
            _pair(single["epoch_seconds"], scale) if single else MISSING,
            _pair(per_sample["seconds"], per_sample_scale, 1),
            f"{fastest * scale / torch:.2f}" if torch else MISSING,
            f"{fastest / single['epoch_seconds']['min']:.2f}" if single else MISSING,
            _cores(entry["other_processes_cores"]),
        ])  # fmt: skip
        rates.append([
            case.label,
            f"{TRAIN_ROWS / (fastest * scale):,.0f}",
            f"{TRAIN_ROWS / torch:,.0f}" if torch else MISSING,
            f"{TRAIN_ROWS / (per_sample['seconds']['min'] * per_sample_scale):,.0f}",
            f"{netkit['test_accuracy']:.4f}",
            f"{runs[0]['test_accuracy']:.4f}" if runs else MISSING,
            f"{per_sample['test_accuracy']:.4f} ({per_sample['rows_trained']:,})",
        ])  # fmt: skip
        if scale != 1:
            notes.append(f"* {case.label}: each timed pass trains {case.rows:,} of the 60,000 rows; ")
            notes[-1] += f"s/epoch is extrapolated x{scale:g}."
    heads = f"case|timed|netkit thr|netkit s/epoch|PyTorch ({threads} thr)|PyTorch (1 thr)|per-sample "
    heads += "(extrap.)|netkit/PyTorch|vs 1 thr|others busy"
    rate_heads = "case|netkit/s|PyTorch/s|per-sample/s|acc netkit|acc PyTorch|acc per-sample (n)"
    return [
        "Training: seconds per epoch of 60,000 MNIST images, min / median over the timed epochs",
        table(heads.split("|"), times, left=2),
        *notes,
        LEGEND,
        "Throughput (samples/s from the min epoch) and test accuracy (10,000 images, netkit.model.evaluation) after "
        "the timed epochs",
        table(rate_heads.split("|"), rates),
    ]


def _others(results: dict[str, Any]) -> list[str]:
    lines, load, predict = [], results["load"], results["predict"]
    if BIG in results["cases"]:
        case, reference = Case(**results["cases"][BIG]["case"]), matmul_reference(results)
        netkit, torch = (gflops(results, BIG, side) or 0.0 for side in ("netkit", "torch"))
        lines.append(
            f"{case.label}: netkit {netkit:.1f} GFLOP/s = {netkit / reference:.0%} of NumPy's large-matmul "
            f"{reference:.1f} GFLOP/s"
            + (f"; PyTorch {torch:.1f} GFLOP/s" if torch else "")
            + f" (matmul FLOPs only: {case.flops_per_row / 1e6:.2f} MFLOP per row, from the min epoch)"
        )
    torch_predict = predict.get("torch_seconds")
    lines.append(
        f"predict 10,000 test images (seed net, predict_proba; in turns with PyTorch), min / median ms of "
        f"{len(predict['netkit_seconds']['samples'])}: netkit {_pair(predict['netkit_seconds'], 1000, 2)} "
        f"(others busy: {_cores(predict['other_processes_cores'])} cores)"
        + (f"; PyTorch (inference_mode + softmax) {_pair(torch_predict, 1000, 2)}" if torch_predict else "")
    )
    cold = [run["seconds"] for run in load["cold"] if "seconds" in run]
    lookup = min((run["plugin_lookup_seconds"] for run in load["cold"] if "seconds" in run), default=float("nan"))
    lines.append(
        "load MNIST from gzip (mnist plugin, cache off), a fresh process's first load() call, min / median: "
        + (f"{min(cold):.3f} / {statistics.median(cold):.3f} s over {len(cold)}" if cold else "failed")
        + f" (finding the plugin before it, not counted: {lookup:.3f} s); "
        f"first load in this process, lookup included: {load['in_process_first_seconds']:.3f} s"
    )
    hits = load["cache_hits"]
    lines.append(
        "load MNIST from a decoded cache: "
        + (
            f"mnist:cache=true in fresh processes, min / median over {len(hits)}"
            f"{'' if all(hit.get('cache_hit') for hit in hits) else ' (NOT ALL CACHE HITS)'}: load() "
            f"{_pair(load['cached'], 1, 4)} s; it returns memory maps, so load() + first read of every page "
            f"{_pair(load['cached_and_read'], 1, 4)} s (the target uses this); the load that filled the cache took "
            f"{load['cache_fill'].get('seconds', float('nan')):.3f} s"
            if load["cached"]
            else f"failed ({hits[0].get('error') if hits else 'no run'})"
        )
    )
    memory = results["peak_memory"]
    lines.append(
        f"peak RSS, fresh process loading MNIST and training the seed net 1 epoch: {memory['peak_rss_mb']:.0f} MB "
        f"(after imports {memory['rss_after_imports_mb']:.0f} MB, after loading {memory['rss_after_load_mb']:.0f} MB)"
        if "peak_rss_mb" in memory
        else f"peak RSS: {memory.get('error')}"
    )
    return lines


def print_report(results: dict[str, Any]) -> None:
    targets = [
        [
            check["target"],
            check["goal"],
            check["measured"],
            _verdict(check),
            _cores(check["others_busy"]).strip(MISSING),
        ]
        for check in results["targets"]
    ]
    heads = ["target", "goal", "measured", "result", "others busy"]
    sections = [
        "\n".join(_header(results)),
        "\n".join(_training(results)),
        "\n".join(_others(results)),
        "Targets (min figures; 'others busy': cores other processes used while it was measured; "
        f"'(noisy)' above {NOISY_CORES} of a core)\n" + table(heads, targets, left=4),
        f"total benchmark wall time: {results['total_seconds']:.0f} s",
    ]
    print("\n\n".join(sections))
