"""The server against clients that stall, hang up, flood it or send what no page would: it stays up and answers.

Each test serves with short time limits, so a stalled client is dealt with in a fraction of a second.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from netkit.io import load_model
from netkit.pretrained import pretrained_model_path
from netkit.web.connections import Limits
from netkit.web.inspection import ModelView
from netkit.web.live import TrainingProgress
from netkit.web.routes import App, Query

from .web_helpers import post_json, request, served

Address = tuple[str, int]
QUICK = Limits(idle_seconds=0.5, header_seconds=0.5, body_seconds=0.5, write_seconds=2.0, linger_seconds=0.5)
BIG_REPLY_CHARACTERS = 20_000_000  # far more than the sockets' buffers hold


class ProbeApp(App):
    """The shipped model's API, plus a route that waits until released and one with a very long answer."""

    def __init__(self) -> None:
        super().__init__(view=ModelView(load_model(pretrained_model_path()), "shipped"))
        self.release, self.entered = threading.Event(), threading.Semaphore(0)

    def get(self, path: str, query: Query) -> dict[str, Any]:
        if path == "/api/slow":
            self.entered.release()
            self.release.wait(10)
            return {"slow": True}
        if path == "/api/big":
            return {"data": "x" * BIG_REPLY_CHARACTERS}
        return super().get(path, query)


@pytest.fixture
def app() -> Iterator[ProbeApp]:
    probe = ProbeApp()
    yield probe
    probe.release.set()


@pytest.fixture
def address(app: ProbeApp) -> Iterator[Address]:
    with served(app, QUICK) as found:
        yield found


def _raw(address: Address, data: bytes, timeout: float = 5) -> tuple[int, dict[str, str], bytes, socket.socket]:
    """Send ``data`` as it is on a new connection; the reply's status, headers, body, and the open socket."""
    sock = socket.create_connection(address, timeout=timeout)
    sock.sendall(data)
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, dict(response.getheaders()), response.read(), sock


def _closed_by_server(sock: socket.socket, timeout: float = 5) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def _pixels(value: float = 0.0) -> list[list[float]]:
    return [[value] * 28 for _ in range(28)]


def _predict_body() -> bytes:
    return json.dumps({"pixels": _pixels(), "preprocess": False}).encode()


@pytest.mark.parametrize(
    "stalled",
    [
        b"POST /api/predict HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        + b'{"pixels":',  # announces 100 bytes, sends 10
        b"GET /api/model HTTP/1.1\r\nHost: HO",  # half its headers
    ],
    ids=["a body of 10 bytes out of 100", "half the headers"],
)
def test_a_request_that_stops_arriving_is_answered_408_and_closed(address: Address, stalled: bytes) -> None:
    started = time.monotonic()
    status, headers, body, sock = _raw(address, stalled.replace(b"HOST", f"127.0.0.1:{address[1]}".encode()))
    assert status == 408 and headers["Content-Type"] == "application/json"
    assert "did not arrive in time" in json.loads(body)["error"]
    assert _closed_by_server(sock) and time.monotonic() - started < 3
    sock.close()


def test_a_hundred_connections_that_send_nothing_neither_delay_others_nor_stay_open(address: Address) -> None:
    silent = [socket.create_connection(address, timeout=5) for _ in range(100)]
    started = time.monotonic()
    status, _ = request(address, "GET", "/api/model")
    assert status == 200 and time.monotonic() - started < 1.0  # no connect waited for a free thread
    assert all(_closed_by_server(sock) for sock in silent)  # each is closed once its idle time is up
    assert time.monotonic() - started < 5
    for sock in silent:
        sock.close()


