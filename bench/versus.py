"""netkit on one benchmark case against something else, in turns, for before/after figures.

    .venv/bin/python bench/versus.py seed-b32 --against ../base     # against another checkout's netkit
    .venv/bin/python bench/versus.py seed-b32 --against textbook    # against netkit train --textbook
    .venv/bin/python bench/versus.py seed-b32 --against torch       # against PyTorch on its default threads
    .venv/bin/python bench/versus.py predict --against ../base      # predict_proba on the 10,000 test images

A case's turn is one training epoch; ``predict``'s turn is ``PREDICT_CALLS`` calls of the seed net's
``predict_proba`` on the 10,000 MNIST test images (PyTorch: ``softmax(net(x))`` under ``inference_mode``).

``../base`` is any checkout with its own ``.venv`` (e.g. ``git worktree add ../base HEAD~1`` and a
``pip install -e .`` there); then both checkouts train in worker processes of their own, each importing
its own netkit (``--with-torch`` adds PyTorch's turn). The sides take turns, so that a busy spell on a shared
machine hits both alike; the ratio of the two minima is stable to a few percent (seed-b32 against a checkout
with the same training code, 2026-12-06: 1.046 in 7 turns, then 0.990 in 11), where separate runs drift
several percent. ``--clock cpu`` times the training thread's CPU time instead of the wall clock: on a busy
machine it leaves out the time the thread waits to be scheduled (and the batch helper thread's work).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmark import PREDICT_CALLS, NetkitSession
from harness import (
    CASES,
    SETTLE_SECONDS,
    TRAIN_ROWS,
    LineWorker,
    Mnist,
    build_model,
    case_named,
    load_mnist,
    resolve_data_dir,
    table,
    torch_worker,
)
from machine import OthersBusy, QuietWaiter

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}
BENCH = Path(__file__).resolve().parent


PREDICT = "predict"


def timed(trainee: NetkitSession, clock: Callable[[], float]) -> Callable[[], float]:
    def epoch() -> float:
        started = clock()
        trainee.epoch()
        return clock() - started

    return epoch


def timed_predict(data: Mnist, clock: Callable[[], float]) -> Callable[[], float]:
    """One turn of ``predict``: the fastest of ``PREDICT_CALLS`` calls of the seed net's ``predict_proba``."""
    model = build_model(case_named("seed-b32"))
    model.predict_proba(data.test_images)  # untimed: buffers, thread pool

    def turn() -> float:
        samples = []
        for _ in range(PREDICT_CALLS):
            started = clock()
            model.predict_proba(data.test_images)
            samples.append(clock() - started)
        return min(samples)

    return turn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("case", choices=[case.key for case in CASES] + [PREDICT], help="a benchmark case, or predict")
    parser.add_argument("--against", required=True, help="textbook, torch, or a checkout's folder")
    parser.add_argument("--turns", type=int, default=7, help="turns for each side (default 7)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="wall (default) or cpu time")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS", help="as in benchmark.py")
    parser.add_argument("--with-torch", action="store_true", help="with a checkout: PyTorch takes a turn too")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    predict = args.case == PREDICT
    case, data_dir = case_named("seed-b32" if predict else args.case), resolve_data_dir(args.data_dir)
    clock = time.perf_counter if args.against == "torch" else CLOCKS[args.clock]  # the worker times its own epochs
    workers: list[LineWorker] = []
    if args.worker or args.against in ("textbook", "torch"):
        data = load_mnist(data_dir)
        NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
        sides = {"netkit": timed_predict(data, clock) if predict else timed(NetkitSession(case, data), clock)}
    if args.worker:  # one checkout's side: a JSON line per epoch asked for, with its seconds
        print(json.dumps({"ready": True}), flush=True)
        for _ in sys.stdin:
            print(json.dumps({"seconds": sides["netkit"]()}), flush=True)
        return 0
    if args.against == "textbook":
        if predict:
            raise SystemExit("predict --against textbook is not measured; try a checkout or torch")
        from netkit.training.textbook_mode import textbook_trainer

        other = NetkitSession(case, data)
        other.trainer = textbook_trainer(other.trainer)
        sides[args.against] = timed(other, clock)
    elif args.against != "torch":  # both checkouts in worker processes: neither runs where the turns are organised
        sides = {}
        for name, checkout in (("netkit", BENCH.parent), ("other", Path(args.against))):
            command = [str(checkout.resolve() / ".venv" / "bin" / "python"), __file__, args.case, "--worker"]
            command += ["--against", "-", "--clock", args.clock, "--data-dir", str(data_dir)]
            workers.append(LineWorker(command, cwd=BENCH))
            sides[name] = lambda side=workers[-1]: float(side.request(op="epoch")["seconds"])
    if args.against == "torch" or args.with_torch:
        workers.append(torch_worker(data_dir))
        if predict:
            request = {"op": "predict", "case": case.to_dict(), "repeats": PREDICT_CALLS}
            sides["torch"] = lambda side=workers[-1]: float(side.request(**request)["min"])
        else:
            workers[-1].request(op="begin", session="0", case=case.to_dict(), threads=None)
            sides["torch"] = lambda side=workers[-1]: float(side.request(op="epoch", session="0")["seconds"])
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    quiet, busy = QuietWaiter(args.wait_quiet), OthersBusy()
    for _ in range(args.turns):
        for name, epoch in sides.items():
            quiet.wait()
            seconds[name].append(epoch())
            time.sleep(SETTLE_SECONDS)
    for side in workers:
        side.__exit__()
    scale, unit = (1000.0, "ms/call") if predict else (TRAIN_ROWS / case.rows, "s/epoch")
    rows = [[name, f"{min(v) * scale:.4f}", f"{statistics.median(v) * scale:.4f}"] for name, v in seconds.items()]
    print(table(["side", f"min {unit}", f"median {unit}"], rows))
    print(f"load average {os.getloadavg()[0]:.2f}; other processes kept {busy.stop().cores() or 0.0:.2f} cores busy")
    first, second, *more = seconds
    for top, bottom in [(first, second)] + [(name, more[0]) for name in (first, second) if more]:
        ratio = min(seconds[top]) / min(seconds[bottom])
        what = "predict_proba, 10,000 test images" if predict else case.label
        print(f"{top} / {bottom} {ratio:.3f}  ({what}, {args.turns} turns, {args.clock} time, min / min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
