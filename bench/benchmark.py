"""netkit against PyTorch (CPU) and a per-sample loop on MNIST, side by side in one run.

Run from the repository root: ``.venv/bin/python bench/benchmark.py [--quick] [--data-dir PATH] [--json PATH]``.
netkit is timed through its public API and the training loop ``netkit train`` uses (``Network``, the
``mini-batch`` optimiser plugin, ``Trainer.fit``). PyTorch runs in a worker process that takes its turn right
after netkit, epoch by epoch on each case and call by call on predictions; cold loads and the peak-memory run
use fresh processes (``harness.py``).
What is measured and how: ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import (
    CASES,
    SEED,
    SETTLE_SECONDS,
    TRAIN_ROWS,
    WARM_UP,
    Case,
    LineWorker,
    Mnist,
    build_model,
    case_named,
    copy_weights_in,
    load_mnist,
    optimizer_for,
    quick_case,
    repeat,
    resolve_data_dir,
    run_probe,
    stats,
    torch_worker,
)
from machine import OthersBusy, QuietWaiter, machine_facts, matmul_gflops
from report import check_targets, print_report
from threadpoolctl import threadpool_info, threadpool_limits

from netkit.model.evaluation import evaluate
from netkit.model.network import Network
from netkit.training.trainer import Callback, Trainer

PREDICT_CALLS = 3  # timed calls a side in each turn of the predict comparison


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class NetkitSession:
    """One case trained through the public API, exactly as ``netkit train`` does, one timed epoch per call."""

    def __init__(self, case: Case, data: Mnist) -> None:
        self.model = build_model(case)
        self.trainer = Trainer(self.model, optimizer_for(case), np.random.default_rng(SEED))
        self.images, self.labels = data.train_images[: case.rows], data.train_labels[: case.rows]

    def epoch(self) -> float:
        started = time.perf_counter()
        self.trainer.fit(self.images, self.labels, 1)
        return time.perf_counter() - started


class BlasThreads(Callback):
    """Notes how many BLAS threads the Trainer runs its epochs with (it chooses per model and batch size)."""

    threads: int | None = None

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self.threads = next((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), None)


def netkit_blas_threads(case: Case, data: Mnist) -> int | None:
    """The Trainer's BLAS thread count for ``case``, seen in one step of a throwaway model (not timed)."""
    seen, session = BlasThreads(), NetkitSession(case, data)
    session.trainer.fit(session.images[: case.batch_size], session.labels[: case.batch_size], 1, callbacks=[seen])
    return seen.threads


def run_per_sample(case: Case, data: Mnist, rows: int, repeats: int) -> dict[str, Any]:
    """What the original program does: one image per step (forward, backward, SGD update), ``repeats`` runs
    over ``rows`` fresh samples each, through netkit's textbook twins on one-row batches (the readable maths;
    each layer one small matrix product, what it lacks is batching), from the case's initial weights.

    On one BLAS thread: a one-row product gains nothing from a second, and on a busy machine a thread team
    waiting for a descheduled member makes it many times slower.
    """
    seed = build_model(case)
    model = Network.from_config(seed.get_config(), registry=seed.registry.textbook_form())
    model.parameters[...] = seed.to_file_order(seed.parameters)  # twins keep no transposed weights
    targets, scratch = np.eye(model.output_size, dtype=np.float32), np.empty((1, model.output_size), np.float32)
    samples = []
    for index in range(repeats):
        images = data.train_images[index * rows : (index + 1) * rows]
        labels: list[Any] = data.train_labels[index * rows : (index + 1) * rows].tolist()
        with threadpool_limits(limits=1, user_api="blas"):
            started = time.perf_counter()
            for image, label in zip(images, labels, strict=True):
                output = model.forward(image[np.newaxis], True)
                model._backward_into(output, targets[label : label + 1], scratch)  # as the Trainer steps
                model.parameters -= case.per_sample_learning_rate * model.gradients
            samples.append(time.perf_counter() - started)
    copy_weights_in(seed, [(views["weight"], views["bias"]) for views in model.parameter_views])
    accuracy = evaluate(seed, data.test_images, data.test_labels).accuracy
    return {"rows_timed": rows, "rows_trained": rows * repeats, "seconds": stats(samples), "test_accuracy": accuracy}


