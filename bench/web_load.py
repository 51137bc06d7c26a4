"""Load test of ``netkit serve``: people drawing at once, with and without 100 stalled connections held open.

    .venv/bin/python bench/web_load.py [--clients 8,64] [--stalled 0,100] [--seconds 10] [--pause 0.5]
                                       [--body image|pixels] [--json]

The server is a real ``netkit serve --port 0`` process with the shipped model, on 127.0.0.1 only. Each
client is a thread in this process on its own keep-alive connection (as a browser tab is), posting the page's
own request after a stroke (a 280x280 PNG data URL, or 28x28 pixels) and then pausing a random 0.5x-1.5x of
``--pause`` seconds, as a person drawing one stroke after another does (``--pause 0``: back to back, to find
the ceiling). A stalled connection sends half its headers, or announces a 100-byte body and sends 10, then
stays silent; when the server closes one, it is opened again, so the count stays put for the whole phase.

Every combination of ``--clients`` and ``--stalled`` runs for ``--seconds``; each prints p50/p99/max latency,
predictions per second and failed requests (any non-200 reply or connection error). It exits 1 on any failure.
Clients and server share the machine's cores, so the figures are a floor for a faster machine.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import random
import re
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from harness import netkit_command
from PIL import Image, ImageDraw

HOST = "127.0.0.1"  # never anything else: this test loads only this machine


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


def client(port: int, body: bytes, pause: float, seed: int, stop: threading.Event, out: dict[str, list[Any]]) -> None:
    """Post ``body`` on one keep-alive connection until ``stop``, pausing between posts; note every outcome."""
    pauses = random.Random(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    stop.wait(pauses.uniform(0, pause))  # people do not all lift the pen at the same instant
    while not stop.is_set():
        began = time.perf_counter()
        try:
            connection.request("POST", "/api/predict", body=body, headers=headers)
            response = connection.getresponse()
            reply = response.read()
            if response.status != 200 or "digit" not in json.loads(reply):
                out["failures"].append(f"HTTP {response.status}: {reply[:120]!r}")
            else:
                out["latencies"].append(time.perf_counter() - began)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            out["failures"].append(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
        if pause:
            stop.wait(pauses.uniform(0.5 * pause, 1.5 * pause))
    connection.close()


def stalled_request(port: int, index: int) -> bytes:
    if index % 2:
        return f"GET /api/model HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Ag".encode()
    head = f"POST /api/predict HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
    return (head + "Content-Length: 100\r\n\r\n").encode() + b'{"pixels":'


def hold_stalled(port: int, count: int, stop: threading.Event, out: dict[str, Any]) -> None:
    """Keep ``count`` stalled connections open until ``stop``, opening a new one for each the server closes."""
    selector = selectors.DefaultSelector()

    def open_one(index: int) -> None:
        sock = socket.create_connection((HOST, port), timeout=5)
        sock.sendall(stalled_request(port, index))
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)

    for index in range(count):
        open_one(index)
    out["stalled_opened"] = count
    while not stop.is_set():
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65_536)
            except OSError:
                data = b""
            if data:  # the server's 408: read on until it closes
                out["stalled_answers"].add(data.split(b"\r\n", 1)[0].decode("latin-1"))
                continue
            selector.unregister(sock)
            sock.close()
            out["stalled_closed_by_server"] += 1
            open_one(key.data)
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    selector.close()


def phase(port: int, body: bytes, clients: int, stalled: int, seconds: float, pause: float) -> dict[str, Any]:
    stop = threading.Event()
    out: dict[str, Any] = {"latencies": [], "failures": [], "stalled_closed_by_server": 0, "stalled_answers": set()}
    holder = threading.Thread(target=hold_stalled, args=(port, stalled, stop, out))
    holder.start()
    time.sleep(0.5 if stalled else 0)  # all stalled connections open before the clients start
    threads = [
        threading.Thread(target=client, args=(port, body, pause, seed, stop, out), daemon=True)
        for seed in range(clients)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in [*threads, holder]:
        thread.join(60)
    elapsed = time.perf_counter() - began
    latencies = sorted(out["latencies"])
    return {
        "clients": clients,
        "stalled": stalled,
        "seconds": round(elapsed, 2),
        "predictions": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        **{f"p{round(100 * q)}_ms": milliseconds(latencies, q) for q in (0.5, 0.99)},
        "max_ms": milliseconds(latencies, 1.0),
        "failures": len(out["failures"]),
        "first_failures": out["failures"][:3],
        "stalled_closed_by_server": out["stalled_closed_by_server"],
        "stalled_answers": sorted(out["stalled_answers"]),
    }


def milliseconds(sorted_values: list[float], fraction: float) -> float | None:
    """The ``fraction`` percentile (nearest rank), in ms."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return round(1000 * sorted_values[index], 1) if sorted_values else None


def start_server() -> tuple[subprocess.Popen[str], int]:
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [*netkit_command(), "serve", "--host", HOST, "--port", "0", "--no-download"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environment)
    assert process.stdout is not None
    port = next((int(found.group(1)) for line in process.stdout if (found := re.search(r":(\d+)/", line))), 0)
    if not port:
        raise SystemExit(f"netkit serve printed no URL (exit code {process.wait()})")
    return process, port


def run(clients: list[int], stalled: list[int], seconds: float, pause: float, body_kind: str) -> dict[str, Any]:
    body = body_of(body_kind)
    process, port = start_server()
    try:
        phase(port, body, 1, 0, 1.0, 0)  # imports, first allocations, page cache: not part of the measurement
        phases = [phase(port, body, n, s, seconds, pause) for s in stalled for n in clients]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    return {
        "body": body_kind,
        "body_bytes": len(body),
        "pause_seconds": pause,
        "cpus": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "server_exit_code": process.returncode,
        "phases": phases,
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        "{body} bodies of {body_bytes:,} bytes, a pause of {pause_seconds} s (x0.5-1.5) after each answer, "
        "on {cpus} CPUs, load average {load_average} at the end".format(**result),
        f"{'clients':>7} {'stalled':>7} {'answers':>8} {'per s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6}  stalled closed by the server",
    ]
    for row in result["phases"]:
        closed = f"{row['stalled_closed_by_server']} {' '.join(row['stalled_answers'])}" if row["stalled"] else ""
        lines.append(
            f"{row['clients']:>7} {row['stalled']:>7} {row['predictions']:>8,} {row['per_second']:>7} "
            f"{row['p50_ms']:>7} {row['p99_ms']:>7} {row['max_ms']:>7} {row['failures']:>6}  {closed}"
        )
        lines.extend(f"    {failure}" for failure in row["first_failures"])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--clients", default="8,64", help="comma-separated client counts")
    parser.add_argument("--stalled", default="0,100", help="comma-separated counts of stalled connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--pause", type=float, default=0.5, help="mean pause after each answer (0: none)")
    parser.add_argument("--body", choices=["image", "pixels"], default="image")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    counts = [int(n) for n in options.clients.split(",")]
    stalled = [int(n) for n in options.stalled.split(",")]
    if max(counts) > 512 or max(stalled) > 400 or options.seconds > 120:
        parser.error("at most 512 clients, 400 stalled connections and 120 s a phase")
    result = run(counts, stalled, options.seconds, options.pause, options.body)
    print(json.dumps(result, indent=2) if options.json else table(result))
    sys.exit(1 if any(row["failures"] for row in result["phases"]) else 0)


if __name__ == "__main__":
    main()
