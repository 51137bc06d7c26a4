"""The printed report: machine header, training tables, other measurements, and the targets with PASS/FAIL."""

from __future__ import annotations

import io
import statistics
from collections.abc import Sequence
from typing import Any

from common import TRAIN_ROWS, Case
from machine import NOISY_CORES
from rich import box
from rich.console import Console
from rich.table import Table

MISSING = "—"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right_from: int = 1) -> str:
    """A plain-text table (rich, no colour): columns before ``right_from`` flush left, the rest right."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index < right_from else "right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    console.print(table)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())  # type: ignore[attr-defined]


def _cores(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def _pair(timing: dict[str, Any] | None, scale: float = 1.0, digits: int = 3) -> str:
    if not timing:
        return MISSING
    return f"{timing['min'] * scale:.{digits}f} / {timing['median'] * scale:.{digits}f}"


def _torch_runs(results: dict[str, Any], key: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = results["cases"][key].get("torch", [])
    return runs


def matmul_reference(results: dict[str, Any]) -> float:
    """NumPy's best large-matmul GFLOP/s in this run, whichever thread setting gave it."""
    return float(max(results["matmul_gflops"].values()))


def _scale(case: Case) -> float:
    return TRAIN_ROWS / case.rows


def netkit_epoch_min(results: dict[str, Any], key: str) -> float:
    entry = results["cases"][key]
    return float(entry["netkit"]["epoch_seconds"]["min"]) * _scale(Case.from_dict(entry["case"]))


def torch_epoch_min(results: dict[str, Any], key: str) -> float | None:
    runs = _torch_runs(results, key)
    if not runs:
        return None
    return float(runs[0]["epoch_seconds"]["min"]) * _scale(Case.from_dict(results["cases"][key]["case"]))


def _header(results: dict[str, Any]) -> list[str]:
    machine, blas = results["machine"], results["machine"]["blas"]
    torch = results.get("torch")
    matmul = results["matmul_gflops"]
    lines = [
        f"netkit benchmark ({results['mode']} run), {machine['date']}, netkit {machine['netkit_revision']}",
        f"CPU: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable); "
        f"Python {machine['python']}",
        f"NumPy {machine['numpy']}, BLAS {blas['name']} {blas['version']} "
        f"({blas['architecture']} kernels, {blas['threading_layer']}, {blas['threads']} threads)",
    ]
    if machine["torch"] is None or not torch:
        lines.append("torch not installed — PyTorch column skipped")
    else:
        lines.append(
            f"PyTorch {torch['version']}, torch.get_num_threads() = {torch['default_threads']} "
            "(its default; the ratios use it)"
        )
    lines.append(
        f"NumPy large matmul (float32 2048x2048 @ 2048x2048 np.dot, best of several): "
        f"{matmul['default_threads']:.1f} GFLOP/s ({blas['threads']} threads), "
        f"{matmul['one_thread']:.1f} GFLOP/s (1 thread); the better one is the reference "
        f"(measured before and after the training cases, best of each; others busy: "
        + ", ".join(_cores(run["other_processes_cores"]) for run in results["matmul_runs"])
        + " cores)"
    )
    lines.append(f"MNIST: netkit's mnist dataset plugin, files in {results['load']['data_dir']}")
    other = results.get("other_processes_cores")
    before, after = results["load_average_before"], results["load_average_after"]
    lines.append(
        f"machine load: 1-min load average {before[0]:.2f} before, {after[0]:.2f} after; other processes kept "
        + (
            f"{other:.2f} of {machine['usable_cores']} cores busy on average during the run"
            if other is not None
            else "an unknown share of the cores busy"
        )
    )
    waited = results.get("waited_for_quiet_seconds", 0.0)
    if waited:
        lines.append(f"--wait-quiet: waited {waited:.0f} s in all for quiet spells before measurements")
    if other is not None and other > NOISY_CORES:
        lines.append("WARNING: other processes competed for the CPU during this run; expect noisy figures.")
    return lines