def measure_matmul(repeats: int) -> dict[str, float | None]:
    """NumPy's large-matmul GFLOP/s on the default BLAS threads and on one, and how busy the machine was."""
    busy = OthersBusy()
    figures = {"default_threads": matmul_gflops(repeats), "one_thread": matmul_gflops(repeats, threads=1)}
    return {**figures, "other_processes_cores": busy.stop().cores()}


def measure_loads(data_dir: str, repeats: int) -> dict[str, Any]:
    """Cold loads in fresh processes; then with the decoded cache, in a temporary user cache: one that fills
    it, then hits."""
    progress(f"cold MNIST loads in fresh processes x {repeats}")
    cold = [run_probe("load", data_dir) for _ in range(repeats)]
    with tempfile.TemporaryDirectory(prefix="netkit-bench-cache-") as cache_home:
        progress(f"MNIST loads with cache=true: 1 filling the cache, {repeats} from it (fresh processes)")
        fill = run_probe("load-cached", data_dir, cache_home=cache_home)
        hits = [run_probe("load-cached", data_dir, cache_home=cache_home) for _ in range(repeats)]
    good = [hit for hit in hits if "seconds" in hit]
    return {
        "cold": cold,
        "cache_fill": fill,
        "cache_hits": hits,
        "cached": stats(hit["seconds"] for hit in good) if good else None,
        "cached_and_read": stats(hit["seconds"] + hit["touch_seconds"] for hit in good) if good else None,
    }


def train_case(case: Case, data: Mnist, torch: LineWorker | None, threads: list[int | None], quiet: QuietWaiter) -> Any:
    """netkit and PyTorch (on each of ``threads``) take turns, one epoch each.

    Returns the case's figures and netkit's trained model."""
    progress(f"{case.label}: {case.epochs} timed pass(es) over {case.rows:,} rows each")
    busy = OthersBusy(start=False)  # only while epochs are being timed, not while waiting or scoring
    netkit = NetkitSession(case, data)
    for index, setting in enumerate(threads):
        torch.request(op="begin", session=str(index), case=case.to_dict(), threads=setting)  # type: ignore[union-attr]
    seconds: dict[str, list[float]] = {"netkit": [], **{str(index): [] for index in range(len(threads))}}
    for _ in range(case.epochs):
        quiet.wait()
        busy.start()
        seconds["netkit"].append(netkit.epoch())
        if threads:
            time.sleep(SETTLE_SECONDS)
        for index in range(len(threads)):
            seconds[str(index)].append(torch.request(op="epoch", session=str(index))["seconds"])  # type: ignore[union-attr]
        busy.stop()
    entry = {"case": case.to_dict(), "other_processes_cores": busy.cores()}
    entry["netkit"] = {
        "blas_threads": netkit_blas_threads(case, data),
        "epoch_seconds": stats(seconds["netkit"]),
        "history_seconds": [record.seconds for record in netkit.trainer.history.epochs],
        "test_accuracy": evaluate(netkit.model, data.test_images, data.test_labels).accuracy,
    }
    if threads:
        entry["torch"] = [
            {**torch.request(op="end", session=str(index)), "epoch_seconds": stats(seconds[str(index)])}  # type: ignore[union-attr]
            for index in range(len(threads))
        ]
    scale = TRAIN_ROWS / case.rows
    line = f"  netkit {min(seconds['netkit']) * scale:.3f} s/epoch"
    progress(line + (f", PyTorch {min(seconds['0']) * scale:.3f} s/epoch" if threads else ""))
    return entry, netkit.model


