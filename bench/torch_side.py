"""The PyTorch side, run in its own process so its OpenMP/MKL thread pools never share a process with NumPy's.

Usage (the benchmark drives it): ``python bench/torch_side.py DATA_DIR`` loads MNIST, prints a JSON line
about torch, then answers each JSON request line on stdin with a JSON line. A case is trained one epoch per
request, so netkit and PyTorch take turns epoch by epoch and a busy spell on a shared machine hits both.

Each case trains the same architecture from the same initial weights as netkit: ``nn.Linear`` layers with
the hidden activation, logits into ``F.cross_entropy``, plain SGD, the same batch size and learning rate,
and a fresh ``randperm`` + ``index_select`` gather every epoch. The trained weights are copied into a
netkit model so that accuracy comes from the same ``netkit.evaluation.evaluate`` as netkit's.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from harness import SEED, WARM_UP, Case, Mnist, build_model, copy_weights_in, load_mnist, repeat
from torch import nn
from torch.nn import functional

from netkit.evaluation import evaluate
from netkit.model import Sequential


def torch_net(model: Sequential, activation: str) -> nn.Sequential:
    """The netkit model's architecture and current weights as a PyTorch module (softmax left to the loss)."""
    modules: list[nn.Module] = []
    for index, views in enumerate(model.parameter_views):
        fan_in, fan_out = views["weight"].shape
        linear = nn.Linear(fan_in, fan_out)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(views["weight"].T.copy()))
            linear.bias.copy_(torch.from_numpy(views["bias"].copy()))
        modules.append(linear)
        if index < len(model.parameter_views) - 1:
            modules.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    return nn.Sequential(*modules)


def train_epoch(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> list[float]:
    """One epoch; records every step's loss as netkit's loop does."""
    losses = []
    order = torch.randperm(images.shape[0], generator=generator)
    for start in range(0, images.shape[0], batch_size):
        rows = order[start : start + batch_size]
        image_batch = images.index_select(0, rows)
        label_batch = labels.index_select(0, rows)
        optimizer.zero_grad(set_to_none=True)
        loss = functional.cross_entropy(net(image_batch), label_batch)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(loss.item())
    return losses


class Session:
    """One case being trained on ``threads`` intra-op threads, an epoch per request."""

    def __init__(self, case: Case, data: Mnist, threads: int) -> None:
        self.case, self.threads = case, threads
        self.model = build_model(case)  # the same initial weights as netkit's; later, the scoring copy
        self.net = torch_net(self.model, case.activation).train()
        self.optimizer = torch.optim.SGD(self.net.parameters(), lr=case.learning_rate)
        self.images = torch.from_numpy(data.train_images[: case.rows])
        self.labels = torch.from_numpy(data.train_labels[: case.rows])
        self.generator = torch.Generator().manual_seed(SEED)

    def epoch(self) -> float:
        torch.set_num_threads(self.threads)
        started = time.perf_counter()
        train_epoch(self.net, self.optimizer, self.images, self.labels, self.case.batch_size, self.generator)
        return time.perf_counter() - started

    def test_accuracy(self, data: Mnist) -> float:
        weights = [
            (layer.weight.detach().numpy().T, layer.bias.detach().numpy())
            for layer in self.net
            if isinstance(layer, nn.Linear)
        ]
        copy_weights_in(self.model, weights)
        return evaluate(self.model, data.test_images, data.test_labels).accuracy


def time_predict(case: Case, data: Mnist, repeats: int) -> dict[str, Any]:
    """Softmax probabilities of the whole test set, for comparison with ``predict_proba``."""
    net = torch_net(build_model(case), case.activation).eval()
    test = torch.from_numpy(data.test_images)

    def predict() -> None:
        with torch.inference_mode():
            torch.softmax(net(test), dim=1)

    return repeat(predict, repeats)


class Worker:
    """Answers the benchmark's requests: begin / epoch / end a session, or time predictions."""

    def __init__(self, data: Mnist) -> None:
        self.data = data
        self.default_threads = torch.get_num_threads()
        self.sessions: dict[str, Session] = {}

    def warm_up(self) -> None:
        """Start the thread pools and the allocator before anything is timed (matters most in ``--quick``)."""
        for threads in {self.default_threads, 1}:
            Session(WARM_UP, self.data, threads).epoch()
        torch.set_num_threads(self.default_threads)

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        operation, name = request["op"], request.get("session", "")
        result: dict[str, Any]
        if operation == "begin":
            threads = request["threads"] or self.default_threads
            self.sessions[name] = Session(Case.from_dict(request["case"]), self.data, threads)
            result = {"threads": threads}
        elif operation == "epoch":
            result = {"seconds": self.sessions[name].epoch()}
        elif operation == "end":
            session = self.sessions.pop(name)
            result = {"threads": session.threads, "test_accuracy": session.test_accuracy(self.data)}
        elif operation == "predict":
            torch.set_num_threads(self.default_threads)
            result = time_predict(Case.from_dict(request["case"]), self.data, request["repeats"])
        else:
            raise ValueError(f"unknown request {operation!r}")
        torch.set_num_threads(self.default_threads)
        return result


def main(data_dir: str) -> None:
    """Answer one JSON request per stdin line with one JSON line, until stdin closes."""
    worker = Worker(load_mnist(Path(data_dir)))
    worker.warm_up()
    hello = {
        "version": torch.__version__,
        "default_threads": worker.default_threads,
        "interop_threads": torch.get_num_interop_threads(),
    }
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        print(json.dumps(worker.handle(json.loads(line))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
