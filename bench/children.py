"""The benchmark's helper processes: fresh-interpreter probes, and long-lived workers (PyTorch, other checkouts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from machine import LIVE_CHILDREN

BENCH = Path(__file__).resolve().parent
SETTLE_SECONDS = 0.2  # after one framework's turn, let its idle worker threads stop spinning


def run_child(*arguments: str, cache_home: str | None = None) -> dict[str, Any]:
    """Run ``bench/probes.py`` with ``arguments`` in a fresh interpreter; its last stdout line is JSON."""
    command = [sys.executable, str(BENCH / "probes.py"), *arguments]
    environment = {**os.environ, "XDG_CACHE_HOME": cache_home} if cache_home else None
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=environment)
    if completed.returncode != 0:
        return {"error": f"probes.py {' '.join(arguments)} exited with {completed.returncode}"}
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


class LineWorker:
    """A long-lived helper process that answers one JSON line per JSON request line (its first line: ``info``)."""

    def __init__(self, command: list[str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
        LIVE_CHILDREN.append(self.process.pid)
        self.info = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the helper process {self.process.args[1]} stopped (exit code {self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def request(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self._answer()
        time.sleep(SETTLE_SECONDS)
        return answer

    def __enter__(self) -> LineWorker:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        LIVE_CHILDREN.remove(self.process.pid)


class TorchWorker(LineWorker):
    """The PyTorch side in its own process (``torch_side.py``)."""

    def __init__(self, data_argument: str) -> None:
        super().__init__([sys.executable, str(BENCH / "torch_side.py"), data_argument])