def _training_tables(results: dict[str, Any]) -> list[str]:
    torch = results.get("torch") or {}
    threads = torch.get("default_threads", "default")
    time_rows, rate_rows, notes = [], [], []
    for key, entry in results["cases"].items():
        case = Case.from_dict(entry["case"])
        scale = _scale(case)
        mark = "" if case.rows == TRAIN_ROWS else "*"
        timed = f"{case.epochs} epoch(s)" if not mark else f"{case.epochs} x {case.rows:,} rows*"
        runs = _torch_runs(results, key)
        single = next((run for run in runs[1:] if run["threads"] == 1), None)
        per_sample = entry["per_sample"]
        per_sample_scale = TRAIN_ROWS / per_sample["rows_timed"]
        torch_min = torch_epoch_min(results, key)
        loop = entry.get("numpy_loop")
        loop_ratio = (
            f"{entry['netkit']['epoch_seconds']['min'] / loop['epoch_seconds']['min']:.2f}" if loop else MISSING
        )
        ratio = f"{netkit_epoch_min(results, key) / torch_min:.2f}" if torch_min else MISSING
        single_ratio = (
            f"{entry['netkit']['epoch_seconds']['min'] / single['epoch_seconds']['min']:.2f}" if single else MISSING
        )
        time_rows.append(
            [
                case.label,
                timed,
                str(entry["netkit"].get("blas_threads") or MISSING),
                _pair(entry["netkit"]["epoch_seconds"], scale),
                _pair(loop["epoch_seconds"], scale) if loop else MISSING,
                _pair(runs[0]["epoch_seconds"], scale) if runs else MISSING,
                _pair(single["epoch_seconds"], scale) if single else MISSING,
                _pair(per_sample["seconds"], per_sample_scale, 1),
                ratio,
                single_ratio,
                loop_ratio,
                _cores(entry.get("other_processes_cores")),
            ]
        )
        netkit_rate = TRAIN_ROWS / netkit_epoch_min(results, key)
        rate_rows.append(
            [
                case.label,
                f"{netkit_rate:,.0f}",
                f"{TRAIN_ROWS / torch_min:,.0f}" if torch_min else MISSING,
                f"{TRAIN_ROWS / (per_sample['seconds']['min'] * per_sample_scale):,.0f}",
                f"{entry['netkit']['test_accuracy']:.4f}",
                f"{loop['test_accuracy']:.4f}" if loop else MISSING,
                f"{runs[0]['test_accuracy']:.4f}" if runs else MISSING,
                f"{per_sample['test_accuracy']:.4f} ({per_sample['rows_trained']:,})",
            ]
        )
        if mark:
            notes.append(
                f"* {case.label}: each timed pass trains {case.rows:,} of the 60,000 rows; "
                f"s/epoch is extrapolated x{scale:g}."
            )
    per_sample_note = (
        "per-sample: one image per step (forward, backward, update), timed on a few thousand consecutive "
        "samples and EXTRAPOLATED to 60,000; its accuracy is after the (n) samples it was trained on, with a "
        "learning rate small enough for one-sample steps (0.1 sigmoid, 0.01 relu)."
    )
    return [
        "Training: seconds per epoch of 60,000 MNIST images, min / median over the timed epochs",
        _table(
            [
                "case",
                "timed",
                "netkit thr",
                "netkit s/epoch",
                "NumPy loop",
                f"PyTorch ({threads} thr)",
                "PyTorch (1 thr)",
                "per-sample (extrap.)",
                "netkit/PyTorch",
                "vs 1 thr",
                "netkit/loop",
                "others busy",
            ],
            time_rows,
            right_from=2,
        ),
        *notes,
        per_sample_note,
        "netkit/PyTorch compares min with min, against PyTorch on its default threads (the target ratio); "
        "'vs 1 thr' against PyTorch on one thread. 'others busy': cores other processes kept busy meanwhile.",
        "netkit thr: the BLAS threads netkit's Trainer chose for the case (it decides per model and batch).",
        "NumPy loop: the same training written as one flat NumPy loop with netkit's tricks and no plugins "
        "(bench/numpy_loop.py, same weights, threads and buffer layouts); 'netkit/loop' is the cost of "
        "netkit's structure.",
        "",
        "Throughput (samples/s from the min epoch) and test accuracy (10,000 images, netkit.evaluation) "
        "after the timed epochs",
        _table(
            [
                "case",
                "netkit/s",
                "PyTorch/s",
                "per-sample/s",
                "acc netkit",
                "acc loop",
                "acc PyTorch",
                "acc per-sample (n)",
            ],
            rate_rows,
        ),
    ]


