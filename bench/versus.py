"""netkit on one benchmark case against something else, epoch by epoch in turns, for before/after figures.

    .venv/bin/python bench/versus.py seed-b32                       # against the hand-written NumPy loop
    .venv/bin/python bench/versus.py seed-b32 --against textbook    # against netkit train --textbook
    .venv/bin/python bench/versus.py seed-b32 --against ../base     # against another checkout's netkit
    .venv/bin/python bench/versus.py seed-b32 --against torch       # against PyTorch on its default threads

``../base`` is any checkout with its own ``.venv`` (e.g. ``git worktree add ../base HEAD~1`` and a
``pip install -e .`` there); then both checkouts train in worker processes of their own, each importing
its own netkit. The sides take turns, so that a busy spell on a shared machine hits both alike; the ratio
of the two minima is stable to about 1%, where separate runs on a shared machine drift several percent.
``--clock cpu`` times the training thread's CPU time instead of the wall clock: on a busy machine it leaves
out the time the thread waits to be scheduled (and the batch helper thread's work).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmark import LoopSession, NetkitSession
from children import SETTLE_SECONDS, LineWorker, TorchWorker
from common import CASES, TRAIN_ROWS, Case, Mnist, load_mnist, resolve_data_dir
from machine import QuietWaiter

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def session(kind: str, case: Case, data: Mnist) -> NetkitSession | LoopSession:
    if kind == "loop":
        return LoopSession(case, data)
    netkit = NetkitSession(case, data)
    if kind == "textbook":
        from netkit.textbook_mode import textbook_trainer

        netkit.trainer = textbook_trainer(netkit.trainer)
    return netkit


def timed(trainee: NetkitSession | LoopSession, clock: Callable[[], float]) -> Callable[[], float]:
    def epoch() -> float:
        started = clock()
        trainee.epoch()
        return clock() - started

    return epoch


def worker(case: Case, data_dir: str | None, clock: Callable[[], float]) -> None:
    """One checkout's side: a JSON line per epoch asked for, with its seconds."""
    data = load_mnist(resolve_data_dir(data_dir))
    NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
    epoch = timed(NetkitSession(case, data), clock)
    print(json.dumps({"ready": True}), flush=True)
    for _ in sys.stdin:
        print(json.dumps({"seconds": epoch()}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("case", choices=[case.key for case in CASES], help="a benchmark case")
    parser.add_argument(
        "--against", default="loop", help="loop (default), textbook, torch, or another checkout's folder"
    )
    parser.add_argument("--turns", type=int, default=7, help="epochs timed for each side (default 7)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="wall (default) or cpu time")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS", help="as in benchmark.py")
    parser.add_argument(
        "--with-torch",
        action="store_true",
        help="with another checkout: PyTorch takes a turn too, for each checkout's netkit / PyTorch ratio",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    case, clock = next(case for case in CASES if case.key == args.case), CLOCKS[args.clock]
    if args.worker:
        worker(case, args.data_dir, clock)
        return 0
    sides: dict[str, Callable[[], float]] = {}
    workers: list[LineWorker] = []
    if args.against in ("loop", "textbook"):
        data = load_mnist(resolve_data_dir(args.data_dir))
        NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
        sides = {name: timed(session(name, case, data), clock) for name in ("netkit", args.against)}
    elif args.against == "torch":  # wall time only: the worker times its own epochs
        data = load_mnist(resolve_data_dir(args.data_dir))
        NetkitSession(case, data).epoch()
        workers.append(TorchWorker(str(resolve_data_dir(args.data_dir))))
        workers[0].request(op="begin", session="0", case=case.to_dict(), threads=None)
        sides = {"netkit": timed(NetkitSession(case, data), time.perf_counter)}
        sides["torch"] = lambda: float(workers[0].request(op="epoch", session="0")["seconds"])
    else:  # both checkouts in worker processes, so that neither runs where the turns are organised
        for name, checkout in (("netkit", Path(__file__).resolve().parent.parent), ("other", Path(args.against))):
            command = [str(checkout.resolve() / ".venv" / "bin" / "python"), __file__, case.key, "--worker"]
            command += ["--clock", args.clock] + (["--data-dir", args.data_dir] if args.data_dir else [])
            workers.append(LineWorker(command, cwd=Path(__file__).resolve().parent))
            sides[name] = lambda side=workers[-1]: float(side.request(op="epoch")["seconds"])
        if args.with_torch:
            workers.append(TorchWorker(str(resolve_data_dir(args.data_dir))))
            workers[-1].request(op="begin", session="0", case=case.to_dict(), threads=None)
            sides["torch"] = lambda side=workers[-1]: float(side.request(op="epoch", session="0")["seconds"])
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    quiet = QuietWaiter(args.wait_quiet)
    for _ in range(args.turns):
        for name, epoch in sides.items():
            quiet.wait()
            seconds[name].append(epoch())
            time.sleep(SETTLE_SECONDS)
    for side in workers:
        side.__exit__(None, None, None)
    for name, values in seconds.items():
        low, middle = min(values) * TRAIN_ROWS / case.rows, statistics.median(values) * TRAIN_ROWS / case.rows
        print(f"{name:10s} {low:.4f} / {middle:.4f} s/epoch (min / median)")
    first, second, *more = seconds
    for top, bottom in [(first, second)] + [(name, more[0]) for name in (first, second) if more]:
        ratio = min(seconds[top]) / min(seconds[bottom])
        print(f"{top} / {bottom} {ratio:.3f}  ({case.label}, {args.turns} turns, {args.clock} time, min / min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
