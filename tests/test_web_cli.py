"""``netkit serve`` and ``netkit train --web`` as real processes: where they listen, how they fail and stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .web_helpers import netkit_command, post_json, request, wait_for_url


def _environment(data_root: Path | None) -> dict[str, str]:
    environment = dict(os.environ, PYTHONUNBUFFERED="1", NO_COLOR="1")
    if data_root is not None:
        environment["NETKIT_DATA"] = str(data_root)
    return environment


def _start(arguments: list[str], data_root: Path | None, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*netkit_command(), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(data_root),
        cwd=cwd,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Ctrl-C, as a person stops the server; (the exit code, what was left on stderr)."""
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def _listening_addresses(port: int) -> list[str]:
    """The local addresses of sockets listening on ``port``, read from Linux's /proc/net/tcp{,6}."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.append(address)
    return found


def test_serve_listens_on_localhost_only_and_stops_on_ctrl_c(data_root: Path) -> None:
    process = _start(["serve", "--port", "0"], data_root)
    assert process.stdout is not None
    url, port, _ = wait_for_url(process, process.stdout)
    assert url.startswith("http://127.0.0.1:")
    status, body = request(("127.0.0.1", port), "GET", "/api/model")
    assert status == 200 and body["architecture"].startswith("784-16-16-10")
    if os.path.exists("/proc/net/tcp"):
        assert _listening_addresses(port) == ["0100007F"]  # 127.0.0.1, little-endian hex; nothing else
    code, stderr = _stop(process)
    assert code == 0 and "netkit: server stopped" in stderr and "Traceback" not in stderr


def test_serve_names_a_port_in_use(busy_port: int, data_root: Path) -> None:
    process = _start(["serve", "--port", str(busy_port), "--no-download"], data_root)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.strip().splitlines()[-1] == (
        f"netkit: error: port {busy_port} on 127.0.0.1 is already in use; choose another with --port"
    )


@pytest.mark.parametrize("content", [None, b"not a model at all"])
def test_serve_refuses_a_model_that_does_not_load(tmp_path: Path, content: bytes | None) -> None:
    model = tmp_path / "broken.h5"
    if content is not None:
        model.write_bytes(content)
    process = _start(["serve", str(model), "--port", "0"], None)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netkit: error: ") and "broken.h5" in lines[0]


def test_serve_without_test_data_still_serves_the_drawing_api(tmp_path: Path) -> None:
    process = _start(["serve", "--port", "0", "--no-download"], tmp_path / "no-data-here")
    assert process.stdout is not None
    _, port, _ = wait_for_url(process, process.stdout)
    status, reply = request(("127.0.0.1", port), "GET", "/api/mistakes")
    assert status == 404 and "no test set" in reply["error"]
    status, body = post_json(("127.0.0.1", port), "/api/predict", {"pixels": [[0.0] * 28] * 28})
    assert status == 200 and len(body["probabilities"]) == 10
    code, stderr = _stop(process)
    assert code == 0 and "netkit: warning: no test set" in stderr


def test_train_web_serves_the_run_then_the_trained_model(data_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "watched.h5"
    arguments = ["train", "--layers", "8", "--epochs", "2", "--validation", "1000", "--web", "--port", "0"]
    process = _start([*arguments, "--out", str(out), "--quiet"], data_root)
    assert process.stderr is not None
    _, port, _ = wait_for_url(process, process.stderr)
    address = ("127.0.0.1", port)
    seen_losses: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, progress = request(address, "GET", "/api/progress?since=0")
        assert status == 200
        seen_losses.append(len(progress["iteration_loss"]))
        if progress["mode"] == "draw":
            break
        time.sleep(0.05)
    assert progress["mode"] == "draw" and progress["status"] == "done"
    assert seen_losses == sorted(seen_losses)  # the record only grows
    assert len(progress["iteration_loss"]) == 2 * progress["steps_per_epoch"]
    assert [epoch["epoch"] for epoch in progress["epochs"]] == [1, 2] and progress["weights_version"] >= 3
    status, snapshot = request(address, "GET", "/api/live-weights")
    assert status == 200 and (snapshot["units"], snapshot["inputs"]) == (8, 784)
    status, model = request(address, "GET", "/api/model")
    assert status == 200 and model["architecture"].startswith("784-8-10") and len(model["history"]["epochs"]) == 2
    assert model["test"]["n"] == 10_000
    status, body = post_json(address, "/api/predict", {"pixels": [[0.0] * 28] * 28})
    assert status == 200 and len(body["activations"]) == 2
    code, stderr = _stop(process)
    assert code == 0 and "Traceback" not in stderr and out.is_file()


def test_train_web_with_a_port_in_use_fails_before_training(busy_port: int, tmp_path: Path) -> None:
    out = tmp_path / "never.h5"
    process = _start(["train", "--web", "--port", str(busy_port), "--out", str(out)], None)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and f"port {busy_port} on 127.0.0.1 is already in use" in stderr
    assert not out.exists()