def _other_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    big = results["cases"].get("relu-800-800-b128")
    if big:
        case = Case.from_dict(big["case"])
        gflops = gflops_of(results, "relu-800-800-b128")
        reference = matmul_reference(results)
        torch_min = torch_epoch_min(results, "relu-800-800-b128")
        torch_text = f"; PyTorch {case.flops_per_row * TRAIN_ROWS / torch_min / 1e9:.1f} GFLOP/s" if torch_min else ""
        loop = big.get("numpy_loop")
        loop_gflops = case.flops_per_row * case.rows / loop["epoch_seconds"]["min"] / 1e9 if loop else None
        loop_text = f"; NumPy loop {loop_gflops:.1f} GFLOP/s = {loop_gflops / reference:.0%}" if loop_gflops else ""
        lines.append(
            f"{case.label}: netkit {gflops:.1f} GFLOP/s = {gflops / reference:.0%} of NumPy's large-matmul "
            f"{reference:.1f} GFLOP/s{loop_text}{torch_text} (matmul FLOPs only: {case.flops_per_row / 1e6:.2f} "
            "MFLOP per row, from the min epoch)"
        )
    predict = results["predict"]
    torch_predict = predict.get("torch_seconds")
    lines.append(
        f"predict 10,000 test images (seed net, predict_proba), min / median ms of "
        f"{len(predict['netkit_seconds']['samples'])}: netkit {_pair(predict['netkit_seconds'], 1000, 2)} "
        f"(others busy: {_cores(predict.get('other_processes_cores'))} cores)"
        + (f"; PyTorch (inference_mode + softmax) {_pair(torch_predict, 1000, 2)}" if torch_predict else "")
    )
    load = results["load"]
    cold = [probe["seconds"] for probe in load["cold"] if "seconds" in probe]
    lookup = [probe["plugin_lookup_seconds"] for probe in load["cold"] if "plugin_lookup_seconds" in probe]
    cold_text = f"{min(cold):.3f} / {statistics.median(cold):.3f} s over {len(cold)}" if cold else "failed"
    lines.append(
        f"load MNIST from gzip (mnist plugin, cache off), a fresh process's first load() call, min / median: "
        f"{cold_text} (finding the plugin before it, not counted: {min(lookup, default=float('nan')):.3f} s); "
        f"first load in this process, lookup included: {load['in_process_first_seconds']:.3f} s"
    )
    lines.append(f"load MNIST from a decoded cache: {cache_text(load)}")
    memory = results["peak_memory"]
    if "peak_rss_mb" in memory:
        lines.append(
            f"peak RSS, fresh process loading MNIST and training the seed net 1 epoch: "
            f"{memory['peak_rss_mb']:.0f} MB (after imports {memory['rss_after_imports_mb']:.0f} MB, "
            f"after loading {memory['rss_after_load_mb']:.0f} MB)"
        )
    else:
        lines.append(f"peak RSS: {memory.get('error')}")
    return lines


def cache_text(load: dict[str, Any]) -> str:
    if "cached" not in load:
        return "the mnist plugin offers no decoded cache"
    cached, read, fill, hits = load["cached"], load["cached_and_read"], load["cache_fill"], load["cache_hits"]
    if not cached:
        return f"failed ({hits[0].get('error') if hits else 'no run'})"
    all_hits = all(hit.get("cache_hit") for hit in hits)
    return (
        f"mnist:cache=true in fresh processes, min / median over {len(hits)}"
        f"{'' if all_hits else ' (NOT ALL CACHE HITS)'}: load() {_pair(cached, 1, 4)} s; it returns memory "
        f"maps, so load() + first read of every page {_pair(read, 1, 4)} s (the target uses this); "
        f"the load that filled the cache took {fill.get('seconds', float('nan')):.3f} s"
    )


def gflops_of(results: dict[str, Any], key: str) -> float:
    case = Case.from_dict(results["cases"][key]["case"])
    return case.flops_per_row * TRAIN_ROWS / netkit_epoch_min(results, key) / 1e9


def print_report(results: dict[str, Any], targets: Sequence[Sequence[str]]) -> None:
    sections = [
        "\n".join(_header(results)),
        "\n".join(_training_tables(results)),
        "\n".join(_other_lines(results)),
        "Targets (min figures; 'others busy': cores other processes used while it was measured; "
        f"'(noisy)' above {NOISY_CORES} of a core)\n"
        + _table(["target", "goal", "measured", "result", "others busy"], targets, right_from=4),
        f"total benchmark wall time: {results['total_seconds']:.0f} s",
    ]
    print("\n\n".join(sections))