def measure_predict(
    model: Network, images: np.ndarray[Any, Any], torch: LineWorker | None, turns: int, quiet: QuietWaiter
) -> dict[str, Any]:
    """netkit's ``predict_proba`` and PyTorch's ``softmax(net(x))`` in turns, ``PREDICT_CALLS`` calls a side."""
    model.predict_proba(images)  # untimed: the layers' inference buffers, BLAS's thread pool
    request = {"op": "predict", "case": case_named("seed-b32").to_dict(), "repeats": PREDICT_CALLS}
    ours: list[float] = []
    theirs: list[float] = []
    busy = OthersBusy(start=False)
    for _ in range(turns):
        quiet.wait()
        busy.start()
        ours += repeat(lambda: model.predict_proba(images), PREDICT_CALLS)["samples"]
        if torch is not None:
            time.sleep(SETTLE_SECONDS)
            theirs += torch.request(**request)["samples"]
        busy.stop()
        time.sleep(SETTLE_SECONDS)
    result = {"netkit_seconds": stats(ours), "other_processes_cores": busy.cores()}
    return result | ({"torch_seconds": stats(theirs)} if theirs else {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: one short timed pass per case")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    quiet_help = "on a shared machine: spend up to SECONDS in all waiting for quiet spells before measurements"
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS", help=quiet_help)
    args = parser.parse_args(argv)
    started, whole_run, quiet = time.perf_counter(), OthersBusy(), QuietWaiter(args.wait_quiet, progress)
    data_dir = resolve_data_dir(args.data_dir)
    cases = [quick_case(case) for case in CASES] if args.quick else list(CASES)
    repeats, matmul_repeats, predict_turns = (1, 3, 3) if args.quick else (3, 10, 10)
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "machine": machine_facts(Path(__file__).resolve().parent.parent),
        "load_average_before": os.getloadavg(),
        "cases": {},
    }
    progress("measuring NumPy's large-matmul GFLOP/s")
    quiet.wait()
    matmul_runs = [measure_matmul(matmul_repeats)]

    progress(f"loading MNIST from {data_dir}")
    load_started = time.perf_counter()
    data = load_mnist(data_dir)
    results["load"] = {"in_process_first_seconds": time.perf_counter() - load_started, "data_dir": str(data_dir)}
    NetkitSession(WARM_UP, data).epoch()  # untimed: a process's first run pays for thread pools and page faults

    installed = results["machine"]["torch"] is not None
    progress("starting the PyTorch worker process" if installed else "torch not installed — PyTorch column skipped")
    with torch_worker(data_dir) if installed else contextlib.nullcontext() as torch:
        results["torch"] = torch.info if torch else None
        threads: list[int | None] = [] if torch is None else [None]
        threads += [1] if torch and not args.quick and torch.info["default_threads"] > 1 else []
        trained = {}  # the seed net's model goes on to the predict timing
        for case in cases:
            results["cases"][case.key], trained[case.key] = train_case(case, data, torch, threads, quiet)
        seed_model = trained.pop("seed-b32")
        del trained
        progress("measuring NumPy's large-matmul GFLOP/s again (the best of both counts)")
        quiet.wait()
        matmul_runs.append(measure_matmul(matmul_repeats))
        results["matmul_runs"] = matmul_runs
        results["matmul_gflops"] = {
            setting: max(run[setting] or 0.0 for run in matmul_runs) for setting in ("default_threads", "one_thread")
        }
        progress(f"predict_proba on {data.test_images.shape[0]:,} test images, {predict_turns} turns")
        results["predict"] = measure_predict(seed_model, data.test_images, torch, predict_turns, quiet)

    per_sample: dict[str, dict[str, Any]] = {}
    for case in cases:
        if case.architecture not in per_sample:
            rows = (200 if args.quick else 600) if case.hidden[0] >= 800 else (1_000 if args.quick else 4_000)
            progress(f"per-sample reference {case.architecture}: {repeats} x {rows:,} samples")
            per_sample[case.architecture] = run_per_sample(case, data, rows, repeats)
        results["cases"][case.key]["per_sample"] = per_sample[case.architecture]
    del data, seed_model

    results["load"].update(measure_loads(str(data_dir), repeats))
    progress("peak RSS of loading MNIST + one epoch of the seed net (fresh process)")
    results["peak_memory"] = run_probe("train", str(data_dir))
    results["waited_for_quiet_seconds"] = quiet.total
    results["load_average_after"] = os.getloadavg()
    results["other_processes_cores"] = whole_run.stop().cores()
    results["total_seconds"] = time.perf_counter() - started
    results["targets"] = check_targets(results)
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
        progress(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
