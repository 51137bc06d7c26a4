"""Load test of ``netkit serve``: N clients post drawings to ``/api/predict`` for a fixed time.

    .venv/bin/python bench/web_load.py [--clients 8] [--seconds 20] [--body image|pixels] [--json]

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


def body_of(kind: str) -> bytes:
    """The page's request after a stroke (a transparent canvas with a black 20 px "7"), or a pixel bar."""
    if kind == "pixels":
        grid = [[1.0 if 4 <= row < 24 and column in (14, 15) else 0.0 for column in range(28)] for row in range(28)]
        return json.dumps({"pixels": grid, "preprocess": False}).encode()
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(60, 50), (220, 50), (120, 240)], fill=(0, 0, 0, 255), width=20, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return json.dumps({"image": url, "preprocess": True}).encode()


def client(port: int, body: bytes, start: threading.Event, stop: threading.Event, out: dict[str, list[Any]]) -> None:
    """Post ``body`` on one keep-alive connection from ``start`` until ``stop``; note latencies and failures."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    start.wait()
    while not stop.is_set():
        began = time.perf_counter()
        try:
            connection.request("POST", "/api/predict", body=body, headers=headers)
            response = connection.getresponse()
            reply = response.read()
            if response.status != 200 or "digit" not in json.loads(reply):
                out["failures"].append(f"HTTP {response.status}: {reply[:120]!r}")
                continue
        except (OSError, http.client.HTTPException, ValueError) as exc:
            out["failures"].append(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        out["latencies"].append(time.perf_counter() - began)
    connection.close()


def drive(port: int, body: bytes, clients: int, seconds: float) -> tuple[dict[str, list[Any]], float]:
    start, stop, out = threading.Event(), threading.Event(), {"latencies": [], "failures": []}
    threads = [threading.Thread(target=client, args=(port, body, start, stop, out)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.set()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return out, time.perf_counter() - began


def milliseconds(sorted_values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile (nearest rank), in ms."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return round(1000 * sorted_values[index], 2) if sorted_values else None


def run(clients: int, seconds: float, body_kind: str) -> dict[str, Any]:
    body, environment = body_of(body_kind), dict(os.environ, PYTHONUNBUFFERED="1")
    command = [*netkit_command(), "serve", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment)
    assert process.stdout is not None
    port = next(
        (int(found.group(1)) for line in process.stdout if (found := re.search(r"127\.0\.0\.1:(\d+)/", line))), 0
    )
    if not port:
        raise SystemExit(f"netkit serve printed no URL (exit code {process.wait()})")
    try:
        drive(port, body, 1, 1.0)  # imports, first allocations, page cache: not part of the measurement
        out, elapsed = drive(port, body, clients, seconds)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    latencies = sorted(out["latencies"])
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
        "failures": len(out["failures"]),
        "first_failures": out["failures"][:3],
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
    print(
        json.dumps(result, indent=2)
        if options.json
        else "{clients} clients x {seconds} s, {body} bodies of {body_bytes:,} bytes, on {cpus} CPUs\n"
        "predictions {predictions:,} = {predictions_per_second} per second\n"
        "latency p50 {p50_ms} ms, p90 {p90_ms} ms, p99 {p99_ms} ms, max {max_ms} ms\n"
        "failed requests {failures} {first}".format(**result, first=result["first_failures"] or "")
    )
    sys.exit(1 if result["failures"] else 0)


if __name__ == "__main__":
    main()
