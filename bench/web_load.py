"""Load test of ``netkit serve``: N clients post drawings to ``/api/predict`` for a fixed time.

    .venv/bin/python bench/web_load.py [--clients 8] [--seconds 20] [--body image|pixels]

The server is a real ``netkit serve --port 0`` process with the shipped model; the clients are threads in
this process, each on its own keep-alive connection (as a browser tab is), posting the page's own request:
a 280x280 PNG data URL of a drawn digit (``image``) or 28x28 pixels (``pixels``). It prints predictions per
second, latency percentiles and the failures (any non-200 reply or connection error); it exits 1 on any
failure. Clients and server share the machine's cores, so the figures are a floor for a faster machine.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from harness import netkit_command
from PIL import Image, ImageDraw

URL = re.compile(r"http://127\.0\.0\.1:(\d+)/")


def drawn_seven() -> bytes:
    """The body the page sends after a stroke: a transparent canvas with a black 20 px "7"."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(60, 50), (220, 50), (120, 240)], fill=(0, 0, 0, 255), width=20, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return json.dumps({"image": url, "preprocess": True}).encode()


def mnist_like_pixels() -> bytes:
    grid = [[0.0] * 28 for _ in range(28)]
    for row in range(4, 24):
        grid[row][14] = grid[row][15] = 1.0
    return json.dumps({"pixels": grid, "preprocess": False}).encode()


def start_server() -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [*netkit_command(), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = URL.search(line)
        if found:
            return process, int(found.group(1))
    raise SystemExit(f"netkit serve printed no URL (exit code {process.wait()})")


class Client(threading.Thread):
    def __init__(self, port: int, body: bytes, start: threading.Event, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.body, self.start_signal, self.stop_signal = port, body, start, stop
        self.latencies: list[float] = []
        self.failures: list[str] = []

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        self.start_signal.wait()
        while not self.stop_signal.is_set():
            began = time.perf_counter()
            try:
                connection.request("POST", "/api/predict", body=self.body, headers=headers)
                response = connection.getresponse()
                reply = response.read()
                if response.status != 200 or "digit" not in json.loads(reply):
                    self.failures.append(f"HTTP {response.status}: {reply[:120]!r}")
                    continue
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                continue
            self.latencies.append(time.perf_counter() - began)
        connection.close()


def milliseconds(sorted_values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile (nearest rank), in ms."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return round(1000 * sorted_values[index], 2) if sorted_values else None


def drive(port: int, body: bytes, clients: int, seconds: float) -> tuple[list[Client], float]:
    start, stop = threading.Event(), threading.Event()
    workers = [Client(port, body, start, stop) for _ in range(clients)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    start.set()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return workers, time.perf_counter() - began


def run(clients: int, seconds: float, body_kind: str) -> dict[str, Any]:
    body = drawn_seven() if body_kind == "image" else mnist_like_pixels()
    process, port = start_server()
    try:
        drive(port, body, 1, 1.0)  # imports, first allocations, page cache: not part of the measurement
        workers, elapsed = drive(port, body, clients, seconds)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    latencies = sorted(value for worker in workers for value in worker.latencies)
    failures = [failure for worker in workers for failure in worker.failures]
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "body": body_kind,
        "body_bytes": len(body),
        "predictions": len(latencies),
        "predictions_per_second": round(len(latencies) / elapsed, 1),
        **{f"p{round(100 * q)}_ms": milliseconds(latencies, q) for q in (0.5, 0.9, 0.99)},
        "max_ms": milliseconds(latencies, 1.0),
        "mean_ms": round(1000 * statistics.fmean(latencies), 2) if latencies else None,
        "failures": len(failures),
        "first_failures": failures[:3],
        "server_exit_code": process.returncode,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--body", choices=["image", "pixels"], default="image")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    result = run(options.clients, options.seconds, options.body)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['clients']} clients x {result['seconds']} s, {result['body']} bodies of "
            f"{result['body_bytes']:,} bytes, on {result['cpus']} CPUs\n"
            f"predictions {result['predictions']:,} = {result['predictions_per_second']} per second\n"
            f"latency p50 {result['p50_ms']} ms, p90 {result['p90_ms']} ms, p99 {result['p99_ms']} ms, "
            f"max {result['max_ms']} ms\n"
            f"failed requests {result['failures']} {result['first_failures'] or ''}"
        )
    sys.exit(1 if result["failures"] else 0)


if __name__ == "__main__":
    main()
