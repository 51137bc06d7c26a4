"""What ``netkit train --web`` costs: the same default run with and without the live page, alternated.

    NETKIT_DATA=../shared/data .venv/bin/python bench/web_overhead.py [--pairs 3] [--rounds 15]

First, pairs of single epochs in this process (784-16-16-10, mini-batch; one plain, one watched by another
process polling like the page). Then whole runs: each pair runs ``netkit train`` at its default settings
(784-16-16-10, batches of 32, 10 epochs on MNIST) once plain and once with ``--web``, in fresh processes, in alternating
order, while a watcher polls ``/api/progress`` and fetches ``/api/live-weights`` whenever a new snapshot is
announced, as the page does. Training time is the sum of the epochs' own ``seconds`` from the saved model
file; the wall time until the result line and the process's CPU time (serving threads included) are shown
too. Last, a bound: the per-call costs of what ``--web`` adds, timed in process, times their counts in a
real run. On a machine shared with other work identical epochs differ by 10-20%, even in CPU time; the
bound is the figure that resolves a few percent.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")
POLL_SECONDS = 0.4  # the page's own polling interval (web/static/app.js)


def _get(port: int, path: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        reply: dict[str, Any] = json.loads(connection.getresponse().read())
        return reply
    finally:
        connection.close()


def watch_like_the_page(port: int, done: threading.Event, counts: dict[str, int], since: int = 0) -> None:
    losses, version = since, 0
    while not done.is_set():
        progress = _get(port, f"/api/progress?since={losses}")
        losses += len(progress["iteration_loss"])
        counts["polls"] += 1
        if progress["weights_version"] != version:
            version = _get(port, "/api/live-weights")["version"]
            counts["weight fetches"] += 1
        if progress["mode"] == "draw":
            done.set()
            return
        time.sleep(POLL_SECONDS)


def one_run(web: bool, folder: Path) -> dict[str, Any]:
    from harness import netkit_command

    from netkit.io import load_model

    out = folder / f"run-{time.monotonic_ns()}.h5"
    arguments = [*netkit_command(), "train", "--out", str(out), "--quiet"] + (["--web", "--port", "0"] if web else [])
    began, cpu_before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    assert process.stdout is not None and process.stderr is not None
    counts, done = {"polls": 0, "weight fetches": 0}, threading.Event()
    for line in process.stderr if web else ():
        if found := URL.search(line):
            watch = (int(found.group(1)), done, counts)
            threading.Thread(target=watch_like_the_page, args=watch, daemon=True).start()
            break
    result_line = process.stdout.readline()
    wall = time.perf_counter() - began
    if web:
        done.wait(timeout=600)
        process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    if process.returncode != 0 or not result_line.startswith("test accuracy"):
        raise SystemExit(f"netkit train failed ({process.returncode}): {result_line}")
    train = sum(epoch.seconds for epoch in load_model(out).history.epochs)
    return {"web": web, "train s": train, "wall s": wall, "cpu s": cpu, "result": result_line.strip(), **counts}


def costs_in_process() -> dict[str, float]:
    """Seconds per call of what ``--web`` adds, timed in this process on the default 784-16-16-10 net.

    These add up to a bound that the noise of a shared machine cannot blur: the per-batch hook, a weight
    snapshot, and one poll and one weight fetch as whole HTTP round trips (the client's share included).
    """
    from netkit.model.network import Network
    from netkit.training.trainer import Trainer
    from netkit.web.live import TrainingProgress

    model = Network(784, ["dense:units=16", "dense:units=16", "dense:units=10,activation=softmax"])
    trainer = Trainer(model, model.registry.create("optimizers", "mini-batch"))
    trainer.history.iteration_loss.extend([0.5] * 17_000)
    progress = TrainingProgress("bench", refresh_seconds=3600)
    progress.on_train_begin(trainer, 10, 1688)

    def per_call(action: Any, calls: int) -> float:
        began = time.perf_counter()
        for _ in range(calls):
            action()
        return (time.perf_counter() - began) / calls

    from netkit.web.routes import App
    from netkit.web.server import bind, serve_in_background

    server = bind(App(live=progress), "127.0.0.1", 0)
    serve_in_background(server)
    port = int(server.server_address[1])
    try:
        # Whole HTTP round trips, client included: an upper bound on what the server thread spends.
        poll = min(per_call(lambda: _get(port, "/api/progress?since=16900"), 300) for _ in range(3))
        fetch = min(per_call(lambda: _get(port, "/api/live-weights"), 100) for _ in range(3))
    finally:
        server.shutdown()
        server.server_close()
    return {
        "batch_hook": min(per_call(lambda: progress.on_batch_end(trainer, 1, 0.5), 100_000) for _ in range(3)),
        "snapshot": min(per_call(lambda: progress._snapshot(trainer), 2_000) for _ in range(3)),
        "poll": poll,
        "weight_fetch": fetch,
    }


def paired_epochs(rounds: int) -> list[tuple[float, float, float, float]]:
    """(plain, watched) wall seconds, then (plain, watched) CPU seconds of this process (every thread, so
    the server's work counts too), of back-to-back single epochs of a default run.

    Each round trains one epoch without the page, then one with the callback, a live server and another
    process polling like the page; a pair's two epochs are a second apart, so the machine's other load hits both
    alike and the median of the pair ratios stays steady where whole runs a minute apart do not.
    """
    from netkit.cli.downloads import load_dataset
    from netkit.training.run import RunRequest, new_run
    from netkit.web.live import TrainingProgress
    from netkit.web.routes import App
    from netkit.web.server import bind, serve_in_background

    defaults = {"activation": "sigmoid", "output_activation": "softmax", "loss": "cross-entropy", "seed": 0}
    request = RunRequest([16, 16], optimizer="mini-batch", batch_size=None, learning_rate=None, dataset="mnist",
                         validation=0.1, out=Path("unused.h5"), format=None, **defaults)  # fmt: skip
    run = new_run(request, load_dataset("mnist", None, False))
    trainer = run.trainer
    pairs = []
    for _ in range(rounds):
        began, cpu_began = time.perf_counter(), time.process_time()
        trainer.fit(run.train_images, run.train_labels, 1, run.validation)
        plain, plain_cpu = time.perf_counter() - began, time.process_time() - cpu_began
        progress = TrainingProgress("bench")
        server = bind(App(live=progress), "127.0.0.1", 0)
        serve_in_background(server)
        # The page's polling from another process, so that only the server's work counts as this one's CPU.
        since = len(trainer.history.iteration_loss)  # a page open since the run began holds the earlier losses
        poller = subprocess.Popen(  # -S: its start-up must not load the cores; this file imports only the stdlib
            [sys.executable, "-S", __file__, "--poll", str(server.server_address[1]), str(since)],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # let it start and take its first look before the epoch starts
        began, cpu_began = time.perf_counter(), time.process_time()
        trainer.fit(run.train_images, run.train_labels, 1, run.validation, [progress])
        watched, watched_cpu = time.perf_counter() - began, time.process_time() - cpu_began
        poller.terminate()
        poller.wait()
        server.shutdown()
        server.server_close()
        pairs.append((plain, watched, plain_cpu, watched_cpu))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=15, help="pairs of single epochs, in this process")
    parser.add_argument("--poll", nargs=2, type=int, metavar=("PORT", "SINCE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.poll:  # the page's polling, in a process of its own
        watch_like_the_page(options.poll[0], threading.Event(), {"polls": 0, "weight fetches": 0}, options.poll[1])
        return
    from harness import table  # not at the top: the poller runs this file without site-packages

    pairs = paired_epochs(options.rounds)
    for name, first in (("wall", 0), ("CPU", 2)):
        ratios = sorted(pair[first + 1] / pair[first] for pair in pairs)
        print(
            f"{len(pairs)} pairs of one epoch (plain, then watched), {name} time: median plain "
            f"{statistics.median(pair[first] for pair in pairs):.3f} s, watched "
            f"{statistics.median(pair[first + 1] for pair in pairs):.3f} s; median ratio "
            f"{statistics.median(ratios):.3f} (quartiles {ratios[len(ratios) // 4]:.3f}-"
            f"{ratios[3 * len(ratios) // 4]:.3f}), overhead {statistics.median(ratios) - 1:+.1%}",
            flush=True,
        )
    costs = costs_in_process()
    print(
        "in-process costs: per-batch hook {batch_hook:.2e} s, weight snapshot {snapshot:.2e} s, "
        "one poll {poll:.2e} s, one weight fetch {weight_fetch:.2e} s".format(**costs)
    )
    with tempfile.TemporaryDirectory() as folder:  # alternating order: plain first in even pairs
        runs = [one_run(web, Path(folder)) for pair in range(options.pairs) for web in (pair % 2 == 1, pair % 2 == 0)]
    heads = ["run", "train s", "wall s", "cpu s", "polls", "weight fetches", "result"]
    rows = [["--web" if run["web"] else "plain", *(f"{run[key]:.2f}" for key in heads[1:4]), *map(run.get, heads[4:])]
            for run in runs]  # fmt: skip
    print(table(heads[:-1], [row[:-1] for row in rows]))
    print("\n".join(f"{row[0]}: {row[-1]}" for row in rows))
    plain_runs, web_runs = [run for run in runs if not run["web"]], [run for run in runs if run["web"]]
    polls, fetches = (max(run[key] for run in web_runs) for key in ("polls", "weight fetches"))
    # The default run: 54,000 training rows in batches of 32, ten epochs; at least one snapshot per epoch.
    added = 10 * 1688 * costs["batch_hook"] + (fetches + 10) * costs["snapshot"]
    added += polls * costs["poll"] + fetches * costs["weight_fetch"]
    fastest_plain = min(run["train s"] for run in plain_runs)
    print(
        f"bound from the in-process costs: {added * 1000:.1f} ms of work added to a run whose training took "
        f"at least {fastest_plain:.2f} s here: {added / fastest_plain:.2%}"
    )
    measures = [("training time (the epochs' own seconds)", "train s"), ("wall time to the result line", "wall s")]
    for name, key in [*measures, ("CPU time of the whole process (user + system)", "cpu s")]:
        plain, watched = [run[key] for run in plain_runs], [run[key] for run in web_runs]
        low, high = statistics.median(plain), statistics.median(watched)
        print(
            f"{name}: median plain {low:.2f} s, --web {high:.2f} s, overhead {high / low - 1:+.1%}; fastest "
            f"plain {min(plain):.2f} s, --web {min(watched):.2f} s, overhead {min(watched) / min(plain) - 1:+.1%}"
        )


if __name__ == "__main__":
    main()
