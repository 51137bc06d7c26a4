"""netkit against the hand-written NumPy loop on one benchmark case, taking turns in one process.

``.venv/bin/python bench/versus_loop.py seed-b32 [--turns 7]`` prints both min / median s/epoch and
min netkit / min loop. Run-to-run noise between processes on a shared machine is several percent; the
ratio of two frameworks measured in turns is stable to about 1%, which is what judging a 1-3% change to a
hot path needs. Run it before and after the change (the loop does not change with netkit's code).
"""

from __future__ import annotations

import argparse
import statistics
import sys

from benchmark import LoopSession, NetkitSession
from common import CASES, load_mnist, resolve_data_dir


def main(argv: list[str] | None = None) -> int:
    keys = [case.key for case in CASES]
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("case", choices=keys, help="a benchmark case")
    parser.add_argument("--turns", type=int, default=7, help="epochs timed for each side (default 7)")
    parser.add_argument("--data-dir", help="folder holding the MNIST IDX files (default: $NETKIT_DATA/mnist)")
    args = parser.parse_args(argv)
    case = next(case for case in CASES if case.key == args.case)
    data = load_mnist(resolve_data_dir(args.data_dir))
    NetkitSession(case, data).epoch()  # untimed: thread pools, imports, page faults
    netkit, loop = NetkitSession(case, data), LoopSession(case, data)
    netkit_seconds, loop_seconds = [], []
    for _ in range(args.turns):
        netkit_seconds.append(netkit.epoch())
        loop_seconds.append(loop.epoch())
    scale = 60_000 / case.rows
    for name, seconds in (("netkit", netkit_seconds), ("NumPy loop", loop_seconds)):
        low, middle = min(seconds) * scale, statistics.median(seconds) * scale
        print(f"{name:10s} {low:.4f} / {middle:.4f} s/epoch (min / median)")
    print(f"netkit / loop {min(netkit_seconds) / min(loop_seconds):.3f}  ({case.label}, {args.turns} turns)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
