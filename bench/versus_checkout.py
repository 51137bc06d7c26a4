"""This checkout's netkit against another checkout's (say, the commit before a change), epoch by epoch in turns.

    git worktree add ../base HEAD~1 && (cd ../base && python3 -m venv .venv && .venv/bin/pip install -e .)
    .venv/bin/python bench/versus_checkout.py ../base seed-b32 [--turns 9]

Each side trains the case through the public API in its own long-lived process (its checkout's
``.venv/bin/python``, so each imports its own netkit); the two take turns, one epoch at a time, so that a
busy spell on a shared machine hits both alike. It prints min / median s/epoch of each and new / base:
stable to about 1%, where separate runs on a shared machine drift several percent.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPOSITORY = BENCH.parent


def worker(case_key: str, data_dir: str | None) -> int:
    """One side: train one epoch per line read from stdin, answer with its seconds."""
    from benchmark import NetkitSession
    from common import CASES, load_mnist, resolve_data_dir

    case = next(case for case in CASES if case.key == case_key)
    data = load_mnist(resolve_data_dir(data_dir))
    NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
    session = NetkitSession(case, data)
    print("ready", flush=True)
    for _ in sys.stdin:
        print(f"{session.epoch() * 60_000 / case.rows:.6f}", flush=True)
    return 0


class Side:
    def __init__(self, checkout: Path, case: str, data_dir: str | None) -> None:
        command = [str(checkout / ".venv" / "bin" / "python"), __file__, "--worker", "-", case]
        if data_dir:
            command += ["--data-dir", data_dir]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=BENCH)
        assert self.readline() == "ready"

    def readline(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"a benchmark worker stopped (exit code {self.process.wait()})")
        return line

    def epoch(self) -> float:
        assert self.process.stdin is not None
        self.process.stdin.write("epoch\n")
        self.process.stdin.flush()
        seconds = float(self.readline())
        time.sleep(0.2)  # let the idle side's threads settle before the other side's turn
        return seconds

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("base", help="the other checkout (a folder with its own .venv)")
    parser.add_argument("case", help="a benchmark case, e.g. seed-b32")
    parser.add_argument("--turns", type=int, default=9, help="epochs timed for each side (default 9)")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.case, args.data_dir)
    sides = {"base": Side(Path(args.base).resolve(), args.case, args.data_dir)}
    sides["new"] = Side(REPOSITORY, args.case, args.data_dir)
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.turns):
        for name, side in sides.items():
            seconds[name].append(side.epoch())
    for side in sides.values():
        side.close()
    for name, values in seconds.items():
        print(f"{name:5s} {min(values):.4f} / {statistics.median(values):.4f} s/epoch (min / median)")
    by_min = min(seconds["new"]) / min(seconds["base"])
    by_median = statistics.median(seconds["new"]) / statistics.median(seconds["base"])
    print(f"new / base {by_min:.3f} (min), {by_median:.3f} (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
