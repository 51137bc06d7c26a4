"""What the bench scripts share: the cases, MNIST, timing statistics, tables and helper processes.

The benchmark's parts run in separate processes, so everything they must agree on lives here. Run as a
script it is the benchmark's fresh-process probe, ``python bench/harness.py load|load-cached|train DATA_DIR``,
printing one JSON object: nothing decoded earlier is in memory and the benchmark's own arrays do not count
towards the peak (the files may be in the OS page cache). For ``load-cached`` the benchmark points
``XDG_CACHE_HOME`` at a temporary folder, so the user's own cache is untouched.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from machine import LIVE_CHILDREN

from netkit.data.dataset import Dataset as Mnist
from netkit.model.network import Network
from netkit.registry import default_registry

BENCH = Path(__file__).resolve().parent
TRAIN_ROWS, INPUTS, CLASSES, SEED = 60_000, 784, 10, 0
SETTLE_SECONDS = 0.2  # after one side's turn, let its idle worker threads stop spinning


@dataclasses.dataclass(frozen=True)
class Case:
    """One training configuration, timed the same way in netkit and PyTorch."""

    key: str
    hidden: Sequence[int]
    activation: str
    batch_size: int
    learning_rate: float
    epochs: int  # epochs timed in a full run (each one is one repeat)
    rows: int = TRAIN_ROWS  # rows per timed "epoch"; fewer than 60,000 means extrapolated
    per_sample_learning_rate: float = 0.1  # one-sample steps are not averaged, so need a smaller step to learn

    @property
    def architecture(self) -> str:
        return "-".join(map(str, (INPUTS, *self.hidden, CLASSES))) + f" {self.activation}"

    @property
    def label(self) -> str:
        return f"{self.architecture}, batch {self.batch_size}"

    @property
    def flops_per_row(self) -> int:
        """Matmul FLOPs per training row: forward 1 matmul a layer, backward 2 (the first layer 1)."""
        products = [a * b for a, b in itertools.pairwise([INPUTS, *self.hidden, CLASSES])]
        return 2 * (3 * sum(products) - products[0])

    def to_dict(self) -> dict[str, Any]:  # Case(**data) makes it again
        return dataclasses.asdict(self)


# lr 0.5 is the seed network's; the ReLU nets use 0.1 (at 0.5 they can diverge). Same in every framework.
CASES = (
    Case("seed-b10", (16, 16), "sigmoid", 10, 0.5, epochs=5),
    Case("seed-b32", (16, 16), "sigmoid", 32, 0.5, epochs=5),
    Case("seed-b256", (16, 16), "sigmoid", 256, 0.5, epochs=5),
    Case("relu-128-64-b64", (128, 64), "relu", 64, 0.1, epochs=5, per_sample_learning_rate=0.01),
    Case("relu-800-800-b128", (800, 800), "relu", 128, 0.1, epochs=3, rows=30_000, per_sample_learning_rate=0.01),
)
WARM_UP = Case("warm-up", (16, 16), "sigmoid", 32, 0.5, epochs=1, rows=6_400)


def case_named(key: str) -> Case:
    return next(case for case in CASES if case.key == key)


def quick_case(case: Case) -> Case:
    """The smoke-run version of a case: one short timed pass on a part of the training set."""
    return dataclasses.replace(case, epochs=1, rows=2_560 if case.hidden[0] >= 800 else 12_000)


def build_model(case: Case, seed: int = SEED) -> Network:
    """The network exactly as ``netkit train`` assembles it."""
    hidden = [{"type": "dense", "units": units, "activation": case.activation} for units in case.hidden]
    layers = [*hidden, {"type": "dense", "units": CLASSES, "activation": "softmax"}]
    return Network(INPUTS, layers, "cross-entropy", np.random.default_rng(seed))


def optimizer_for(case: Case) -> Any:
    spec = f"mini-batch:learning_rate={case.learning_rate},batch_size={case.batch_size}"
    return default_registry().create("optimizers", spec)


def copy_weights_in(model: Network, weights: Sequence[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]) -> None:
    """Put (W with shape (in, out), b) pairs into ``model``'s layers, e.g. to score another framework's net."""
    for views, (weight, bias) in zip(model.parameter_views, weights, strict=True):
        views["weight"][...], views["bias"][...] = weight, bias


def mnist_loader(cache: bool = False) -> Any:
    """The ``mnist`` dataset plugin from netkit's registry (``cache=true`` keeps decoded arrays)."""
    return default_registry().create("datasets", "mnist:cache=true" if cache else "mnist")


def resolve_data_dir(cli_value: str | None) -> Path:
    """``--data-dir``, else ``$NETKIT_DATA/mnist``, else the folder the ``mnist`` plugin's search finds (always
    a folder, so child processes find the same files even with another user cache)."""
    if cli_value or os.environ.get("NETKIT_DATA"):
        return Path(cli_value) if cli_value else Path(os.environ["NETKIT_DATA"]) / "mnist"
    found = [status.found for status in mnist_loader().status(None, verify=False)]
    if any(path is None for path in found):
        raise SystemExit("MNIST not found: pass --data-dir, set NETKIT_DATA, or run `netkit data download`")
    return Path(found[0]).parent


