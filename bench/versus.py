"""netkit on one benchmark case against something else, epoch by epoch in turns, for before/after figures.

    .venv/bin/python bench/versus.py seed-b32                       # against the hand-written NumPy loop
    .venv/bin/python bench/versus.py seed-b32 --against textbook    # against netkit train --textbook
    .venv/bin/python bench/versus.py seed-b32 --against ../base     # against another checkout's netkit

``../base`` is any checkout with its own ``.venv`` (e.g. ``git worktree add ../base HEAD~1`` and a
``pip install -e .`` there): each checkout then trains in its own long-lived process, importing its own
netkit. The sides take turns, so that a busy spell on a shared machine hits both alike; the ratio of the
two minima is stable to about 1%, where separate runs on a shared machine drift several percent.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmark import LoopSession, NetkitSession
from common import CASES, TRAIN_ROWS, Case, load_mnist, resolve_data_dir
from machine import wait_until_quiet

BENCH = Path(__file__).resolve().parent
SETTLE_SECONDS = 0.2  # after one side's turn, let its idle threads stop spinning


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.thread_time}


def textbook_session(case: Case, data: object) -> NetkitSession:
    from netkit.textbook_mode import textbook_trainer

    session = NetkitSession(case, data)  # type: ignore[arg-type]
    session.trainer = textbook_trainer(session.trainer)
    return session


def timed_epoch(session: NetkitSession | LoopSession, clock: Callable[[], float]) -> Callable[[], float]:
    """``session``'s epoch, timed by ``clock``."""

    def epoch() -> float:
        started = clock()
        session.epoch()
        return clock() - started

    return epoch


class CheckoutSide:
    """Another checkout's netkit in its own process: one epoch per line asked, its seconds answered."""

    def __init__(self, checkout: Path, case: str, data_dir: str | None, clock: str) -> None:
        command = [str(checkout / ".venv" / "bin" / "python"), __file__, case, "--worker", "--clock", clock]
        command += ["--data-dir", data_dir] if data_dir else []
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BENCH)
        assert self._answer() == "ready"

    def _answer(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"the worker of the other checkout stopped (exit code {self.process.wait()})")
        return line

    def epoch(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write("epoch\n")
        self.process.stdin.flush()
        return float(self._answer())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def worker(case: Case, data_dir: str | None, clock: Callable[[], float]) -> int:
    data = load_mnist(resolve_data_dir(data_dir))
    NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
    epoch = timed_epoch(NetkitSession(case, data), clock)
    print("ready", flush=True)
    for _ in sys.stdin:
        print(f"{epoch():.6f}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("case", choices=[case.key for case in CASES], help="a benchmark case")
    parser.add_argument("--against", default="loop", help="loop (default), textbook, or another checkout's folder")
    parser.add_argument("--turns", type=int, default=7, help="epochs timed for each side (default 7)")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each turn wait (up to 20 s, SECONDS in all) for half a second of other processes under 1/4 core",
    )
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="wall",
        help="wall time (default), or cpu: the training thread's CPU time, which a busy machine disturbs far "
        "less (it leaves out the batch helper thread and any time spent descheduled)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    case = next(case for case in CASES if case.key == args.case)
    clock = CLOCKS[args.clock]
    if args.worker:
        return worker(case, args.data_dir, clock)
    workers: list[CheckoutSide] = []
    if args.against in ("loop", "textbook"):
        data = load_mnist(resolve_data_dir(args.data_dir))
        NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
        make = LoopSession if args.against == "loop" else textbook_session
        sides: dict[str, Callable[[], float]] = {"netkit": timed_epoch(NetkitSession(case, data), clock)}
        sides[args.against] = timed_epoch(make(case, data), clock)
    else:  # both in worker processes, so that neither side runs where the other is orchestrated from
        workers = [
            CheckoutSide(checkout, case.key, args.data_dir, args.clock)
            for checkout in (BENCH.parent, Path(args.against).resolve())
        ]
        sides = {"netkit": workers[0].epoch, "other": workers[1].epoch}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    budget = args.wait_quiet
    for _ in range(args.turns):
        for name, epoch in sides.items():
            budget -= wait_until_quiet(min(20.0, budget)) if budget > 0 else 0.0
            seconds[name].append(epoch())
            time.sleep(SETTLE_SECONDS)
    for side in workers:
        side.close()
    scale = TRAIN_ROWS / case.rows
    for name, values in seconds.items():
        low, middle = min(values) * scale, statistics.median(values) * scale
        print(f"{name:10s} {low:.4f} / {middle:.4f} s/epoch (min / median)")
    names = list(seconds)
    ratio = min(seconds[names[0]]) / min(seconds[names[1]])
    print(
        f"{names[0]} / {names[1]} {ratio:.3f}  ({case.label}, {args.turns} turns, {args.clock} time, min against min)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