def _reset(sock: socket.socket) -> None:
    """Close at once, with a reset rather than a polite goodbye, as a killed browser tab does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_client_that_hangs_up_mid_reply_costs_no_traceback(
    address: Address, app: ProbeApp, capfd: pytest.CaptureFixture[str]
) -> None:
    # Hang up after the first kilobyte of a 20 MB reply, three times (each a traceback of ~28 lines before).
    for _ in range(3):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(5)
        sock.connect(address)
        sock.sendall(f"GET /api/big HTTP/1.1\r\nHost: 127.0.0.1:{address[1]}\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        _reset(sock)
    # And hang up before the answer is ready at all.
    sock = socket.create_connection(address, timeout=5)
    sock.sendall(f"GET /api/slow HTTP/1.1\r\nHost: 127.0.0.1:{address[1]}\r\n\r\n".encode())
    assert app.entered.acquire(timeout=5)
    _reset(sock)
    app.release.set()
    time.sleep(0.3)  # the reply is written to the reset connection
    assert request(address, "GET", "/api/model")[0] == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) <= 1, err


def test_json_nested_200000_deep_is_a_400_not_a_crash(address: Address) -> None:
    deep = b'{"pixels": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    status, reply = request(address, "POST", "/api/predict", deep, {"Content-Type": "application/json"})
    assert status == 400 and "nested too deeply" in reply["error"]
    assert post_json(address, "/api/predict", {"pixels": _pixels()})[0] == 200


@pytest.mark.parametrize("path", ["/", "/app.js", "/api/model"])
def test_head_is_answered_as_get_without_a_body(address: Address, path: str) -> None:
    connection = http.client.HTTPConnection(*address, timeout=5)
    connection.request("GET", path)
    got = connection.getresponse()
    body = got.read()
    connection.request("HEAD", path)
    head = connection.getresponse()
    assert head.status == 200 and head.read() == b""
    assert head.getheader("Content-Type") == got.getheader("Content-Type")
    assert head.getheader("Content-Length") == got.getheader("Content-Length") == str(len(body))
    # Had the HEAD reply carried a body, it would be read here as the start of the next reply.
    connection.request("GET", path)
    again = connection.getresponse()
    assert again.status == 200 and again.read() == body
    connection.close()


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PUT", "DELETE"])
def test_options_trace_and_other_methods_are_405_json(address: Address, method: str) -> None:
    connection = http.client.HTTPConnection(*address, timeout=5)
    connection.request(method, "/api/predict", headers={"Origin": "http://evil.example"})
    response = connection.getresponse()
    reply = json.loads(response.read())
    assert response.status == 405 and f"{method} is not accepted" in reply["error"]
    assert response.getheader("Allow") == "GET, HEAD, POST"
    assert response.getheader("Access-Control-Allow-Origin") is None
    connection.close()


MALFORMED = [
    ("an unknown method", b"BREW /api/model HTTP/1.1\r\nHost: HOST\r\n\r\n", 501),
    ("a request line of one word", b"NONSENSE\r\nHost: HOST\r\n\r\n", 400),
    ("an HTTP version of nonsense", b"GET / HTTP/9z\r\nHost: HOST\r\n\r\n", 400),
    ("a chunked body", b"POST /api/predict HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
    ("headers of 70 kB", b"GET / HTTP/1.1\r\nHost: HOST\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    ("two lengths", b"POST /api/predict HTTP/1.1\r\nHost: HOST\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    ("a negative length", b"POST /api/predict HTTP/1.1\r\nHost: HOST\r\nContent-Length: -5\r\n\r\n", 400),
    ("a missing file", b"GET /nothing.html HTTP/1.1\r\nHost: HOST\r\n\r\n", 404),
]


@pytest.mark.parametrize(("data", "status"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED])
def test_every_refusal_is_json_with_a_4xx_or_5xx(address: Address, data: bytes, status: int) -> None:
    got, headers, body, sock = _raw(address, data.replace(b"HOST", f"127.0.0.1:{address[1]}".encode()))
    sock.close()
    assert got == status and headers["Content-Type"] == "application/json"
    assert set(json.loads(body)) == {"error"}
    assert request(address, "GET", "/api/model")[0] == 200


CROSS_SITE = [
    ("a form from another site", "application/x-www-form-urlencoded", {"Origin": "http://evil.example"}, 415),
    ("a text/plain form carrying JSON", "text/plain", {"Origin": "http://evil.example"}, 415),
    ("a multipart form", "multipart/form-data; boundary=x", {"Origin": "http://evil.example"}, 415),
    ("JSON from another origin", "application/json", {"Origin": "http://evil.example"}, 403),
    ("JSON from another port", "application/json", {"Origin": "http://127.0.0.1:1"}, 403),
    ("JSON a browser marks cross-site", "application/json", {"Sec-Fetch-Site": "cross-site"}, 403),
    ("JSON with no type", "", {}, 415),
]


@pytest.mark.parametrize(
    ("kind", "headers", "status"), [case[1:] for case in CROSS_SITE], ids=[case[0] for case in CROSS_SITE]
)
def test_a_post_must_be_json_from_the_page_itself(
    address: Address, kind: str, headers: dict[str, str], status: int
) -> None:
    sent = {**headers, **({"Content-Type": kind} if kind else {})}
    got, reply = request(address, "POST", "/api/predict", _predict_body(), sent)
    assert got == status and ("refused" in reply["error"] or "must be JSON" in reply["error"]), reply
    same_origin = {
        "Content-Type": "application/json",
        "Origin": f"http://127.0.0.1:{address[1]}",
        "Sec-Fetch-Site": "same-origin",
    }
    got, reply = request(address, "POST", "/api/predict", _predict_body(), same_origin)
    assert got == 200 and 0 <= reply["digit"] <= 9


def test_a_full_worker_pool_answers_503_json_at_once_and_then_recovers(app: ProbeApp) -> None:
    with served(app, Limits(workers=1, queue=1)) as address:
        results: list[tuple[int, float, str | None, dict[str, Any]]] = []

        def slow() -> None:
            started = time.monotonic()
            connection = http.client.HTTPConnection(*address, timeout=10)
            connection.request("GET", "/api/slow")
            response = connection.getresponse()
            assert response.getheader("Content-Type") == "application/json"
            reply = json.loads(response.read())
            results.append((response.status, time.monotonic() - started, response.getheader("Retry-After"), reply))
            connection.close()

        first = threading.Thread(target=slow)
        first.start()
        assert app.entered.acquire(timeout=5)  # the one worker is busy
        others = [threading.Thread(target=slow) for _ in range(3)]  # one waits in the queue, two find it full
        for thread in others:
            thread.start()
        deadline = time.monotonic() + 5
        while len(results) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [status for status, *_ in results] == [503, 503]
        for _, seconds, retry_after, reply in results:
            assert seconds < 1 and retry_after == "1" and "busy" in reply["error"]
        app.release.set()
        for thread in [first, *others]:
            thread.join(10)
        assert sorted(status for status, *_ in results) == [200, 200, 503, 503]
        assert request(address, "GET", "/api/model")[0] == 200


def test_pipelined_requests_are_answered_in_order(address: Address) -> None:
    host = f"127.0.0.1:{address[1]}"
    one = f"GET /api/weights?layer=0&unit=1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    two = f"GET /api/weights?layer=0&unit=2 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    sock = socket.create_connection(address, timeout=5)
    sock.sendall(one + two)
    replies = []
    stream = sock.makefile("rb")  # one reader for both: a second one would miss what the first read ahead
    for _ in range(2):
        assert stream.readline().startswith(b"HTTP/1.1 200")
        headers = {}
        while (line := stream.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        replies.append(json.loads(stream.read(int(headers["content-length"])))["unit"])
    assert replies == [1, 2]
    stream.close()
    sock.close()


def test_predictions_under_load_from_many_keep_alive_clients_are_all_answered(address: Address) -> None:
    failures: list[str] = []

    def client() -> None:
        connection = http.client.HTTPConnection(*address, timeout=10)
        for value in np.linspace(0, 1, 10):
            body = json.dumps({"pixels": _pixels(float(value)), "preprocess": False})
            connection.request("POST", "/api/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            if response.status != 200 or "digit" not in json.loads(response.read()):
                failures.append(str(response.status))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []


def test_the_training_page_server_needs_no_model_to_refuse_politely() -> None:
    with served(App(live=TrainingProgress("probe")), QUICK) as address:
        status, _, body, sock = _raw(address, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.close()
        assert status in (403, 405) and "error" in json.loads(body)