def load_mnist(data_dir: Path, cache: bool = False) -> Mnist:
    """MNIST through netkit's ``mnist`` dataset plugin, as ``netkit train --dataset mnist`` loads it."""
    loaded: Mnist = mnist_loader(cache).load(data_dir, download=False)
    return loaded


def stats(samples: Iterable[float]) -> dict[str, Any]:
    """Repeated measurements of one thing, in seconds: min, median and every sample."""
    values = list(samples)
    return {"min": min(values), "median": statistics.median(values), "samples": values}


def repeat(function: Callable[[], object], repeats: int) -> dict[str, Any]:
    """Wall time of ``repeats`` calls of ``function``."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return stats(samples)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], left: int = 1) -> str:
    """A plain-text ``rich.Table`` (no colour, no wrapping): the first ``left`` columns flush left, the rest right."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    drawn = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for index, header in enumerate(headers):
        drawn.add_column(header, justify="left" if index < left else "right", no_wrap=True)
    for row in rows:
        drawn.add_row(*map(str, row))
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    console.print(drawn)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())  # type: ignore[attr-defined]


def run_probe(*arguments: str, cache_home: str | None = None) -> dict[str, Any]:
    """This file as a fresh-process probe with ``arguments``; its last stdout line is JSON."""
    environment = {**os.environ, "XDG_CACHE_HOME": cache_home} if cache_home else None
    command = [sys.executable, __file__, *arguments]
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=environment)
    if completed.returncode != 0:
        return {"error": f"harness.py {' '.join(arguments)} exited with {completed.returncode}"}
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


class LineWorker:
    """A long-lived helper process that answers one JSON line per JSON request line (its first line: ``info``)."""

    def __init__(self, command: list[str], cwd: Path | None = None, settle: float = SETTLE_SECONDS) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
        LIVE_CHILDREN.append(self.process.pid)
        self.settle, self.info = settle, self._answer()

    def _answer(self) -> Any:
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise RuntimeError(f"the helper process {self.process.args[1]} stopped (exit code {self.process.wait()})")
        return json.loads(line)

    def request(self, **request: Any) -> Any:
        self.process.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        answer = self._answer()
        time.sleep(self.settle)
        return answer

    def __enter__(self) -> LineWorker:
        return self

    def __exit__(self, *exception: object) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        LIVE_CHILDREN.remove(self.process.pid)


def torch_worker(data_dir: Path) -> LineWorker:
    """The PyTorch side in its own process (``torch_side.py``)."""
    return LineWorker([sys.executable, str(BENCH / "torch_side.py"), str(data_dir)])


def netkit_command() -> list[str]:
    """The ``netkit`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("netkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "netkit.cli.main"]


def memory_mb(field: str = "VmHWM") -> float:
    """This process's ``VmRSS`` or peak ``VmHWM``: of the address space it built after ``exec``. (``ru_maxrss``
    does not suit: Linux carries into it the mark of the address space before ``exec``, the benchmark's own.)"""
    lines = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) / 1024 for line in lines if line.startswith(f"{field}:"))  # KiB


def probe(mode: str, data_dir: Path) -> dict[str, Any]:
    """``train``: load MNIST and train the seed net one epoch through ``Trainer``; else time one ``load()``."""
    if mode == "train":
        from netkit.training.trainer import Trainer

        seed_case, after_imports = case_named("seed-b32"), memory_mb("VmRSS")
        data = load_mnist(data_dir)
        after_load = memory_mb("VmRSS")
        trainer = Trainer(build_model(seed_case), optimizer_for(seed_case), np.random.default_rng(SEED))
        trainer.fit(data.train_images, data.train_labels, 1)
        return {"peak_rss_mb": memory_mb(), "rss_after_imports_mb": after_imports, "rss_after_load_mb": after_load}
    started = time.perf_counter()
    loader = mnist_loader(cache=mode == "load-cached")  # plugin discovery and import: not part of the load
    lookup_seconds, started = time.perf_counter() - started, time.perf_counter()
    data = loader.load(data_dir, download=False)
    result: dict[str, Any] = {"seconds": time.perf_counter() - started, "plugin_lookup_seconds": lookup_seconds}
    if mode == "load-cached":  # a hit hands out read-only memory maps, read when first used: time that too
        result["cache_hit"], started = not data.train_images.flags.writeable, time.perf_counter()
        for array in (data.train_images, data.train_labels, data.test_images, data.test_labels):
            float(array.sum(dtype=np.float64))
        result["touch_seconds"] = time.perf_counter() - started
    return result


if __name__ == "__main__":
    print(json.dumps(probe(sys.argv[1], Path(sys.argv[2]))))
